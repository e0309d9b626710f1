#!/usr/bin/env python3
"""Seeded synthetic object-detection data rendered with MuJoCo.

Scenes as a small robot's camera sees them: a few objects of four classes
(cube, ball, cylinder, cone) in random colours and sizes on a textured floor,
sometimes in front of a wall, with random lights, shadows and a few
distractor objects (capsules, flat tiles) that are not labelled. The camera
looks down at the floor from 0.25-0.9 m.

Boxes are exact: every image is rendered a second time with MuJoCo's
segmentation rendering and each object's box is the extent of its visible
pixels. Scenes whose objects are heavily occluded (visible box far from the
box of the projected geometry) are resampled, so every labelled object is
clearly visible.

Outputs
  --train-dir DIR   YOLO-format training data (images/{train,val}, labels/{train,val},
                    data.yaml); large, keep it outside the repository.
  --fixtures DIR    two COCO test sets inside the repository:
                    DIR/synthetic/  rendered images, JPEG quality 95
                    DIR/real/       other scenes (different seed) degraded like a real
                                    camera (see `degrade`), low-quality JPEG
                    each with annotations.json (COCO ground truth).

Everything is a pure function of --seed (numpy Generator streams per split and
image), MuJoCo's renderer and the JPEG encoder of the OpenCV build used.

  MUJOCO_GL=egl python tools/make_detection_dataset.py \
      --train-dir /work/.vision-data --fixtures fixtures/vision
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import cv2  # noqa: E402
import mujoco  # noqa: E402
import numpy as np  # noqa: E402

CLASSES = ["cube", "ball", "cylinder", "cone"]
WIDTH, HEIGHT = 320, 240

# Per-split seed offsets: one master seed, independent streams.
SPLITS = {
    "train": 0,
    "val": 1,
    "synthetic": 2,
    "real": 3,
}

# Degradation ranges of the "real" test set (each image draws its own values).
REAL_CAMERA = {
    "exposure_gain": (0.4, 2.2),  # log-uniform multiplier on linear intensity
    "gamma": (0.75, 1.35),  # applied after exposure, on [0, 1]
    "white_balance_gain": (0.7, 1.3),  # per channel R and B, G fixed at 1
    "vignetting": (0.25, 0.6),  # intensity drop at the corners
    "motion_blur_px": (5, 13),  # line kernel length, random angle (p=0.5)
    "defocus_radius_px": (1.5, 3.5),  # disk kernel radius (otherwise)
    "shot_noise": (0.02, 0.06),  # sigma = shot * sqrt(I) on [0, 1]
    "read_noise": (0.02, 0.06),  # additive gaussian sigma on [0, 1]
    "chroma_noise": 0.5,  # fraction of the noise that is per channel
    "jpeg_quality": (12, 35),
}


@dataclass
class Obj:
    cls: int  # class index, -1 for distractors
    kind: str
    pos: np.ndarray
    yaw: float
    size: tuple
    rgba: tuple
    radius: float  # footprint radius for spacing


def rgba_str(c):
    return " ".join(f"{v:.4f}" for v in c)


def random_colour(rng, saturated=True):
    h = rng.uniform(0, 1)
    s = rng.uniform(0.45, 1.0) if saturated else rng.uniform(0.0, 0.35)
    v = rng.uniform(0.35, 1.0)
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (r, g, b, 1.0)


def sample_object(rng, cls):
    kind = CLASSES[cls] if cls >= 0 else rng.choice(["capsule", "tile"])
    rgba = random_colour(rng, saturated=rng.uniform() < 0.8)
    yaw = rng.uniform(0, 2 * math.pi)
    if kind == "cube":
        s = rng.uniform(0.025, 0.06)
        size, radius = (s,), s * math.sqrt(2)
    elif kind == "ball":
        r = rng.uniform(0.025, 0.06)
        size, radius = (r,), r
    elif kind == "cylinder":
        r, hh = rng.uniform(0.02, 0.045), rng.uniform(0.03, 0.08)
        size, radius = (r, hh), r
    elif kind == "cone":
        r, h = rng.uniform(0.03, 0.06), rng.uniform(0.07, 0.15)
        size, radius = (r, h), r
    elif kind == "capsule":
        r, hl = rng.uniform(0.012, 0.025), rng.uniform(0.04, 0.09)
        size, radius = (r, hl), hl + r
    else:  # tile: thin flat box
        a, b = rng.uniform(0.04, 0.09), rng.uniform(0.03, 0.07)
        size, radius = (a, b, 0.004), math.hypot(a, b)
    return Obj(cls, kind, np.zeros(3), yaw, size, rgba, radius)


def geom_xml(o: Obj, name: str, mat: str):
    x, y = o.pos[0], o.pos[1]
    qz = f"{math.cos(o.yaw / 2):.6f} 0 0 {math.sin(o.yaw / 2):.6f}"
    common = f'name="{name}" material="{mat}" rgba="{rgba_str(o.rgba)}" quat="{qz}"'
    if o.kind == "cube":
        s = o.size[0]
        return f'<geom {common} type="box" size="{s} {s} {s}" pos="{x} {y} {s}"/>'
    if o.kind == "ball":
        r = o.size[0]
        return f'<geom {common} type="sphere" size="{r}" pos="{x} {y} {r}"/>'
    if o.kind == "cylinder":
        r, hh = o.size
        return f'<geom {common} type="cylinder" size="{r} {hh}" pos="{x} {y} {hh}"/>'
    if o.kind == "cone":
        return f'<geom {common} type="mesh" mesh="{name}_mesh" pos="{x} {y} 0"/>'
    if o.kind == "capsule":
        r, hl = o.size
        # lying on the floor along its yawed x axis
        q = _quat_mul((math.cos(o.yaw / 2), 0, 0, math.sin(o.yaw / 2)), (math.cos(math.pi / 4), 0, math.sin(math.pi / 4), 0))
        qs = " ".join(f"{v:.6f}" for v in q)
        return (f'<geom name="{name}" material="{mat}" rgba="{rgba_str(o.rgba)}" quat="{qs}" '
                f'type="capsule" size="{r} {hl}" pos="{x} {y} {r}"/>')
    a, b, c = o.size
    return f'<geom {common} type="box" size="{a} {b} {c}" pos="{x} {y} {c}"/>'


def _quat_mul(a, b):
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return (w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2)


def cone_vertices(r, h, n=32):
    ang = np.arange(n) * 2 * math.pi / n
    ring = np.stack([r * np.cos(ang), r * np.sin(ang), np.zeros(n)], 1)
    return np.vstack([ring, [[0, 0, h]]])


def surface_points(o: Obj):
    """Points on the object's surface (world frame) whose projection bounds its image box."""
    c, s = math.cos(o.yaw), math.sin(o.yaw)
    rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    if o.kind == "cube":
        e = o.size[0]
        p = np.array([[x, y, z] for x in (-e, e) for y in (-e, e) for z in (0, 2 * e)])
    elif o.kind == "ball":
        r = o.size[0]
        u = np.random.default_rng(0).normal(size=(4000, 3))
        p = r * u / np.linalg.norm(u, axis=1, keepdims=True) + [0, 0, r]
    elif o.kind == "cylinder":
        r, hh = o.size
        ang = np.linspace(0, 2 * math.pi, 256, endpoint=False)
        ring = np.stack([r * np.cos(ang), r * np.sin(ang)], 1)
        p = np.vstack([np.c_[ring, np.zeros(256)], np.c_[ring, np.full(256, 2 * hh)]])
    elif o.kind == "cone":
        r, h = o.size
        p = cone_vertices(r, h)
    else:
        raise ValueError(o.kind)
    return p @ rz.T + o.pos


