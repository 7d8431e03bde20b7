#!/usr/bin/env bash
# The CRM embedding example (examples/crm_postgres) against a real PostgreSQL:
# starts a private server on a Unix socket in a temporary directory, feeds
# the app a generated community log while killing it (SIGKILL) at every step
# of its transaction and once from outside at a random moment, restarts it
# each time, and checks that the final members and changes equal a batch run
# (`leadscore score --order arrival`) on the same log: nothing lost, nothing
# applied twice.
#
# Installs what it needs when missing (Debian: postgresql, libpq-dev; needs
# root or sudo, else the test is skipped with status 77).
# Env (ctest sets them): LEADSCORE (the CLI), SRC, BUILD, LEADSCORE_C_LIBRARY;
# KEEP_TMP=1 keeps the temporary directory (database, logs, outputs).
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$SRC/build}
LEADSCORE=${LEADSCORE:-$BUILD/leadscore}
LIB=${LEADSCORE_C_LIBRARY:-$BUILD/libleadscore_c.so}
EX=$SRC/examples/crm_postgres
MODEL=$SRC/examples/models/community.textproto
CC=${CC:-cc}

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
finish_test() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# --- what it needs ---------------------------------------------------------
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
have_all() {
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] && [ -f /usr/include/postgresql/libpq-fe.h ] &&
    command -v psql >/dev/null && command -v python3 >/dev/null
}
if ! have_all; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      echo "postgres_crm_test: postgresql / libpq-dev missing and not root: skipped" >&2
      exit 77
    fi
  fi
  echo "postgres_crm_test: installing postgresql libpq-dev" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    postgresql libpq-dev python3 >&2
fi
if ! have_all; then
  echo "postgres_crm_test: PostgreSQL could not be installed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
PGBIN=$(pg_bin)
for f in "$LEADSCORE" "$LIB"; do
  if [ ! -e "$f" ]; then
    echo "postgres_crm_test: missing $f (build first)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
done

TMP=$(mktemp -d)
PGDATA=$TMP/pgdata
SOCK=$TMP/sock
mkdir -p "$SOCK"
# The server refuses to run as root: as root, run it as the `postgres`
# system user (created by the package).
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$TMP" postgres
  chown postgres "$TMP" "$SOCK"
  chmod 755 "$TMP"
  AS_PG=(runuser -u postgres --)
