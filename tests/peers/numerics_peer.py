#!/usr/bin/env python3
"""Test peer for TetherNumerics: the same functions computed by scipy and numpy.

Reads one JSON request on stdin, {"calls": [{"f": name, "args": [...]}, ...]}, and writes
{"results": [...]}, one result per call (a number, a list, or an object), in order. The Swift
tests (Tests/TetherNumericsTests) spawn it from the project venv and compare within tight
tolerances. Each function name below maps to the scipy / numpy routine that is its reference.
"""
import json
import math
import sys

import numpy as np
from scipy import optimize, special, stats


def interval(ci):
    return [float(ci.low), float(ci.high)]


def wilson(k, n, level):
    return interval(stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson"))


def newcombe(a, n, b, m, level):
    # Newcombe's method 10 from scipy's Wilson intervals.
    p1, p2 = a / n, b / m
    l1, u1 = wilson(a, n, level)
    l2, u2 = wilson(b, m, level)
    d = p1 - p2
    return [max(-1.0, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)), min(1.0, d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))]


def two_proportion(a, n, b, m):
    table = [[a, n - a], [b, m - b]]
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    z = math.copysign(math.sqrt(chi2), a / n - b / m)
    return {"z": z, "p": float(p)}


def welch(a, b):
    r = stats.ttest_ind(a, b, equal_var=False)
    return {"t": float(r.statistic), "df": float(r.df), "p": float(r.pvalue)}


def mann_whitney(a, b):
    r = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
    return {"u": float(r.statistic), "p": float(r.pvalue)}


def t_interval(x, level):
    x = np.asarray(x, dtype=float)
    return [float(v) for v in stats.t.interval(level, len(x) - 1, loc=x.mean(), scale=stats.sem(x))]


def qr(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    _, r = np.linalg.qr(a)
    norms = np.linalg.norm(a, axis=0)
    return {
        "solve": np.linalg.lstsq(a, b, rcond=None)[0].tolist(),
        "inverse_normal": np.linalg.inv(a.T @ a).tolist(),
        "independence": (np.abs(np.diag(r)) / norms).tolist(),
    }


def cholesky(s, b):
    s = np.asarray(s, dtype=float)
    return {"lower": np.linalg.cholesky(s).tolist(), "solve": np.linalg.solve(s, b).tolist(), "inverse": np.linalg.inv(s).tolist()}


def eigen(s):
    w, v = np.linalg.eigh(np.asarray(s, dtype=float))
    order = np.argsort(-w, kind="stable")
    w, v = w[order], v[:, order]
    for k in range(v.shape[1]):  # largest component positive, as TetherNumerics does
        if v[np.argmax(np.abs(v[:, k])), k] < 0:
            v[:, k] = -v[:, k]
    return {"values": w.tolist(), "vectors": v.tolist()}


def betaln(a, b):
    # scipy's betaln subtracts log-gammas and loses ~1e-10 when one argument is large (ln B(0.5, 5e5));
    # ln Γ(p) − ln(Γ(q + p)/Γ(q)) with the Pochhammer ratio does not, where that ratio is finite.
    p, q = min(a, b), max(a, b)
    ratio = special.poch(q, p)
    if math.isfinite(ratio) and ratio > 0:
        return special.gammaln(p) - math.log(ratio)
    return special.betaln(a, b)


def problem(name, data):
    """Residual functions of the least-squares problems the tests share."""
    if name == "decay":
        t, y = np.asarray(data["t"]), np.asarray(data["y"])
        return lambda p: p[0] * np.exp(-p[1] * t) + p[2] - y
    if name == "rosenbrock":
        return lambda p: np.array([10 * (p[1] - p[0] ** 2), 1 - p[0], 0.5 * (p[1] - 1)])
    if name == "circle":
        x, y = np.asarray(data["x"]), np.asarray(data["y"])
        return lambda p: np.hypot(x - p[0], y - p[1]) - p[2]
    raise ValueError(f"unknown problem {name}")


def least_squares(name, data, start, lower, upper):
    f = problem(name, data)
    bounded = lower is not None
    if bounded:
        lo = [-np.inf if v is None else v for v in lower]
        hi = [np.inf if v is None else v for v in upper]
        r = optimize.least_squares(f, start, bounds=(lo, hi), method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=10000)
    else:
        r = optimize.least_squares(f, start, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=10000)
    return {"x": r.x.tolist(), "cost": float(r.cost), "active": [int(v) for v in r.active_mask]}


FUNCTIONS = {
    "normal_cdf": lambda x: stats.norm.cdf(x),
    "normal_ppf": lambda p: stats.norm.ppf(p),
    "normal_two_sided": lambda z: 2 * stats.norm.sf(abs(z)),
    "t_cdf": lambda t, df: stats.t.cdf(t, df),
    "t_ppf": lambda p, df: stats.t.ppf(p, df),
    "t_two_sided": lambda t, df: 2 * stats.t.sf(abs(t), df),
    "chi2_cdf": lambda x, k: stats.chi2.cdf(x, k),
    "chi2_ppf": lambda p, k: stats.chi2.ppf(p, k),
    "f_cdf": lambda f, d1, d2: stats.f.cdf(f, d1, d2),
    "f_sf": lambda f, d1, d2: stats.f.sf(f, d1, d2),
    "betainc": lambda x, a, b: special.betainc(a, b, x),
    "gammainc": lambda a, x: special.gammainc(a, x),
    "gammaincc": lambda a, x: special.gammaincc(a, x),
    "gammaln": lambda x: special.gammaln(x),
    "betaln": betaln,
    "mean": lambda x: np.mean(x),
    "variance": lambda x: np.var(x, ddof=1),
    "std": lambda x: np.std(x, ddof=1),
    "median": lambda x: np.median(x),
    "quantile": lambda x, q: np.quantile(x, q),
    "wilson": wilson,
    "clopper_pearson": lambda k, n, level: interval(stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")),
    "newcombe": newcombe,
    "t_interval": t_interval,
    "fisher_exact": lambda a, b, c, d: stats.fisher_exact([[a, b], [c, d]]).pvalue,
    "two_proportion": two_proportion,
    "welch": welch,
    "mann_whitney": mann_whitney,
    "qr": qr,
    "cholesky": cholesky,
    "eigen": eigen,
    "least_squares": least_squares,
}


def plain(value):
    if isinstance(value, (dict, list)):
        return value
    return float(value)


def main():
    request = json.load(sys.stdin)
    results = [plain(FUNCTIONS[call["f"]](*call["args"])) for call in request["calls"]]
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
