#!/usr/bin/env bash
# Installs the Debian 12 packages NoQueue builds with, when they are missing.
# With "clang" (scripts/sanitize.sh) or "fuzz" (scripts/fuzz.sh), also clang
# and its runtime libraries.
# Usage: scripts/install-deps.sh [clang|fuzz]
set -euo pipefail
packages=(
  build-essential cmake pkg-config tzdata
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libeigen3-dev libsqlite3-dev sqlite3 catch2 zlib1g-dev
  libssl-dev openssl clang-format
  python3 python3-grpcio python3-protobuf
  libcurl4-openssl-dev libmicrohttpd-dev prometheus-cpp-dev chromium
)
# clang and its runtime libraries (libFuzzer and the sanitizers' runtimes
# are in libclang-rt-14-dev): the sanitizer pass and the fuzzers.
case ${1:-} in
  clang | fuzz) packages+=(clang libclang-rt-14-dev) ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
