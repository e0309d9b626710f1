#!/usr/bin/env python3
"""Peer for `tether bench detect`: the usual Python detector pipeline on the same images and model.

Pre-processing with cv2 + numpy (letterbox: resize keeping the aspect ratio with INTER_LINEAR,
pad 114, BGR to RGB, /255, NCHW float32), onnxruntime's session.run, and numpy decoding and
non-maximum suppression (class-aware by shifting boxes by class x 7680, greedy, IoU > threshold
suppressed). Images are read once, before timing, as Tether's benchmark does.

Prints {"frames": N, "preprocess_ms": [...], "inference_ms": [...], "postprocess_ms": [...],
"onnxruntime": version, "opencv": version, "detections": [count per frame]}.
"""
import argparse
import json
import time

import cv2
import numpy as np

MAX_WH = 7680


def letterbox(bgr, width, height, pad=114):
    """Letterboxes a BGR uint8 image into a (1, 3, height, width) float32 RGB tensor in [0, 1]."""
    h, w = bgr.shape[:2]
    r = min(height / h, width / w)
    new_w, new_h = int(round(w * r)), int(round(h * r))
    dw, dh = (width - new_w) / 2, (height - new_h) / 2
    if (w, h) != (new_w, new_h):
        bgr = cv2.resize(bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    bgr = cv2.copyMakeBorder(bgr, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(pad, pad, pad))
    rgb = bgr[..., ::-1].transpose(2, 0, 1)
    return (np.ascontiguousarray(rgb)[None].astype(np.float32) / np.float32(255)), (r, left, top)


def nms(boxes, scores, iou):
    """Greedy NMS over xyxy boxes: indices kept, best first."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        union = areas[i] + areas[rest] - inter
        overlap = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
        order = rest[overlap <= iou]
    return np.asarray(keep, dtype=np.int64)


def decode_yolo(out, conf=0.25, iou=0.7, max_det=300, agnostic=False, max_nms=30000):
    """Decodes (1, 4 + nc, A) output: rows of x1, y1, x2, y2, score, class in input pixels."""
    p = out[0].T  # (A, 4 + nc)
    scores = p[:, 4:]
    cls = scores.argmax(1)
    best = scores[np.arange(len(cls)), cls]
    mask = best > conf
    p, cls, best = p[mask], cls[mask], best[mask]
    if len(best) > max_nms:
        top = np.argsort(-best, kind="stable")[:max_nms]
        p, cls, best = p[top], cls[top], best[top]
    xy, wh = p[:, :2], p[:, 2:4]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], 1)
    offset = 0 if agnostic else cls[:, None].astype(np.float32) * MAX_WH
    keep = nms(boxes + offset, best, iou)[:max_det]
    return np.concatenate([boxes[keep], best[keep, None], cls[keep, None].astype(np.float32)], 1)


def decode_end_to_end(out, conf=0.25, max_det=300):
    rows = out[0]
    rows = rows[rows[:, 4] > conf]
    return rows[np.argsort(-rows[:, 4], kind="stable")][:max_det]


def scale_boxes(rows, input_hw, image_hw):
    """Maps xyxy boxes from the letterboxed input back to the image, clipped (Ultralytics' scale_boxes)."""
    gain = min(input_hw[0] / image_hw[0], input_hw[1] / image_hw[1])
    pad_x = round((input_hw[1] - image_hw[1] * gain) / 2 - 0.1)
    pad_y = round((input_hw[0] - image_hw[0] * gain) / 2 - 0.1)
    rows = rows.copy()
    rows[:, [0, 2]] = ((rows[:, [0, 2]] - pad_x) / gain).clip(0, image_hw[1])
    rows[:, [1, 3]] = ((rows[:, [1, 3]] - pad_y) / gain).clip(0, image_hw[0])
    return rows


def main():
    import onnxruntime as ort
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--images", nargs="+", required=True)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--conf", type=float, default=0.25)
    parser.add_argument("--iou", type=float, default=0.7)
    parser.add_argument("--max-det", type=int, default=300)
    args = parser.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    height, width = inp.shape[2], inp.shape[3]
    out_shape = session.get_outputs()[0].shape
    end_to_end = out_shape[-1] == 6 and out_shape[1] > 6
    images = [cv2.imread(p, cv2.IMREAD_COLOR) for p in args.images]
    pre, inf, post, counts = [], [], [], []
    for k in range(args.warmup + args.frames):
        img = images[k % len(images)]
        t0 = time.perf_counter()
        x, _ = letterbox(img, width, height)
        t1 = time.perf_counter()
        (out,) = session.run([session.get_outputs()[0].name], {inp.name: x})
        t2 = time.perf_counter()
        rows = decode_end_to_end(out, args.conf, args.max_det) if end_to_end else decode_yolo(out, args.conf, args.iou, args.max_det)
        rows = scale_boxes(rows, (height, width), img.shape[:2])
        t3 = time.perf_counter()
        if k >= args.warmup:
            pre.append((t1 - t0) * 1e3); inf.append((t2 - t1) * 1e3); post.append((t3 - t2) * 1e3)
            counts.append(int(len(rows)))
    print(json.dumps({"frames": args.frames, "preprocess_ms": pre, "inference_ms": inf, "postprocess_ms": post,
                      "onnxruntime": ort.__version__, "opencv": cv2.__version__, "detections": counts}))


if __name__ == "__main__":
    main()
