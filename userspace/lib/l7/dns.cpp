// DNS queries over UDP (one message) and TCP (length-prefixed messages).
#include <array>
#include <cstdint>

#include "nfring/l7.hpp"
#include "text.hpp"
#include "wire.hpp"

namespace nfring::l7
{

using detail::reader;

namespace
{

// RFC 1035 4.1.1.
constexpr std::uint32_t dns_qr = 0x8000;
constexpr std::size_t dns_other_counts = 6; // ANCOUNT, NSCOUNT, ARCOUNT
constexpr std::size_t dns_type_class = 4;
constexpr std::size_t dns_header = 12;
// Anything above is a pointer (0xc0) or a reserved label type (0x40, 0x80).
constexpr std::uint32_t max_label = 63;

// Built on the stack so that only the returned string allocates.
class dotted_name
{
public:
	bool append(std::span<const std::byte> label)
	{
		std::size_t dot = size_ ? 1 : 0;
		if (label.size() + dot > chars_.size() - size_)
			return false;
		if (dot)
			chars_[size_++] = '.';
		for (auto b : label) {
			auto c = std::to_integer<unsigned char>(b);
			if (c < ' ' || c > '~' || c == '.')
				return false;
			chars_[size_++] = detail::lower(static_cast<char>(c));
		}
		return true;
	}

	std::optional<std::string> str() const
	{
		if (size_ == 0) // the root
			return std::nullopt;
		return std::string(chars_.data(), size_);
	}

private:
	std::array<char, detail::max_name> chars_;
	std::size_t size_ = 0;
};

bool is_query(reader &in)
{
	in.skip(2); // ID
	auto flags = in.number(2);
	auto qdcount = in.number(2);
	in.skip(dns_other_counts);
	return in.ok() && !(*flags & dns_qr) && *qdcount >= 1;
}

} // namespace

std::optional<std::string> dns_qname(std::span<const std::byte> payload)
{
	reader in(payload, payload.size());
	if (!is_query(in))
		return std::nullopt;
	dotted_name name;
	for (;;) {
		auto length = in.number(1);
		if (!length || *length > max_label)
			return std::nullopt;
		if (*length == 0)
			break;
		auto label = in.bytes(*length);
		if (!label || !name.append(*label))
			return std::nullopt;
	}
	if (!in.skip(dns_type_class))
		return std::nullopt;
	return name.str();
}

status parse_dns_tcp(std::span<const std::byte> stream,
                     std::vector<std::string> &qnames, std::size_t max_names)
{
	qnames.clear();
	std::size_t off = 0, complete = 0;
	while (stream.size() - off >= 2) {
		const std::size_t len =
		        std::to_integer<std::size_t>(stream[off]) << 8 |
		        std::to_integer<std::size_t>(stream[off + 1]);
		if (len < dns_header)
			return complete ? status::done : status::no;
		if (stream.size() - off - 2 < len)
			break;
		auto name = dns_qname(stream.subspan(off + 2, len));
		// The first message decides whether this is a DNS client at
		// all; later ones that are not queries are not our business.
		if (!name && complete == 0)
			return status::no;
		if (name && qnames.size() < max_names)
			qnames.push_back(std::move(*name));
		complete++;
		off += 2 + len;
	}
	return complete ? status::done : status::need_more;
}

} // namespace nfring::l7
