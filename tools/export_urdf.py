#!/usr/bin/env python3
"""Writes a URDF of a MuJoCo model's kinematic tree and inertias (links, hinge/slide joints with
limits and dynamics), for tools that want URDF. Geometry is not exported: the URDF carries what
calibration patches (masses, centres of mass, inertias, joint damping and friction).

Usage: tools/export_urdf.py robots/quadruped/quadruped.xml > robots/quadruped/quadruped.urdf
"""
import sys
import mujoco
import numpy as np


def fmt(v):
    return " ".join(f"{x:.6g}" if abs(x) > 1e-12 else "0" for x in v)


def rpy(quat):
    m = np.zeros(9)
    mujoco.mju_quat2Mat(m, quat)
    r = m.reshape(3, 3)
    pitch = np.arcsin(-np.clip(r[2, 0], -1, 1))
    roll = np.arctan2(r[2, 1], r[2, 2])
    yaw = np.arctan2(r[1, 0], r[0, 0])
    return [roll, pitch, yaw]


def model_name(m):
    return m.names[:m.names.index(0)].decode()


def main(path):
    m = mujoco.MjModel.from_xml_path(path)
    out = [f'<?xml version="1.0"?>', f'<!-- Generated from {path} by tools/export_urdf.py: inertias and joints only. -->',
           f'<robot name="{model_name(m)}">']
    for b in range(1, m.nbody):
        name = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, b)
        out.append(f'  <link name="{name}">')
        out.append('    <inertial>')
        out.append(f'      <origin xyz="{fmt(m.body_ipos[b])}" rpy="{fmt(rpy(m.body_iquat[b]))}"/>')
        out.append(f'      <mass value="{m.body_mass[b]:.6g}"/>')
        i = m.body_inertia[b]
        out.append(f'      <inertia ixx="{i[0]:.6g}" iyy="{i[1]:.6g}" izz="{i[2]:.6g}" ixy="0" ixz="0" iyz="0"/>')
        out.append('    </inertial>')
        out.append('  </link>')
    for b in range(1, m.nbody):
        parent = m.body_parentid[b]
        if parent == 0:
            continue
        child = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, b)
        pname = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, parent)
        joints = [j for j in range(m.njnt) if m.jnt_bodyid[j] == b]
        if not joints:
            out.append(f'  <joint name="{pname}_to_{child}" type="fixed">')
            out.append(f'    <parent link="{pname}"/>\n    <child link="{child}"/>')
            out.append(f'    <origin xyz="{fmt(m.body_pos[b])}" rpy="{fmt(rpy(m.body_quat[b]))}"/>')
            out.append('  </joint>')
            continue
        j = joints[0]
        jname = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j)
        kind = {int(mujoco.mjtJoint.mjJNT_HINGE): "revolute", int(mujoco.mjtJoint.mjJNT_SLIDE): "prismatic"}[int(m.jnt_type[j])]
        dof = m.jnt_dofadr[j]
        out.append(f'  <joint name="{jname}" type="{kind}">')
        out.append(f'    <parent link="{pname}"/>\n    <child link="{child}"/>')
        out.append(f'    <origin xyz="{fmt(m.body_pos[b])}" rpy="{fmt(rpy(m.body_quat[b]))}"/>')
        out.append(f'    <axis xyz="{fmt(m.jnt_axis[j])}"/>')
        effort = 0.0
        for a in range(m.nu):
            if m.actuator_trnid[a, 0] == j:
                effort = float(max(abs(m.actuator_ctrlrange[a])) * abs(m.actuator_gear[a, 0]))
        lo, hi = m.jnt_range[j]
        out.append(f'    <limit lower="{lo:.6g}" upper="{hi:.6g}" effort="{effort:.6g}" velocity="30"/>')
        out.append(f'    <dynamics damping="{m.dof_damping[dof]:.6g}" friction="{m.dof_frictionloss[dof]:.6g}"/>')
        out.append('  </joint>')
    out.append('</robot>')
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
