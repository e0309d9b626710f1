#!/usr/bin/env python3
"""Test peer: drives a model's actuators with a control sequence through MuJoCo's Python bindings,
for comparison with Tether's SimRobot on position-servo models (whose control is the target).

Reads one JSON request from argv[1]:
  {"model": path, "keyframe": name|null, "controls": [[nu values] per control period], "decimation": N}
Each control vector is held for N physics steps. Prints {"qpos": [[...] after every control period]}.
"""
import json
import sys

import mujoco


def main():
    req = json.loads(sys.argv[1])
    model = mujoco.MjModel.from_xml_path(req["model"])
    data = mujoco.MjData(model)
    if req.get("keyframe"):
        mujoco.mj_resetDataKeyframe(model, data, model.key(req["keyframe"]).id)
    mujoco.mj_forward(model, data)
    qpos = []
    for ctrl in req["controls"]:
        data.ctrl[:] = ctrl
        for _ in range(req["decimation"]):
            mujoco.mj_step(model, data)
        qpos.append(data.qpos.tolist())
    print(json.dumps({"qpos": qpos}))


if __name__ == "__main__":
    main()
