// MaxMind DB files written at test time (tests/support/write_mmdb.pl, with Debian's
// libmaxmind-db-writer-perl): no geo data is committed or downloaded.
#pragma once

#include <cstdint>
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

// A made-up world for netsim's addresses, by the second octet o of 127.o.x.y (netsim puts node
// g in 127.(1 + g % 200).x.y): no country for every tenth /16, else one of five; ASN 64500 +
// o % 7 except every 13th /16, with three organisations over the seven ASNs.
std::string fixture_country(int o);
std::uint32_t fixture_asn(int o);
std::string fixture_org(int o);
// Writes that world for 127.1-250.0.0/16 as a Country file ("Test-Country") and an ASN file
// ("Test-ASN").
void write_netsim_fixtures(const std::filesystem::path& country_db,
                           const std::filesystem::path& asn_db);

} // namespace seedscope::test
