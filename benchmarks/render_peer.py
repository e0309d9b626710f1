#!/usr/bin/env python3
"""The peer of `tether bench render`: MuJoCo's Python `Renderer` (offscreen, EGL) rendering the
same frames as Tether: the same model, size, tracking camera and joint trajectory, each frame
read back as RGB. Prints {"frames", "seconds", "fps", "renderer"}. With --segmentation GEOMS
--camera front: segmentation frames and the named geoms' boxes (numpy), as the virtual camera's
ground truth; prints {"frames", "seconds", "fps", "boxesPerFrame"}.

Usage: render_peer.py MODEL.xml --width W --height H --frames N --warmup K
                      --qpos-addresses a,b,... --defaults q0,q1,... [--keyframe ID]
"""
import argparse
import json
import math
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")
import mujoco  # noqa: E402
import numpy as np  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--frames", type=int, default=120)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--qpos-addresses", required=True)
    p.add_argument("--defaults", required=True)
    p.add_argument("--keyframe", type=int, default=-1)
    p.add_argument("--segmentation", help="comma-separated geom names: time segmentation frames and their boxes instead")
    p.add_argument("--camera", help="a model camera instead of the tracking one")
    a = p.parse_args()
    m = mujoco.MjModel.from_xml_path(a.model)
    m.vis.global_.offwidth = max(m.vis.global_.offwidth, a.width)
    m.vis.global_.offheight = max(m.vis.global_.offheight, a.height)
    d = mujoco.MjData(m)
    if a.keyframe >= 0:
        mujoco.mj_resetDataKeyframe(m, d, a.keyframe)
    addresses = [int(x) for x in a.qpos_addresses.split(",")]
    defaults = [float(x) for x in a.defaults.split(",")]
    renderer = mujoco.Renderer(m, a.height, a.width)
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    cam.trackbodyid = 1 if m.nbody > 1 else 0
    cam.distance, cam.azimuth, cam.elevation = 2.2, 135.0, -20.0

    geoms = []
    if a.segmentation:
        renderer.enable_segmentation_rendering()
        geoms = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, n) for n in a.segmentation.split(",")]
    geom_type = int(mujoco.mjtObj.mjOBJ_GEOM)

    def boxes(seg):
        # The ground truth's boxes, as Tether's ObjectBox: the extent of each geom's pixels (>= 20).
        found = 0
        is_geom = seg[..., 1] == geom_type
        for g in geoms:
            mask = (seg[..., 0] == g) & is_geom
            if mask.sum() < 20:
                continue
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            found += 1 if rows.size and cols.size else 0
        return found

    def frame(i):
        # The trajectory Tether's side draws: each joint swings about its default at 1 Hz (30 fps).
        for j, (adr, q0) in enumerate(zip(addresses, defaults)):
            d.qpos[adr] = q0 + 0.3 * math.sin(2 * math.pi * i / 30 + j)
        mujoco.mj_forward(m, d)
        renderer.update_scene(d, a.camera if a.camera else cam)
        return renderer.render()

    for i in range(a.warmup):
        frame(i)
    if geoms:
        start = time.perf_counter()
        found = sum(boxes(frame(i)) for i in range(a.frames))
        seconds = time.perf_counter() - start
        print(json.dumps({"frames": a.frames, "seconds": seconds, "fps": a.frames / seconds, "boxesPerFrame": found / a.frames}))
        return
    start = time.perf_counter()
    checksum = 0
    for i in range(a.frames):
        checksum += int(frame(i)[a.height // 2, a.width // 2, 0])
    seconds = time.perf_counter() - start
    from OpenGL import GL  # the renderer's context is current on this thread
    name = GL.glGetString(GL.GL_RENDERER)
    print(json.dumps({"frames": a.frames, "seconds": seconds, "fps": a.frames / seconds,
                      "renderer": name.decode() if name else "unknown", "checksum": checksum}))


if __name__ == "__main__":
    main()
