"""Peer for Tether's COCO box evaluation tests: random hard cases and pycocotools' numbers.

    coco_peer.py cases --seed S --count N --out DIR
        writes DIR/case_<i>_gt.json, DIR/case_<i>_dt.json and DIR/case_<i>_expected.json with
        pycocotools' 12 stats, its per-category AP (mean of precision[:, :, k, 0, -1] > -1) and
        faster-coco-eval's 12 stats.
    coco_peer.py eval --gt GT --dt DT
        prints {"pycocotools": [12], "faster_coco_eval": [12]} as JSON.

Cases are built to hit every rule of COCOeval: crowd boxes, an `ignore` field, score ties,
images without detections or without ground truth, categories without ground truth, more than
100 detections in an image, boxes whose area sits exactly on the small / medium / large borders,
ground-truth `area` fields that differ from w·h, a ground-truth id of 0, empty results.
"""
import argparse
import contextlib
import io
import json
import os
import random
import sys

import numpy as np


def pycocotools_eval(gt_path, dt_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        with open(dt_path) as f:
            dets = json.load(f)
        if dets:
            dt = gt.loadRes(dt_path)
        else:  # loadRes cannot take an empty list; an empty results set evaluates like this
            dt = COCO()
            dt.dataset = {"images": gt.dataset["images"], "categories": gt.dataset["categories"], "annotations": []}
            dt.createIndex()
        e = COCOeval(gt, dt, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    per_class = []
    for k, cat in enumerate(e.params.catIds):
        p = e.eval["precision"][:, :, k, 0, -1]
        per_class.append(float(np.mean(p[p > -1])) if (p > -1).any() else None)
    # precision at IoU 0.5, area all, 100 detections, per category: [K][101]
    curves = e.eval["precision"][0, :, :, 0, -1].T.tolist()
    return [float(s) for s in e.stats], per_class, curves


def faster_eval(gt_path, dt_path):
    from faster_coco_eval import COCO, COCOeval_faster
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        with open(dt_path) as f:
            dets = json.load(f)
        if not dets:
            return None
        dt = gt.loadRes(dt_path)
        e = COCOeval_faster(gt, dt, "bbox", print_function=lambda *a, **k: None)
        e.evaluate()
        e.accumulate()
        e.summarize()
    return [float(s) for s in e.stats[:12]]


def make_case(rng, index):
    n_img = rng.randint(1, 14)
    image_ids = rng.sample(range(0, 60), n_img)
    n_cat = rng.randint(1, 6)
    cat_ids = rng.sample(range(1, 40), n_cat)
    images = [{"id": i, "width": 640, "height": 480, "file_name": f"{i}.jpg"} for i in image_ids]
    categories = [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in cat_ids]
    border_sides = [(32, 32), (16, 64), (96, 96), (48, 192), (31.9, 32.1), (1, 1024), (0, 10), (0.5, 0.25)]
    ann_ids = rng.sample(range(0 if rng.random() < 0.3 else 1, 100000), 400)
    annotations = []
    gt_cats = [c for c in cat_ids if rng.random() < 0.8] or cat_ids[:1]
    for img in image_ids:
        if rng.random() < 0.2:
            continue  # an image without ground truth
        for _ in range(rng.randint(0, 9)):
            if rng.random() < 0.3:
                w, h = rng.choice(border_sides)
            else:
                w = round(rng.uniform(1, 200), rng.choice([0, 1, 2, 6]))
                h = round(rng.uniform(1, 200), rng.choice([0, 1, 2, 6]))
            x = round(rng.uniform(0, 500), rng.choice([0, 2]))
            y = round(rng.uniform(0, 400), rng.choice([0, 2]))
            r = rng.random()
            area = w * h if r < 0.6 else (rng.choice([1024, 9216, 1023.5, 9216.5, 0]) if r < 0.8 else w * h * rng.uniform(0.4, 1.0))
            ann = {"id": ann_ids.pop(), "image_id": img, "category_id": rng.choice(gt_cats),
                   "bbox": [x, y, w, h], "area": area, "iscrowd": 1 if rng.random() < 0.12 else 0,
                   "segmentation": [[x, y, x + w, y, x + w, y + h]]}
            if rng.random() < 0.15:
                ann["ignore"] = rng.choice([0, 1])
            annotations.append(ann)
    rng.shuffle(annotations)
    dets = []
    if rng.random() > 0.05:
        quant = rng.choice([None, 1, 2])
        def score():
            s = rng.random()
            return round(s, quant) if quant else s
        for a in annotations:
            for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
                x, y, w, h = a["bbox"]
                j = lambda v, s: v + rng.gauss(0, s)
                nw, nh = max(0.0, j(w, 0.1 * w + 0.5)), max(0.0, j(h, 0.1 * h + 0.5))
                cat = a["category_id"] if rng.random() < 0.9 else rng.choice(cat_ids)
                dets.append({"image_id": a["image_id"], "category_id": cat,
                             "bbox": [j(x, 0.1 * w + 0.5), j(y, 0.1 * h + 0.5), nw, nh], "score": score()})
        for img in image_ids:
            many = 130 if rng.random() < 0.15 else rng.randint(0, 6)
            cat = rng.choice(cat_ids)
            for _ in range(many):
                w, h = rng.choice(border_sides) if rng.random() < 0.2 else (rng.uniform(1, 150), rng.uniform(1, 150))
                dets.append({"image_id": img, "category_id": cat if many > 100 else rng.choice(cat_ids),
                             "bbox": [rng.uniform(0, 500), rng.uniform(0, 400), w, h], "score": score()})
        rng.shuffle(dets)
    gt = {"info": {"description": f"case {index}"}, "images": images, "annotations": annotations,
          "categories": categories, "licenses": []}
    return gt, dets


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cases")
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--count", type=int, default=40)
    c.add_argument("--out", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--gt", required=True)
    e.add_argument("--dt", required=True)
    args = ap.parse_args()
    if args.command == "eval":
        stats, per_class, _ = pycocotools_eval(args.gt, args.dt)
        json.dump({"pycocotools": stats, "per_class": per_class, "faster_coco_eval": faster_eval(args.gt, args.dt)}, sys.stdout)
        return
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    for i in range(args.count):
        gt, dets = make_case(rng, i)
        gp, dp = os.path.join(args.out, f"case_{i}_gt.json"), os.path.join(args.out, f"case_{i}_dt.json")
        with open(gp, "w") as f:
            json.dump(gt, f)
        with open(dp, "w") as f:
            json.dump(dets, f)
        stats, per_class, curves = pycocotools_eval(gp, dp)
        with open(os.path.join(args.out, f"case_{i}_expected.json"), "w") as f:
            json.dump({"stats": stats, "per_class": per_class, "precision_iou50": curves,
                       "faster_coco_eval": faster_eval(gp, dp)}, f)


if __name__ == "__main__":
    main()
