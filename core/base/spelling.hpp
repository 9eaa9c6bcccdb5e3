// Suggestions for misspelt names (config.toml keys, netsim scenario keys and classes): the
// known name nearest to an unknown one, and the "unknown key; did you mean ...?" phrase both
// parsers put after their "file:line: key: " prefix. Pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace seedscope {

// The candidate nearest to `name` by edit distance (case-insensitive; inserting, deleting,
// replacing or swapping two neighbouring characters counts 1) when it is close enough to be
// a likely typo: at most a third of `name`'s length, and at least 1. Ties: the first.
std::optional<std::string_view> nearest_name(std::string_view name,
                                             std::span<const std::string_view> candidates);

// "unknown <what>", plus "; did you mean \"<nearest>\"?" when one candidate is close.
std::string unknown_name(std::string_view what, std::string_view name,
                         std::span<const std::string_view> candidates);

// `text` with its control characters escaped (\n, \r, \t, else \xNN), so that a message
// quoting input (a TOML parser's description of the bad spot) stays on one line.
std::string one_line(std::string_view text);

} // namespace seedscope
