#!/usr/bin/env python3
"""Test peer for the virtual camera's ground truth: MuJoCo's own Python renderer as the oracle.

argv[1] is a JSON request:
  {"model": xml path, "camera": name, "width": W, "height": H, "qpos": [...], "geoms": [names], "min_pixels": n}
-> {"boxes": {name: [x, y, w, h, pixels]}}  (names with fewer than min_pixels visible pixels left out)

mujoco.Renderer with enable_segmentation_rendering() gives (object id, object type) per pixel, top
row first; a geom's box is the extent of its pixels in pixel edges (COCO's [x, y, w, h]).
"""
import json
import os
import sys

os.environ.setdefault("MUJOCO_GL", "egl")
import mujoco  # noqa: E402
import numpy as np  # noqa: E402


def main():
    req = json.loads(sys.argv[1])
    model = mujoco.MjModel.from_xml_path(req["model"])
    data = mujoco.MjData(model)
    data.qpos[:] = req["qpos"]
    mujoco.mj_forward(model, data)
    with mujoco.Renderer(model, height=req["height"], width=req["width"]) as renderer:
        renderer.enable_segmentation_rendering()
        renderer.update_scene(data, camera=req["camera"])
        seg = renderer.render()
    boxes = {}
    for name in req["geoms"]:
        gid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name)
        mask = (seg[..., 0] == gid) & (seg[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM))
        n = int(mask.sum())
        if n < req["min_pixels"]:
            continue
        ys, xs = np.nonzero(mask)
        boxes[name] = [int(xs.min()), int(ys.min()), int(xs.max() + 1 - xs.min()), int(ys.max() + 1 - ys.min()), n]
    print(json.dumps({"boxes": boxes}))


if __name__ == "__main__":
    main()
