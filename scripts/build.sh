#!/usr/bin/env bash
# Configures and builds NoQueue into build/ (RelWithDebInfo). Extra arguments
# go to cmake's configure step, e.g. -DBUILD_TESTING=OFF.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNOQUEUE_DATA_DIR="${NOQUEUE_DATA_DIR:-$root/../shared/data}" "$@" >/dev/null
cmake --build "$root/build" -j "$(nproc)"
