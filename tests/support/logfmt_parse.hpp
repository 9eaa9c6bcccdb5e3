// Parsers for the log lines seedscope writes, strict enough to fail on anything else: logfmt
// (key=value pairs, one space apart; values bare or quoted with \" \\ \n \r \t \u00XX) and
// Tendermint's plain line (`I[2026-12-01|12:00:00.123] message<padding> module=p2p k=v`).
// Tests use them to check that every line parses; header-only.
#pragma once

#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace seedscope::test {

inline std::optional<std::map<std::string, std::string>> parse_logfmt(std::string_view line) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  while (i < line.size()) {
    const std::size_t key_start = i;
    while (i < line.size() && line[i] != '=' && line[i] != ' ' && line[i] != '"') ++i;
    if (i == key_start || i >= line.size() || line[i] != '=') return std::nullopt;
    std::string key(line.substr(key_start, i - key_start));
    ++i; // '='
    std::string value;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        const char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (static_cast<unsigned char>(c) < 0x20) return std::nullopt; // raw control char
        if (c != '\\') {
          value += c;
          continue;
        }
        if (i >= line.size()) return std::nullopt;
        const char e = line[i++];
        if (e == '"' || e == '\\') value += e;
        else if (e == 'n') value += '\n';
        else if (e == 'r') value += '\r';
        else if (e == 't') value += '\t';
        else if (e == 'u' && i + 4 <= line.size() && line.substr(i, 2) == "00" &&
                 hex(line[i + 2]) >= 0 && hex(line[i + 3]) >= 0) {
          value += static_cast<char>(hex(line[i + 2]) * 16 + hex(line[i + 3]));
          i += 4;
        } else return std::nullopt;
      }
      if (!closed) return std::nullopt;
    } else {
      const std::size_t start = i;
      while (i < line.size() && line[i] != ' ') {
        const auto u = static_cast<unsigned char>(line[i]);
        if (u < 0x20 || line[i] == '"' || line[i] == '=') return std::nullopt;
        ++i;
      }
      if (i == start) return std::nullopt; // an empty value is written ""
      value = std::string(line.substr(start, i - start));
    }
    if (!out.emplace(std::move(key), std::move(value)).second) return std::nullopt; // twice
    if (i < line.size()) {
      if (line[i] != ' ' || i + 1 == line.size()) return std::nullopt;
      ++i;
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

struct PlainLine {
  std::string level; // debug, info, error
  std::string time;  // 2026-12-01|12:00:00.123
  std::string message;
  std::map<std::string, std::string> fields; // module first on the line
};

inline std::optional<PlainLine> parse_plain_line(std::string_view line) {
  static const std::regex head(R"(^([DIE])\[(\d{4}-\d\d-\d\d\|\d\d:\d\d:\d\d\.\d{3})\] )");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(line.begin(), line.end(), m, head)) return std::nullopt;
  PlainLine out;
  const char letter = m[1].str()[0];
  out.level = letter == 'D' ? "debug" : letter == 'I' ? "info" : "error";
  out.time = m[2].str();
  std::string_view rest = line.substr(static_cast<std::size_t>(m.length(0)));
  const auto at = rest.find(" module=");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view message = rest.substr(0, at);
  while (!message.empty() && message.back() == ' ') message.remove_suffix(1);
  if (message.empty()) return std::nullopt;
  for (char c : message)
    if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
  out.message = std::string(message);
  auto fields = parse_logfmt(rest.substr(at + 1));
  if (!fields) return std::nullopt;
  out.fields = std::move(*fields);
  return out;
}

} // namespace seedscope::test
