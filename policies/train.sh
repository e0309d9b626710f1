#!/usr/bin/env bash
# The commands that made the committed default policies (deterministic from the seed, whatever
# the thread count). Run from the repository root after `make build` or `swift build -c release`.
set -euo pipefail
TETHER=${TETHER:-.build/release/tether}
$TETHER train --robot cartpole --iterations 60 --seed 1 --out policies/cartpole.onnx
$TETHER train --robot quadruped --gait trot --randomize robots/quadruped/randomization.yaml \
  --iterations 100 --episode-seconds 15 --seed 1 --evaluate-every 20 --out policies/quadruped.onnx
