#!/usr/bin/env bash
# The flight recorder survives kill -9: a real-time `tether deploy --record` (window mode, the
# default) is killed with SIGKILL after ~6 s; `tether log recover` must restore a valid bag from
# the spool segments it left, whose last message is at most 1 s (+0.5 s for scheduling on a busy
# machine) before the kill. The Python `mcap` library (the venv's) reads the recovered file.
# Usage: tests/crash_record.sh [path/to/tether]   (default: .build/debug/tether)
set -u
cd "$(dirname "$0")/.."
TETHER=${1:-.build/debug/tether}
PY=.venv/bin/python
[ -x "$TETHER" ] || { echo "tests/crash_record.sh: $TETHER is not built (run swift build first)"; exit 2; }
[ -x "$PY" ] || { echo "tests/crash_record.sh: $PY is missing (run scripts/setup.sh first)"; exit 2; }
TMP=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT
export TETHER_HISTORY="$TMP/history.sqlite"
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ $# -gt 1 ] && echo "$2" | sed 's/^/     /'; }

"$TETHER" deploy --robot quadruped --policy policies/quadruped.onnx --backend sim --seconds 30 \
  --record "$TMP/run.mcap" >"$TMP/deploy.log" 2>&1 &
pid=$!
sleep 6
if ! kill -0 "$pid" 2>/dev/null; then
  fail "deploy still running after 6 s" "$(tail -20 "$TMP/deploy.log")"
  echo "crash_record.sh: $passed passed, $failed failed"; exit 1
fi
# SIGKILL from Python, and the time taken right after the call returns: the kill time.
kill_time=$("$PY" -c 'import os, signal, sys, time; os.kill(int(sys.argv[1]), signal.SIGKILL); print(repr(time.time()))' "$pid")
{ wait "$pid"; } 2>/dev/null
pid=

ls "$TMP"/run.mcap.spool-*.mcap >/dev/null 2>&1 && ok "the killed run left its spool segments" \
  || fail "the killed run left its spool segments" "$(ls -la "$TMP")"

out=$("$TETHER" log info "$TMP/run.mcap" 2>&1); code=$?
if [ ! -e "$TMP/run.mcap" ]; then
  if [ "$code" -eq 1 ] && grep -q "did not end" <<<"$out" && grep -q "tether log recover $TMP/run.mcap" <<<"$out"; then
    ok "log info on the missing recording says the run did not end and names the recover command"
  else
    fail "log info on the missing recording (exit $code)" "$out"
  fi
else
  # A safety stop under load (late ticks) flushed the window to the path before the kill.
  if grep -q "tether log recover $TMP/run.mcap" <<<"$out"; then ok "log info on the cut recording names the recover command"
  else fail "log info on the cut recording (exit $code)" "$out"; fi
fi

out=$("$TETHER" log recover "$TMP/run.mcap" "$TMP/rec.mcap" 2>&1); code=$?
if [ "$code" -eq 0 ] && grep -q "recovered [1-9][0-9]* message" <<<"$out"; then ok "log recover merges the spool ($out)"
else fail "log recover (exit $code)" "$out"; fi

out=$("$PY" tests/peers/recovered_bag.py "$TMP/rec.mcap" "$kill_time" 2>&1); code=$?
if [ "$code" -eq 0 ]; then ok "python mcap reads the recovered bag; $(tail -1 <<<"$out")"; echo "$out" | head -1 | sed 's/^/     /'
else fail "python mcap check of the recovered bag (exit $code)" "$out"; fi

echo "crash_record.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
