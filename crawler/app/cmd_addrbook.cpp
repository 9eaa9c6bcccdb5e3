// `seedscope addrbook import FILE` and `seedscope addrbook export FILE`: the address book
// between our database and Tendermint's addrbook.json, in both directions.
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/base/rng.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/exclude_file.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/output.hpp"
#include "crawler/app/process_lock.hpp"
#include "storage/addr_book_store.hpp"
#include "storage/addrbook_json.hpp"

namespace seedscope::app {

namespace {

std::pair<std::size_t, std::size_t> count_kinds(const pex::AddrBookSnapshot& snap) {
  std::size_t n_new = 0, n_old = 0;
  for (const auto& ka : snap.addrs) (ka.is_old() ? n_old : n_new)++;
  return {n_new, n_old};
}

} // namespace

int cmd_addrbook_import(const std::filesystem::path& dir, const std::filesystem::path& file,
                        bool force) {
  Home home = open_home(dir, /*require_config=*/false);
  auto text = storage::read_text_file(file);
  if (!text.ok()) throw std::runtime_error(text.error().detail);
  auto snap = storage::from_addrbook_json(*text);
  if (!snap.ok())
    throw std::runtime_error(fmt::format("{}: {}", file.string(), snap.error().message()));
  // The book itself must accept it (bucket sizes, consistency) before anything is written.
  SeededRng rng(1);
  pex::AddrBook check(pex::AddrBookConfig{false, std::nullopt}, rng);
  if (auto st = check.restore(*snap); !st.ok())
    throw std::runtime_error(fmt::format("{}: {}", file.string(), st.error().message()));

  // A running node saves its own book over an import: refuse while one runs.
  const HomeLocks locks = lock_home_and_db(home.dir, home.db_file());
  auto db = storage::Database::open(home.db_file());
  storage::SqliteAddrBookStore store(db);
  // An empty file (a node that never learnt anything, a wrong path) would silently wipe the
  // book: only on request.
  if (snap->addrs.empty() && !force) {
    auto stored = store.load();
    if (!stored.ok()) throw std::runtime_error(stored.error().detail);
    if (*stored && !(*stored)->addrs.empty())
      throw std::runtime_error(fmt::format(
          "{} has no addresses; importing it would empty the stored book of {} addresses in {} "
          "(add --force to do that)",
          file.string(), (*stored)->addrs.size(), home.db_file().string()));
  }
  if (auto st = store.save_keeping_bans(*snap); !st.ok())
    throw std::runtime_error(st.error().detail);
  auto [n_new, n_old] = count_kinds(*snap);
  print_out("imported {} addresses ({} new, {} old) from {} into {}\n", snap->addrs.size(), n_new,
            n_old, file.string(), home.db_file().string());
  return 0;
}

int cmd_addrbook_export(const std::filesystem::path& dir, const std::filesystem::path& file) {
  Home home = open_home(dir, /*require_config=*/false);
  const ExcludeFile exclude(exclude_file_path(home.dir, home.config.crawler.exclude_file));
  if (!std::filesystem::exists(home.db_file()))
    throw std::runtime_error(
        fmt::format("{}: no database yet (nothing to export)", home.db_file().string()));
  auto db = storage::Database::open(home.db_file());
  storage::SqliteAddrBookStore store(db);
  auto snap = store.load();
  if (!snap.ok()) throw std::runtime_error(snap.error().detail);
  if (!*snap)
    throw std::runtime_error(fmt::format(
        "{}: no address book saved in it: `seedscope start` saves one (or import one); a "
        "crawler keeps none: export its peers with `seedscope export --format addrbook`",
        home.db_file().string()));
  // Never exported: addresses on the exclude list (by ID or IP), nor as the source of
  // another (that one becomes its own source); bans stay as they are.
  std::erase_if((*snap)->addrs,
                [&](const pex::KnownAddress& ka) { return exclude.list().excluded(ka.addr); });
  for (auto& ka : (*snap)->addrs)
    if (exclude.list().excluded(ka.src)) ka.src = ka.addr;
  const std::string json = storage::to_addrbook_json(**snap);
  const bool to_stdout = file == "-";
  if (to_stdout) {
    if (!write_result(json)) throw std::runtime_error("cannot write the address book to stdout");
  } else if (auto st = storage::write_file_atomically(file, json); !st.ok()) {
    throw std::runtime_error(st.error().detail);
  }
  auto [n_new, n_old] = count_kinds(**snap);
  const std::string summary =
      fmt::format("exported {} addresses ({} new, {} old) to {}\n", (*snap)->addrs.size(), n_new,
                  n_old, to_stdout ? "stdout" : file.string());
  if (to_stdout) write_stderr(summary);
  else write_stdout(summary);
  return 0;
}

Command add_addrbook_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "addrbook", "move the address book between the database and Tendermint's addrbook.json");
  sub->require_subcommand(1);
  struct Raw {
    std::string file;
    bool force = false;
  };
  auto raw = std::make_shared<Raw>();
  CLI::App* import =
      sub->add_subcommand("import", "replace the stored address book with FILE's addresses");
  import->add_option("file", raw->file, "addrbook.json to read")->required();
  import->add_flag("--force", raw->force,
                   "import a file with no addresses over a stored book that has some");
  CLI::App* exp = sub->add_subcommand("export", "write the stored address book to FILE");
  exp->add_option("file", raw->file, "addrbook.json to write (\"-\": stdout)")->required();
  return {sub, [raw, import](const std::filesystem::path& home) {
            if (*import) return cmd_addrbook_import(home, raw->file, raw->force);
            return cmd_addrbook_export(home, raw->file);
          }};
}

} // namespace seedscope::app
