#!/usr/bin/env python3
"""Peer for `tether bench loop`: one control tick written the usual way in Python, as the
chapter's ROS 2 node does it: build the observation with numpy, run the ONNX policy with
onnxruntime, then the safety checks with numpy (NaN check, clip, map to targets, clamp into
soft limits, bound the PD torque at the measured state, tilt check), and append the tick to a
ring buffer. Same policy file, same state, same limits as Tether's side.

Prints {"median_us": M, "p99_us": P, "p999_us": Q, "ticks": N}.
"""
import argparse
import collections
import json
import time

import numpy as np
import onnxruntime as ort


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", required=True)
    p.add_argument("--request", required=True, help="JSON with state, limits and scales from Tether")
    p.add_argument("--ticks", type=int, default=20000)
    p.add_argument("--warmup", type=int, default=1000, help="ticks run before timing (the same number as Tether's side)")
    a = p.parse_args()
    r = json.loads(open(a.request).read())
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(a.model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    q = np.array(r["q"]); qd = np.array(r["qd"]); gyro = np.array(r["gyro"]); quat = np.array(r["quat"])
    default = np.array(r["default"]); scale = np.array(r["action_scale"]); clip = r["action_clip"]
    lower = np.array(r["soft_lower"]); upper = np.array(r["soft_upper"]); kp = np.array(r["kp"]); kd = np.array(r["kd"])
    ff = np.array(r["ff"]); tau_max = np.array(r["torque_bound"]); tilt_limit = r["tilt_limit"]
    command = np.array(r["command"]); last = np.zeros(len(default))
    ring = collections.deque(maxlen=500)
    times = np.empty(a.ticks)
    for i in range(-a.warmup, a.ticks):
        t0 = time.perf_counter_ns()
        w, x, y, z = quat
        g = np.array([2 * (w * y - x * z), -2 * (w * x + y * z), -(1 - 2 * (x * x + y * y))])  # gravity in base frame
        phase = 2 * np.pi * 2.6 * i * 0.02
        yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        obs = np.concatenate([gyro * 0.25, g, command * np.array([2.0, 2.0, 0.25]), q - default, qd * 0.05, last,
                              [np.sin(phase), np.cos(phase)], [np.clip(yaw, -0.6, 0.6)]]).astype(np.float32)[None, :]
        if not np.all(np.isfinite(obs)):
            raise SystemExit("non-finite observation")
        action = session.run(None, {name: obs})[0][0].astype(np.float64)
        if not np.all(np.isfinite(action)):
            action = np.zeros_like(action)  # stop
        action = np.clip(action, -clip, clip)
        target = np.clip(default + scale * action, lower, upper)
        tau = kp * (target - q) - kd * qd + ff
        over = np.abs(tau) > tau_max
        target = np.where(over, q + (np.sign(tau) * tau_max + kd * qd - ff) / np.maximum(kp, 1e-9), target)
        tilt = np.arccos(np.clip(-g[2], -1, 1))
        if tilt > tilt_limit:
            target = q
        last = action
        ring.append((i, obs, action, target))
        if i >= 0:
            times[i] = time.perf_counter_ns() - t0
    print(json.dumps({"median_us": float(np.median(times)) / 1000, "p99_us": float(np.percentile(times, 99)) / 1000,
                      "p999_us": float(np.percentile(times, 99.9)) / 1000, "ticks": a.ticks}))


if __name__ == "__main__":
    main()
