#!/usr/bin/env python3
"""Test peer: steps a model with MuJoCo's Python bindings after parameter edits, for comparison
with Tether's Swift layer on the same edits.

Reads one JSON request from argv[1]:
  {"model": path, "keyframe": name|null, "edits": [[kind, name, field, [values]], ...],
   "set_const": bool, "steps": N, "ctrl": [nu values], "every": K}
kind/field follow Tether's parameter paths (body.mass, body.inertia, body.com, geom.friction,
joint.damping, joint.frictionloss, joint.armature, joint.stiffness, actuator.gain, actuator.bias,
actuator.ctrlrange, actuator.forcerange; name "" with kind "option" for gravity and timestep).
Prints {"qpos": [[...] every K steps], "qvel_final": [...], "values": [[read-back values per edit]]}.
"""
import json
import sys

import mujoco
import numpy as np


def field(model, kind, name, what):
    if kind == "option":
        return getattr(model.opt, what)
    if kind == "body":
        b = model.body(name)
        return {"mass": b.mass, "inertia": b.inertia, "com": b.ipos}[what]
    if kind == "geom":
        return {"friction": model.geom(name).friction}[what]
    if kind == "joint":
        j = model.joint(name)
        if what == "stiffness":
            return j.stiffness
        dof = model.jnt_dofadr[j.id]
        n = {0: 6, 1: 3, 2: 1, 3: 1}[int(model.jnt_type[j.id])]
        arr = {"damping": model.dof_damping, "frictionloss": model.dof_frictionloss, "armature": model.dof_armature}[what]
        return arr[dof:dof + n]
    if kind == "actuator":
        a = model.actuator(name)
        return {"gain": a.gainprm[:1], "bias": a.biasprm[:3], "ctrlrange": a.ctrlrange, "forcerange": a.forcerange}[what]
    raise ValueError(f"unknown parameter kind {kind}")


def main():
    req = json.loads(sys.argv[1])
    model = mujoco.MjModel.from_xml_path(req["model"])
    for kind, name, what, values in req.get("edits", []):
        if kind == "option" and what == "timestep":
            model.opt.timestep = values[0]
            continue
        target = field(model, kind, name, what)
        if kind == "joint" and what in ("damping", "frictionloss", "armature"):
            target[:] = values[0]
        else:
            target[...] = np.asarray(values).reshape(np.shape(target))
    data = mujoco.MjData(model)
    if req.get("set_const"):
        mujoco.mj_setConst(model, data)
    if req.get("keyframe"):
        mujoco.mj_resetDataKeyframe(model, data, model.key(req["keyframe"]).id)
    data.ctrl[:] = req.get("ctrl", [0.0] * model.nu)
    every = req.get("every", 1)
    qpos = []
    for i in range(req["steps"]):
        mujoco.mj_step(model, data)
        if (i + 1) % every == 0:
            qpos.append(data.qpos.tolist())
    values = [np.atleast_1d(field(model, k, n, w)).tolist() for k, n, w, _ in req.get("edits", [])]
    print(json.dumps({"qpos": qpos, "qvel_final": data.qvel.tolist(), "values": values}))


if __name__ == "__main__":
    main()
