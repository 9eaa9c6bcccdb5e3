#include "storage/addrbook_json.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "storage/database.hpp"

namespace seedscope::storage {

namespace {

using nlohmann::ordered_json;
using std::chrono::days;
using std::chrono::nanoseconds;

constexpr std::string_view kGoZeroTime = "0001-01-01T00:00:00Z";

ordered_json address_json(const NetAddress& a) {
  ordered_json j;
  j["id"] = a.id;
  j["ip"] = a.ip.to_string();
  j["port"] = a.port;
  return j;
}

Error format_error(std::string what) { return make_error(StorageErrc::kFormat, std::move(what)); }

bool parse_digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Reads a NetAddress object; `path` names it in errors.
Result<NetAddress> address_from(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return format_error(path + ": not an object");
  NetAddress a;
  auto id = j.find("id");
  if (id == j.end() || !id->is_string()) return format_error(path + ".id: missing or not a string");
  a.id = id->get<std::string>();
  auto ip = j.find("ip");
  if (ip == j.end() || !ip->is_string()) return format_error(path + ".ip: missing or not a string");
  auto parsed = IpAddress::parse(ip->get<std::string>());
  if (!parsed)
    return format_error(
        fmt::format("{}.ip: \"{}\" is not an IP address", path, ip->get<std::string>()));
  a.ip = *parsed;
  auto port = j.find("port");
  if (port == j.end() || !port->is_number_unsigned() || port->get<std::uint64_t>() > 65535)
    return format_error(path + ".port: missing or not a port number");
  a.port = static_cast<std::uint16_t>(port->get<std::uint64_t>());
  return a;
}

Result<WallTime> time_from(const nlohmann::json& entry, const char* key, const std::string& path) {
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) return WallTime{};
  if (!it->is_string()) return format_error(fmt::format("{}.{}: not a string", path, key));
  auto t = parse_go_time(it->get<std::string>());
  if (!t)
    return format_error(
        fmt::format("{}.{}: \"{}\" is not an RFC 3339 time", path, key, it->get<std::string>()));
  return *t;
}

bool valid_id(const std::string& id) {
  if (id.size() != 40) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

} // namespace

std::string format_go_time(WallTime t) {
  if (!is_set(t)) return std::string(kGoZeroTime);
  const auto day = std::chrono::floor<days>(t);
  const std::chrono::year_month_day ymd{day};
  const auto in_day = t - day;
  const auto secs = std::chrono::floor<std::chrono::seconds>(in_day);
  const std::chrono::hh_mm_ss<std::chrono::seconds> hms{secs};
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", int(ymd.year()),
                                unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                                hms.minutes().count(), hms.seconds().count());
  auto frac = (in_day - secs).count();
  if (frac != 0) {
    std::string digits = fmt::format("{:09}", frac);
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out + "Z";
}

std::optional<WallTime> parse_go_time(std::string_view s) {
  if (s == kGoZeroTime) return WallTime{};
  int y, mo, d, h, mi, se;
  if (!parse_digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !parse_digits(s, 5, 2, mo) ||
      s[7] != '-' || !parse_digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') ||
      !parse_digits(s, 11, 2, h) || s[13] != ':' || !parse_digits(s, 14, 2, mi) || s[16] != ':' ||
      !parse_digits(s, 17, 2, se))
    return std::nullopt;
  std::size_t at = 19;
  std::int64_t frac_ns = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    int n = 0;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      if (n < 9) frac_ns = frac_ns * 10 + (s[at] - '0');
      ++n;
      ++at;
    }
    if (n == 0) return std::nullopt;
    for (int i = std::min(n, 9); i < 9; ++i) frac_ns *= 10;
  }
  std::int64_t offset_s = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh, om;
    if (!parse_digits(s, at + 1, 2, oh) || at + 3 >= s.size() || s[at + 3] != ':' ||
        !parse_digits(s, at + 4, 2, om))
      return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (s[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != s.size() || mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(unsigned(mo)),
                                        std::chrono::day(unsigned(d))};
  if (!ymd.ok()) return std::nullopt;
  // WallTime counts nanoseconds in 64 bits: years 1678..2261. Go's zero time is handled above.
  if (y < 1678 || y > 2261) return std::nullopt;
  const auto secs = std::chrono::sys_days(ymd).time_since_epoch() + std::chrono::hours(h) +
                    std::chrono::minutes(mi) + std::chrono::seconds(se) -
                    std::chrono::seconds(offset_s);
  return WallTime(std::chrono::duration_cast<nanoseconds>(secs) + nanoseconds(frac_ns));
}

std::string to_addrbook_json(const pex::AddrBookSnapshot& snapshot) {
  ordered_json root;
  root["key"] = snapshot.key_hex;
  root["addrs"] = ordered_json::array();
  for (const auto& ka : snapshot.addrs) {
    ordered_json e;
    e["addr"] = address_json(ka.addr);
    e["src"] = address_json(ka.src);
    e["buckets"] = ka.buckets;
    e["attempts"] = ka.attempts;
    e["bucket_type"] = static_cast<int>(ka.bucket_type);
    e["last_attempt"] = format_go_time(ka.last_attempt);
    e["last_success"] = format_go_time(ka.last_success);
    e["last_ban_time"] = format_go_time(ka.last_ban_time);
    root["addrs"].push_back(std::move(e));
  }
  return root.dump(1, '\t');
}

