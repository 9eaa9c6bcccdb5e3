#include "support/mmdb_fixture.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "support/process.hpp"

namespace seedscope::test {

void write_mmdb(const std::filesystem::path& out, const std::string& type,
                const std::vector<MmdbNetwork>& networks) {
  std::string spec;
  for (const auto& n : networks) {
    spec += n.cidr;
    if (!n.country.empty()) spec += "\tcountry=" + n.country;
    if (n.asn != 0) spec += fmt::format("\tasn={}", n.asn);
    if (!n.org.empty()) spec += "\torg=" + n.org;
    spec += "\n";
  }
  const auto spec_file = out.string() + ".spec";
  write_file(spec_file, spec);
  const auto r = run_process({"/usr/bin/perl", SEEDSCOPE_SOURCE_DIR "/tests/support/write_mmdb.pl",
                              out.string(), type, spec_file},
                             Millis(60'000));
  std::filesystem::remove(spec_file);
  if (r.exit_code != 0)
    throw std::runtime_error(
        fmt::format("write_mmdb.pl {} failed ({}): {}{}", out.string(), r.exit_code, r.out, r.err));
}

std::string fixture_country(int o) {
  static const char* const kCountries[] = {"DE", "US", "FI", "SG", "BR"};
  return o % 10 == 0 ? "" : kCountries[o % 5];
}

std::uint32_t fixture_asn(int o) { return o % 13 == 0 ? 0 : 64500 + std::uint32_t(o % 7); }

std::string fixture_org(int o) {
  return fixture_asn(o) == 0 ? "" : fmt::format("Hoster {}", char('A' + (o % 7) % 3));
}

void write_netsim_fixtures(const std::filesystem::path& country_db,
                           const std::filesystem::path& asn_db) {
  std::vector<MmdbNetwork> countries, asns;
  for (int o = 1; o <= 250; ++o) {
    const std::string cidr = fmt::format("127.{}.0.0/16", o);
    if (!fixture_country(o).empty()) countries.push_back({cidr, fixture_country(o), 0, ""});
    if (fixture_asn(o) != 0) asns.push_back({cidr, "", fixture_asn(o), fixture_org(o)});
  }
  write_mmdb(country_db, "Test-Country", countries);
  write_mmdb(asn_db, "Test-ASN", asns);
}

} // namespace seedscope::test
