#!/usr/bin/env bash
# The loop, closed, as the README documents it, on a virtual robot the shipped policy was not made
# for (robots/quadruped/field-truth.yaml: a slow link, a heavier body, a slippery floor):
#   trials of the shipped policy on the robot (recorded) → experiments on the robot → calibrate →
#   validate under the calibrated randomization (NO-GO) → attribution from the calibration →
#   improve (until the gate would pass, within its budget, with the recorded failures) →
#   an independent validation on 300 other fresh trials (success ≥ 90 %) → deploy gate → trials
#   of the improved policy on the robot (≥ 9 of 10) → the gate-vs-robot comparison.
# Every figure the steps print is checked from their JSON, and the whole loop is timed.
# Usage: tests/improve_loop.sh [path/to/tether] [truth.yaml]   (a release build: training takes minutes in debug)
set -u -o pipefail
cd "$(dirname "$0")/.."
TETHER=${1:-.build/release/tether}
TRUTH=${2:-robots/quadruped/field-truth.yaml}
[ -x "$TETHER" ] || { echo "tests/improve_loop.sh: $TETHER is not built (swift build -c release --product tether)"; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export TETHER_HISTORY="$TMP/history.sqlite"
START=$(date +%s)
step() { echo "[$(( $(date +%s) - START )) s] $*"; }
set -e
step "the shipped policy on the robot (truth hidden from every later step but the trials)"
"$TETHER" trials --policy policies/quadruped.onnx --backend emulator --truth "$TRUTH" --stage 100 \
  --count 10 --seconds 15 --seed 3 --override "the shipped policy's first trials: what the loop starts from" --out "$TMP/before" | tail -1
step "experiments on the robot"
mkdir -p "$TMP/exp"
for kind in sweep torque-step stationary chirp; do
  "$TETHER" experiment "$kind" --backend emulator --truth "$TRUTH" --fast --out "$TMP/exp/$kind.mcap" 2>&1 | tail -1
done
"$TETHER" experiment chirp --backend emulator --truth "$TRUTH" --fast --seconds 6 --chirp-amplitude 0.25 --out "$TMP/exp/held-out.mcap" 2>&1 | tail -1
step "calibrate"
"$TETHER" calibrate "$TMP"/exp/{sweep,torque-step,stationary,chirp}.mcap --held-out "$TMP/exp/held-out.mcap" --out "$TMP/cal" | grep -E "driver\.delay|^wrote"
step "validate the shipped policy under the robot as measured"
"$TETHER" validate --policy policies/quadruped.onnx --randomize "$TMP/cal/randomization.yaml" --trials 100 --seed 1 --out "$TMP/gate-before.json" | grep -E \
  "^  (success|decision) "
step "attribution from the calibration"
"$TETHER" trials --policy policies/quadruped.onnx --backend sim --calibration "$TMP/cal" --attribute --real "$TMP/before/trials.jsonl" \
  --count 10 --seconds 15 --seed 3 --stage 100 --no-record --out "$TMP/calibrated" > "$TMP/attribution.txt"
grep -E "calibrated simulation|explain" "$TMP/attribution.txt"
step "improve"
# A 12 min budget rather than the default 8: the calibration (and so the gate) varies from run to
# run, and on this 2-core machine improve has needed 35 to 40 iterations (7 to 8 min) to reach the
# gate with its margin; what this test protects is that the loop closes, not the default budget.
"$TETHER" improve --policy policies/quadruped.onnx --randomize "$TMP/cal/randomization.yaml" --recordings "$TMP/before" \
  --budget 12min --out "$TMP/improve" 2>&1 | grep -Ev "^  (iter |trial |          )"
step "validate the improved policy on fresh trials (an independent estimate of its success rate)"
# The deploy gate below clears the improved policy by improve's own GO: its confirmation on fresh
# trials (exact lower bound >= 90 %), recorded in the history. This validation is a second,
# independent sample of 300 other fresh trials, kept out of the history (its own database) so that
# it measures without deciding: improve stops at the first candidate whose check and confirmation
# pass, which favours a lucky candidate (CI saw 98/100 confirmed, then 95/100 and 283/300 on fresh
# trials), so the GO of a second sample of a policy near 94 % is a coin toss, not a property of the
# loop. What the loop must deliver is checked instead: a success rate of at least the gate's 90 %
# on the 300 trials (at a true 94 %: 99.7 % of samples), with the exact interval printed.
TETHER_HISTORY="$TMP/fresh-validation.sqlite" "$TETHER" validate --policy "$TMP/improve/improved.onnx" --randomize "$TMP/cal/randomization.yaml" \
  --trials 300 --seed 1 --out "$TMP/gate-after.json" | grep -E "^  (success|decision) "
step "the deploy gate refuses the shipped policy and clears the improved one"
set +e
"$TETHER" trials --policy policies/quadruped.onnx --backend emulator --truth "$TRUTH" --count 1 --seconds 6 --stage 100 --no-record --out \
  "$TMP/refused" > "$TMP/refused.txt" 2>&1
REFUSED=$?
set -e
grep -m1 -E "NO-GO|refus" "$TMP/refused.txt" || true
step "the improved policy on the robot"
"$TETHER" trials --policy "$TMP/improve/improved.onnx" --backend emulator --truth "$TRUTH" --stage 100 --count 10 --seconds 15 --seed 4 --out \
  "$TMP/after" | tail -1
"$TETHER" report --validation "$TMP/gate-after.json" --real "$TMP/after/trials.jsonl" --out "$TMP/gate-vs-robot.html" --json \
  "$TMP/gate-vs-robot.json" > "$TMP/report.txt"
grep -iE "gate" "$TMP/report.txt" | head -3
ELAPSED=$(( $(date +%s) - START ))
step "done"
set +e
python3 - "$TMP" "$ELAPSED" "$REFUSED" <<'PY'
import json, sys
tmp, elapsed, refused = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def trials(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    return sum(r['success'] for r in rows), len(rows)
ok = True
def check(cond, what):
    global ok
    print(("ok   " if cond else "FAIL ") + what)
    ok = ok and cond
cal = json.load(open(f"{tmp}/cal/calibration.json"))
delay = next(p for p in cal['parameters'] if p['name'] == 'driver.delay')
spec = open(f"{tmp}/cal/randomization.yaml").read()
lat = next(l for l in spec.splitlines() if 'action_latency' in l)
lo = float(lat.split('low:')[1].split(',')[0]); hi = float(lat.split('high:')[1].split('}')[0])
check(lo > 0.5 * delay['estimate'][0] and hi < 1.5 * delay['estimate'][0],
      f"the gate's action latency [{1e3*lo:.1f}, {1e3*hi:.1f}] ms describes the measured delay {1e3*delay['estimate'][0]:.1f} ms (not [0, 1.5 × upper])")
check('pushes: {' not in spec, "the gate's randomization has no pushes (the robot trials have none)")
def records(path):
    return [json.loads(l) for l in open(path) if l.strip()]
# The property protected: the field robot differs enough from the policy's training that the
# shipped policy fails there (the README quotes 3/10), so the loop has a gap to close.
b_s, b_n = trials(f"{tmp}/before/trials.jsonl")
check(b_s <= b_n // 2, f"the shipped policy fails on the robot: {b_s}/{b_n}")
check(all(r['gate']['status'] == 'OVERRIDE' and r['gate']['overrideReason'] for r in records(f"{tmp}/before/trials.jsonl")),
      "the shipped policy's trials ran under a recorded override (it was never validated)")
att = json.load(open(f"{tmp}/calibrated/attribution.json"))
v = att.get('versusReal') or {}
check(att.get('kind') == 'calibration' and v.get('reproduces') is True,
      f"the calibrated simulation reproduces the robot's trials: {att['entries'][0]['successes']}/{att['entries'][0]['trials']} vs "
      f"{v.get('realSuccesses')}/{v.get('realTrials')}")
named = ' '.join(att.get('explaining', []) + (att.get('explainingMembers') or []))
check(any(w in named for w in ('delay', 'lag', 'actuator', 'driver', 'link')),
      f"the attribution explains the failures by the measured actuator path: {named or 'nothing'}")
g0 = json.load(open(f"{tmp}/gate-before.json"))['summary']
check(g0['decision'] == 'NO-GO', f"the gate says NO-GO for the shipped policy: {g0['successes']}/{g0['trials']}")
check(abs(g0['successRate'] - b_s / b_n) < 0.35, f"the gate ({100*g0['successRate']:.0f} %) and the robot ({100*b_s/b_n:.0f} %) agree within 35 points")
imp = json.load(open(f"{tmp}/improve/improve.json"))
c = imp['comparison']
check(imp['stopReason'] == 'gate passes',
      f"improve stopped because the gate passes ({imp['stopReason']}) after {imp['iterations']} iterations, {imp['environmentSteps']} env "
      f"steps, {imp['wallSeconds']:.0f} s")
check(c['after']['decision'] == 'GO' and imp['afterOnFreshTrials'],
      f"improve's confirmation on fresh trials: {c['after']['successes']}/{c['after']['trials']} GO")
check(c['before']['decision'] == 'NO-GO' and c['after']['successes'] > c['before']['successes'] and c['fisherP'] < 0.05,
      f"before {c['before']['successes']}/{c['before']['trials']} → after {c['after']['successes']}/{c['after']['trials']} (Fisher p {c['fisherP']:.2g})")
check('Checks during training' in open(f"{tmp}/improve/improve.html").read(), "improve.html shows the checks")
check(all(k['seed'] != json.load(open(f"{tmp}/improve/before.json"))['identity']['seed'] for k in imp['checks']),
      "every check ran on other trials than the before gate")
rs = json.load(open(f"{tmp}/improve/recorded-scenarios.json"))
check(len(rs) > 0 and all('replay' in s for s in rs), f"{len(rs)} recorded failures extracted and replayed")
g1 = json.load(open(f"{tmp}/gate-after.json"))['summary']
check(g1['successRate'] >= 0.9 and g1['trials'] == 300,
      f"the improved policy on 300 other fresh trials: {g1['successes']}/300 = {100*g1['successRate']:.1f} % >= 90 % (exact 95 % interval "
      f"{100*g1['clopperPearson'][0]:.1f}-{100*g1['clopperPearson'][1]:.1f} %, {g1['decision']} as a gate of its own)")
refusal = open(f"{tmp}/refused.txt").read()
check(refused != 0 and 'NO-GO' in refusal and not __import__('os').path.exists(f"{tmp}/refused/trials.jsonl"),
      "the deployment gate refused the shipped policy (its last validation says NO-GO) and nothing ran")
a_s, a_n = trials(f"{tmp}/after/trials.jsonl")
check(all(r['gate']['status'] == 'GO' for r in records(f"{tmp}/after/trials.jsonl")),
      "the deployment gate cleared the improved policy by its GO validation (no override)")
# The property protected: a policy the gate passes walks on the robot the gate describes.
check(a_s >= 9, f"the improved policy on the robot: {a_s}/{a_n}")
gvr = json.load(open(f"{tmp}/gate-vs-robot.json"))
g = gvr.get('gateVersusRobot', gvr)
check(g['verdict'] == 'agrees',
      f"the report compares the gate with the robot: {g['verdict']}, gate − robot {g['differencePercentagePoints']:+.1f} points, 95 % "
      f"[{g['differenceInterval'][0]:+.1f}, {g['differenceInterval'][1]:+.1f}]")
# Timed, not asserted: tests never assert on wall-clock time.
print(f"the loop took {elapsed} s")
sys.exit(0 if ok else 1)
PY
