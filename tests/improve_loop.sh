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
  --count 16 --seconds 15 --seed 3 --out "$TMP/before" | tail -1
# Gap attribution from calibration, as on a real robot: torque steps on the same virtual robot,
# calibrated; the same trials in the calibrated simulation, then with each calibrated group set
# back to nominal. The calibrated simulation must reproduce the real failures, and the measured
# dead time must be what explains them (the slow link is the truth). 16 trials each: with the
# deployment's filters on (low-pass, target speed limit) the outcomes are less one-sided than
# without, and 8 trials left the dead time's effect (5/8 vs 0/8) short of significance.
"$TETHER" experiment torque-step --backend emulator --truth tests/fixtures/slow-link-truth.yaml --fast --out "$TMP/steps.mcap" | tail -1
"$TETHER" calibrate "$TMP/steps.mcap" --out "$TMP/cal" | grep -E "driver\.(delay|lag)"
"$TETHER" trials --policy policies/quadruped.onnx --backend sim --calibration "$TMP/cal" --attribute --real "$TMP/before/trials.jsonl" \
  --count 16 --seconds 15 --seed 3 --no-record --out "$TMP/calibrated" | grep -E "nominal  success|calibrated simulation|explain"
"$TETHER" improve --robot quadruped --policy policies/quadruped.onnx --randomize tests/fixtures/slow-link-randomization.yaml \
  --recordings "$TMP/before" --trials 40 --iterations 15 --out "$TMP/improve" \
  --redeploy-truth tests/fixtures/slow-link-truth.yaml --redeploy-count 12 | grep -Ev "^  (redeploy-|trials [0-9])"
set +e
python3 - "$TMP/improve/redeploy.json" "$TMP/improve/recorded-scenarios.json" "$TMP/calibrated/attribution.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
scenarios = json.load(open(sys.argv[2]))
a = json.load(open(sys.argv[3]))
print(f"improve loop on the slow-link virtual robot: {r['beforeSuccesses']}/{r['trials']} -> {r['afterSuccesses']}/{r['trials']} "
      f"({r['change']:+.1f} points, Fisher p = {r['fisherP']:.3g}); {len(scenarios)} recorded failures replayed")
ok = True
if not scenarios or any('replay' not in s for s in scenarios):
    print("FAIL: the recorded failures were not extracted and replayed"); ok = False
full = a['entries'][0]
print(f"attribution from calibration: calibrated simulation {full['successes']}/{full['trials']} vs the robot "
      f"{a['versusReal']['realSuccesses']}/{a['versusReal']['realTrials']} (Fisher p = {a['versusReal']['fisherP']:.3g}); explained by {a['explaining']}")
if a.get('kind') != 'calibration' or not a['versusReal']['reproduces']:
    print("FAIL: the calibrated simulation should reproduce the slow-link robot's failures"); ok = False
if 'driver.delay' not in a['explaining']:
    print("FAIL: the measured dead time should explain the failures"); ok = False
if r['beforeSuccesses'] > r['trials'] // 2:
    print("FAIL: the shipped policy should fail often on the slow-link robot"); ok = False
if not (r['afterSuccesses'] > r['beforeSuccesses'] and r['fisherP'] < 0.05):
    print("FAIL: the improved policy is not significantly better on the virtual robot"); ok = False
sys.exit(0 if ok else 1)
PY
