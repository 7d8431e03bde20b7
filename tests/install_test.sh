#!/usr/bin/env bash
# Packaging: `cmake --install` into a temporary prefix, then tiny consumers
# built against the installed copy only: C++ and C with find_package(leadscore),
# C++ and C with pkg-config. Each scores one event and prints the member.
# Env (ctest sets them): BUILD (the build tree), SRC; KEEP_TMP=1 keeps the
# temporary prefix and consumers.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$SRC/build}
CXX=${CXX:-c++}
CC=${CC:-cc}
TMP=$(mktemp -d)
trap '[ -n "${KEEP_TMP:-}" ] && echo "install_test: kept $TMP" >&2 || rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix

passed=0
failed=0
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name" >&2
  fi
}
has() { grep -q -- "$2" <<<"$1"; }

cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1
check "cmake --install succeeds" test $? -eq 0
LIBDIR=$(dirname "$(find "$PREFIX" -name libleadscore.a | head -1)")
for f in "$LIBDIR/libleadscore.a" "$LIBDIR/libleadscore_c.so" \
         "$PREFIX/include/leadscore/store.h" "$PREFIX/include/leadscore/c.h" \
         "$PREFIX/include/leadscore/v1/state.pb.h" "$PREFIX/bin/leadscore" \
         "$LIBDIR/cmake/leadscore/leadscoreConfig.cmake" \
         "$LIBDIR/cmake/leadscore/leadscoreConfigVersion.cmake" \
         "$LIBDIR/pkgconfig/leadscore.pc" "$LIBDIR/pkgconfig/leadscore_c.pc" \
         "$PREFIX/share/leadscore/proto/leadscore/v1/state.proto"; do
  check "installed: ${f#"$PREFIX"/}" test -e "$f"
done

mkdir -p "$TMP/consumer"
cd "$TMP/consumer" || exit 1
cat >main.cc <<'EOF'
// A C++ host: one event, one member read.
#include <iostream>
#include "leadscore/model.h"
#include "leadscore/store.h"
int main() {
  auto model = leadscore::Model::LoadText(
      R"(name: "tiny" score { name: "engagement" } rule { name: "demo" on: "demo.request" score: "engagement" points: 40 })");
  if (!model.ok()) return 1;
  leadscore::Store store(*model);
  leadscore::Event e;
  e.event_id = "e1"; e.member_id = "m1"; e.has_time = true; e.time = 1767225600000; e.type = "demo.request";
  store.Apply(e, nullptr);
  std::cout << leadscore::MemberViewToJson(**model, *store.Read("m1", e.time)) << "\n";
  return 0;
}
EOF
cat >main.c <<'EOF'
/* A C host: one event, one member read, through libleadscore_c. */
#include <stdio.h>
#include <string.h>
#include "leadscore/c.h"
int main(void) {
  static const char text[] = "name: \"tiny\" score { name: \"engagement\" } "
      "rule { name: \"demo\" on: \"demo.request\" score: \"engagement\" points: 40 }";
  char* err = NULL;
  ls_model_t* m = ls_model_load_text(text, strlen(text), NULL, &err);
  ls_store_t* s = ls_store_create(m, &err);
  ls_event e = {0};
  char* json;
  e.event_id = "e1"; e.event_id_len = 2; e.member_id = "m1"; e.member_id_len = 2;
  e.has_time = 1; e.time = 1767225600000LL; e.type = "demo.request"; e.type_len = 12;
  if (err != NULL || ls_store_apply(s, &e, &err) != LS_OK) return 1;
  json = ls_store_read_json(s, "m1", 2, LS_TIME_CLOCK, NULL, &err);
  printf("%s (leadscore %s)\n", json, ls_version_string());
  ls_free(json);
  ls_store_destroy(s);
  ls_model_destroy(m);
  return 0;
}
EOF
cat >CMakeLists.txt <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(consumer LANGUAGES C CXX)
find_package(leadscore 0.1 REQUIRED)
add_executable(cpp_consumer main.cc)
target_link_libraries(cpp_consumer PRIVATE leadscore::leadscore)
add_executable(c_consumer main.c)
target_link_libraries(c_consumer PRIVATE leadscore::leadscore_c)
EOF
want='{"member_id":"m1","stage":null,"stage_since":null,"scores":{"engagement":40}'

# find_package(leadscore)
# built: runs a build command, showing its log when it fails.
built() {
  local log=$1
  shift
  "$@" >>"$log" 2>&1 && return 0
  tail -30 "$log" >&2
  return 1
}
check "find_package(leadscore) consumers build" built cmake.log \
  sh -c "cmake -S . -B build -DCMAKE_PREFIX_PATH='$PREFIX' -DCMAKE_BUILD_TYPE=Release &&
         cmake --build build -j 2"
out=$(./build/cpp_consumer 2>&1)
check "C++ consumer (find_package) runs" has "$out" "$want"
out=$(./build/c_consumer 2>&1)
check "C consumer (find_package) runs" has "$out" "$want"

# pkg-config
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
check "pkg-config knows leadscore" pkg-config --exists leadscore
check "pkg-config knows leadscore_c" pkg-config --exists leadscore_c
# shellcheck disable=SC2046
check "C++ consumer (pkg-config) builds" built pc.log \
  $CXX -std=c++17 main.cc -o pc_cpp $(pkg-config --cflags --libs leadscore)
out=$(./pc_cpp 2>&1)
check "C++ consumer (pkg-config) runs" has "$out" "$want"
# shellcheck disable=SC2046
check "C consumer (pkg-config) builds" built pc.log \
  $CC -std=c99 -Wall -Wextra -Wstrict-prototypes -Werror main.c -o pc_c \
  $(pkg-config --cflags --libs leadscore_c)
out=$(LD_LIBRARY_PATH=$LIBDIR ./pc_c 2>&1)
check "C consumer (pkg-config) runs" has "$out" "$want"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
