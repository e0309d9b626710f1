#!/usr/bin/env python3
"""Peer for `tether bench policy`: per-call latency of onnxruntime from Python on the same ONNX
file (one observation, one intra-op thread, as a Python control loop would run it), by its two
paths: `session.run` with a feed dict (what most deploy scripts write), and IO binding with the
inputs and outputs bound once to preallocated OrtValues (`run_with_iobinding`, onnxruntime's
fastest Python path: no dict, no output allocation per call).

With --recurrent, every input after the first is a recurrent state fed back from the output of
the same name with "_in" replaced by "_out" (rsl_rl's export convention), as a Python deploy loop
does: the state outputs of one call are the inputs of the next. With IO binding the state lives
in two OrtValues per state that swap roles every call (no copy).

Both paths get the same warm-up and the same number of timed calls. Prints
{"onnxruntime": version, "calls": N, "run": {"median_us", "p99_us"}, "iobinding": {...},
 "median_us": fastest median, "p99_us": its p99, "fastest": "run" | "iobinding"}.
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def concrete(shape):
    return [d if isinstance(d, int) else 1 for d in shape]


def timed(call, warmup, calls):
    for _ in range(warmup):
        call()
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter_ns()
        call()
        times[i] = time.perf_counter_ns() - start
    return {"median_us": float(np.median(times)) / 1000, "p99_us": float(np.percentile(times, 99)) / 1000}


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
    inputs, outputs = session.get_inputs(), session.get_outputs()
    output_names = [o.name for o in outputs]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(concrete(inputs[0].shape)).astype(np.float32)
    pairs = []  # (state input name, index of its output)
    if args.recurrent:
        for i in inputs[1:]:
            pairs.append((i.name, output_names.index(i.name[:-3] + "_out")))

    # session.run with a feed dict, states fed back from the returned arrays.
    feed = {inputs[0].name: x}
    for i in inputs[1:]:
        feed[i.name] = np.zeros(concrete(i.shape), dtype=np.float32)

    def run_call():
        result = session.run(None, feed)
        for name, k in pairs:
            feed[name] = result[k]

    # IO binding: everything bound once to preallocated OrtValues; states swap buffers.
    binding = session.io_binding()
    binding.bind_ortvalue_input(inputs[0].name, ort.OrtValue.ortvalue_from_numpy(x))
    state_values = {}
    for name, k in pairs:
        shape = concrete(next(i.shape for i in inputs if i.name == name))
        state_values[name] = [ort.OrtValue.ortvalue_from_numpy(np.zeros(shape, dtype=np.float32)),
                              ort.OrtValue.ortvalue_from_numpy(np.zeros(shape, dtype=np.float32))]
    for k, o in enumerate(outputs):
        state = next((name for name, j in pairs if j == k), None)
        if state is None:
            binding.bind_ortvalue_output(o.name, ort.OrtValue.ortvalue_from_shape_and_type(concrete(o.shape), np.float32))
    flip = [0]

    def bind_states():
        for name, k in pairs:
            a, b = state_values[name][flip[0]], state_values[name][1 - flip[0]]
            binding.bind_ortvalue_input(name, a)
            binding.bind_ortvalue_output(output_names[k], b)

    bind_states()

    def iobinding_call():
        session.run_with_iobinding(binding)
        if pairs:
            flip[0] = 1 - flip[0]
            bind_states()

    result = {"onnxruntime": ort.__version__, "calls": args.calls,
              "run": timed(run_call, args.warmup, args.calls),
              "iobinding": timed(iobinding_call, args.warmup, args.calls)}
    fastest = min(("run", "iobinding"), key=lambda k: result[k]["median_us"])
    result.update(fastest=fastest, median_us=result[fastest]["median_us"], p99_us=result[fastest]["p99_us"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
