#!/usr/bin/env python3
"""Peer for `tether bench policy`: per-call latency of onnxruntime's session.run from Python on
the same ONNX file (one observation, one intra-op thread, as a Python control loop would run it).

With --recurrent, every input after the first is a recurrent state fed back from the output of
the same name with "_in" replaced by "_out" (rsl_rl's export convention), as a Python deploy loop
does: the state outputs of one call are the inputs of the next.

Prints {"onnxruntime": version, "median_us": M, "p99_us": P, "calls": N}.
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--recurrent", action="store_true")
    args = parser.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    width = session.get_inputs()[0].shape[-1]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, width)).astype(np.float32)
    feed = {name: x}
    outputs = [o.name for o in session.get_outputs()]
    states = []
    if args.recurrent:
        for i in session.get_inputs()[1:]:
            feed[i.name] = np.zeros([d if isinstance(d, int) else 1 for d in i.shape], dtype=np.float32)
            states.append((i.name, outputs.index(i.name[:-3] + "_out")))

    def call():
        result = session.run(None, feed)
        for state, k in states:
            feed[state] = result[k]

    for _ in range(args.warmup):
        call()
    times = np.empty(args.calls)
    for i in range(args.calls):
        start = time.perf_counter_ns()
        call()
        times[i] = time.perf_counter_ns() - start
    print(json.dumps({"onnxruntime": ort.__version__, "median_us": float(np.median(times)) / 1000,
                      "p99_us": float(np.percentile(times, 99)) / 1000, "calls": args.calls}))


if __name__ == "__main__":
    main()
