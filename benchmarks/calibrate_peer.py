#!/usr/bin/env python3
"""Peer for `tether bench calibrate`: the same trajectory-fitting problem solved by mujoco.sysid
(MuJoCo's Python system-identification toolbox, what a Python user would reach for).

Usage: calibrate_peer.py PROBLEM.json

The problem file (written by Tether's runCalibrationBenchmark) holds:
  model            path of the MJCF model
  solver_tolerance constraint-solver tolerance to set (Tether's replays use the same), optional
  threads          rollout threads
  max_iters        optimizer iterations at most
  parameters       [{name, initial, lower, upper}], names as Tether writes them:
                   joint[NAME].damping | frictionloss | armature, body[NAME].mass
  recordings       [{name, qpos0 (nq, MuJoCo order), qvel0 (nv), control_times, control
                     (one row of nu values per physics step, zero-order hold of the commands),
                     times, joints, positions, velocities (one row per sample, one column per
                     joint)}]

Measured signals are the recorded joints' positions and velocities, compared with the rollout's
qpos and qvel. mujoco.sysid divides each residual column by the measured column's norm / sqrt(2);
weights undo that and divide by the column's standard deviation instead, as Tether does, so both
fit the same cost.

Prints one JSON object: {"mujoco", "optimizer", "estimates": {name: value}, "wall_seconds",
"residual_calls"}. The time covers sysid.optimize only (model and data set-up excluded).
"""
import contextlib
import json
import re
import sys
import time

import mujoco
import numpy as np

try:
    from mujoco import sysid
    sysid.optimize  # the toolbox imports lazily and hides missing optional dependencies
except (ImportError, AttributeError) as error:
    sys.exit(f"mujoco.sysid is not usable ({error}); install the pinned peers: "
             ".venv/bin/pip install -r tools/requirements.lock")


def modifier(name):
    """The MjSpec edit for one of Tether's parameter names."""
    match = re.fullmatch(r"(joint|body)\[([^\]]+)\]\.(\w+)", name)
    if not match:
        sys.exit(f"calibrate_peer.py: parameter '{name}' has no mujoco.sysid equivalent here")
    kind, obj, field = match.groups()
    if kind == "joint" and field == "damping":
        def apply(spec, p):
            joint = spec.joint(obj)
            damping = np.array(joint.damping, dtype=float)
            damping[0] = p.value[0]
            joint.damping = damping
    elif kind == "joint" and field in ("frictionloss", "armature"):
        def apply(spec, p):
            setattr(spec.joint(obj), field, float(p.value[0]))
    elif kind == "body" and field == "mass":
        def apply(spec, p):
            spec.body(obj).mass = float(p.value[0])
    else:
        sys.exit(f"calibrate_peer.py: parameter '{name}' has no mujoco.sysid equivalent here")
    return apply


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        problem = json.load(f)

    spec = mujoco.MjSpec.from_file(problem["model"])
    if "solver_tolerance" in problem:
        spec.option.tolerance = problem["solver_tolerance"]
    model = spec.compile()

    params = sysid.ParameterDict()
    for p in problem["parameters"]:
        params.add(sysid.Parameter(p["name"], nominal=p["initial"], min_value=p["lower"], max_value=p["upper"],
                                   modifier=modifier(p["name"])))

    # Measured signals: the recorded joints' positions and velocities, compared with the rollout's
    # state (qpos, qvel after each step). Not the jointpos / jointvel sensors: MuJoCo computes
    # sensors before it integrates, so a rollout's sensor row lags its state by one step.
    joints = problem["recordings"][0]["joints"]
    columns = [(f"{j}_qpos", sysid.SignalType.MjStateQPos, j, "positions") for j in joints] + \
              [(f"{j}_qvel", sysid.SignalType.MjStateQVel, j, "velocities") for j in joints]
    mapping = {name: (kind, np.array([k])) for k, (name, kind, _, _) in enumerate(columns)}

    names, initial_states, controls, sensordata = [], [], [], []
    ratios = np.zeros(len(columns))
    for rec in problem["recordings"]:
        times = np.asarray(rec["times"])
        data = np.stack([np.asarray(rec[field])[:, rec["joints"].index(j)] for _, _, j, field in columns], axis=1)
        ratios += (np.linalg.norm(data, axis=0) / np.sqrt(2)) / np.maximum(np.std(data, axis=0), 1e-12)
        names.append(rec["name"])
        initial_states.append(sysid.create_initial_state(model, np.asarray(rec["qpos0"]), np.asarray(rec["qvel0"])))
        controls.append(sysid.TimeSeries(np.asarray(rec["control_times"]), np.asarray(rec["control"])))
        sensordata.append(sysid.TimeSeries(times, data, signal_mapping=mapping))
    weights = ratios / len(problem["recordings"])

    sequences = sysid.ModelSequences("tether-benchmark", spec, names, initial_states, controls, sensordata,
                                     allow_missing_sensors=True)
    calls = [0]
    inner = sysid.build_residual_fn(models_sequences=[sequences], n_threads=problem.get("threads", 1),
                                    enabled_observations=[(name, kind) for name, kind, _, _ in columns],
                                    sensor_weights=weights)

    def residual_fn(x, p, **kwargs):
        calls[0] += 1
        return inner(x, p, **kwargs)

    # The optimizer prints its progress on stdout, which carries our JSON: send it to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        start = time.perf_counter()
        fitted, _ = sysid.optimize(params, residual_fn, optimizer="mujoco", verbose=False,
                                   max_iters=problem.get("max_iters", 30))
        seconds = time.perf_counter() - start

    print(json.dumps({
        "mujoco": mujoco.__version__,
        "optimizer": "mujoco.sysid.optimize (mujoco.minimize.least_squares)",
        "estimates": {name: float(fitted[name].value[0]) for name in fitted.keys()},
        "wall_seconds": seconds,
        "residual_calls": calls[0],
    }))


if __name__ == "__main__":
    main()
