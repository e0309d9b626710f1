#!/usr/bin/env python3
"""Train Tether's small fixture detector with Ultralytics and export it to ONNX.

The model is YOLOv8 (anchor-free, DFL head) scaled down to width 0.125 (about
0.9 M parameters) so that it trains on 2 CPU cores (about 3 minutes an epoch
for 2000 images at 320) and its ONNX stays below 4 MB. It starts from random
weights (no pretrained weights) and trains on the MuJoCo images written by
tools/make_detection_dataset.py; --init continues from an earlier run's
best.pt with a fresh schedule (the fixture used two such stages of about 27
minutes each, see fixtures/vision/README.md).

Outputs
  fixtures/vision/detector.onnx      [1, 3, S, S] -> [1, 4 + nc, anchors]
                                     (cx, cy, w, h in input pixels, sigmoid class scores)
  fixtures/vision/detector-e2e.onnx  same weights with NMS in the graph -> [1, 300, 6]
                                     (x1, y1, x2, y2, score, class); --no-e2e skips it
  <runs>/<name>/train_summary.json   epochs, wall time, final val metrics, versions

  python tools/train_detector.py --data /work/.vision-data/data.yaml \
      --runs /work/.vision-runs --name tether-det --epochs 10 --out fixtures/vision
  python tools/train_detector.py --data /work/.vision-data/data.yaml \
      --runs /work/.vision-runs --name tether-det-2 --epochs 9 --out fixtures/vision \
      --init /work/.vision-runs/tether-det/weights/best.pt
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")  # nothing to download: no pretrained weights, no fonts

import torch  # noqa: E402
import ultralytics  # noqa: E402
from ultralytics import YOLO  # noqa: E402

# YOLOv8 layout (backbone C2f/SPPF, PAN neck, Detect on P3-P5) with our own
# scale: depth 0.33 like 'n', width 0.125 instead of 0.25.
MODEL_YAML = """\
nc: {nc}
scales:
  n: [0.33, {width}, 1024]
backbone:
  - [-1, 1, Conv, [64, 3, 2]]
  - [-1, 1, Conv, [128, 3, 2]]
  - [-1, 3, C2f, [128, True]]
  - [-1, 1, Conv, [256, 3, 2]]
  - [-1, 6, C2f, [256, True]]
  - [-1, 1, Conv, [512, 3, 2]]
  - [-1, 6, C2f, [512, True]]
  - [-1, 1, Conv, [1024, 3, 2]]
  - [-1, 3, C2f, [1024, True]]
  - [-1, 1, SPPF, [1024, 5]]
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 6], 1, Concat, [1]]
  - [-1, 3, C2f, [512]]
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 4], 1, Concat, [1]]
  - [-1, 3, C2f, [256]]
  - [-1, 1, Conv, [256, 3, 2]]
  - [[-1, 12], 1, Concat, [1]]
  - [-1, 3, C2f, [512]]
  - [-1, 1, Conv, [512, 3, 2]]
  - [[-1, 9], 1, Concat, [1]]
  - [-1, 3, C2f, [1024]]
  - [[15, 18, 21], 1, Detect, [nc]]
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/work/.vision-data/data.yaml"))
    ap.add_argument("--runs", type=Path, default=Path("/work/.vision-runs"))
    ap.add_argument("--name", default="tether-det")
    ap.add_argument("--out", type=Path, default=Path("fixtures/vision"))
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--width", type=float, default=0.125)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--no-e2e", action="store_true")
    ap.add_argument("--init", type=Path, help="continue from these weights (a best.pt of an earlier run) "
                    "with a fresh schedule instead of random initialisation")
    ap.add_argument("--export-only", type=Path, help="skip training, export this best.pt")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    names = [l.split(":", 1)[1].strip() for l in a.data.read_text().splitlines() if l.startswith("  ") and ":" in l]
    run_dir = a.runs / a.name
    summary = {
        "seed": a.seed, "epochs": a.epochs, "imgsz": a.imgsz, "batch": a.batch, "width": a.width,
        "classes": names, "ultralytics": ultralytics.__version__, "torch": torch.__version__,
        "python": platform.python_version(), "cpu_threads": a.threads,
    }

    if a.export_only:
        best = a.export_only
    else:
        a.runs.mkdir(parents=True, exist_ok=True)
        # file name carries the 'n' scale key that Ultralytics reads from it
        yaml_path = a.runs / "yolov8n-tether.yaml"
        yaml_path.write_text(MODEL_YAML.format(nc=len(names), width=a.width))
        model = YOLO(str(yaml_path), task="detect")
        if a.init:
            summary["init"] = str(a.init)
        summary["parameters"] = sum(p.numel() for p in model.model.parameters())
        t0 = time.time()
        model.train(
            data=str(a.data), epochs=a.epochs, imgsz=a.imgsz, batch=a.batch, device="cpu",
            workers=a.workers, seed=a.seed, deterministic=True, pretrained=str(a.init) if a.init else False, amp=False,
            project=str(a.runs), name=a.name, exist_ok=True, plots=False, cache="ram",
            warmup_epochs=0.0 if a.init else 1.0, close_mosaic=max(1, a.epochs // 5), patience=1000, verbose=True,
        )
        summary["train_seconds"] = round(time.time() - t0, 1)
        best = run_dir / "weights" / "best.pt"
        summary["val"] = {k: float(v) for k, v in model.trainer.metrics.items()}

    a.out.mkdir(parents=True, exist_ok=True)
    m = YOLO(str(best))
    onnx = Path(m.export(format="onnx", imgsz=a.imgsz, opset=a.opset, simplify=False, dynamic=False, batch=1))
    shutil.copyfile(onnx, a.out / "detector.onnx")
    summary["detector.onnx_bytes"] = (a.out / "detector.onnx").stat().st_size
    if not a.no_e2e:
        try:
            m = YOLO(str(best))
            e2e = Path(m.export(format="onnx", imgsz=a.imgsz, opset=a.opset, simplify=False, dynamic=False,
                                batch=1, nms=True, conf=0.001, iou=0.7))
            shutil.copyfile(e2e, a.out / "detector-e2e.onnx")
            summary["detector-e2e.onnx_bytes"] = (a.out / "detector-e2e.onnx").stat().st_size
        except Exception as e:  # older Ultralytics without nms export
            print(f"end-to-end export skipped: {e}", file=sys.stderr)
            summary["e2e_error"] = str(e)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "train_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
