#!/usr/bin/env python3
"""Independent check of the vision fixture: ONNX Runtime + numpy + pycocotools.

Runs fixtures/vision/detector.onnx (raw YOLOv8 head, [1, 4 + nc, anchors]) and,
if present, detector-e2e.onnx (NMS in the graph, [1, N, 6]) on the COCO test
sets under fixtures/vision/{synthetic,real}, with Ultralytics-style letterbox
pre-processing written here in numpy, class-wise NMS, and COCO evaluation by
pycocotools. Uses only the project's venv (onnxruntime, numpy, pycocotools,
OpenCV for JPEG decoding).

  .venv/bin/python tools/eval_detector_fixture.py [--fixtures fixtures/vision] [--json out.json]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

PAD_VALUE = 114


def resize_bilinear(img, new_w, new_h):
    """Bilinear resize with half-pixel centres (OpenCV INTER_LINEAR semantics for upscaling)."""
    h, w = img.shape[:2]
    ys = np.clip((np.arange(new_h) + 0.5) * h / new_h - 0.5, 0, h - 1)
    xs = np.clip((np.arange(new_w) + 0.5) * w / new_w - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    im = img.astype(np.float32)
    top = im[y0][:, x0] * (1 - fx) + im[y0][:, x1] * fx
    bot = im[y1][:, x0] * (1 - fx) + im[y1][:, x1] * fx
    return np.clip(top * (1 - fy) + bot * fy + 0.5, 0, 255).astype(np.uint8)


def letterbox(rgb, out_h, out_w):
    """Scale to fit (up or down), keep aspect, pad to out_h x out_w with 114, centred like Ultralytics."""
    h, w = rgb.shape[:2]
    r = min(out_h / h, out_w / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    if (nw, nh) != (w, h):
        rgb = resize_bilinear(rgb, nw, nh)
    dw, dh = (out_w - nw) / 2, (out_h - nh) / 2
    top, left = int(round(dh - 0.1)), int(round(dw - 0.1))
    canvas = np.full((out_h, out_w, 3), PAD_VALUE, np.uint8)
    canvas[top:top + nh, left:left + nw] = rgb
    return canvas, r, left, top


def nms(boxes, scores, iou_thr):
    order = np.argsort(-scores, kind="stable")
    keep = []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        iou = inter / (areas[i] + areas[rest] - inter + 1e-9)
        order = rest[iou <= iou_thr]
    return np.array(keep, dtype=int)


def decode_raw(out, conf, iou_thr, max_det):
    """[1, 4 + nc, A] -> xyxy (letterbox pixels), score, class after class-wise NMS."""
    p = out[0].T  # [A, 4 + nc]
    cls_scores = p[:, 4:]
    cls = cls_scores.argmax(1)
    score = cls_scores[np.arange(len(p)), cls]
    m = score > conf
    p, cls, score = p[m], cls[m], score[m]
    cx, cy, w, h = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    keep = []
    for c in np.unique(cls):
        idx = np.nonzero(cls == c)[0]
        keep.extend(idx[nms(xyxy[idx], score[idx], iou_thr)])
    keep = np.array(sorted(keep, key=lambda i: -score[i])[:max_det], dtype=int)
    return xyxy[keep], score[keep], cls[keep]


def decode_e2e(out, conf):
    d = out[0]
    d = d[d[:, 4] > conf]
    return d[:, :4], d[:, 4], d[:, 5].astype(int)


def evaluate(model_path: Path, split_dir: Path, conf=0.001, iou=0.7, max_det=300):
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    names = ast.literal_eval(meta["names"])
    in_h, in_w = ast.literal_eval(meta["imgsz"])
    inp = sess.get_inputs()[0].name
    out_shape = sess.get_outputs()[0].shape
    e2e = len(out_shape) == 3 and out_shape[2] == 6 and out_shape[1] != 4 + len(names)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(split_dir / "annotations.json"))
    cat_by_name = {c["name"]: c["id"] for c in gt.loadCats(gt.getCatIds())}
    cat_of_class = {k: cat_by_name[n] for k, n in names.items()}
    dets = []
    for img in gt.loadImgs(gt.getImgIds()):
        bgr = cv2.imread(str(split_dir / img["file_name"]), cv2.IMREAD_COLOR)
        rgb = bgr[..., ::-1]
        x, r, left, top = letterbox(rgb, in_h, in_w)
        x = (x.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        out = sess.run(None, {inp: x})[0]
        xyxy, score, cls = decode_e2e(out, conf) if e2e else decode_raw(out, conf, iou, max_det)
        xyxy = (xyxy - [left, top, left, top]) / r
        xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, img["width"])
        xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, img["height"])
        for b, s, c in zip(xyxy, score, cls):
            dets.append({"image_id": img["id"], "category_id": cat_of_class[int(c)],
                         "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
                         "score": float(s)})
    if not dets:
        return {"mAP50-95": 0.0, "AP50": 0.0, "AP75": 0.0, "detections": 0}
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(dets)
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    s = ev.stats
    return {"mAP50-95": round(float(s[0]), 4), "AP50": round(float(s[1]), 4), "AP75": round(float(s[2]), 4),
            "AR100": round(float(s[8]), 4), "detections": len(dets), "e2e": e2e}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", type=Path, default=Path(__file__).resolve().parent.parent / "fixtures" / "vision")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    results = {}
    for model in ("detector.onnx", "detector-e2e.onnx"):
        if not (a.fixtures / model).exists():
            continue
        for split in ("synthetic", "real"):
            res = evaluate(a.fixtures / model, a.fixtures / split)
            results[f"{model}/{split}"] = res
            print(f"{model:18s} {split:9s} mAP50-95 {res['mAP50-95']:.4f}  AP50 {res['AP50']:.4f}  "
                  f"AP75 {res['AP75']:.4f}  ({res['detections']} detections)", flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
