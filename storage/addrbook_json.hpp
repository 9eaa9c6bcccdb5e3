// Tendermint's addrbook.json (p2p/pex/file.go @ v0.34): what a Go node saves every two minutes
// and loads at start-up. Export writes exactly what Go's json.MarshalIndent(book, "", "\t")
// writes; import checks everything a Go node would crash on (bucket indices, bucket types)
// and everything our book relies on, and names the offending entry. Bans are not part of the
// format: export leaves them out and import yields none.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/pex/addr_book.hpp"

namespace seedscope::storage {

std::string to_addrbook_json(const pex::AddrBookSnapshot& snapshot);
Result<pex::AddrBookSnapshot> from_addrbook_json(std::string_view text);

// RFC 3339 with nanoseconds as Go's time.RFC3339Nano formats it in UTC (trailing zeros of the
// fraction trimmed); the unset time is Go's zero time "0001-01-01T00:00:00Z".
std::string format_go_time(WallTime t);
// Any RFC 3339 time (offset or Z, optional fraction); Go's zero time gives the unset time.
std::optional<WallTime> parse_go_time(std::string_view text);

// Whole-file helpers with one-line errors naming the file.
Result<std::string> read_text_file(const std::filesystem::path& file);
// Writes a temporary file beside `file`, syncs it and renames it over `file`.
Status write_file_atomically(const std::filesystem::path& file, std::string_view text);

} // namespace seedscope::storage
