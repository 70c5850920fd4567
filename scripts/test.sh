#!/bin/sh
# Install what is missing, build, and run every test through ctest: once in a
# normal build and once under AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: scripts/test.sh [--quick]   (--quick skips the sanitizer pass)
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
pacer_install_deps

jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (RelWithDebInfo) and test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPACER_SANITIZE=OFF >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs")

[ "${1:-}" = "--quick" ] && exit 0

echo "== build with ASan+UBSan and test"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPACER_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --output-on-failure -j "$jobs")
echo "== all tests passed"
