#include "storage/queries.hpp"

namespace seedscope::storage {

std::vector<NetworkCounts> network_counts(Database& db) {
  auto st = db.prepare(
      "SELECT network, nodes, reachable, misbehaving, addresses, confirmed, first_seen, "
      "last_seen FROM network_counts ORDER BY nodes DESC, network");
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
    out.push_back(std::move(c));
  }
  return out;
}

} // namespace seedscope::storage