Result<pex::AddrBookSnapshot> from_addrbook_json(std::string_view text) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) { // parse_error, or out_of_range: a huge number
    std::string what = e.what();
    if (auto at = what.find("] "); what.rfind("[json.exception", 0) == 0 && at != std::string::npos)
      what = what.substr(at + 2);
    return format_error("not valid JSON: " + what);
  }
  if (!root.is_object()) return format_error("the top level is not an object");
  pex::AddrBookSnapshot snap;
  auto key = root.find("key");
  if (key == root.end() || !key->is_string()) return format_error("key: missing or not a string");
  snap.key_hex = key->get<std::string>();
  if (!pex::valid_addr_book_key(snap.key_hex))
    return format_error(fmt::format("key: \"{}\" is not 24 hex characters", snap.key_hex));
  auto addrs = root.find("addrs");
  if (addrs == root.end() || addrs->is_null()) return snap; // Go writes null for no addresses
  if (!addrs->is_array()) return format_error("addrs: not an array");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < addrs->size(); ++i) {
    const std::string path = fmt::format("addrs[{}]", i);
    const auto& e = (*addrs)[i];
    if (!e.is_object()) return format_error(path + ": not an object");
    pex::KnownAddress ka;
    auto addr_it = e.find("addr");
    if (addr_it == e.end()) return format_error(path + ".addr: missing");
    auto addr = address_from(*addr_it, path + ".addr");
    if (!addr.ok()) return addr.error();
    ka.addr = *addr;
    if (!valid_id(ka.addr.id))
      return format_error(
          fmt::format("{}.addr.id: \"{}\" is not a node ID (40 hex digits)", path, ka.addr.id));
    if (!ka.addr.valid())
      return format_error(
          fmt::format("{}.addr: {} is not a usable address", path, ka.addr.to_string()));
    if (!seen.insert(ka.addr.id).second)
      return format_error(fmt::format("{}.addr.id: {} appears twice", path, ka.addr.id));
    auto src_it = e.find("src");
    if (src_it == e.end() || src_it->is_null()) {
      ka.src = ka.addr;
    } else {
      auto src = address_from(*src_it, path + ".src");
      if (!src.ok()) return src.error();
      ka.src = *src;
    }
    auto type = e.find("bucket_type");
    if (type == e.end() || !type->is_number_integer() ||
        (type->get<std::int64_t>() != 1 && type->get<std::int64_t>() != 2))
      return format_error(path + ".bucket_type: missing or not 1 (new) or 2 (old)");
    ka.bucket_type = static_cast<pex::BucketType>(type->get<int>());
    const int limit = ka.is_new() ? pex::kNewBucketCount : pex::kOldBucketCount;
    auto buckets = e.find("buckets");
    if (buckets == e.end() || !buckets->is_array())
      return format_error(path + ".buckets: missing or not an array");
    for (std::size_t b = 0; b < buckets->size(); ++b) {
      const auto& v = (*buckets)[b];
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() >= limit)
        return format_error(
            fmt::format("{}.buckets[{}]: {} out of range 0..{}", path, b, v.dump(), limit - 1));
      ka.buckets.push_back(v.get<int>());
    }
    if (ka.is_old() && ka.buckets.size() != 1)
      return format_error(fmt::format("{}.buckets: an old address is in exactly one bucket, not {}",
                                      path, ka.buckets.size()));
    if (ka.is_new() &&
        (ka.buckets.empty() ||
         ka.buckets.size() > static_cast<std::size_t>(pex::kMaxNewBucketsPerAddress)))
      return format_error(fmt::format("{}.buckets: a new address is in 1 to {} buckets, not {}",
                                      path, pex::kMaxNewBucketsPerAddress, ka.buckets.size()));
    auto attempts = e.find("attempts");
    if (attempts != e.end()) {
      if (!attempts->is_number_integer() || attempts->get<std::int64_t>() < 0 ||
          attempts->get<std::int64_t>() > 1'000'000)
        return format_error(path + ".attempts: not a count");
      ka.attempts = attempts->get<int>();
    }
    for (auto [field, target] :
         {std::pair{"last_attempt", &ka.last_attempt}, std::pair{"last_success", &ka.last_success},
          std::pair{"last_ban_time", &ka.last_ban_time}}) {
      auto t = time_from(e, field, path);
      if (!t.ok()) return t.error();
      *target = *t;
    }
    snap.addrs.push_back(std::move(ka));
  }
  return snap;
}

Result<std::string> read_text_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    return make_error(StorageErrc::kFile,
                      fmt::format("{}: is a directory, not a file", file.string()));
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return make_error(StorageErrc::kFile,
                      fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad())
    return make_error(StorageErrc::kFile, fmt::format("{}: cannot read", file.string()));
  return out.str();
}

Status write_file_atomically(const std::filesystem::path& file, std::string_view text) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  auto fail = [&](const char* what) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return make_error(StorageErrc::kFile,
                      fmt::format("{}: {}: {}", file.string(), what, std::strerror(err)));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create the temporary file");
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("cannot sync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) return fail("cannot rename into place");
  return ok_status();
}

} // namespace seedscope::storage