@dataclass
class Camera:
    pos: np.ndarray
    x: np.ndarray  # right
    y: np.ndarray  # up
    f: np.ndarray  # forward (-z of the camera frame)
    fovy: float

    @property
    def focal(self):
        return (HEIGHT / 2) / math.tan(math.radians(self.fovy) / 2)

    def project(self, pts):
        d = pts - self.pos
        xc, yc, zc = d @ self.x, d @ self.y, d @ self.f
        u = WIDTH / 2 + self.focal * xc / zc
        v = HEIGHT / 2 - self.focal * yc / zc
        return np.stack([u, v], 1), zc

    def ray_to_floor(self, u, v):
        xc = (u - WIDTH / 2) / self.focal
        yc = -(v - HEIGHT / 2) / self.focal
        d = xc * self.x + yc * self.y + self.f
        if d[2] >= -1e-3:
            return None
        t = -self.pos[2] / d[2]
        return self.pos + t * d


def sample_camera(rng):
    height = rng.uniform(0.25, 0.9)
    pitch = math.radians(rng.uniform(25, 65))  # below the horizon
    yaw = rng.uniform(0, 2 * math.pi)
    fovy = rng.uniform(48, 68)
    f = np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), -math.sin(pitch)])
    x = np.cross(f, [0, 0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(x, f)
    roll = math.radians(rng.normal(0, 3))
    x, y = math.cos(roll) * x + math.sin(roll) * y, -math.sin(roll) * x + math.cos(roll) * y
    return Camera(np.array([0.0, 0.0, height]), x, y, f, fovy)


def texture_xml(rng):
    c1 = random_colour(rng, saturated=rng.uniform() < 0.4)[:3]
    c2 = random_colour(rng, saturated=rng.uniform() < 0.4)[:3]
    kind = rng.choice(["checker", "flat", "gradient", "noise", "grid"])
    rgb1, rgb2 = " ".join(f"{v:.3f}" for v in c1), " ".join(f"{v:.3f}" for v in c2)
    if kind == "checker":
        tex = f'builtin="checker" rgb1="{rgb1}" rgb2="{rgb2}" width="256" height="256"'
        rep = rng.uniform(2, 12)
    elif kind == "grid":
        tex = f'builtin="flat" mark="edge" markrgb="{rgb2}" rgb1="{rgb1}" width="128" height="128"'
        rep = rng.uniform(3, 15)
    elif kind == "noise":
        tex = (f'builtin="flat" mark="random" random="{rng.uniform(0.05, 0.4):.3f}" markrgb="{rgb2}" '
               f'rgb1="{rgb1}" width="256" height="256"')
        rep = rng.uniform(1, 4)
    elif kind == "gradient":
        tex = f'builtin="gradient" rgb1="{rgb1}" rgb2="{rgb2}" width="256" height="256"'
        rep = rng.uniform(0.5, 3)
    else:
        tex = f'builtin="flat" rgb1="{rgb1}" rgb2="{rgb2}" width="16" height="16"'
        rep = 1
    return tex, rep


def scene_xml(rng, cam: Camera, objs: list[Obj]):
    floor_tex, floor_rep = texture_xml(rng)
    wall_tex, wall_rep = texture_xml(rng)
    sky1 = " ".join(f"{v:.3f}" for v in random_colour(rng, saturated=False)[:3])
    sky2 = " ".join(f"{v:.3f}" for v in random_colour(rng, saturated=False)[:3])
    amb = rng.uniform(0.1, 0.4)
    head = rng.uniform(0.0, 0.35)
    assets, geoms, lights = [], [], []
    for i, o in enumerate(objs):
        spec, shin = rng.uniform(0, 0.6), rng.uniform(0.05, 0.9)
        assets.append(f'<material name="m{i}" specular="{spec:.3f}" shininess="{shin:.3f}"/>')
        if o.kind == "cone":
            v = " ".join(f"{a:.5f}" for a in cone_vertices(*o.size).ravel())
            assets.append(f'<mesh name="o{i}_mesh" vertex="{v}"/>')
        geoms.append(geom_xml(o, f"o{i}", f"m{i}"))
    if rng.uniform() < 0.45:  # a wall somewhere in front of the camera
        d = rng.uniform(0.9, 2.5)
        ang = math.atan2(cam.f[1], cam.f[0]) + rng.normal(0, 0.4)
        cx, cy = d * math.cos(ang), d * math.sin(ang)
        geoms.append(f'<geom name="wall" type="box" size="3 0.02 1.5" pos="{cx:.3f} {cy:.3f} 1.5" '
                     f'euler="0 0 {ang + math.pi / 2:.4f}" material="wallmat"/>')
    for k in range(rng.integers(1, 3)):
        az, el = rng.uniform(0, 2 * math.pi), rng.uniform(math.radians(30), math.radians(85))
        dist = 3.0
        p = np.array([dist * math.cos(el) * math.cos(az), dist * math.cos(el) * math.sin(az), dist * math.sin(el)])
        dvec = -p / np.linalg.norm(p)
        warm = rng.uniform(-0.15, 0.15)
        inten = rng.uniform(0.35, 0.9) / (1 + 0.5 * k)
        dif = f"{inten * (1 + warm):.3f} {inten:.3f} {inten * (1 - warm):.3f}"
        directional = "true" if rng.uniform() < 0.6 else "false"
        lights.append(f'<light pos="{p[0]:.3f} {p[1]:.3f} {p[2]:.3f}" dir="{dvec[0]:.3f} {dvec[1]:.3f} {dvec[2]:.3f}" '
                      f'directional="{directional}" diffuse="{dif}" specular="0.3 0.3 0.3" castshadow="true" '
                      f'cutoff="60" attenuation="1 0 0"/>')
    xy = " ".join(f"{v:.6f}" for v in np.r_[cam.x, cam.y])
    return f"""<mujoco>
  <visual>
    <global offwidth="{WIDTH}" offheight="{HEIGHT}"/>
    <headlight ambient="{amb:.3f} {amb:.3f} {amb:.3f}" diffuse="{head:.3f} {head:.3f} {head:.3f}" specular="0 0 0"/>
    <quality shadowsize="1024" offsamples="4"/>
    <map znear="0.01" zfar="50"/>
  </visual>
  <asset>
    <texture type="skybox" builtin="gradient" rgb1="{sky1}" rgb2="{sky2}" width="64" height="64"/>
    <texture name="floortex" type="2d" {floor_tex}/>
    <material name="floormat" texture="floortex" texrepeat="{floor_rep:.3f} {floor_rep:.3f}" specular="{rng.uniform(0, 0.3):.3f}"/>
    <texture name="walltex" type="2d" {wall_tex}/>
    <material name="wallmat" texture="walltex" texrepeat="{wall_rep:.3f} {wall_rep:.3f}"/>
    {chr(10).join(assets)}
  </asset>
  <worldbody>
    {chr(10).join(lights)}
    <camera name="cam" pos="{cam.pos[0]} {cam.pos[1]} {cam.pos[2]:.4f}" xyaxes="{xy}" fovy="{cam.fovy:.3f}"/>
    <geom name="floor" type="plane" size="20 20 0.1" material="floormat"/>
    {chr(10).join(geoms)}
  </worldbody>
</mujoco>"""


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def place_objects(rng, cam, n_labelled, n_distract):
    objs = [sample_object(rng, int(rng.integers(len(CLASSES)))) for _ in range(n_labelled)]
    objs += [sample_object(rng, -1) for _ in range(n_distract)]
    placed = []
    for o in objs:
        for _ in range(50):
            u, v = rng.uniform(0.06, 0.94) * WIDTH, rng.uniform(0.25, 0.97) * HEIGHT
            p = cam.ray_to_floor(u, v)
            if p is None or np.linalg.norm(p[:2] - cam.pos[:2]) > 3.0:
                continue
            if all(np.linalg.norm(p[:2] - q.pos[:2]) > o.radius + q.radius + 0.01 for q in placed):
                o.pos = np.array([p[0], p[1], 0.0])
                placed.append(o)
                break
    return placed


class SceneRenderer:
    """One offscreen GL context for all scenes; a fresh MjrContext per compiled scene."""

    def __init__(self):
        from mujoco import gl_context

        self.gl = gl_context.GLContext(WIDTH, HEIGHT)
        self.gl.make_current()
        self.rect = mujoco.MjrRect(0, 0, WIDTH, HEIGHT)

    def render(self, xml):
        model = mujoco.MjModel.from_xml_string(xml)
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        con = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_50)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, con)
        scn = mujoco.MjvScene(model, maxgeom=1000)
        cam = mujoco.MjvCamera()
        cam.type = mujoco.mjtCamera.mjCAMERA_FIXED
        cam.fixedcamid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "cam")
        opt = mujoco.MjvOption()
        mujoco.mjv_updateScene(model, data, opt, None, cam, mujoco.mjtCatBit.mjCAT_ALL, scn)
        rgb = np.empty((HEIGHT, WIDTH, 3), np.uint8)
        mujoco.mjr_render(self.rect, scn, con)
        mujoco.mjr_readPixels(rgb, None, self.rect, con)
        scn.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = 1
        scn.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 1
        ids = np.empty((HEIGHT, WIDTH, 3), np.uint8)
        mujoco.mjr_render(self.rect, scn, con)
        mujoco.mjr_readPixels(ids, None, self.rect, con)
        segid = ids[..., 0].astype(np.int32) + ids[..., 1].astype(np.int32) * 256 + ids[..., 2].astype(np.int32) * 65536 - 1
        # scene geom index -> (object id, object type); -1 for background
        table = np.full((scn.ngeom + 1, 2), -1, np.int32)
        for i in range(scn.ngeom):
            table[i + 1] = (scn.geoms[i].objid, scn.geoms[i].objtype)
        seg = table[np.clip(segid, -1, scn.ngeom) + 1]
        con.free()
        return model, np.flipud(rgb).copy(), np.flipud(seg).copy()


