#include "storage/queries.hpp"

namespace seedscope::storage {

std::vector<NetworkCounts> network_counts(Database& db) {
  auto st = db.prepare(
      "SELECT c.network, c.nodes, c.reachable, c.misbehaving, c.addresses, c.confirmed, "
      "c.first_seen, c.last_seen, s.versions, s.with_rpc "
      "FROM network_counts c JOIN network_summary s USING (network) "
      "ORDER BY c.nodes DESC, c.network");
  std::vector<NetworkCounts> out;
  while (st.step()) {
    NetworkCounts c;
    c.network = st.column_text(0);
    c.nodes = st.column_int(1);
    c.reachable = st.column_int(2);
    c.misbehaving = st.column_int(3);
    c.addresses = st.column_int(4);
    c.confirmed = st.column_int(5) != 0;
    c.first_seen = wall_from_unix_seconds(st.column_double(6));
    c.last_seen = wall_from_unix_seconds(st.column_double(7));
    c.versions = st.column_int(8);
    c.with_rpc = st.column_int(9);
    out.push_back(std::move(c));
  }
  return out;
}

} // namespace seedscope::storage
