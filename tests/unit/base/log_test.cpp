#include "core/base/log.hpp"

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/logfmt_parse.hpp"
#include "support/recording_log.hpp"

using namespace seedscope;

namespace {

// 2026-12-01 12:00:00.123 UTC.
WallTime log_test_time() {
  using namespace std::chrono;
  return WallTime(sys_days(year(2026) / 12 / 1).time_since_epoch() + hours(12) + milliseconds(123));
}

LogFilter log_test_filter(std::string_view text) {
  auto f = parse_log_filter(text);
  REQUIRE_MESSAGE(f.ok(), f.error().detail);
  return *f;
}

std::string log_test_error(std::string_view text) {
  auto f = parse_log_filter(text);
  REQUIRE_FALSE(f.ok());
  return f.error().detail;
}

// Values a peer or an operator could put in a field: every one must come back as it was.
const std::vector<std::string> kAwkward = {"",           "plain",       "two words",   "a=b",
                                           "say \"hi\"", "back\\slash", "line\nbreak", "tab\there",
                                           "cr\rhere",   "\x01\x7f",    "ünïcode",     " lead",
                                           "trail ",     "=",           "\"",          "key=\"v\""};

} // namespace

TEST_CASE("log filter: one level, or module:level pairs with * for the rest") {
  const LogFilter info = log_test_filter("info");
  CHECK(info.allows(LogLevel::info, "p2p"));
  CHECK_FALSE(info.allows(LogLevel::debug, "p2p"));
  CHECK(info.allows(LogLevel::error, "crawler"));

  const LogFilter mixed = log_test_filter("p2p:info,crawler:debug,*:error");
  CHECK(mixed.allows(LogLevel::info, "p2p"));
  CHECK_FALSE(mixed.allows(LogLevel::debug, "p2p"));
  CHECK(mixed.allows(LogLevel::debug, "crawler"));
  CHECK_FALSE(mixed.allows(LogLevel::info, "storage"));
  CHECK(mixed.allows(LogLevel::error, "storage"));
  CHECK(mixed.allows(LogLevel::error, "main"));

  // Without "*" the other modules stay at info; spaces around the parts are allowed.
  const LogFilter partial = log_test_filter(" storage:error , geo:debug ");
  CHECK_FALSE(partial.allows(LogLevel::info, "storage"));
  CHECK(partial.allows(LogLevel::debug, "geo"));
  CHECK(partial.allows(LogLevel::info, "main"));
  CHECK_FALSE(partial.allows(LogLevel::debug, "main"));

  // none: nothing at all, not even errors.
  const LogFilter none = log_test_filter("none");
  CHECK_FALSE(none.allows(LogLevel::error, "main"));
  const LogFilter quiet = log_test_filter("*:none,p2p:error");
  CHECK_FALSE(quiet.allows(LogLevel::error, "crawler"));
  CHECK(quiet.allows(LogLevel::error, "p2p"));
  CHECK_FALSE(quiet.allows(LogLevel::none, "p2p")); // "none" is never a record's level

  const LogFilter debug = log_test_filter("debug");
  for (std::string_view m : kLogModules) CHECK(debug.allows(LogLevel::debug, m));
}

TEST_CASE("log filter: each kind of mistake is one line naming it") {
  CHECK(log_test_error("") == "empty log level (e.g. \"info\" or \"p2p:debug,*:error\")");
  CHECK(log_test_error("infoo") ==
        "unknown log level \"infoo\"; did you mean \"info\"? (levels: debug, info, error, none)");
  CHECK(log_test_error("warn").find("unknown log level") == 0);
  CHECK(log_test_error("p2p:verbose").find("unknown log level \"verbose\"") == 0);
  CHECK(log_test_error("crawlr:debug") ==
        "unknown module \"crawlr\"; did you mean \"crawler\"? (modules: main, p2p, pex, crawler, "
        "storage, metrics, geo, api, netsim)");
  CHECK(log_test_error("consensus:debug").find("unknown module \"consensus\" (modules: ") == 0);
  CHECK(log_test_error("p2p:info,debug") ==
        "\"debug\": expected module:level (e.g. \"p2p:debug\")");
  CHECK(log_test_error("p2p:info,p2p:debug") == "module \"p2p\" given twice");
  CHECK(log_test_error("*:info,*:error") == "\"*\" given twice");
  CHECK(log_test_error(":info").find("unknown module \"\"") == 0);
  // A control character in the input stays escaped in the one-line message.
  CHECK(log_test_error("p2\n:info").find("unknown module \"p2\\n\"") == 0);
}

TEST_CASE("log format: plain, json and logfmt; anything else names the nearest") {
  CHECK(*parse_log_format("plain") == LogFormat::plain);
  CHECK(*parse_log_format("json") == LogFormat::json);
  CHECK(*parse_log_format("logfmt") == LogFormat::logfmt);
  auto bad = parse_log_format("jsno");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().detail ==
        "unknown log format \"jsno\"; did you mean \"json\"? (formats: plain, json, logfmt)");
  CHECK_FALSE(parse_log_format("").ok());
  CHECK_FALSE(parse_log_format("JSON").ok());
}