def make_scene(rng, renderer: SceneRenderer):
    """One accepted scene: (rgb uint8 HxWx3, [(class, x0, y0, x1, y1)])."""
    while True:
        cam = sample_camera(rng)
        n = int(rng.choice([0, 1, 2, 3, 4, 5, 6], p=[0.04, 0.16, 0.22, 0.22, 0.16, 0.12, 0.08]))
        nd = int(rng.choice([0, 1, 2], p=[0.5, 0.3, 0.2]))
        objs = place_objects(rng, cam, n, nd)
        xml = scene_xml(rng, cam, objs)
        model, rgb, seg = renderer.render(xml)
        ok, boxes = True, []
        for i, o in enumerate(objs):
            if o.cls < 0:
                continue
            gid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"o{i}")
            mask = (seg[..., 0] == gid) & (seg[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM))
            uv, zc = cam.project(surface_points(o))
            if mask.sum() < 40 or (zc <= 0.01).any():
                ok = False
                break
            ys, xs = np.nonzero(mask)
            vis = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
            full = (uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max())
            clipped = (max(full[0], 0), max(full[1], 0), min(full[2], WIDTH), min(full[3], HEIGHT))
            area_full = (full[2] - full[0]) * (full[3] - full[1])
            area_clip = max(0, clipped[2] - clipped[0]) * max(0, clipped[3] - clipped[1])
            # truncated by the image border by more than 35 %, or occluded / misaligned
            if area_clip < 0.65 * area_full or iou(vis, clipped) < 0.75:
                ok = False
                break
            boxes.append((o.cls, *vis))
        if ok:
            return rgb, boxes


