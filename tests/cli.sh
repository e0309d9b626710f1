#!/usr/bin/env bash
# End-to-end checks of the `tether` command line: exit codes and messages a user sees.
# Usage: tests/cli.sh [path/to/tether]   (default: .build/debug/tether)
set -u
cd "$(dirname "$0")/.."
TETHER=${1:-.build/debug/tether}
[ -x "$TETHER" ] || { echo "tests/cli.sh: $TETHER is not built (run swift build first)"; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Runs are recorded in a history database; keep the checks' runs out of the checkout's.
export TETHER_HISTORY="$TMP/history.sqlite"
passed=0; failed=0

# expect NAME WANT_EXIT PATTERN -- command...   (PATTERN is a grep -E on stdout+stderr)
expect() {
  local name=$1 want=$2 pattern=$3; shift 4
  local out code
  out=$("$@" 2>&1); code=$?
  if [ "$code" -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name (exit $code, wanted $want; pattern '$pattern')"
    # the head says what ran, the tail says how it ended (a summary, a stop reason)
    if [ "$(wc -l <<<"$out")" -le 40 ]; then echo "$out"; else echo "$out" | head -15; echo "[...]"; echo "$out" | tail -25; fi | sed 's/^/     /'
  fi
}

# expect_rt: expect, for checks that run in real time across processes. On this 2-core machine a
# busy moment can delay a control tick past its bound, or starve the policy's thread past its
# budget, or delay the other process's state past its timeout; the safety wrapper then stops the
# robot, as it must (late_tick / deadline_misses / policy_timeout / state_timeout). Such a run
# says nothing about what the check is for, so it is run again (at most twice more), and said so;
# any other failure fails at once.
expect_rt() {
  local name=$1 want=$2 pattern=$3; shift 4
  local out code attempt
  for attempt in 1 2 3; do
    out=$("$@" 2>&1); code=$?
    if [ "$code" -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then
      passed=$((passed + 1))
      if [ "$attempt" -gt 1 ]; then echo "ok   $name (attempt $attempt; the earlier ones stopped under load)"; else echo "ok   $name"; fi
      return
    fi
    grep -Eq "late_tick|deadline_misses|consecutive deadline misses|policy_timeout|state_timeout" <<<"$out" || break
    echo "     $name: stopped on a late tick or a starved policy under load (attempt $attempt), running it again"
  done
  failed=$((failed + 1)); echo "FAIL $name (exit $code, wanted $want; pattern '$pattern')"
  if [ "$(wc -l <<<"$out")" -le 40 ]; then echo "$out"; else echo "$out" | head -15; echo "[...]"; echo "$out" | tail -25; fi | sed 's/^/     /'
}

expect "help lists the subcommands" 0 "^  improve +The improvement loop" -- "$TETHER" --help
expect "sim help has examples" 0 "Examples:" -- "$TETHER" sim --help
expect "built-in manifests check" 0 "^ok: .*quadruped.yaml" -- "$TETHER" robot check quadruped
expect "unknown robot" 1 "unknown robot 'dog'" -- "$TETHER" sim --robot dog
expect "negative duration" 64 "--seconds must be a positive number" -- "$TETHER" sim --seconds=-1

sed -e 's/name: FR_calf_joint,/name: FR_calf_jiont,/' -e 's/control_hz: 50 /control_hz: 60 /' robots/quadruped/quadruped.yaml > robots/quadruped/.cli-bad.yaml
expect "bad manifest lists file:line: field" 1 "\.cli-bad\.yaml:9: rates\.control_hz" -- "$TETHER" robot check robots/quadruped/.cli-bad.yaml
expect "bad manifest as JSON" 1 '"ok" : false' -- "$TETHER" robot check robots/quadruped/.cli-bad.yaml --json
rm -f robots/quadruped/.cli-bad.yaml

expect "robot import drafts a manifest that passes the check" 0 "check: ok, observation 47 values, action 12 values" -- "$TETHER" robot import \
  tests/fixtures/g1_like/g1_like.xml --config tests/fixtures/g1_like/deploy_g1_like.yaml --output "$TMP/g1.yaml"
expect "the imported draft lists what to check" 0 "TODO\(check\)" -- cat "$TMP/g1.yaml"
expect "the imported draft checks" 0 "^ok: .*g1.yaml" -- "$TETHER" robot check "$TMP/g1.yaml"
expect "robot import keeps an existing file" 64 "exists; pass --force" -- "$TETHER" robot import tests/fixtures/g1_like/g1_like.xml --config \
  tests/fixtures/g1_like/deploy_g1_like.yaml --output "$TMP/g1.yaml"
expect "robot import reads Isaac Lab's env.yaml" 0 "check: ok, observation 225 values" -- "$TETHER" robot import tests/fixtures/g1_like/g1_like.xml --config \
  tests/fixtures/g1_like/isaaclab_env.yaml --output "$TMP/g1_isaaclab.yaml"
expect "robot import refuses a config for another model" 1 "'kps' has 12 values but cartpole.xml has 2" -- "$TETHER" robot import \
  robots/cartpole/cartpole.xml --config tests/fixtures/g1_like/deploy_g1_like.yaml --output "$TMP/cartpole.yaml"

expect "sim JSON summary" 0 '"held" : true' -- "$TETHER" sim --robot quadruped --seconds 2 --json
expect "policy inspect checks the contract" 0 "contract: matches cartpole" -- "$TETHER" policy inspect policies/cartpole.onnx --robot cartpole
expect "policy for the wrong robot is refused" 1 "joint 0 is slider in the policy but FR_hip_joint in the manifest" -- "$TETHER" policy inspect \
  policies/cartpole.onnx --robot quadruped
expect "policy run, JSON in and out" 0 '"actions"' -- bash -c "echo '[[0.1, 0.05, 0, 0]]' | $TETHER policy run policies/cartpole.onnx"
expect "policy run, wrong width" 1 "dimension 1 must be 4" -- bash -c "echo '[[0.1, 0.05, 0]]' | $TETHER policy run policies/cartpole.onnx"
expect "policy run, not JSON" 1 "not valid JSON" -- bash -c "echo 'nope' | $TETHER policy run policies/cartpole.onnx"
head -c 200 /dev/urandom > "$TMP/corrupt.onnx"
expect "corrupt ONNX file" 1 "ONNX Runtime cannot load the model" -- "$TETHER" policy inspect "$TMP/corrupt.onnx"
expect "missing ONNX file" 1 "ONNX model not found" -- "$TETHER" policy inspect "$TMP/none.onnx"
expect "missing ONNX Runtime library" 1 "or set TETHER_ONNXRUNTIME=" -- env TETHER_ONNXRUNTIME=/nonexistent/libonnxruntime.so "$TETHER" policy inspect \
  policies/cartpole.onnx
expect "sim with a policy reports success" 0 "success +[0-9]+/5" -- "$TETHER" sim --robot cartpole --policy policies/cartpole.onnx --trials 5
# Recurrent policies (docs/recurrent.md): an LSTM that balances the cart-pole seeing positions only.
BLIND=robots/cartpole/cartpole-blind.yaml LSTM=tests/fixtures/cartpole-lstm.onnx
expect "policy inspect recognises an LSTM's state tensors" 0 "LSTM \(hidden 4, 1 layer\).*" -- "$TETHER" policy inspect $LSTM --robot $BLIND
expect "policy inspect names the state pairing" 0 "state \(cell\) 'c_in' → 'c_out' \[1, 1, 4\]" -- "$TETHER" policy inspect $LSTM
expect "a recurrent policy in sim, its state carried" 0 "success +(9|10)/10" -- "$TETHER" sim --robot $BLIND --policy $LSTM --trials 10
expect "policy run carries the state over a sequence" 0 '"actions"' -- bash -c "echo '[[0.1, 0.05], [0.11, 0.06], [0.12, 0.07]]' | $TETHER policy run $LSTM"
expect "validation gate runs a recurrent policy, in shards" 0 "success +4/4 = 100.0 %" -- "$TETHER" validate --robot $BLIND --policy $LSTM --trials 8 \
  --shard 1/2 --out "$TMP/lstm-s1.json"
expect "deploy a recurrent policy, recording its state" 0 "final phase passive, no safety stop" -- "$TETHER" deploy --robot $BLIND --policy $LSTM --fast \
  --stage 100 --seconds 6 --record "$TMP/lstm.mcap" --continuous
expect "policy replay re-runs the recorded decisions" 0 "largest action difference [0-9.e-]+" -- "$TETHER" policy replay "$TMP/lstm.mcap" --policy $LSTM \
  --robot $BLIND
expect "safety replay re-runs a recurrent policy on the recorded observations" 0 "^  no stop" -- "$TETHER" safety replay "$TMP/lstm.mcap" --robot $BLIND \
  --policy $LSTM
expect "a recurrent policy cannot be warm-started by ARS" 1 "recurrent policy \(LSTM.*cannot warm-start" -- "$TETHER" train --robot $BLIND --warm-start \
  $LSTM --iterations 1 --out "$TMP/warm.onnx"
# TorchScript policies (docs/torchscript-policies.md): our own tiny exports, made with torch by
# tools/make_torchscript_fixtures.py (CI has no torch), converted without torch, then run by
# onnxruntime with the state fed back against the actions torch gave step by step (1e-5).
TS=tests/fixtures/torchscript
for n in lstm_elu gru_norm mlp_elu; do
  expect "torchscript $n.pt converts to ONNX without torch" 0 "verify: [0-9]+ steps, state fed back: .*-> ok" -- .venv/bin/python \
    tools/torchscript_policy_to_onnx.py $TS/$n.pt "$TMP/ts-$n.onnx"
  expect "  onnxruntime matches torch's actions, state fed back" 0 "largest action difference .* -> ok" -- .venv/bin/python tests/peers/torchscript_check.py \
    "$TMP/ts-$n.onnx" $TS/$n.json
done
expect "policy inspect recognises the converted LSTM" 0 "recognised: LSTM \(hidden 8, 1 layer\)" -- "$TETHER" policy inspect "$TMP/ts-lstm_elu.onnx"
expect "policy inspect recognises the converted GRU" 0 "recognised: GRU \(hidden 8, 2 layers\)" -- "$TETHER" policy inspect "$TMP/ts-gru_norm.onnx"
expect "training a few iterations exports ONNX" 0 "wrote $TMP/c.onnx" -- "$TETHER" train --robot cartpole --iterations 2 --directions 4 --top 2 \
  --episode-seconds 1 --out "$TMP/c.onnx"
expect "resume from the checkpoint" 0 "resuming at iteration 2 of 3" -- "$TETHER" train --robot cartpole --iterations 3 --directions 4 --top 2 \
  --episode-seconds 1 --resume "$TMP/c.onnx.checkpoint.json" --out "$TMP/c2.onnx"
printf 'terms:\n  - {target: friction, low: 1, high: 2}\n' > "$TMP/dr.yaml"
expect "bad randomization spec" 1 "dr.yaml:2: terms\[0\]\.target: unknown target 'friction'" -- "$TETHER" train --robot cartpole --iterations 1 --randomize \
  "$TMP/dr.yaml" --out "$TMP/x.onnx"

expect "deploy in simulation, fast" 0 "final phase passive, no safety stop" -- "$TETHER" deploy --robot quadruped --policy policies/quadruped.onnx --fast \
  --stage 100 --seconds 6 --record "$TMP/d.mcap" --continuous
expect "deploy from a gantry start (humanoids): let go once standing" 0 "released at t = [0-9.]+ s, once standing" -- "$TETHER" deploy --robot quadruped \
  --policy policies/quadruped.onnx --fast --stage 100 --seconds 6 --gantry
expect "trials from a gantry start on the simulated robot" 0 "trial +1/1 +ok" -- "$TETHER" trials --policy policies/quadruped.onnx --backend sim --gantry \
  --count 1 --seconds 8 --stage 100 --no-record --out "$TMP/gantry-trials"
expect "--gantry is for the simulated robot" 64 "--gantry hangs the simulated robot" -- "$TETHER" deploy --policy policies/quadruped.onnx --backend emulator \
  --gantry
expect_rt "deploy --realtime: the loop's thread under SCHED_FIFO, or why not" 0 \
  "realtime (SCHED_FIFO priority 60, pinned to core 0|normal priority.*).*" -- "$TETHER" deploy --robot quadruped \
  --policy policies/quadruped.onnx --stage 100 --seconds 3 --realtime --realtime-priority 60 --realtime-cpu 0
expect "deploy --realtime-priority out of range" 64 "--realtime-priority must be 1…99" -- "$TETHER" deploy --robot quadruped \
  --policy policies/quadruped.onnx --fast --seconds 1 --realtime --realtime-priority 120
# The policy engine: the compiled graph when the model compiles and agrees with ONNX Runtime, else ONNX Runtime; said in the summary.
expect "policy inspect names the engine" 0 "engine: compiled graph \(54 nodes.*agrees with ONNX Runtime" -- "$TETHER" policy inspect \
  policies/quadruped.onnx --robot quadruped
expect "deploy says which engine ran the policy" 0 "policy +compiled graph" -- "$TETHER" deploy --robot quadruped \
  --policy policies/quadruped.onnx --fast --seconds 2
expect "deploy --policy-engine onnxruntime" 0 "policy +ONNX Runtime \(asked for\)" -- "$TETHER" deploy --robot quadruped \
  --policy policies/quadruped.onnx --fast --seconds 2 --policy-engine onnxruntime
expect "an unknown --policy-engine is a usage error" 64 "policy-engine" -- "$TETHER" deploy --robot quadruped \
  --policy policies/quadruped.onnx --fast --seconds 1 --policy-engine tensorrt
expect "an unknown TETHER_POLICY_ENGINE is named" 1 "TETHER_POLICY_ENGINE is 'fast'" -- env TETHER_POLICY_ENGINE=fast "$TETHER" deploy \
  --robot quadruped --policy policies/quadruped.onnx --fast --seconds 1
expect "deploy refuses an unknown stage" 64 "--stage must be 25, 50 or 100" -- "$TETHER" deploy --policy policies/quadruped.onnx --stage 30
expect "deploy refuses a policy for another robot" 1 "does not match the manifest" -- "$TETHER" deploy --robot quadruped --policy policies/cartpole.onnx --fast
expect "log info on the recording" 0 "cleanly closed" -- "$TETHER" log info "$TMP/d.mcap"
head -c 300000 "$TMP/d.mcap" > "$TMP/cut.mcap"
expect "log info on a truncated recording" 0 "not closed cleanly|recover" -- "$TETHER" log info "$TMP/cut.mcap"
expect "log recover writes a valid copy" 0 "recovered [1-9][0-9]* message\(s\) in [0-9]+ chunk\(s\)" -- "$TETHER" log recover "$TMP/cut.mcap" "$TMP/fixed.mcap"
expect "the recovered copy is clean" 0 "cleanly closed" -- "$TETHER" log info "$TMP/fixed.mcap"
expect "log info on a non-MCAP file" 1 "cartpole.onnx: not an MCAP file" -- "$TETHER" log info policies/cartpole.onnx
expect "safety replay of the recording" 0 "replayed [0-9]+ ticks" -- "$TETHER" safety replay "$TMP/d.mcap" --robot quadruped --stage 25 --out \
  "$TMP/replay.jsonl"
echo '{"time": "x"}' > "$TMP/bad.jsonl"
expect "safety replay names the bad line" 1 "bad.jsonl:1" -- "$TETHER" safety replay "$TMP/bad.jsonl" --robot quadruped
# tether render: the recording to H.264 MP4 (ffprobe, an independent decoder, reads it back) and its poster.
expect "render a recording to MP4" 0 "wrote $TMP/d.mp4: 30 frames, 3.0 s, 320×240" -- "$TETHER" render "$TMP/d.mcap" --out "$TMP/d.mp4" \
  --size 320x240 --fps 10 --seconds 3 --no-effects --poster
expect "render shows the recording's torque stage" 0 ", stage 100 %\) →" -- "$TETHER" render "$TMP/d.mcap" --out "$TMP/d2.mp4" --size 64x48 \
  --fps 10 --seconds 0.5 --no-effects
expect "ffprobe reads the video: h264, 320x240, 30 frames" 0 "codec_name=h264.*width=320.*height=240.*nb_read_frames=30" -- bash -c \
  "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,nb_read_frames -of default=nw=1 '$TMP/d.mp4' | tr '\n' ' '"
expect "render writes the GIF poster" 0 "^GIF89a" -- head -c 6 "$TMP/d.gif"
expect "render: an odd frame size is a usage error" 64 "--size must be WIDTHxHEIGHT" -- "$TETHER" render "$TMP/d.mcap" --size 320by240
expect "render: a recording of another robot" 1 "--robot" -- "$TETHER" render "$TMP/d.mcap" --robot cartpole --out "$TMP/x.mp4"
expect "render: not a recording" 1 "cannot read the recording" -- "$TETHER" render policies/cartpole.onnx --out "$TMP/x.mp4"
expect "render: a camera the model lacks" 1 "no camera 'top'" -- "$TETHER" render "$TMP/d.mcap" --camera top --out "$TMP/x.mp4" --size 64x48
expect "render --compare: two recordings side by side" 0 "wrote $TMP/cmp.mp4: 20 frames" -- "$TETHER" render --compare "$TMP/d.mcap" \
  "$TMP/d.mcap" --out "$TMP/cmp.mp4" --size 320x120 --fps 10 --seconds 2 --no-effects
expect "render --compare needs two recordings" 64 "--compare takes two recordings" -- "$TETHER" render --compare "$TMP/d.mcap"
# The Foxglove layout names topics a recording has (/tf and /robot_description included).
"$TETHER" log info "$TMP/d.mcap" > "$TMP/d-info.txt" 2>&1
expect "the Foxglove layout's topics are all in a recording" 0 "^all [0-9]+ topics recorded" -- python3 -c '
import json, re, sys
layout = json.load(open("docs/foxglove/tether-layout.json"))
text = json.dumps(layout["configById"])
topics = set(re.findall(r"\"(/[a-z_/]+)[.\"]", text))
info = open(sys.argv[1]).read()
missing = [t for t in sorted(topics) if not re.search(r"^  " + re.escape(t) + r" ", info, re.M)]
print("missing: %s" % missing if missing else "all %d topics recorded" % len(topics))' "$TMP/d-info.txt"

# Ctrl-C during a real-time deployment engages the e-stop: a damping stop, reported in the
# summary; the run then ends with status 130 (tests/failsafe.sh times it and the second signal).
expect_rt "SIGINT engages the e-stop" 130 "STOPPED \(estop\).*|ended by SIGINT" -- bash -c \
  "$TETHER deploy --robot quadruped --policy policies/quadruped.onnx --stage 100 --seconds 8 & pid=\$!; sleep 4; kill -INT \$pid; wait \$pid"

expect "deploy on the in-process virtual robot" 0 "backend emulator \(truth harsh\)" -- "$TETHER" deploy --backend emulator --truth harsh --policy \
  policies/quadruped.onnx --stage 100 --fast --seconds 6 --override "test: deploy mechanics on the virtual robot"
expect_rt "deploy over ROS 2 to tether emulate in another process" 0 "final phase passive, no safety stop" -- bash -c \
  "ROS_DOMAIN_ID=77 $TETHER emulate --truth typical --seconds 9 --loopback > /dev/null & sleep 1; \
    ROS_DOMAIN_ID=77 $TETHER deploy --backend ros2 --loopback --policy policies/quadruped.onnx --stage 100 --seconds 6 \
    --override 'test: ROS 2 transport'; wait"
expect_rt "deploy over Unitree's low-level protocol to tether emulate --protocol unitree_go in another process" 0 \
  "final phase passive, no safety stop" -- bash -c \
  "ROS_DOMAIN_ID=92 $TETHER emulate --truth typical --protocol unitree_go --seconds 9 --loopback > /dev/null & sleep 1; \
    ROS_DOMAIN_ID=92 $TETHER deploy --backend unitree --loopback --policy policies/quadruped.onnx --stage 100 --seconds 6 \
    --override 'test: Unitree transport'; wait"
expect_rt "experiment over Unitree's protocol against tether emulate --protocol unitree_go --hung" 0 "chirp: .* completed" -- bash -c \
  "ROS_DOMAIN_ID=94 $TETHER emulate --truth mild --hung 0.8 --protocol unitree_go --seconds 6 --loopback > /dev/null & sleep 1; \
    ROS_DOMAIN_ID=94 $TETHER experiment chirp --backend unitree --loopback --seconds 2 --out $TMP/chirp-unitree.mcap; wait"
expect "deploy over Unitree's protocol with no robot says so" 1 "no unitree_go state on rt/lowstate" -- env ROS_DOMAIN_ID=93 "$TETHER" deploy \
  --backend unitree --loopback --policy policies/quadruped.onnx --override "test: no Unitree robot on the bus"
expect "emulate --protocol names the choices" 64 "unitree_go \(Go2, B2\) or unitree_hg" -- "$TETHER" emulate --protocol unitree_b2 --seconds 1
expect "emulate --protocol unitree_hg needs the manifest's section for it" 1 "no unitree: section for unitree_hg" -- "$TETHER" emulate \
  --protocol unitree_hg --seconds 1 --loopback
expect "deploy over ROS 2 with no robot says so" 1 "no joint states on /joint_states" -- env ROS_DOMAIN_ID=78 "$TETHER" deploy --backend ros2 --loopback \
  --policy policies/quadruped.onnx --override "test: no robot on the bus"
# The vision loop against the virtual robot: its front camera over ROS 2, the detector as a node.
expect_rt "detect --ros2 on the virtual robot's camera (tether emulate --camera front)" 0 "at exit: 5 frames" -- bash -c \
  "ROS_DOMAIN_ID=86 $TETHER emulate --truth typical --seconds 12 --loopback --camera front --camera-size 320x240 --camera-rate 5 > /dev/null & \
    sleep 1; ROS_DOMAIN_ID=86 timeout 20 $TETHER detect --ros2 --loopback --model fixtures/vision/detector.onnx --frames 5; wait"
expect "emulate: a camera the model lacks" 1 "no camera 'rear'" -- "$TETHER" emulate --camera rear --seconds 1 --loopback
# The detector gap measured live: each frame degraded, as rendered and with its exact boxes, paired by stamp.
expect_rt "detect --live-gap against emulate --camera-ground-truth" 0 "over 4 live frames .*mAP@\[.5:.95\] sim" -- bash -c \
  "ROS_DOMAIN_ID=188 $TETHER emulate --truth harsh --seconds 14 --loopback --camera front --camera-size 320x240 --camera-rate 4 --camera-ground-truth \
    > /dev/null & sleep 1; ROS_DOMAIN_ID=188 timeout 30 $TETHER detect --ros2 --loopback --model fixtures/vision/detector.onnx \
    --live-gap $TMP/live-gap --frames 4; wait"
expect "  both COCO sets re-checked by pycocotools (same images, boxes, mAP as Tether's)" 0 "^ok: 4 images in both sets" -- \
  .venv/bin/python tests/peers/live_gap_check.py "$TMP/live-gap"
ROS_DOMAIN_ID=189 "$TETHER" emulate --truth mild --seconds 8 --loopback --camera front --camera-size 160x120 --camera-rate 4 > /dev/null 2>&1 &
sleep 1; ROS_DOMAIN_ID=189 "$TETHER" detect --ros2 --loopback --model fixtures/vision/detector.onnx --live-gap "$TMP/no-gap" --frames 2 \
  --truth-timeout 3 > "$TMP/no-gap.txt" 2>&1; echo "exit $?" >> "$TMP/no-gap.txt"; wait
expect "detect --live-gap with no ground truth on the bus says so" 0 "no ground truth arrived on /camera/ground_truth in 3 s" -- cat "$TMP/no-gap.txt"
expect "  names the emulator's flag, and fails" 0 "hint: .*tether emulate --camera front --camera-ground-truth" -- bash -c \
  "grep -q '^exit 1$' $TMP/no-gap.txt && cat $TMP/no-gap.txt"
expect "detect --live-gap needs --frames" 64 "--live-gap needs --frames" -- "$TETHER" detect --ros2 --model fixtures/vision/detector.onnx --live-gap "$TMP/x"
expect "emulate --camera-labels: a geom the model lacks" 1 "no geom 'seen_cone'" -- "$TETHER" emulate --camera front --camera-ground-truth \
  --camera-labels seen_cone=cone --seconds 1 --loopback
printf 'seed: x\nlink: {latency: -1}\n' > "$TMP/truth.yaml"
expect "bad truth file" 1 "truth.yaml:1" -- "$TETHER" emulate --truth "$TMP/truth.yaml" --seconds 1

expect "experiment plan says its duration" 0 "duration .* the robot must be HUNG" -- "$TETHER" experiment sweep --joints FR_calf_joint --dry-run
expect "experiment, unknown kind" 64 "unknown experiment 'swing'" -- "$TETHER" experiment swing
expect "experiment, unknown joint" 1 "did you mean FR_calf_joint" -- "$TETHER" experiment sweep --joints FR_calf --dry-run
expect "torque steps on the virtual robot, recorded" 0 "recording .*steps.mcap" -- "$TETHER" experiment torque-step --joints FR_hip_joint --fast --out \
  "$TMP/steps.mcap"
expect "the experiment recording reads back" 0 "/joint_commands" -- "$TETHER" log info "$TMP/steps.mcap"
expect_rt "trials over ROS 2 against tether emulate, distance from its odometry" 0 "trial +2/2 .*distance +(0\.[5-9]|[1-9])" -- bash -c \
  "ROS_DOMAIN_ID=81 $TETHER emulate --truth mild --seconds 28 --loopback > /dev/null & sleep 1; \
    ROS_DOMAIN_ID=81 $TETHER trials --backend ros2 --loopback --policy policies/quadruped.onnx --count 2 --seconds 8 --pause 1 --stage 100 \
    --out $TMP/ros2-trials --override 'test: ROS 2 trials'; wait"
expect_rt "experiment over ROS 2 against tether emulate --hung" 0 "chirp: .* completed" -- bash -c \
  "ROS_DOMAIN_ID=79 $TETHER emulate --truth mild --hung 0.8 --seconds 6 --loopback > /dev/null & sleep 1; \
    ROS_DOMAIN_ID=79 $TETHER experiment chirp --backend ros2 --loopback --seconds 2 --out $TMP/chirp.mcap; wait"

expect "calibrate from the torque steps" 0 "driver.delay" -- "$TETHER" calibrate "$TMP/steps.mcap" --out "$TMP/cal"
expect "calibration writes its files" 0 "report.html" -- ls "$TMP/cal"
expect "calibrate, missing recording" 1 "recording not found" -- "$TETHER" calibrate "$TMP/none.mcap" --out "$TMP/cal"
expect "calibrate, unknown fit parameter" 1 "joint\[FR_thigh\]" -- "$TETHER" calibrate "$TMP/chirp.mcap" --fit "joint[FR_thigh].damping" --out "$TMP/cal"
expect "calibrate, a recording of another robot" 1 "lacks joint" -- "$TETHER" calibrate "$TMP/steps.mcap" --robot cartpole --out "$TMP/cal"
# A bag recorded elsewhere (by rosbags, not Tether) of the robot standing still: no commands, no
# experiment metadata, its own topic names.
.venv/bin/python tests/peers/foreign_bag.py "$TMP/standing" '{"seconds": 30}' > /dev/null
"$TETHER" calibrate "$TMP/standing" --out "$TMP/cal-standing" > "$TMP/standing.txt" 2>&1; echo "exit $?" >> "$TMP/standing.txt"
expect "calibrate a standing bag from elsewhere" 0 "exit 0" -- cat "$TMP/standing.txt"
expect "  its IMU noise, Allan deviation and encoder noise" 0 "sensor.gyro.x.random_walk .*sensor.accel.z.noise|sensor.joint_position.noise" -- cat \
  "$TMP/standing.txt"
expect "  the topics it found by schema" 0 "note: .*IMU from /imu/data, found by its schema" -- cat "$TMP/standing.txt"
expect "  what it skipped and why" 0 "skipped: joint friction and damping: a recording at rest without commands cannot show it" -- cat "$TMP/standing.txt"
expect "  its report and randomization" 0 "randomization.yaml" -- ls "$TMP/cal-standing"
expect "  the randomization derived from it trains" 0 "standing.onnx" -- "$TETHER" train --robot quadruped --randomize \
  "$TMP/cal-standing/randomization.yaml" --iterations 0 --out "$TMP/standing.onnx"
.venv/bin/python tests/peers/foreign_bag.py "$TMP/two-imus" '{"seconds": 2, "imu_topics": ["/imu/data", "/imu/raw"]}' > /dev/null
expect "calibrate, a bag with two IMU topics" 1 "2 IMU topics .*/imu/data, /imu/raw|--imu-topic" -- "$TETHER" calibrate "$TMP/two-imus" --out "$TMP/cal-two"
expect "calibrate, the IMU topic chosen" 0 "IMU from /imu/raw \(chosen with --imu-topic\)" -- "$TETHER" calibrate "$TMP/two-imus" --imu-topic /imu/raw --out \
  "$TMP/cal-two"

expect "validation gate on the cart-pole, in shards" 0 "success +6/6 = 100.0 %" -- "$TETHER" validate --robot cartpole --policy policies/cartpole.onnx \
  --trials 12 --shard 0/2 --out "$TMP/s0.json"
expect "the second shard" 0 "success +6/6 = 100.0 %" -- "$TETHER" validate --robot cartpole --policy policies/cartpole.onnx --trials 12 --shard 1/2 --out \
  "$TMP/s1.json"
expect "shards merge into the whole run" 0 "2 shards, 12 trials" -- "$TETHER" validate merge "$TMP/s0.json" "$TMP/s1.json" --out "$TMP/merged.json" --report \
  "$TMP/gate.html"
expect "merge refuses a missing shard" 1 "6 of 12 trials are missing \(6, 7, 8, 9, 10, 11\)" -- "$TETHER" validate merge "$TMP/s0.json" --out "$TMP/bad.json"
# The validation report's videos: the first failed trials replayed exactly (stream (seed, i)) with a recorder, then rendered.
printf 'tether_randomization: 1\nterms:\n  - {target: kp_scale, distribution: uniform, low: 0.2, high: 0.4}\n' > "$TMP/weak.yaml"
expect "validate --report: a video of the first failed trial, replayed as the gate ran it" 0 \
  "trial 0: .*gate-trials/trial-000.mp4 \([0-9]+ frames; the replay ends as the gate's trial did\)" -- env TETHER_HISTORY="$TMP/videos.sqlite" "$TETHER" \
    validate --policy policies/quadruped.onnx --randomize "$TMP/weak.yaml" --trials 4 --videos 1 --report "$TMP/vg/gate.html" --out "$TMP/vg/gate.json"
expect "  ffprobe reads it (h264, 640x360)" 0 "codec_name=h264.*width=640.*height=360" -- bash -c \
  "ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of default=nw=1 '$TMP/vg/gate-trials/trial-000.mp4' | tr '\n' ' '"
expect "  the report shows it, the JSON lists it, the recording is beside it" 0 "See it.*gate-trials/trial-000.mp4 1 fall .*trial-000.mcap" -- bash -c \
  "{ grep -o 'See it' '$TMP/vg/gate.html'; grep -o 'src=\"gate-trials/trial-000.mp4\"' '$TMP/vg/gate.html' | sed 's/src=//;s/\"//g'; \
   python3 -c \"import json; v=json.load(open('$TMP/vg/gate.json'))['videos']; print(len(v), v[0]['title'].split()[2])\"; \
   ls '$TMP/vg/gate-trials'; } | tr '\n' ' '"
expect "--videos without --report is refused" 64 "--videos makes videos for the HTML report: add --report PATH" -- "$TETHER" validate \
  --policy policies/quadruped.onnx --trials 2 --videos 2
expect "bad shard syntax" 1 "is not a shard" -- "$TETHER" validate --robot cartpole --policy policies/cartpole.onnx --shard 3of2

# The deployment gate (docs/deployment-gate.md): on a robot (every backend but sim) a policy runs
# only if its last validation for this robot and manifest, found by the file's digest in the
# history, said GO under a randomization; --override "reason" runs it anyway, recorded. Each
# check below uses its own history database.
Q="--policy policies/quadruped.onnx --stage 100 --fast --seconds 6"
QV="--robot quadruped --policy policies/quadruped.onnx --trials 2"
G="$TMP/gate.sqlite"
expect "the gate refuses a policy never validated (nothing runs)" 1 \
  "has no GO validation for robot quadruped with manifest .*quadruped.yaml .*never validated" -- env TETHER_HISTORY="$G" "$TETHER" trials --backend emulator \
    --policy policies/quadruped.onnx --count 1 --seconds 6 --stage 100 --out "$TMP/gate-none"
expect "  and nothing was written" 0 "^nothing$" -- bash -c "ls '$TMP/gate-none' 2>/dev/null || echo nothing"
expect "  the refusal names the command that validates it" 1 \
  "tether validate --robot quadruped --policy policies/quadruped.onnx --randomize robots/quadruped/randomization.yaml" -- env TETHER_HISTORY="$G" "$TETHER" \
    deploy --backend emulator $Q
expect "sim is the sim side of a gap: not gated" 0 "final phase passive" -- env TETHER_HISTORY="$G" "$TETHER" deploy --backend sim $Q
expect "a NO-GO validation (threshold 99 %)" 0 "decision +NO-GO" -- env TETHER_HISTORY="$G" "$TETHER" validate $QV --randomize \
  robots/quadruped/randomization.yaml --threshold 0.99
expect "  the gate refuses it with its numbers" 1 \
  "its last validation \(#[0-9]+ of .*: 2/2, lower bound 15\.8 % < 99\.0 %, NO-GO, randomization robots/quadruped/randomization.yaml\) says NO-GO" -- env \
    TETHER_HISTORY="$G" "$TETHER" deploy --backend emulator $Q
expect "a GO on the nominal model only" 0 "decision +GO" -- env TETHER_HISTORY="$G" "$TETHER" validate $QV --threshold 0.05
expect "  does not clear the gate" 1 "ran on the nominal model only" -- env TETHER_HISTORY="$G" "$TETHER" deploy --backend emulator $Q
expect "a GO under the randomization" 0 "decision +GO" -- env TETHER_HISTORY="$G" "$TETHER" validate $QV --randomize robots/quadruped/randomization.yaml \
  --threshold 0.05 --out "$TMP/gate-go.json"
expect "  clears deploy on the virtual robot, saying by which validation" 0 \
  "gate: GO, cleared by validation #[0-9]+ .*2/2, lower bound 15\.8 % ≥ 5\.0 %, GO, randomization robots/quadruped/randomization.yaml" -- env \
    TETHER_HISTORY="$G" "$TETHER" deploy --backend emulator $Q
cp policies/quadruped.onnx "$TMP/same-bytes.onnx"
expect "  and trials of the same bytes under another path (the policy is its digest)" 0 "gate: GO" -- env TETHER_HISTORY="$G" "$TETHER" trials --backend \
  emulator --policy "$TMP/same-bytes.onnx" --count 1 --seconds 6 --stage 100 --no-record --out "$TMP/gate-go-trials"
expect "  each trial record says which validation cleared it" 0 '"gate":\{.*"status":"GO".*"validation":\{' -- cat "$TMP/gate-go-trials/trials.jsonl"
G2="$TMP/gate-override.sqlite"
expect "an override with no reason is refused" 64 "--override needs a reason" -- env TETHER_HISTORY="$G2" "$TETHER" deploy --backend emulator $Q --override " "
expect "an override runs a policy never validated, with a warning" 0 \
  "warning: deployment gate overridden: never validated under this manifest; reason \"test: bench rehearsal\"" -- env TETHER_HISTORY="$G2" "$TETHER" deploy \
    --backend emulator $Q --override "test: bench rehearsal" --record "$TMP/override.mcap" --continuous
expect "  tether log info shows it" 0 "^gate: +gate OVERRIDDEN \(\"test: bench rehearsal\"\)" -- "$TETHER" log info "$TMP/override.mcap"
expect "  the recording's metadata carries it" 0 "OVERRIDE test: bench rehearsal" -- .venv/bin/python -c "
from mcap.reader import make_reader
m = [c.metadata for c in make_reader(open('$TMP/override.mcap', 'rb')).get_summary().channels.values() if c.metadata.get('gate')][0]
print(m['gate'], m['gate.override_reason'])"
expect "  trials with an override record it in each trial record" 0 "success 1/1" -- env TETHER_HISTORY="$G2" "$TETHER" trials --backend emulator --policy \
  policies/quadruped.onnx --count 1 --seconds 6 --stage 100 --no-record --out "$TMP/override-trials" --override "test: gap measurement"
expect "  (trials.jsonl)" 0 '"overrideReason":"test: gap measurement".*"status":"OVERRIDE"' -- cat "$TMP/override-trials/trials.jsonl"
expect "  and tether history shows both overrides" 0 \
  "deployment .*OVERRIDE.*gate OVERRIDDEN \(\"test: bench rehearsal\"\).*trials .*OVERRIDE.*test: gap measurement" -- bash -c \
    "TETHER_HISTORY='$G2' $TETHER history | tr '\n' ' '"
expect "with history recording off the gate fails closed" 1 "history recording is off \(TETHER_HISTORY=off\)" -- env TETHER_HISTORY=off "$TETHER" deploy \
  --backend emulator $Q
expect "report: gate vs robot, with the difference's interval" 0 \
  "GATE VS ROBOT: AGREES: The gate agrees with the robot: gate 2/2 \(100 %\) vs robot 1/1 \(100 %\): \+0\.0 points, 95 % interval" -- "$TETHER" report \
    --validation "$TMP/gate-go.json" --real "$TMP/gate-go-trials/trials.jsonl" --out "$TMP/gvr.html" --json "$TMP/gvr.json"
expect "  its JSON" 0 '"differenceInterval"' -- cat "$TMP/gvr.json"
expect "  its HTML, with the robot's gate clearance" 0 "Gate vs robot.*cleared by validation #" -- bash -c "tr '\n' ' ' < '$TMP/gvr.html'"
expect "  --validation needs the robot's trials" 64 "add --real" -- "$TETHER" report --validation "$TMP/gate-go.json" --out "$TMP/x.html"
expect "trials on the virtual robot" 0 "^success [0-9]/2 \(.*records .*real/trials.jsonl" -- "$TETHER" trials --backend emulator --truth typical --policy \
  policies/quadruped.onnx --count 2 --seconds 6 --stage 100 --no-record --out "$TMP/real" --override "test: the gap report's real set"
expect "trials in simulation" 0 "^success [0-9]/2 \(.*records .*sim/trials.jsonl" -- "$TETHER" trials --backend sim --policy policies/quadruped.onnx --count \
  2 --seconds 6 --stage 100 --no-record --out "$TMP/sim"
expect "gap report from the two sets" 0 "report .*gap.html, JSON .*gap.json" -- "$TETHER" report --sim "$TMP/sim/trials.jsonl" --real \
  "$TMP/real/trials.jsonl" --out "$TMP/gap.html" --json "$TMP/gap.json"
expect "gap report with the gate vs robot section" 0 "GATE VS ROBOT: " -- "$TETHER" report --sim "$TMP/sim/trials.jsonl" --real "$TMP/real/trials.jsonl" \
  --validation "$TMP/gate-go.json" --out "$TMP/gap-gate.html" --json "$TMP/gap-gate.json"
expect "  and the real set's gate override" 0 "real gate: gate OVERRIDDEN \\(\"test: the gap report's real set\"\\)" -- "$TETHER" report --sim \
  "$TMP/sim/trials.jsonl" --real "$TMP/real/trials.jsonl" --validation "$TMP/gate-go.json" --out "$TMP/gap-gate.html"
expect "trials in the calibrated simulation, with attribution" 0 "calibrated simulation [0-9]+/2 vs real [0-9]+/2 .*too few trials to tell" -- "$TETHER" \
  trials --backend sim --calibration "$TMP/cal" --attribute --real "$TMP/real/trials.jsonl" --policy policies/quadruped.onnx --count 2 --seconds 6 --stage \
    100 --no-record --out "$TMP/calibrated"
expect "the gap report shows the calibrated attribution" 0 "attribution over calibrated parameters: calibrated [0-9]+/2 vs real [0-9]+/2" -- "$TETHER" \
  report --sim "$TMP/sim/trials.jsonl" --real "$TMP/real/trials.jsonl" --attribution "$TMP/calibrated/attribution.json" --out "$TMP/gap2.html"
expect "calibration needs the sim backend" 64 "needs --backend sim" -- "$TETHER" trials --backend emulator --calibration "$TMP/cal" --policy \
  policies/quadruped.onnx
expect "real trials only with the attribution" 64 "add --calibration CAL --attribute" -- "$TETHER" trials --backend sim --calibration "$TMP/cal" --real \
  "$TMP/real/trials.jsonl" --policy policies/quadruped.onnx
expect "attribution in sim needs a calibration" 64 "--calibration CAL" -- "$TETHER" trials --backend sim --attribute --policy policies/quadruped.onnx
expect "calibrated simulation, missing file" 1 "cannot read the calibration file" -- "$TETHER" trials --backend sim --calibration "$TMP/none.yaml" --policy \
  policies/quadruped.onnx
expect "calibration of another robot" 1 "the calibration is of quadruped" -- "$TETHER" trials --robot cartpole --backend sim --calibration "$TMP/cal" \
  --policy policies/cartpole.onnx
expect "training starts, not the JSON twin" 1 "JSON twin" -- "$TETHER" train --robot quadruped --iterations 1 --starts "$TMP/scenarios.yaml" --out "$TMP/x.onnx"
expect "gap report, missing file" 1 "no trial records at" -- "$TETHER" report --sim "$TMP/none.jsonl" --real "$TMP/real/trials.jsonl" --out "$TMP/gap.html"
python3 -c "
import json, random
random.seed(1)
for _ in range(200):
    o = [random.uniform(-0.2, 0.2) for _ in range(4)]
    print(json.dumps({'observation': o, 'action': [2.0 * o[1] + 0.5 * o[3]]}))" > "$TMP/demos.jsonl"
expect "fine-tuning on demonstrations, exported as ONNX" 0 "tuned.onnx" -- "$TETHER" finetune --policy policies/cartpole.onnx --demos "$TMP/demos.jsonl" \
  --out "$TMP/tuned.onnx" --epochs 5
expect "the fine-tuned policy keeps its contract" 0 "contract: matches cartpole" -- "$TETHER" policy inspect "$TMP/tuned.onnx" --robot cartpole
for _ in 1 2 3; do echo '{"observation": [0.1, 0.2], "action": [0.0]}'; done > "$TMP/short.jsonl"
expect "demonstrations of the wrong size" 1 "short.jsonl:1" -- "$TETHER" finetune --policy policies/cartpole.onnx --demos "$TMP/short.jsonl" --out \
  "$TMP/bad.onnx"

expect "trials at 25 % torque on the typical virtual robot fail" 0 "success 0/1" -- "$TETHER" trials --policy policies/quadruped.onnx --backend emulator \
  --truth typical --stage 25 --count 1 --seconds 7 --out "$TMP/weak" --override "test: a recorded failure at 25 % torque"
expect "recorded failures are extracted and replayed in simulation" 0 "1 recorded failure → .*recorded-scenarios.yaml" -- "$TETHER" improve --policy \
  policies/quadruped.onnx --randomize robots/quadruped/randomization.yaml --recordings "$TMP/weak" --replay-only --out "$TMP/improve"
expect "improve --replay-only needs recordings" 64 "needs --recordings" -- "$TETHER" improve --policy policies/quadruped.onnx --randomize \
  robots/quadruped/randomization.yaml --replay-only
expect "improve refuses a budget it cannot read" 64 "cannot read the budget 'soon'" -- "$TETHER" improve --policy policies/quadruped.onnx --randomize \
  robots/quadruped/randomization.yaml --budget soon
printf '%s\n' 'tether_randomization: 1' 'terms:' \
  '  - {target: action_latency, distribution: uniform, low: 0.06, high: 0.08}' \
  '  - {target: body_mass, distribution: uniform, low: 0.8, high: 1.2}' > "$TMP/cartpole-slow.yaml"
expect "improve trains the cartpole past a gate it failed, checked and confirmed on fresh trials" 0 "NO-GO.*→ .* on fresh trials .*GO); gate passes" -- \
  "$TETHER" improve --robot cartpole --policy policies/cartpole.onnx --randomize "$TMP/cartpole-slow.yaml" --trials 40 --threshold 0.7 --budget "400k steps" \
    --out "$TMP/cartpole-improve"
printf 'tether_truth: 1\nname: plain\nlink: {latency: 0.03}\n' > "$TMP/plain-truth.yaml"
expect "the improved policy's GO validation clears it for a robot" 0 "gate: GO, cleared by validation" -- "$TETHER" trials --robot cartpole --policy \
  "$TMP/cartpole-improve/improved.onnx" --backend emulator --truth "$TMP/plain-truth.yaml" --count 1 --seconds 6 --no-record --out \
    "$TMP/cartpole-improved-trials"
expect "  the shipped cartpole policy, NO-GO under the same randomization, is refused" 1 "says NO-GO" -- "$TETHER" trials --robot cartpole --policy \
  policies/cartpole.onnx --backend emulator --truth "$TMP/plain-truth.yaml" --count 1 --seconds 6 --no-record --out "$TMP/cartpole-refused"
V=fixtures/vision
expect "detect: fixture images to COCO results with the ground truth's ids" 0 "wrote .*dt-real.json \(COCO results: ids from" -- "$TETHER" detect --model \
  $V/detector.onnx --images $V/real --gt $V/real/annotations.json --conf 0.001 --out "$TMP/dt-real.json"
expect "detect: the synthetic set" 0 "wrote .*dt-syn.json \(COCO results: ids from" -- "$TETHER" detect --model $V/detector.onnx --images $V/synthetic --gt \
  $V/synthetic/annotations.json --conf 0.001 --out "$TMP/dt-syn.json"
expect "eval coco prints pycocotools' table" 0 "Average Precision  \(AP\) @\[ IoU=0.50:0.95 \| area=   all \| maxDets=100 \] = 0\.2" -- "$TETHER" eval coco \
  --gt $V/real/annotations.json --dt "$TMP/dt-real.json"
expect "eval coco --json has the 12 stats" 0 '"stats"' -- "$TETHER" eval coco --gt $V/real/annotations.json --dt "$TMP/dt-real.json" --json
expect "vision gap report: synthetic vs real mAP" 0 "mAP@\[.5:.95\] sim 0\.5[0-9]+, real 0\.2" -- "$TETHER" report --vision-sim-gt \
  $V/synthetic/annotations.json --vision-sim-dt "$TMP/dt-syn.json" --vision-real-gt $V/real/annotations.json --vision-real-dt "$TMP/dt-real.json" --out \
    "$TMP/vision.html" --json "$TMP/vision.json"
echo '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, -3, 4], "score": 0.5}]' > "$TMP/neg.json"
expect "eval coco: a negative box size is named" 1 "neg.json.*negative" -- "$TETHER" eval coco --gt $V/real/annotations.json --dt "$TMP/neg.json"
echo '[{"image_id": 99999, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}]' > "$TMP/unknown.json"
expect "eval coco: an unknown image id is named" 1 "99999" -- "$TETHER" eval coco --gt $V/real/annotations.json --dt "$TMP/unknown.json"
echo '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3' > "$TMP/broken.json"
expect "eval coco: malformed JSON says where" 1 "broken.json.*1:" -- "$TETHER" eval coco --gt $V/real/annotations.json --dt "$TMP/broken.json"
echo "not an image" > "$TMP/fake.jpg"
expect "detect: a file that is not an image is named" 1 "fake.jpg" -- "$TETHER" detect --model $V/detector.onnx --images "$TMP/fake.jpg" --out "$TMP/x.json"
expect "detect: missing model" 1 "detector model not found" -- "$TETHER" detect --model "$TMP/none.onnx" --images $V/real --out "$TMP/x.json"
expect "bench detect: Tether vs the Python pipeline" 0 "ratio|×" -- "$TETHER" bench detect --frames 20 --warmup 2
expect "bench all: one table of Tether vs peers, with the machine and versions" 0 "\| \`bench coco\` \| .* \| pycocotools \|" -- \
  "$TETHER" bench all --only coco,policy --quick --out "$TMP/bench"
expect "  its JSON has every row's ratio, the versions and the reports" 0 "^rows 8, ratios 8, versions ok, reports coco,policy$" -- \
  .venv/bin/python -c "
import json; t = json.load(open('$TMP/bench/bench-all.json'))
print('rows %d, ratios %d, versions %s, reports %s' % (len(t['rows']), sum(r.get('ratio') is not None for r in t['rows']),
      'ok' if {'mujoco', 'onnxruntime (peer)'} <= set(t['environment']['versions']) else 'missing', ','.join(sorted(t['reports']))))"
expect "bench unitree: the round trip against the vendor's Python SDK, ratio printed" 0 "^ratio \(SDK median / Tether median" -- \
  "$TETHER" bench unitree --count 100 --sdk-count 10 --repeats 1 --domain 131
expect "bench all --quick: the ros2 quick settings are ones bench ros2 accepts" 0 "\| \`bench ros2\` \| JointState .* \| Cyclone ddsperf" -- \
  "$TETHER" bench all --only ros2 --quick --out "$TMP/bench-ros2"
expect "bench all: an unknown benchmark is named" 1 'unknown benchmark "gpu"' -- "$TETHER" bench all --only gpu --out "$TMP/bench"
expect "history lists the runs recorded above" 0 "trials +quadruped .*(emulator|sim)" -- "$TETHER" history
expect "history as JSON" 0 '"kind" : "validation"' -- "$TETHER" history --kind validation --json
expect "history HTML" 0 "wrote .*history.html" -- "$TETHER" history --html "$TMP/history.html"
expect "history, unknown kind" 64 "unknown kind 'walks'" -- "$TETHER" history --kind walks
expect "history, no database" 1 "no history database" -- "$TETHER" history --database "$TMP/none.sqlite"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
