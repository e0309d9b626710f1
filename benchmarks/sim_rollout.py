#!/usr/bin/env python3
"""Peer for `tether bench sim`: the same model stepped by mujoco.rollout (MuJoCo's own batched,
multi-threaded C++ rollout, what a Python user would reach for).

Prints one JSON object: {"mujoco": version, "results": [{"threads": T, "steps_per_second": S}, ...]}.
Each configuration rolls out `nenv` environments for `nstep` steps from the same initial state
with zero controls, best of `repeats` timed runs (set-up excluded).
"""
import argparse
import json
import time

import mujoco
import numpy as np
from mujoco import rollout


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--keyframe", default=None)
    parser.add_argument("--nenv", type=int, default=64)
    parser.add_argument("--nstep", type=int, default=1000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    model = mujoco.MjModel.from_xml_path(args.model)
    data = mujoco.MjData(model)
    if args.keyframe:
        mujoco.mj_resetDataKeyframe(model, data, model.key(args.keyframe).id)
    mujoco.mj_forward(model, data)
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state0 = np.empty(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, data, state0, spec)
    initial = np.tile(state0, (args.nenv, 1))
    control = np.zeros((args.nenv, args.nstep, model.nu))

    results = []
    for threads in args.threads:
        datas = [mujoco.MjData(model) for _ in range(threads)]
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            rollout.rollout(model, datas, initial, control, persistent_pool=True)
            best = min(best, time.perf_counter() - start)
        results.append({"threads": threads, "steps_per_second": args.nenv * args.nstep / best, "seconds": best})
    print(json.dumps({"mujoco": mujoco.__version__, "results": results}))


if __name__ == "__main__":
    main()