def degrade(rgb, rng, p=REAL_CAMERA):
    """A real camera's look: exposure + gamma, white balance, vignetting, blur, noise, JPEG."""
    img = rgb.astype(np.float32) / 255.0
    lin = img ** 2.2
    lo, hi = p["exposure_gain"]
    lin *= math.exp(rng.uniform(math.log(lo), math.log(hi)))
    wb = np.array([rng.uniform(*p["white_balance_gain"]), 1.0, rng.uniform(*p["white_balance_gain"])], np.float32)
    lin *= wb
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    rr = ((xx - WIDTH / 2) ** 2 + (yy - HEIGHT / 2) ** 2) / ((WIDTH / 2) ** 2 + (HEIGHT / 2) ** 2)
    lin *= (1 - rng.uniform(*p["vignetting"]) * rr ** 1.5)[..., None]
    img = np.clip(lin, 0, 1) ** (1 / 2.2)
    img = np.clip(img, 0, 1) ** rng.uniform(*p["gamma"])
    if rng.uniform() < 0.5:
        length = int(rng.integers(p["motion_blur_px"][0], p["motion_blur_px"][1] + 1))
        k = np.zeros((length, length), np.float32)
        k[length // 2, :] = 1
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1.0)
        k = cv2.warpAffine(k, rot, (length, length))
    else:
        rad = rng.uniform(*p["defocus_radius_px"])
        n = int(math.ceil(rad)) * 2 + 1
        yk, xk = np.mgrid[0:n, 0:n] - n // 2
        k = np.clip(rad + 0.5 - np.sqrt(xk ** 2 + yk ** 2), 0, 1).astype(np.float32)
    img = cv2.filter2D(img, -1, k / k.sum(), borderType=cv2.BORDER_REFLECT)
    shot, read = rng.uniform(*p["shot_noise"]), rng.uniform(*p["read_noise"])
    sigma = np.sqrt(shot ** 2 * np.clip(img, 0, 1) + read ** 2)
    c = p["chroma_noise"]
    noise = (1 - c) * rng.normal(size=(HEIGHT, WIDTH, 1)) + c * rng.normal(size=(HEIGHT, WIDTH, 3))
    img = np.clip(img + sigma * noise.astype(np.float32), 0, 1)
    out = (img * 255 + 0.5).astype(np.uint8)
    q = int(rng.integers(p["jpeg_quality"][0], p["jpeg_quality"][1] + 1))
    return out, q


