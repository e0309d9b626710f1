#!/usr/bin/env python3
"""Test peer for Tether's compiled ONNX engine (CompiledGraph): small models built with the `onnx`
package's helper, each run by Python onnxruntime on seeded random inputs, as the reference.

Usage: graph_zoo.py DIRECTORY
Writes DIRECTORY/<name>.onnx for each model and prints a JSON list:
  [{"name", "path", "supported": bool, "inputs": [{"name", "shape", "data"}], "outputs": [{"name", "data"}]}]
"supported" says whether Tether's compiled engine is expected to compile the model (False: an
operator outside its set, which must be refused by name and left to ONNX Runtime).
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261205)


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(name, nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],  # shapes filled below
                              list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    # The outputs' shapes from onnx's own shape inference (so the files carry them, as exporters' do).
    inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for o in m.graph.output:
        if o.name in known and known[o.name].type.tensor_type.HasField("shape"):
            o.type.CopyFrom(known[o.name].type)
    onnx.checker.check_model(m)
    return m


def zoo():
    out = []
    # rsl_rl / Isaac Lab actor: normalizer, three Gemm layers with ELU.
    w = [f32(64, 48, scale=0.2), f32(32, 64, scale=0.2), f32(12, 32, scale=0.2)]
    b = [f32(64, scale=0.1), f32(32, scale=0.1), f32(12, scale=0.1)]
    nodes = [helper.make_node("Sub", ["obs", "mean"], ["c"]), helper.make_node("Div", ["c", "std"], ["n"])]
    prev = "n"
    for i in range(3):
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [f"g{i}"], transB=1))
        prev = f"g{i}"
        if i < 2:
            nodes.append(helper.make_node("Elu", [prev], [f"e{i}"], alpha=1.0))
            prev = f"e{i}"
    nodes.append(helper.make_node("Identity", [prev], ["actions"]))
    inits = [const("mean", f32(1, 48)), const("std", np.abs(f32(1, 48)) + 0.5)] + \
        [const(f"w{i}", w[i]) for i in range(3)] + [const(f"b{i}", b[i]) for i in range(3)]
    out.append(("actor_elu", model("actor_elu", nodes, [("obs", [1, 48])], ["actions"], inits), True))

    # The same layers written as MatMul + Add (a non-Gemm export), tanh, right side [K, N].
    nodes = [helper.make_node("MatMul", ["obs", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["a"]),
             helper.make_node("Tanh", ["a"], ["actions"])]
    out.append(("matmul_tanh", model("matmul_tanh", nodes, [("obs", [1, 32])], ["actions"],
                                     [const("w", f32(32, 16, scale=0.3)), const("b", f32(16))]), True))

    # Unary operators, each on the same input, concatenated.
    x = ("x", [1, 10])
    unary = [("Relu", {}), ("Sigmoid", {}), ("LeakyRelu", {"alpha": 0.2}), ("Selu", {}), ("Softplus", {}), ("Softsign", {}),
             ("HardSigmoid", {}), ("Neg", {}), ("Abs", {}), ("Exp", {}), ("Sin", {}), ("Cos", {}), ("Tanh", {}),
             ("Elu", {"alpha": 0.7})]
    nodes, names = [], []
    for i, (op, attrs) in enumerate(unary):
        nodes.append(helper.make_node(op, ["x"], [f"u{i}"], **attrs))
        names.append(f"u{i}")
    nodes += [helper.make_node("Abs", ["x"], ["ax"]), helper.make_node("Sqrt", ["ax"], ["sq"]),
              helper.make_node("Add", ["ax", "one"], ["ax1"]), helper.make_node("Log", ["ax1"], ["lg"]),
              helper.make_node("Clip", ["x", "lo", "hi"], ["cl"]), helper.make_node("Clip", ["x", "", "hi"], ["cl2"])]
    names += ["sq", "lg", "cl", "cl2"]
    nodes.append(helper.make_node("Concat", names, ["y"], axis=1))
    out.append(("unary", model("unary", nodes, [x], ["y"], [const("one", np.float32(1)), const("lo", np.float32(-0.5)),
                                                          const("hi", np.float32(0.8))]), True))

    # Broadcasting across ranks, and the binary operators.
    nodes = [helper.make_node("Add", ["x", "b31"], ["t1"]), helper.make_node("Mul", ["t1", "c4"], ["t2"]),
             helper.make_node("Sub", ["t2", "d1"], ["t3"]), helper.make_node("Div", ["t3", "e211"], ["t4"]),
             helper.make_node("Max", ["t4", "x"], ["t5"]), helper.make_node("Min", ["t5", "c4"], ["t6"]),
             helper.make_node("Abs", ["t6"], ["t7"]), helper.make_node("Pow", ["t7", "two"], ["y"]),
             helper.make_node("Sub", ["d1", "x"], ["z"])]
    out.append(("broadcast", model("broadcast", nodes, [("x", [2, 3, 4])], ["y", "z"],
                                   [const("b31", f32(3, 1)), const("c4", f32(4)), const("d1", f32(1)),
                                    const("e211", np.abs(f32(2, 1, 1)) + 0.5), const("two", np.float32(2))]), True))

    # Shapes: torch's flatten pattern (Shape → Gather → Unsqueeze → Concat → Reshape), Transpose,
    # Slice (negative step, axes), Squeeze / Unsqueeze (opset 13 inputs), Expand, Gather, Flatten.
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "zero"], ["s0"], axis=0),
        helper.make_node("Unsqueeze", ["s0", "axes0"], ["s0u"]), helper.make_node("Concat", ["s0u", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["flat"]),                              # [2, 12]
        helper.make_node("Transpose", ["x"], ["xt"], perm=[2, 0, 1]),                      # [4, 2, 3]
        helper.make_node("Slice", ["xt", "st", "en", "ax", "sp"], ["sl"]),                 # axis 0 reversed by 2, axis 2 [1:3]
        helper.make_node("Flatten", ["sl"], ["slf"], axis=1),
        helper.make_node("Unsqueeze", ["flat", "axes0"], ["fu"]),                          # [1, 2, 12]
        helper.make_node("Squeeze", ["fu", "axes0"], ["fs"]),                              # [2, 12]
        helper.make_node("Expand", ["row", "eshape"], ["ex"]),                             # [2, 12]
        helper.make_node("Add", ["fs", "ex"], ["y"]),
        helper.make_node("Gather", ["x", "idx"], ["g"], axis=1),                            # [2, 2, 4]
        helper.make_node("Flatten", ["g"], ["gf"], axis=1),
        helper.make_node("Dropout", ["gf"], ["gd"]),
        helper.make_node("Cast", ["gd"], ["z"], to=TensorProto.FLOAT),
    ]
    inits = [const("zero", np.int64(0)), const("axes0", np.array([0], np.int64)), const("minus1", np.array([-1], np.int64)),
             const("st", np.array([-1, 1], np.int64)), const("en", np.array([-10, 3], np.int64)), const("ax", np.array([0, 2], np.int64)),
             const("sp", np.array([-2, 1], np.int64)), const("row", f32(1, 12)), const("eshape", np.array([2, 12], np.int64)),
             const("idx", np.array([2, 0], np.int64))]
    out.append(("shapes", model("shapes", nodes, [("x", [2, 3, 4])], ["y", "slf", "z"], inits), True))

    # Gemm's attributes (transA, alpha, beta, a broadcast C) and MatMul of two runtime inputs.
    nodes = [helper.make_node("Gemm", ["a", "b", "c"], ["g"], transA=1, alpha=0.5, beta=2.0),
             helper.make_node("MatMul", ["g", "r"], ["y"]), helper.make_node("MatMul", ["v", "r"], ["w"])]
    out.append(("gemm_attributes", model("gemm_attributes", nodes, [("a", [9, 3]), ("r", [5, 2]), ("v", [5])], ["y", "w"],
                                         [const("b", f32(9, 5)), const("c", f32(5))]), True))

    # A GRU-like recurrent cell written in elementary operators (h_in → h_out), cartpole-sized:
    # observation [1, 4], action [1, 1], hidden 8.
    nodes = [
        helper.make_node("MatMul", ["obs", "wz"], ["xz"]), helper.make_node("MatMul", ["h_in", "uz"], ["hz"]),
        helper.make_node("Add", ["xz", "hz"], ["zs"]), helper.make_node("Sigmoid", ["zs"], ["z"]),
        helper.make_node("MatMul", ["obs", "wn"], ["xn"]), helper.make_node("MatMul", ["h_in", "un"], ["hn"]),
        helper.make_node("Add", ["xn", "hn"], ["ns"]), helper.make_node("Tanh", ["ns"], ["n"]),
        helper.make_node("Sub", ["one", "z"], ["omz"]), helper.make_node("Mul", ["omz", "n"], ["a1"]),
        helper.make_node("Mul", ["z", "h_in"], ["a2"]), helper.make_node("Add", ["a1", "a2"], ["h_out"]),
        helper.make_node("Gemm", ["h_out", "wo", "bo"], ["actions"], transB=1),
    ]
    inits = [const("wz", f32(4, 8, scale=0.5)), const("uz", f32(8, 8, scale=0.5)), const("wn", f32(4, 8, scale=0.5)),
             const("un", f32(8, 8, scale=0.5)), const("one", np.float32(1)), const("wo", f32(1, 8)), const("bo", f32(1))]
    out.append(("gru_cell", model("gru_cell", nodes, [("obs", [1, 4]), ("h_in", [1, 8])], ["actions", "h_out"], inits), True))

    # Outside the set: an LSTM operator (ONNX Runtime runs it; the compiled engine refuses by name).
    hidden = 1  # the action of the cartpole (one value), so OnnxPolicy takes it with that manifest
    nodes = [helper.make_node("Unsqueeze", ["obs", "axes0"], ["seq"]),
             helper.make_node("LSTM", ["seq", "W", "R"], ["Y"], hidden_size=hidden),
             helper.make_node("Reshape", ["Y", "flat"], ["actions"])]
    inits = [const("axes0", np.array([0], np.int64)), const("W", f32(1, 4 * hidden, 4)), const("R", f32(1, 4 * hidden, hidden)),
             const("flat", np.array([1, hidden], np.int64))]
    out.append(("lstm", model("lstm", nodes, [("obs", [1, 4])], ["actions"], inits), False))
    return out


def main():
    directory = sys.argv[1]
    os.makedirs(directory, exist_ok=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    cases = []
    for name, m, supported in zoo():
        path = os.path.join(directory, name + ".onnx")
        onnx.save(m, path)
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        feed = {i.name: f32(*i.shape, scale=1.5) for i in session.get_inputs()}
        results = session.run(None, feed)
        cases.append({"name": name, "path": path, "supported": supported,
                      "inputs": [{"name": i.name, "shape": list(i.shape), "data": feed[i.name].reshape(-1).astype(float).tolist()}
                                 for i in session.get_inputs()],
                      "outputs": [{"name": o.name, "data": r.reshape(-1).astype(float).tolist()}
                                  for o, r in zip(session.get_outputs(), results)]})
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
