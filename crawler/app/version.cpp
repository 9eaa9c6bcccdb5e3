#include "crawler/app/version.hpp"

#include <fmt/format.h>

#include "core/types/node_info.hpp"
// Generated at build time into the build tree (cmake/revision.cmake); only this file includes
// it, so a new revision recompiles this file alone.
#include "seedscope_build_info.hpp"

namespace seedscope::app {

const BuildInfo& build_info() {
  static const BuildInfo info{SEEDSCOPE_VERSION_STRING, SEEDSCOPE_RELEASE, SEEDSCOPE_REVISION,
                              SEEDSCOPE_BUILD_TYPE, SEEDSCOPE_SANITIZERS};
  return info;
}

std::string node_version() {
  const BuildInfo& b = build_info();
  return b.revision == "unknown" ? b.release : b.release + "+" + b.revision;
}

std::string version_text() {
  const BuildInfo& b = build_info();
  return fmt::format("{}\nrevision: {}\nbuild type: {}\nsanitizers: {}\np2p protocol: {}\n"
                     "block protocol: {}\nnode info version: {}\n",
                     b.release, b.revision, b.build_type, b.sanitizers, kP2PProtocol,
                     kBlockProtocol, node_version());
}

} // namespace seedscope::app