def write_jpeg(path, rgb, quality):
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    Path(path).write_bytes(buf.tobytes())


def image_rng(seed, split, index):
    return np.random.default_rng([seed, SPLITS[split], index])


def make_yolo_split(root: Path, split, count, seed, renderer):
    (root / "images" / split).mkdir(parents=True, exist_ok=True)
    (root / "labels" / split).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        rng = image_rng(seed, split, i)
        rgb, boxes = make_scene(rng, renderer)
        write_jpeg(root / "images" / split / f"{i:05d}.jpg", rgb, 95)
        lines = [f"{c} {(x0 + x1) / 2 / WIDTH:.6f} {(y0 + y1) / 2 / HEIGHT:.6f} {(x1 - x0) / WIDTH:.6f} {(y1 - y0) / HEIGHT:.6f}"
                 for c, x0, y0, x1, y1 in boxes]
        (root / "labels" / split / f"{i:05d}.txt").write_text("".join(l + "\n" for l in lines))
        if i % 200 == 0:
            print(f"{split}: {i}/{count}", flush=True)


def make_coco_split(out: Path, split, count, seed, renderer, degraded):
    out.mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i in range(count):
        rng = image_rng(seed, split, i)
        rgb, boxes = make_scene(rng, renderer)
        name = f"{split}_{i:03d}.jpg"
        if degraded:
            rgb, q = degrade(rgb, np.random.default_rng([seed, SPLITS[split], i, 1]))
        else:
            q = 95
        write_jpeg(out / name, rgb, q)
        images.append({"id": i + 1, "file_name": name, "width": WIDTH, "height": HEIGHT})
        for c, x0, y0, x1, y1 in boxes:
            w, h = x1 - x0, y1 - y0
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": c + 1,
                         "bbox": [x0, y0, w, h], "area": w * h, "iscrowd": 0})
    cats = [{"id": k + 1, "name": n, "supercategory": "object"} for k, n in enumerate(CLASSES)]
    info = {"description": f"Tether vision fixture '{split}' (tools/make_detection_dataset.py, seed {seed})"}
    if degraded:
        info["degradation"] = {k: list(v) if isinstance(v, tuple) else v for k, v in REAL_CAMERA.items()}
    (out / "annotations.json").write_text(json.dumps(
        {"info": info, "images": images, "annotations": anns, "categories": cats}, indent=1) + "\n")
    print(f"{split}: {count} images, {len(anns)} boxes -> {out}", flush=True)


