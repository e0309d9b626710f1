#!/usr/bin/env python3
"""Writes a ROS 2 bag of a robot standing still, as `ros2 bag record` would, with rosbags'
own MCAP writer (not Tether's): sensor_msgs/msg/JointState and sensor_msgs/msg/Imu on topics
of the caller's choosing, no commands, no Tether metadata. The data is synthetic with a known
truth, which is printed as JSON so that a test can compare what calibration recovers.

Usage: foreign_bag.py OUT_DIR [JSON_OPTIONS]
  OUT_DIR is the bag directory rosbags writes (metadata.yaml and OUT_DIR_0.mcap); it must not
  exist. Options (all optional):
    seconds (120), imu_rate (200), joint_rate (250), seed (1),
    joints: names in the bag's order (default: the quadruped's, reversed, plus `head_pan`),
    defaults: {name: rad} (default pose the robot stands in; unnamed joints 0),
    encoder_sd (2e-4 rad), offsets: {name: rad},
    gyro_sd (0.01 rad/s, white), gyro_bias ([0.004, -0.002, 0.001] rad/s),
    gyro_rrw (2e-4 rad/s/sqrt(s), rate random walk K on every gyro axis),
    accel_sd (0.05 m/s^2), accel_bias_z (0.05 m/s^2, along gravity),
    joint_topic ("/robot/joint_states"), imu_topics (["/imu/data"]; [] for none),
    zero_stamps (false: header stamps are the sensor's sample times; true: all zero),
    move (0: still; else the amplitude in rad of a slow sway of every joint),
    no_positions (false: true writes joint states with names but empty positions).
Prints {"mcap": path, "truth": {...}} with the realized gyro mean (bias + the random walk's mean
over the recording), the true white noise and densities.
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

QUADRUPED = [f"{leg}_{part}_joint" for leg in ("FR", "FL", "RR", "RL") for part in ("hip", "thigh", "calf")]
QUADRUPED_DEFAULT = {f"{leg}_{part}_joint": d for leg in ("FR", "FL", "RR", "RL")
                     for part, d in (("hip", 0.0), ("thigh", 0.9), ("calf", -1.8))}
G = 9.80665


def main():
    out = Path(sys.argv[1])
    o = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    seconds = o.get("seconds", 120.0)
    imu_rate, joint_rate = o.get("imu_rate", 200.0), o.get("joint_rate", 250.0)
    rng = np.random.default_rng(o.get("seed", 1))
    joints = o.get("joints", list(reversed(QUADRUPED)) + ["head_pan"])
    defaults = {**QUADRUPED_DEFAULT, **o.get("defaults", {})}
    offsets = o.get("offsets", {name: 0.002 * (i - 6) for i, name in enumerate(QUADRUPED)})
    encoder_sd = o.get("encoder_sd", 2e-4)
    gyro_sd, gyro_bias, rrw = o.get("gyro_sd", 0.01), np.array(o.get("gyro_bias", [0.004, -0.002, 0.001])), o.get("gyro_rrw", 2e-4)
    accel_sd, accel_bias_z = o.get("accel_sd", 0.05), o.get("accel_bias_z", 0.05)
    joint_topic, imu_topics = o.get("joint_topic", "/robot/joint_states"), o.get("imu_topics", ["/imu/data"])
    zero_stamps, move, no_positions = o.get("zero_stamps", False), o.get("move", 0.0), o.get("no_positions", False)

    store = get_typestore(Stores.ROS2_HUMBLE)
    JointState = store.types["sensor_msgs/msg/JointState"]
    Imu = store.types["sensor_msgs/msg/Imu"]
    Header = store.types["std_msgs/msg/Header"]
    Time = store.types["builtin_interfaces/msg/Time"]
    Vector3 = store.types["geometry_msgs/msg/Vector3"]
    Quaternion = store.types["geometry_msgs/msg/Quaternion"]

    start_ns = 1_700_000_000_000_000_000   # wall-clock epoch, as a real robot stamps

    def header(t, frame):
        ns = 0 if zero_stamps else start_ns + int(round(t * 1e9))
        return Header(stamp=Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000), frame_id=frame)

    def received(t):
        # The recorder receives each message 2 ms after it was sampled, with exponential jitter.
        return start_ns + int(round((t + 0.002 + rng.exponential(0.0005)) * 1e9))

    records = []   # (log time, connection index, message, type name)
    # Joint states: the default pose plus an offset, white encoder noise (and a sway if asked).
    n_j = int(seconds * joint_rate)
    for i in range(n_j):
        t = i / joint_rate
        sway = move * math.sin(2 * math.pi * 0.5 * t)
        pos = [defaults.get(n, 0.0) + offsets.get(n, 0.0) + sway + encoder_sd * rng.standard_normal() for n in joints]
        msg = JointState(header=header(t, ""), name=joints, position=np.array([] if no_positions else pos, dtype=np.float64), velocity=np.zeros(len(joints)),
                         effort=np.zeros(len(joints)))
        records.append((received(t), "joints", msg, JointState.__msgtype__))
    # IMU: gyro = bias + rate random walk + white noise; accelerometer = gravity (+z, the
    # specific force at rest) + bias along it + white noise.
    n_i = int(seconds * imu_rate)
    tau0 = 1 / imu_rate
    walk = np.cumsum(rng.standard_normal((n_i, 3)) * rrw * math.sqrt(tau0), axis=0)
    gyro = gyro_bias + walk + gyro_sd * rng.standard_normal((n_i, 3))
    accel = np.array([0, 0, G + accel_bias_z]) + accel_sd * rng.standard_normal((n_i, 3))
    for topic in imu_topics:
        for i in range(n_i):
            t = i * tau0
            msg = Imu(header=header(t, "imu_link"), orientation=Quaternion(x=0.0, y=0.0, z=0.0, w=1.0),
                      orientation_covariance=np.zeros(9), angular_velocity=Vector3(x=gyro[i, 0], y=gyro[i, 1], z=gyro[i, 2]),
                      angular_velocity_covariance=np.zeros(9),
                      linear_acceleration=Vector3(x=accel[i, 0], y=accel[i, 1], z=accel[i, 2]),
                      linear_acceleration_covariance=np.zeros(9))
            records.append((received(t), topic, msg, Imu.__msgtype__))
    records.sort(key=lambda r: r[0])

    with Writer(out, version=8, storage_plugin=StoragePlugin.MCAP) as writer:
        connections = {"joints": writer.add_connection(joint_topic, JointState.__msgtype__, typestore=store)}
        for topic in imu_topics:
            connections[topic] = writer.add_connection(topic, Imu.__msgtype__, typestore=store)
        for log_time, key, msg, typename in records:
            writer.write(connections[key], log_time, store.serialize_cdr(msg, typename))

    mcap = sorted(out.glob("*.mcap"))[0]
    print(json.dumps({"mcap": str(mcap), "truth": {
        "gyro_white_sd": gyro_sd, "gyro_density": gyro_sd * math.sqrt(tau0), "gyro_rrw": rrw,
        "gyro_bias": list(gyro_bias), "gyro_mean_realized": list((gyro_bias + walk).mean(axis=0)),
        "accel_white_sd": accel_sd, "accel_density": accel_sd * math.sqrt(tau0), "accel_bias_z": accel_bias_z,
        "encoder_sd": encoder_sd, "offsets": offsets, "imu_interval": tau0}}))


if __name__ == "__main__":
    main()
