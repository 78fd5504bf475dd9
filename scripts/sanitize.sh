#!/usr/bin/env bash
# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, built
# by clang in build-asan/ (apart from build/), which also checks the locks'
# annotations: -Wthread-safety, and every warning of the project's own code
# is an error (NOQUEUE_WERROR). Any report fails the test that triggered
# it: UBSan does not recover and ASan aborts on its first error. Skipped, by
# label: the statistical targets on the shared data (data) and the
# benchmark smoke runs (bench), which measure accuracy and speed, not
# memory; and the checks of the sources and of the tools' --help (lint),
# which scripts/test.sh has run already.
# Usage: scripts/sanitize.sh [extra cmake configure arguments]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" clang
build="$root/build-asan"
# -g1 (line tables, enough for the reports' stacks) rather than full debug
# information: the build is most of this pass's time.
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
start=$(date +%s)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DNOQUEUE_WERROR=ON \
  -DNOQUEUE_DATA_DIR="${NOQUEUE_DATA_DIR:-$root/../shared/data}" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" "$@" >/dev/null
# What the tests run: the test programs (target noqueue_tests), the server,
# the CLI, the crash trials, the fuzz harnesses' replays and the Python
# client's stubs (not the other benchmarks, whose tests are skipped here).
targets="noqueue_tests noqueue-server noqueue crash_trials noqueue_fuzz_replays"
# (The list is read whole: grep -q would close the pipe early, and
# pipefail would take cmake's SIGPIPE for a failure.)
if grep -qx '\.\.\. noqueue_python' <<<"$(cmake --build "$build" --target help)"; then
  targets+=" noqueue_python"
fi
# shellcheck disable=SC2086  # a list of targets
cmake --build "$build" -j "$(nproc)" --target $targets
built=$(date +%s)
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
status=0
ctest --output-on-failure --timeout 600 -j 2 -LE '^(data|bench|lint)$' || status=$?
end=$(date +%s)
echo "sanitize: build $((built - start)) s, tests $((end - built)) s"
exit "$status"
