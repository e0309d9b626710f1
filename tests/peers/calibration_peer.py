#!/usr/bin/env python3
"""Test peer for Tether's closed-form calibration analyses, written with numpy only.

It recomputes, by a different route than the Swift code, the numbers that are linear in the
data (or nearly so), so the tests can compare them to 1e-9:

  {"op": "allan", "values": [...], "tau0": s, "m": [1, 2, 4, ...]}
      -> {"adev": [...]}   overlapping Allan deviation from averages of adjacent clusters
  {"op": "friction", "velocity": [...], "torque": [...], "model": "symmetric" | "asymmetric"}
      -> {"names": [...], "beta": [...], "covariance": [[...]], "rss": x}   by numpy lstsq
  {"op": "xcorr", "ta": [...], "a": [...], "tb": [...], "b": [...], "step": h, "kmin": k, "kmax": k}
      -> {"delay": s, "peak": r, "r": [...]}   Pearson correlation per lag, parabolic peak

argv[1] is the JSON request, or @path of a file holding it.
"""
import json
import sys

import numpy as np


def allan(values, tau0, sizes):
    y = np.asarray(values, dtype=float)
    n = len(y)
    out = []
    for m in sizes:
        # Averages of every run of m consecutive samples, then differences of averages m apart.
        averages = np.convolve(y - y.mean(), np.ones(m) / m, mode="valid")  # n - m + 1 of them
        d = averages[m:] - averages[:-m]  # n - 2m + 1 of them
        out.append(float(np.sqrt(0.5 * np.mean(d * d))))
    return out


def friction(velocity, torque, model):
    v = np.asarray(velocity, dtype=float)
    tau = np.asarray(torque, dtype=float)
    both = bool(np.any(v > 0) and np.any(v < 0))
    if model == "symmetric":
        cols = [np.sign(v), v]
        names = ["coulomb", "viscous"]
        if both:
            cols.append(np.ones_like(v))
            names.append("offset")
    else:
        cols = [(v > 0).astype(float), -(v < 0).astype(float), v]
        names = ["coulomb (positive)", "coulomb (negative)", "viscous"]
    x = np.column_stack(cols)
    beta, _, rank, _ = np.linalg.lstsq(x, tau, rcond=None)
    assert rank == x.shape[1]
    residuals = tau - x @ beta
    rss = float(residuals @ residuals)
    s2 = rss / (len(tau) - x.shape[1])
    covariance = s2 * np.linalg.inv(x.T @ x)
    return {"names": names, "beta": beta.tolist(), "covariance": covariance.tolist(), "rss": rss}


def xcorr(ta, a, tb, b, step, kmin, kmax):
    ta, a, tb, b = (np.asarray(z, dtype=float) for z in (ta, a, tb, b))
    start, end = max(ta[0], tb[0]), min(ta[-1], tb[-1])
    count = int(np.floor((end - start) / step + 1e-9)) + 1
    grid = start + np.arange(count) * step
    ga, gb = np.interp(grid, ta, a), np.interp(grid, tb, b)
    lags = np.arange(kmin, kmax + 1)
    r = []
    for k in lags:
        if k >= 0:
            x, y = ga[: count - k], gb[k:]
        else:
            x, y = ga[-k:], gb[: count + k]
        r.append(float(np.corrcoef(x, y)[0, 1]))
    r = np.asarray(r)
    p = int(np.argmax(r))
    lo, mid, hi = r[p - 1], r[p], r[p + 1]
    offset = 0.5 * (lo - hi) / (lo - 2 * mid + hi)
    return {"delay": float((lags[p] + offset) * step), "peak": float(mid), "r": r.tolist()}


def main():
    arg = sys.argv[1]
    if arg.startswith("@"):
        with open(arg[1:]) as f:
            req = json.load(f)
    else:
        req = json.loads(arg)
    op = req["op"]
    if op == "allan":
        out = {"adev": allan(req["values"], req["tau0"], req["m"])}
    elif op == "friction":
        out = friction(req["velocity"], req["torque"], req["model"])
    elif op == "xcorr":
        out = xcorr(req["ta"], req["a"], req["tb"], req["b"], req["step"], req["kmin"], req["kmax"])
    else:
        raise SystemExit(f"unknown op {op}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
