#!/usr/bin/env bash
# Installs the Debian 12 packages seedscope needs, only those that are missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libuv1-dev libsodium-dev protobuf-compiler libprotobuf-dev libsqlite3-dev sqlite3
  prometheus-cpp-dev libfmt-dev doctest-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  clang clang-format python3 prometheus
  python3-yaml systemd # the deploy/ tests: compose.yml parsed, systemd-analyze verify on the unit
  libmaxminddb-dev libmaxmind-db-writer-perl # geo lookups; the tests write MaxMind DB fixtures
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "seedscope: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