fi
cleanup() {
  if [ -f "$PGDATA/postmaster.pid" ]; then
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1
  fi
  if [ -n "${KEEP_TMP:-}" ]; then echo "postgres_crm_test: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

t0=$(date +%s)
"${AS_PG[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C \
  >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; echo "0 passed, 1 failed"; exit 1; }
# A private server: Unix socket only, in our directory; fsync off (the test
# kills the app, not the server).
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$TMP/server.log" -w -t 60 \
  -o "-k $SOCK -c listen_addresses='' -c fsync=off -c full_page_writes=off" start \
  >/dev/null 2>&1 || { cat "$TMP/server.log" >&2; echo "0 passed, 1 failed"; exit 1; }
DB="host=$SOCK user=postgres dbname=postgres"
psql_q() { psql "$DB" -Atqc "$1"; }

# --- the app -----------------------------------------------------------------
APP=$TMP/crm_app
$CC -std=c99 -O1 -Wall -Wextra -Wstrict-prototypes -Werror -I"$SRC/bindings/c" \
  -I/usr/include/postgresql "$EX/crm_app.c" -o "$APP" \
  -L"$(dirname "$LIB")" -lleadscore_c -lpq -Wl,-rpath,"$(dirname "$LIB")"
check "the example app builds with -Werror" test -x "$APP"
[ -x "$APP" ] || finish_test

# --- a log, its feed, and the batch run ---------------------------------------
cd "$TMP" || exit 1
"$LEADSCORE" gen --members 300 --events 6000 --seed 11 --out log.csv 2>/dev/null
AS_OF=$(python3 "$EX/make_feed.py" log.csv feed.tsv)
TOTAL=$(($(wc -l <feed.tsv) - 1))
"$LEADSCORE" score --model "$MODEL" --events log.csv --order arrival --as-of "$AS_OF" \
  --members-out batch_members.jsonl --changes-out batch_changes.jsonl 2>batch.err
check "the batch run succeeds" test $? -eq 0

# --- crash at every step, from inside ------------------------------------------
"$APP" --db "$DB" init --schema "$EX/schema.sql"
check "init" test $? -eq 0
progress() { psql_q "SELECT next_seq FROM leadscore_progress WHERE feed = 'events'"; }
last=0
for point in read apply write commit; do
  "$APP" --db "$DB" --model "$MODEL" apply --feed feed.tsv --batch 25 \
    --crash-after 700 --crash-at "$point" 2>>app.err
  rc=$?
  now=$(progress)
  check "killed at '$point' (exit $rc)" test "$rc" -eq 137
  # The batch in flight is rolled back: progress is a whole number of batches.
  check "progress after the crash at '$point' moved on and stopped ($last -> $now)" \
    test "$now" -gt "$last" -a "$now" -lt "$TOTAL" -a $((now % 25)) -eq 0
  last=$now
done

# --- and once from outside, at a moment of the kernel's choosing ---------------
"$APP" --db "$DB" --model "$MODEL" apply --feed feed.tsv --batch 1 2>>app.err &
pid=$!
for _ in $(seq 1 400); do
  now=$(progress)
  [ "$now" -ge $((last + 300)) ] && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rc=$?
now=$(progress)
check "SIGKILL from outside mid-run (exit $rc)" test "$rc" -eq 137 -a "$now" -lt "$TOTAL"
check "progress moved on before the kill ($last -> $now)" test "$now" -gt "$last"

# --- restart to the end, then the as-of evaluation ------------------------------
"$APP" --db "$DB" --model "$MODEL" apply --feed feed.tsv --batch 50 2>>app.err
check "the restarted app completes the feed" test $? -eq 0 -a "$(progress)" -eq "$TOTAL"
before=$(psql_q 'SELECT count(*) FROM leadscore_change')
"$APP" --db "$DB" --model "$MODEL" apply --feed feed.tsv --batch 50 2>>app.err
check "running again applies nothing" \
  test "$(psql_q 'SELECT count(*) FROM leadscore_change')" -eq "$before"
"$APP" --db "$DB" --model "$MODEL" finish --as-of "$AS_OF" \
  --members-out app_members.jsonl --changes-out app_changes.jsonl 2>>app.err
check "finish" test $? -eq 0

# --- the same as the uninterrupted batch run -------------------------------------
check "members: the app's final state equals the batch run's" \
  cmp -s app_members.jsonl batch_members.jsonl
if ! cmp -s app_members.jsonl batch_members.jsonl; then
  diff app_members.jsonl batch_members.jsonl | head -5 >&2
fi
check "every member has its row" test "$(psql_q 'SELECT count(*) FROM leadscore_member')" -eq \
  "$(wc -l <batch_members.jsonl)"
# Changes member by member in order; rejections of rows the batch tool could
# not read come first there (it rejects them while reading), so those are
# compared as a set.
grep -v '"kind":"rejected"' batch_changes.jsonl >b_kept.jsonl
grep -v '"kind":"rejected"' app_changes.jsonl >a_kept.jsonl
check "changes: the same tags, stages and flags, in the same order" cmp -s a_kept.jsonl b_kept.jsonl
grep '"kind":"rejected"' batch_changes.jsonl | sort >b_rej.jsonl
grep '"kind":"rejected"' app_changes.jsonl | sort >a_rej.jsonl
check "changes: the same rejections (none applied twice)" cmp -s a_rej.jsonl b_rej.jsonl
check "the outbox has flag raises" test "$(grep -c '"kind":"flag_raised"' a_kept.jsonl)" -gt 0
check "the log has duplicates and late rows that were rejected" \
  grep -q '"reason":"duplicate"' a_rej.jsonl

echo "postgres_crm_test: $TOTAL events, $(wc -l <batch_members.jsonl) members, $(($(date +%s) - t0)) s" >&2
finish_test
