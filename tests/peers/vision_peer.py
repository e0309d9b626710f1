#!/usr/bin/env python3
"""Test peer for TetherVision: OpenCV and numpy as independent oracles.

argv[1] is a JSON request (or @file holding one):
  {"op": "resize", "image": png, "width": W, "height": H, "out": path}   cv2.resize INTER_LINEAR, raw HWC bytes (RGB order kept)
  {"op": "letterbox", "image": png, "width": W, "height": H, "out": path} Ultralytics-style letterbox, raw float32 NCHW
  {"op": "imread", "image": path, "out": path}                           cv2.imread colour, raw RGB bytes -> {"width", "height"}
  {"op": "write_png", "path": p, "kind": "rgba"|"rgb16"|"gray16", "width", "height"}  writes a PNG with cv2
  {"op": "decode", "output": raw float32 path, "shape": [1, C, A], "conf", "iou", "max_det", "agnostic"}
                                                                          -> {"rows": [[x1, y1, x2, y2, score, class], ...]}
  {"op": "model", "path": p, "kind": "constant"|"mini-yolo", "width", "height", "metadata": {...}, ...}
                                                                          writes a tiny detector ONNX model
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"))
import detect_peer  # noqa: E402


def read_bgr(path):
    import cv2
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    return img


def make_model(req):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    h, w = req["height"], req["width"]
    dynamic = req.get("dynamic", False)
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, "height", "width"] if dynamic else [1, 3, h, w])
    nodes, inits = [], []
    if req["kind"] == "constant":
        # Ignores the image (adds 0 × its mean so the input is used) and returns a fixed output.
        const = np.asarray(req["values"], dtype=np.float32).reshape(req["shape"])
        inits.append(numpy_helper.from_array(const, "table"))
        inits.append(numpy_helper.from_array(np.zeros((1,), np.float32), "zero"))
        nodes.append(helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0))
        nodes.append(helper.make_node("Mul", ["m", "zero"], ["z"]))
        nodes.append(helper.make_node("Add", ["table", "z"], ["output0"]))
        y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(req["shape"]))
    elif req["kind"] == "mini-yolo":
        # A small random convolutional detector with YOLOv8's output layout [1, 4 + nc, anchors]
        # over strides 8, 16, 32: boxes in input pixels, class scores after a sigmoid. For
        # benchmarks and end-to-end runs when the trained fixture is not at hand.
        rng = np.random.default_rng(req.get("seed", 0))
        nc = req.get("classes", 2)
        c = 4 + nc
        def conv(name, src, cin, cout, k, stride):
            w = (rng.standard_normal((cout, cin, k, k)) / np.sqrt(cin * k * k)).astype(np.float32)
            inits.append(numpy_helper.from_array(w, name + "_w"))
            inits.append(numpy_helper.from_array(np.zeros(cout, np.float32), name + "_b"))
            nodes.append(helper.make_node("Conv", [src, name + "_w", name + "_b"], [name + "_c"], kernel_shape=[k, k], strides=[stride, stride]))
            nodes.append(helper.make_node("Relu", [name + "_c"], [name]))
            return name
        f8 = conv("f8", "images", 3, 32, 8, 8)
        f16 = conv("f16", f8, 32, 64, 2, 2)
        f32 = conv("f32", f16, 64, 64, 2, 2)
        heads = []
        for name, src, cin in [("h8", f8, 32), ("h16", f16, 64), ("h32", f32, 64)]:
            weights = (rng.standard_normal((c, cin, 1, 1)) / np.sqrt(cin) * 3).astype(np.float32)
            inits.append(numpy_helper.from_array(weights, name + "_w"))
            nodes.append(helper.make_node("Conv", [src, name + "_w"], [name + "_c"]))
            inits.append(numpy_helper.from_array(np.asarray([1, c, -1], np.int64), name + "_s"))
            nodes.append(helper.make_node("Reshape", [name + "_c", name + "_s"], [name]))
            heads.append(name)
        nodes.append(helper.make_node("Concat", heads, ["raw"], axis=2))
        nodes.append(helper.make_node("Sigmoid", ["raw"], ["sig"]))
        scale = np.ones((1, c, 1), np.float32)
        scale[0, :4, 0] = [w, h, w / 4, h / 4]
        inits.append(numpy_helper.from_array(scale, "scale"))
        nodes.append(helper.make_node("Mul", ["sig", "scale"], ["output0"]))
        anchors = sum((h // s) * (w // s) for s in (8, 16, 32))
        y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", c, "anchors"] if dynamic else [1, c, anchors])
    else:
        raise SystemExit(f"unknown model kind {req['kind']}")
    graph = helper.make_graph(nodes, "tiny_detector", [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for k, v in req.get("metadata", {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, req["path"])
    return {"ok": True}


def main():
    arg = sys.argv[1]
    req = json.loads(open(arg[1:]).read() if arg.startswith("@") else arg)
    op = req["op"]
    if op == "resize":
        import cv2
        img = read_bgr(req["image"])[..., ::-1]  # RGB, as Tether holds it; resize is per channel
        out = cv2.resize(np.ascontiguousarray(img), (req["width"], req["height"]), interpolation=cv2.INTER_LINEAR)
        open(req["out"], "wb").write(np.ascontiguousarray(out).tobytes())
        print(json.dumps({"opencv": cv2.__version__}))
    elif op == "letterbox":
        x, (r, left, top) = detect_peer.letterbox(read_bgr(req["image"]), req["width"], req["height"])
        open(req["out"], "wb").write(x.astype(np.float32).tobytes())
        print(json.dumps({"ratio": r, "left": left, "top": top}))
    elif op == "imread":
        img = read_bgr(req["image"])[..., ::-1]
        open(req["out"], "wb").write(np.ascontiguousarray(img).tobytes())
        print(json.dumps({"width": img.shape[1], "height": img.shape[0]}))
    elif op == "write_png":
        import cv2
        rng = np.random.default_rng(req.get("seed", 0))
        h, w = req["height"], req["width"]
        kind = req["kind"]
        if kind == "rgba":
            img = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        elif kind == "rgb16":
            img = rng.integers(0, 65536, (h, w, 3), dtype=np.uint16)
        elif kind == "gray16":
            img = rng.integers(0, 65536, (h, w), dtype=np.uint16)
        else:
            raise SystemExit(f"unknown kind {kind}")
        cv2.imwrite(req["path"], img)
        print(json.dumps({"ok": True}))
    elif op == "decode":
        out = np.fromfile(req["output"], dtype=np.float32).reshape(req["shape"])
        if req.get("layout") == "end-to-end":
            rows = detect_peer.decode_end_to_end(out, req["conf"], req["max_det"])
        else:
            rows = detect_peer.decode_yolo(out, req["conf"], req["iou"], req["max_det"], req.get("agnostic", False))
        print(json.dumps({"rows": rows.astype(float).tolist()}))
    elif op == "model":
        print(json.dumps(make_model(req)))
    else:
        raise SystemExit(f"unknown op {op}")


if __name__ == "__main__":
    main()
