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
    throw std::runtime_error(fmt::format("write_mmdb.pl {} failed ({}): {}{}", out.string(),
                                         r.exit_code, r.out, r.err));
}

} // namespace seedscope::test
