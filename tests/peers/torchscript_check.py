#!/usr/bin/env python3
"""Compare a converted TorchScript policy with the actions PyTorch gave (no torch needed).

    tests/peers/torchscript_check.py MODEL.onnx FIXTURE.json [--tol 1e-5]

FIXTURE.json (tools/make_torchscript_fixtures.py) holds `observations` and torch's `actions`,
step by step, with the recurrent state carried inside the TorchScript module from zeros. Here
onnxruntime runs MODEL.onnx (written by tools/torchscript_policy_to_onnx.py) over the same
observations, feeding each state output (h_out, c_out) back as the next state input (h_in, c_in),
from zeros; it prints the largest action difference and exits 1 if it is above the tolerance.
"""

import argparse
import json
import sys

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("fixture")
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    with open(a.fixture) as f:
        fx = json.load(f)
    obs = np.asarray(fx["observations"], np.float32)
    want = np.asarray(fx["actions"], np.float64)
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    state_in = [i for i in sess.get_inputs() if i.name != "obs"]
    outs = [o.name for o in sess.get_outputs()]
    state = {i.name: np.zeros(i.shape, np.float32) for i in state_in}
    pairs = {i.name: i.name.replace("_in", "_out") for i in state_in}
    missing = [o for o in pairs.values() if o not in outs]
    if missing or len(obs) != len(want) or len(obs) == 0:
        print(f"torchscript_check: bad model or fixture (state outputs missing: {missing}, "
              f"{len(obs)} observations, {len(want)} actions)")
        return 1
    worst, worst_step = 0.0, 0
    for t in range(len(obs)):
        res = dict(zip(outs, sess.run(outs, {"obs": obs[t][None], **state})))
        d = float(np.abs(res["actions"][0].astype(np.float64) - want[t]).max())
        if d > worst:
            worst, worst_step = d, t
        state = {i: res[o] for i, o in pairs.items()}
    ok = worst <= a.tol
    kinds = ", ".join(sorted(state)) or "none"
    print(f"{fx.get('policy', a.fixture)}: {len(obs)} steps, state ({kinds}) fed back: largest action "
          f"difference {worst:.2e} at step {worst_step} (onnxruntime {ort.__version__} vs torch "
          f"{fx.get('torch', '?')}), tolerance {a.tol:g} -> {'ok' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
