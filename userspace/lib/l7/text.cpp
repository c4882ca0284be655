#include "text.hpp"

#include <algorithm>

namespace nfring::l7::detail
{

std::string lowered(std::string_view s)
{
	std::string out(s);
	std::transform(out.begin(), out.end(), out.begin(), lower);
	return out;
}

std::optional<std::string> host_name(std::string_view s)
{
	if (s.ends_with('.'))
		s.remove_suffix(1);
	// Only one trailing dot is the root; "a.." has an empty label.
	if (s.empty() || s.size() > max_name || s.ends_with('.'))
		return std::nullopt;
	char prev = '.'; // so that a leading dot counts as an empty label
	for (char c : s) {
		bool ok = is_alnum(c) || c == '-' || c == '_' || c == '.';
		if (!ok || (c == '.' && prev == '.'))
			return std::nullopt;
		prev = c;
	}
	return lowered(s);
}

} // namespace nfring::l7::detail
