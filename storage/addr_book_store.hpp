// The address book kept in SQLite (tables addrbook_meta, addrbook_addrs, addrbook_bans of
// schema version 1). Each save replaces the stored book in one transaction, so a crash or a
// failed save leaves the previous book whole.
#pragma once

#include "core/pex/addr_book.hpp"
#include "storage/database.hpp"

namespace seedscope::storage {

class SqliteAddrBookStore final : public pex::AddrBookStore {
public:
  explicit SqliteAddrBookStore(Database& db) : db_(db) {} // not owned
  Result<std::optional<pex::AddrBookSnapshot>> load() override;
  Status save(const pex::AddrBookSnapshot& snapshot) override;
  // Replaces the addresses and key but keeps the stored bans (an import).
  Status save_keeping_bans(const pex::AddrBookSnapshot& snapshot);

private:
  Status write(const pex::AddrBookSnapshot& snapshot, bool replace_bans);
  Database& db_;
};

} // namespace seedscope::storage
