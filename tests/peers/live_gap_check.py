#!/usr/bin/env python3
"""Checks a `tether detect --live-gap` directory with independent readers.

    live_gap_check.py DIR
Both COCO sets parse with pycocotools, have the same images (files present) and ground truth
boxes; pycocotools' mAP of each set equals the one in detection-gap.json; the HTML exists.
Prints one line of figures and exits 0, or names the first mismatch and exits 1.
"""
import contextlib
import io
import json
import os
import sys

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def fail(message):
    print(f"live_gap_check: {message}")
    sys.exit(1)


def main():
    root = sys.argv[1]
    report = json.load(open(os.path.join(root, "detection-gap.json")))
    if not os.path.getsize(os.path.join(root, "detection-gap.html")):
        fail("detection-gap.html is empty")
    figures = {}
    images = {}
    for name, key in (("rendered", "sim"), ("degraded", "real")):
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(os.path.join(root, name, "annotations.json"))
            dt = gt.loadRes(os.path.join(root, name, "detections.json"))
            ev = COCOeval(gt, dt, "bbox")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        files = sorted(i["file_name"] for i in gt.dataset["images"])
        for f in files:
            if not os.path.isfile(os.path.join(root, name, f)):
                fail(f"{name}/{f} is listed but missing")
        images[name] = (files, len(gt.dataset["annotations"]))
        ours = report[key]["map"]
        if abs(ev.stats[0] - ours) > 1e-9:
            fail(f"{name}: pycocotools mAP {ev.stats[0]:.6f}, Tether {ours:.6f}")
        figures[name] = ev.stats[0]
    if images["rendered"] != images["degraded"]:
        fail(f"the sets differ: {len(images['rendered'][0])} vs {len(images['degraded'][0])} images")
    count, boxes = len(images["rendered"][0]), images["rendered"][1]
    if count == 0 or boxes == 0:
        fail(f"{count} images, {boxes} ground truth boxes")
    print(f"ok: {count} images in both sets, {boxes} ground truth boxes; pycocotools mAP rendered {figures['rendered']:.4f}, "
          f"degraded {figures['degraded']:.4f}, equal to Tether's")


if __name__ == "__main__":
    main()
