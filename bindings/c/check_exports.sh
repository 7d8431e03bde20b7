#!/usr/bin/env bash
# Checks that a shared library exports only ls_* symbols (the C API), and
# that it exports every function declared in the C header.
# With a third argument, also that the C test calls every function.
# Usage: check_exports.sh LIB.so HEADER.h [C_TEST.c]
set -u
lib=$1
header=$2
ctest_src=${3:-}
passed=0
failed=0
if ! command -v nm >/dev/null; then
  echo "check_exports: nm not found (binutils)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
# Defined dynamic symbols, less what the toolchain adds to every object.
syms=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' |
       grep -vxE '_init|_fini|_edata|_end|__bss_start|_ITM_.*|__gmon_start__' | sort -u)
others=$(grep -v '^ls_' <<<"$syms" | grep -v '^$')
if [ -n "$others" ]; then
  echo "FAIL: exported symbols that are not ls_*:" >&2
  head -20 <<<"$others" >&2
  echo "($(wc -l <<<"$others") in all)" >&2
  failed=$((failed + 1))
else
  passed=$((passed + 1))
fi
# Every function of the header is exported.
declared=$(grep -oE '\bls_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$syms"))
if [ -n "$missing" ]; then
  echo "FAIL: declared in $header but not exported: $missing" >&2
  failed=$((failed + 1))
else
  passed=$((passed + 1))
fi
# Every function of the header is called by the C test.
if [ -n "$ctest_src" ]; then
  uncalled=$(for f in $declared; do grep -q "\b$f(" "$ctest_src" || echo "$f"; done)
  if [ -n "$uncalled" ]; then
    echo "FAIL: not called by $ctest_src: $uncalled" >&2
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
fi
echo "exported: $(wc -l <<<"$syms") ls_* symbols"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
