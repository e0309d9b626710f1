#!/usr/bin/env python3
"""Test peer for Tether's ONNX side: Python onnxruntime and onnx as independent oracles.

argv[1] is a JSON request:
  {"op": "run", "model": path, "input": [[...], ...]}     -> {"output": [[...]], "metadata": {...}}
  {"op": "check", "model": path}                          -> {"ok": true, "opset": N, "ir_version": N}
  {"op": "make_int_input", "path": path}                  -> writes a model whose input is int64
  {"op": "sequence", "model": path, "observations": [[...], ...]}
      -> {"actions": [[...]], "states": [{"h_in": [...], ...}]} (each state after the step): a recurrent model run step by step, every
         input but the observation a state fed back from the output of the same name with
         "_in" replaced by "_out" (rsl_rl's convention), zeros at the start
  {"op": "rename", "model": path, "out": path, "names": {"old": "new", ...}}
      -> the model with graph inputs/outputs renamed (tests Tether's shape-based pairing)
  {"op": "make_bad_recurrent", "path": path, "kind": "state_shape" | "extra_input"}
      -> a small model with a recurrent-looking state whose output shape differs, or an input
         that is neither the observation nor a state
"""
import json
import sys

import numpy as np


def main():
    req = json.loads(sys.argv[1])
    op = req["op"]
    if op == "run":
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(req["model"], options, providers=["CPUExecutionProvider"])
        x = np.asarray(req["input"], dtype=np.float32)
        (y,) = session.run(None, {session.get_inputs()[0].name: x})
        meta = session.get_modelmeta().custom_metadata_map
        print(json.dumps({"output": y.astype(float).tolist(), "metadata": dict(meta)}))
    elif op == "check":
        import onnx
        model = onnx.load(req["model"])
        onnx.checker.check_model(model, full_check=True)
        print(json.dumps({"ok": True, "opset": model.opset_import[0].version, "ir_version": model.ir_version,
                          "inputs": [i.name for i in model.graph.input], "outputs": [o.name for o in model.graph.output]}))
    elif op == "make_int_input":
        import onnx
        from onnx import TensorProto, helper
        x = helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 4])
        y = helper.make_tensor_value_info("out", TensorProto.INT64, [1, 4])
        graph = helper.make_graph([helper.make_node("Identity", ["ids"], ["out"])], "int_model", [x], [y])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, req["path"])
        print(json.dumps({"ok": True}))
    elif op == "sequence":
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(req["model"], options, providers=["CPUExecutionProvider"])
        inputs = session.get_inputs()
        obs_name = inputs[0].name
        state = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], dtype=np.float32) for i in inputs[1:]}
        outputs = [o.name for o in session.get_outputs()]
        actions, states = [], []
        for o in req["observations"]:
            feed = {obs_name: np.asarray([o], dtype=np.float32)}
            feed.update(state)
            result = dict(zip(outputs, session.run(None, feed)))
            for name in state:
                state[name] = result[name[:-3] + "_out"]
            actions.append(result[outputs[0]].reshape(-1).astype(float).tolist())
            states.append({name: state[name].reshape(-1).astype(float).tolist() for name in state})
        print(json.dumps({"actions": actions, "states": states}))
    elif op == "rename":
        import onnx
        model = onnx.load(req["model"])
        names = req["names"]
        for value in list(model.graph.input) + list(model.graph.output):
            if value.name in names:
                value.name = names[value.name]
        for node in model.graph.node:
            node.input[:] = [names.get(n, n) for n in node.input]
            node.output[:] = [names.get(n, n) for n in node.output]
        onnx.save(model, req["out"])
        print(json.dumps({"ok": True}))
    elif op == "make_bad_recurrent":
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        obs = helper.make_tensor_value_info("obs", TensorProto.FLOAT, [1, 4])
        h_in = helper.make_tensor_value_info("h_in", TensorProto.FLOAT, [1, 1, 8])
        actions = helper.make_tensor_value_info("actions", TensorProto.FLOAT, [1, 1])
        weight = numpy_helper.from_array(np.ones((4, 1), dtype=np.float32), "w")
        nodes = [helper.make_node("MatMul", ["obs", "w"], ["actions"])]
        inits = [weight]
        if req["kind"] == "state_shape":
            starts = numpy_helper.from_array(np.array([0], dtype=np.int64), "starts")
            ends = numpy_helper.from_array(np.array([4], dtype=np.int64), "ends")
            axes = numpy_helper.from_array(np.array([2], dtype=np.int64), "axes")
            inits += [starts, ends, axes]
            nodes.append(helper.make_node("Slice", ["h_in", "starts", "ends", "axes"], ["h_out"]))
            outputs = [actions, helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, 1, 4])]
            graph_inputs = [obs, h_in]
        else:
            extra = helper.make_tensor_value_info("goal", TensorProto.FLOAT, [1, 5, 64])
            nodes.append(helper.make_node("Identity", ["h_in"], ["h_out"]))
            nodes.append(helper.make_node("ReduceSum", ["goal"], ["goal_sum"]))
            outputs = [actions, helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, 1, 8]),
                       helper.make_tensor_value_info("goal_sum", TensorProto.FLOAT, [1, 1, 1])]
            graph_inputs = [obs, h_in, extra]
        graph = helper.make_graph(nodes, "bad_recurrent", graph_inputs, outputs, initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, req["path"])
        print(json.dumps({"ok": True}))
    else:
        raise SystemExit(f"unknown op {op}")


if __name__ == "__main__":
    main()
