#!/usr/bin/env python3
"""Test peer for Tether's ONNX side: Python onnxruntime and onnx as independent oracles.

argv[1] is a JSON request:
  {"op": "run", "model": path, "input": [[...], ...]}     -> {"output": [[...]], "metadata": {...}}
  {"op": "check", "model": path}                          -> {"ok": true, "opset": N, "ir_version": N}
  {"op": "make_int_input", "path": path}                  -> writes a model whose input is int64
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
    else:
        raise SystemExit(f"unknown op {op}")


if __name__ == "__main__":
    main()
