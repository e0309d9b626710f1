"""Peer for `tether bench coco`: the same COCO box evaluation by pycocotools and faster-coco-eval.

    coco_peer.py --gt GT.json --dt DT.json [--tools pycocotools,faster_coco_eval] [--repeats N]

Prints one JSON object: for each tool its 12 stats and the seconds spent loading both files,
in evaluate(), accumulate() and summarize() (what a user of the tool waits for), from the
fastest of N complete runs (each loads both files again), as Tether's side is timed.
"""
import argparse
import contextlib
import io
import json
import time


def run_pycocotools(gt_path, dt_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    t = {}
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        t1 = time.perf_counter()
        e = COCOeval(gt, dt, "bbox")
        e.evaluate()
        t2 = time.perf_counter()
        e.accumulate()
        t3 = time.perf_counter()
        e.summarize()
        t4 = time.perf_counter()
    t.update(load=t1 - t0, evaluate=t2 - t1, accumulate=t3 - t2, summarize=t4 - t3, total=t4 - t0)
    return {"stats": [float(s) for s in e.stats], "seconds": t}


def run_faster(gt_path, dt_path):
    from faster_coco_eval import COCO, COCOeval_faster
    t = {}
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        t1 = time.perf_counter()
        e = COCOeval_faster(gt, dt, "bbox", print_function=lambda *a, **k: None)
        e.evaluate()
        t2 = time.perf_counter()
        e.accumulate()
        t3 = time.perf_counter()
        e.summarize()
        t4 = time.perf_counter()
    t.update(load=t1 - t0, evaluate=t2 - t1, accumulate=t3 - t2, summarize=t4 - t3, total=t4 - t0)
    return {"stats": [float(s) for s in e.stats[:12]], "seconds": t}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gt", required=True)
    ap.add_argument("--dt", required=True)
    ap.add_argument("--tools", default="pycocotools,faster_coco_eval")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    runners = {"pycocotools": run_pycocotools, "faster_coco_eval": run_faster}
    out = {}
    for tool in args.tools.split(","):
        if tool not in runners:
            raise SystemExit(f"coco_peer.py: unknown tool {tool!r}; known: {', '.join(runners)}")
        runs = [runners[tool](args.gt, args.dt) for _ in range(max(1, args.repeats))]
        out[tool] = min(runs, key=lambda r: r["seconds"]["total"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