def draw_boxes(img_path: Path, boxes, out_path: Path):
    img = cv2.imread(str(img_path))
    for c, x0, y0, x1, y1 in boxes:
        cv2.rectangle(img, (int(x0), int(y0)), (int(round(x1)) - 1, int(round(y1)) - 1), (0, 255, 0), 1)
        cv2.putText(img, CLASSES[c], (int(x0), max(8, int(y0) - 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 255, 0), 1)
    cv2.imwrite(str(out_path), img)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--train-dir", type=Path)
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--val", type=int, default=200)
    ap.add_argument("--fixtures", type=Path)
    ap.add_argument("--test", type=int, default=60)
    ap.add_argument("--preview", type=Path, help="write a few annotated PNGs of the COCO sets here")
    a = ap.parse_args()
    renderer = SceneRenderer()
    if a.fixtures:
        make_coco_split(a.fixtures / "synthetic", "synthetic", a.test, a.seed, renderer, degraded=False)
        make_coco_split(a.fixtures / "real", "real", a.test, a.seed, renderer, degraded=True)
        if a.preview:
            a.preview.mkdir(parents=True, exist_ok=True)
            for split in ("synthetic", "real"):
                gt = json.loads((a.fixtures / split / "annotations.json").read_text())
                for im in gt["images"][:6]:
                    bs = [(an["category_id"] - 1, an["bbox"][0], an["bbox"][1], an["bbox"][0] + an["bbox"][2],
                           an["bbox"][1] + an["bbox"][3]) for an in gt["annotations"] if an["image_id"] == im["id"]]
                    draw_boxes(a.fixtures / split / im["file_name"], bs, a.preview / f"{Path(im['file_name']).stem}.png")
    if a.train_dir:
        root = a.train_dir
        make_yolo_split(root, "val", a.val, a.seed, renderer)
        make_yolo_split(root, "train", a.train, a.seed, renderer)
        names = "\n".join(f"  {k}: {n}" for k, n in enumerate(CLASSES))
        (root / "data.yaml").write_text(f"path: {root.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
