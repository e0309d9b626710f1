#!/usr/bin/env bash
# The improvement loop, end to end on a virtual robot whose truth makes the shipped policy fail:
# trials of the shipped policy on the slow-link virtual robot (recorded), `tether improve` with
# those recordings (failures extracted and replayed), retraining under a randomization that covers
# the slow link, and redeployment on the same virtual robot with the same trial seeds. Passes when
# the improved policy succeeds in more trials than the shipped one, and significantly so.
# Usage: tests/improve_loop.sh [path/to/tether]   (a release build: the retraining takes minutes in debug)
set -u
cd "$(dirname "$0")/.."
TETHER=${1:-.build/release/tether}
[ -x "$TETHER" ] || { echo "tests/improve_loop.sh: $TETHER is not built (swift build -c release --product tether)"; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export TETHER_HISTORY="$TMP/history.sqlite"
set -e
"$TETHER" trials --policy policies/quadruped.onnx --backend emulator --truth tests/fixtures/slow-link-truth.yaml \
  --count 8 --seconds 15 --seed 3 --out "$TMP/before" | tail -1
"$TETHER" improve --robot quadruped --policy policies/quadruped.onnx --randomize tests/fixtures/slow-link-randomization.yaml \
  --recordings "$TMP/before" --trials 40 --iterations 15 --out "$TMP/improve" \
  --redeploy-truth tests/fixtures/slow-link-truth.yaml --redeploy-count 12 | grep -Ev "^  (redeploy-|trials [0-9])"
set +e
python3 - "$TMP/improve/redeploy.json" "$TMP/improve/recorded-scenarios.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
scenarios = json.load(open(sys.argv[2]))
print(f"improve loop on the slow-link virtual robot: {r['beforeSuccesses']}/{r['trials']} -> {r['afterSuccesses']}/{r['trials']} "
      f"({r['change']:+.1f} points, Fisher p = {r['fisherP']:.3g}); {len(scenarios)} recorded failures replayed")
ok = True
if not scenarios or any('replay' not in s for s in scenarios):
    print("FAIL: the recorded failures were not extracted and replayed"); ok = False
if r['beforeSuccesses'] > r['trials'] // 2:
    print("FAIL: the shipped policy should fail often on the slow-link robot"); ok = False
if not (r['afterSuccesses'] > r['beforeSuccesses'] and r['fisherP'] < 0.05):
    print("FAIL: the improved policy is not significantly better on the virtual robot"); ok = False
sys.exit(0 if ok else 1)
PY
