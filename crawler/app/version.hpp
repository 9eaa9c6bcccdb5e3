// Which seedscope this is: the release, the git revision it was built from, the build type
// and sanitizers (captured at build time by cmake/revision.cmake) and the protocol versions it
// speaks. `seedscope version` and `--version` print it, our NodeInfo's `version` carries the
// release and revision, and every metrics registry serves it as `<ns>_build_info`.
#pragma once

#include <string>

namespace seedscope::app {

struct BuildInfo {
  std::string release;    // SEEDSCOPE_VERSION_STRING: "seedscope/0.1.0"
  std::string version;    // the release's number alone: "0.1.0"
  std::string revision;   // 12 hex digits, "-dirty" after them for a modified tree, or "unknown"
  std::string build_type; // CMake's: "Release", "RelWithDebInfo", "Debug"
  std::string sanitizers; // "ASan+UBSan" or "off"
};

const BuildInfo& build_info();

// Our NodeInfo's `version` and the start-up lines: "seedscope/0.1.0+1a2b3c4d5e6f" (the
// release alone when the revision is unknown). Printable ASCII without spaces or tabs, as
// Tendermint's NodeInfo validation wants (PROTOCOL.md, section 3).
std::string node_version();

// What `seedscope version` and `seedscope --version` print: the release on the first line,
// then one "name: value" line per field, newline-terminated.
std::string version_text();

} // namespace seedscope::app