TEST_CASE("log line, plain: Tendermint's tmfmt in UTC with milliseconds") {
  const std::vector<LogField> fields{{"peer", "ab12"}, {"addr", "1.2.3.4:26656"}, {"n", 3}};
  LogRecord r{log_test_time(), LogLevel::info, "p2p", "peer added", fields};
  CHECK(format_log_line(LogFormat::plain, r) ==
        "I[2026-12-01|12:00:00.123] peer added                                   module=p2p "
        "peer=ab12 addr=1.2.3.4:26656 n=3\n");
  r.level = LogLevel::error;
  r.fields = {};
  r.message = std::string_view("a message longer than forty-four characters, not padded");
  CHECK(format_log_line(LogFormat::plain, r) ==
        "E[2026-12-01|12:00:00.123] a message longer than forty-four characters, not padded "
        "module=p2p\n");
  r.level = LogLevel::debug;
  r.message = "two\nlines";
  CHECK(format_log_line(LogFormat::plain, r).rfind("D[2026-12-01|12:00:00.123] two\\nlines ", 0) ==
        0);
  // The epoch and a time before it format as dates too.
  r.time = WallTime{};
  CHECK(format_log_line(LogFormat::plain, r).rfind("D[1970-01-01|00:00:00.000] ", 0) == 0);
}

TEST_CASE("log line, logfmt and plain: awkward values parse back as they were") {
  for (const std::string& v : kAwkward) {
    INFO("value: ",
         nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    const std::vector<LogField> fields{{"first", "x"}, {"v", v}, {"last", "y"}};
    LogRecord r{log_test_time(), LogLevel::info, "crawler", "awkward value", fields};

    const std::string logfmt = format_log_line(LogFormat::logfmt, r);
    REQUIRE(logfmt.back() == '\n');
    CHECK(logfmt.find('\n') == logfmt.size() - 1);
    auto kv = test::parse_logfmt(logfmt.substr(0, logfmt.size() - 1));
    REQUIRE(kv);
    CHECK(kv->at("ts") == "2026-12-01T12:00:00.123Z");
    CHECK(kv->at("level") == "info");
    CHECK(kv->at("module") == "crawler");
    CHECK(kv->at("msg") == "awkward value");
    CHECK(kv->at("v") == v);
    CHECK(kv->at("first") == "x");
    CHECK(kv->at("last") == "y");

    const std::string plain = format_log_line(LogFormat::plain, r);
    CHECK(plain.find('\n') == plain.size() - 1);
    auto line = test::parse_plain_line(plain.substr(0, plain.size() - 1));
    REQUIRE(line);
    CHECK(line->level == "info");
    CHECK(line->time == "2026-12-01|12:00:00.123");
    CHECK(line->message == "awkward value");
    CHECK(line->fields.at("module") == "crawler");
    CHECK(line->fields.at("v") == v);
    CHECK(line->fields.at("last") == "y");
  }
}

TEST_CASE("log line, json: one object per line, fields after ts, level, module, msg") {
  for (const std::string& v : kAwkward) {
    const std::vector<LogField> fields{{"peer", "ab12"}, {"v", v}, {"msg", "not the message"}};
    LogRecord r{log_test_time(), LogLevel::error, "storage", "say \"no\"\n", fields};
    const std::string line = format_log_line(LogFormat::json, r);
    CHECK(line.find('\n') == line.size() - 1);
    const auto j = nlohmann::ordered_json::parse(line);
    REQUIRE(j.is_object());
    CHECK(j.begin().key() == "ts");
    CHECK(j["ts"] == "2026-12-01T12:00:00.123Z");
    CHECK(j["level"] == "error");
    CHECK(j["module"] == "storage");
    CHECK(j["msg"] == "say \"no\"\n");
    CHECK(j["peer"] == "ab12");
    CHECK(j["field_msg"] == "not the message"); // never overwrites the record's own keys
    CHECK(j["v"] == v);
  }
  // Invalid UTF-8 from a peer is replaced, never an exception or a broken line.
  const std::vector<LogField> bad{{"moniker", "\xff\xfe"}};
  LogRecord r{log_test_time(), LogLevel::info, "p2p", "peer added", bad};
  const auto j = nlohmann::json::parse(format_log_line(LogFormat::json, r));
  CHECK(j["moniker"] == "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("logger: levels per module, disabled levels cost nothing, default discards") {
  auto sink = std::make_shared<test::RecordingLogSink>();
  sink->threshold = LogLevel::info;
  const Logger p2p(sink, "p2p");
  CHECK(p2p.enabled(LogLevel::info));
  CHECK_FALSE(p2p.enabled(LogLevel::debug));
  p2p.debug("not kept", {{"n", 1}});
  p2p.info("kept", {{"peer", "id"}, {"ok", true}, {"ratio", 0.5}});
  p2p.with_module("geo").error("from geo");
  const auto entries = sink->entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].module == "p2p");
  CHECK(entries[0].text == "kept peer=id ok=true ratio=0.5");
  CHECK(entries[1].module == "geo");
  CHECK(entries[1].level == LogLevel::error);

  const Logger silent;
  CHECK_FALSE(silent.enabled(LogLevel::error));
  silent.error("goes nowhere"); // no sink: nothing happens
}

TEST_CASE("logfmt value: bare when it can be, quoted and escaped otherwise") {
  CHECK(logfmt_value("abc") == "abc");
  CHECK(logfmt_value("1.2.3.4:26656") == "1.2.3.4:26656");
  CHECK(logfmt_value("") == "\"\"");
  CHECK(logfmt_value("a b") == "\"a b\"");
  CHECK(logfmt_value("a=b") == "\"a=b\"");
  CHECK(logfmt_value("q\"") == "\"q\\\"\"");
  CHECK(logfmt_value("\n\x01") == "\"\\n\\u0001\"");
}
