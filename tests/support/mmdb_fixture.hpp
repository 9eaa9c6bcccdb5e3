// MaxMind DB files written at test time (tests/support/write_mmdb.pl, with Debian's
// libmaxmind-db-writer-perl): no geo data is committed or downloaded.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace seedscope::test {

struct MmdbNetwork {
  std::string cidr;    // "127.1.0.0/16"
  std::string country; // "" none
  std::uint32_t asn = 0;
  std::string org;
};

// Writes `networks` into `out` (replaced atomically) with metadata database_type `type`
// ("Test-Country", "Test-ASN", ...). Throws std::runtime_error when perl fails.
void write_mmdb(const std::filesystem::path& out, const std::string& type,
                const std::vector<MmdbNetwork>& networks);

} // namespace seedscope::test
