// libnetfilter_queue over nfring: what the packet helpers share (the
// packet buffer behind the opaque struct pkt_buff, and the Internet
// checksum).
#pragma once

#include <cstddef>
#include <cstdint>

struct pkt_buff {
	std::uint8_t *head; // start of the allocation's room
	std::uint8_t *data; // first byte of the packet
	std::uint32_t len;  // bytes from data
	std::size_t room;   // bytes of room from head
	std::uint8_t *mac = nullptr, *network = nullptr, *transport = nullptr;
	bool mangled = false;
};

namespace nfring::nfq
{

// One's complement sum of 16-bit big-endian words, unfolded, starting
// from `sum`.
std::uint32_t csum_add(std::uint32_t sum, const void *data, std::size_t len);
// Folds a sum to 16 bits and complements it (network order value).
std::uint16_t csum_fold(std::uint32_t sum);

} // namespace nfring::nfq
