#!/usr/bin/env python3
"""Fault injection for Tether's fail-safe runtime (issue 15), with the Python `cyclonedds`
package as an independent ROS 2 peer (types declared in IDL here and in dds_peer.py).

Usage (CYCLONEDDS_URI and ROS_DOMAIN_ID set by the caller; tests/failsafe.sh does):

  failsafe_peer.py driver FAULT SECONDS FAULT_AT
      A robot driver as a misbehaving real one would be: publishes the quadruped's joint states
      and IMU at 200 Hz (standing at the default pose, upright) and reads the joint commands.
      At FAULT_AT seconds it injects FAULT:
        imu_stops      the IMU node dies (joint states go on)
        no_velocities  joint states lose their velocity array (legal in sensor_msgs/JointState)
        reorder        joint states change their order (same values by name): must NOT stop
        malformed      joint states with 12 names but 11 positions
        estop_pulse    one e-stop `true` immediately followed by `false` (a pulse shorter than a tick)
        future_stamp   joint states stamped 5 s in the future
      Prints one JSON line: the fault's time and the first stop command after it (kp all 0)
      on the driver's monotonic clock, and the latency between them.

  failsafe_peer.py watch SECONDS
      Subscribes to the joint states of `tether emulate` and prints one JSON line per sample
      (monotonic receive time, positions, velocities, efforts) to stdout until SECONDS pass.
"""
import json
import os
import sys
import time
from dataclasses import dataclass, field

from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.annotations import final
from cyclonedds.idl.types import array, float64, sequence
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from dds_peer import Header, JointState, Quaternion, Time  # noqa: E402


@final
@dataclass
class Vector3(IdlStruct, typename="geometry_msgs::msg::dds_::Vector3_"):
    x: float64 = 0.0
    y: float64 = 0.0
    z: float64 = 0.0


@final
@dataclass
class Imu(IdlStruct, typename="sensor_msgs::msg::dds_::Imu_"):
    header: Header = field(default_factory=Header)
    orientation: Quaternion = field(default_factory=Quaternion)
    orientation_covariance: array[float64, 9] = field(default_factory=lambda: [0.0] * 9)
    angular_velocity: Vector3 = field(default_factory=Vector3)
    angular_velocity_covariance: array[float64, 9] = field(default_factory=lambda: [0.0] * 9)
    linear_acceleration: Vector3 = field(default_factory=Vector3)
    linear_acceleration_covariance: array[float64, 9] = field(default_factory=lambda: [0.0] * 9)


@final
@dataclass
class Bool(IdlStruct, typename="std_msgs::msg::dds_::Bool_"):
    data: bool = False


@final
@dataclass
class JointCommand(IdlStruct, typename="tether_msgs::msg::dds_::JointCommand_"):
    header: Header = field(default_factory=Header)
    name: sequence[str] = field(default_factory=list)
    position: sequence[float64] = field(default_factory=list)
    velocity: sequence[float64] = field(default_factory=list)
    effort: sequence[float64] = field(default_factory=list)
    kp: sequence[float64] = field(default_factory=list)
    kd: sequence[float64] = field(default_factory=list)


LEGS = ["FR", "FL", "RR", "RL"]
NAMES = [f"{leg}_{part}_joint" for leg in LEGS for part in ("hip", "thigh", "calf")]
DEFAULT = [0.0, 0.9, -1.8] * 4

SENSOR = Qos(Policy.Reliability.BestEffort, Policy.History.KeepLast(5), Policy.Durability.Volatile)
RELIABLE = Qos(Policy.Reliability.Reliable(duration(seconds=1)), Policy.History.KeepLast(10), Policy.Durability.Volatile)


def stamp(offset=0.0):
    t = time.time() + offset
    return Header(stamp=Time(sec=int(t), nanosec=int((t - int(t)) * 1e9)), frame_id="base")


def driver(fault, seconds, fault_at):
    dp = DomainParticipant(int(os.environ.get("ROS_DOMAIN_ID", "0")))
    js_writer = DataWriter(dp, Topic(dp, "rt/joint_states", JointState), qos=SENSOR)
    imu_writer = DataWriter(dp, Topic(dp, "rt/imu", Imu), qos=SENSOR)
    estop_writer = DataWriter(dp, Topic(dp, "rt/tether/estop", Bool), qos=RELIABLE)
    commands = DataReader(dp, Topic(dp, "rt/joint_commands", JointCommand), qos=RELIABLE)
    start = time.monotonic()
    fault_time = None
    first_stop = None
    commands_seen = 0
    next_tick = start
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        injected = now - start >= fault_at
        if injected and fault_time is None:
            fault_time = now
            if fault == "estop_pulse":
                estop_writer.write(Bool(data=True))
                estop_writer.write(Bool(data=False))
        names, positions, velocities = list(NAMES), list(DEFAULT), [0.0] * 12
        header = stamp(5.0 if injected and fault == "future_stamp" else 0.0)
        if injected and fault == "reorder":
            names, positions, velocities = names[::-1], positions[::-1], velocities[::-1]
        if injected and fault == "no_velocities":
            velocities = []
        if injected and fault == "malformed":
            positions = positions[:11]
        js_writer.write(JointState(header=header, name=names, position=positions, velocity=velocities,
                                   effort=[0.0] * len(names) if fault != "malformed" or not injected else []))
        if not (injected and fault == "imu_stops"):
            imu_writer.write(Imu(header=header, orientation=Quaternion(x=0.0, y=0.0, z=0.0, w=1.0),
                                 linear_acceleration=Vector3(z=9.81)))
        for c in commands.take(N=100):
            if not hasattr(c, "kp"):
                continue
            commands_seen += 1
            if fault_time is not None and first_stop is None and now >= fault_time and c.kp and all(k == 0 for k in c.kp) \
                    and any(d > 0 for d in c.kd):
                first_stop = time.monotonic()
        next_tick += 0.005
        time.sleep(max(0.0, next_tick - time.monotonic()))
    print(json.dumps({"fault": fault, "fault_at": fault_time - start if fault_time else None,
                      "first_stop_after_fault": (first_stop - start) if first_stop else None,
                      "latency": (first_stop - fault_time) if first_stop and fault_time else None,
                      "commands_seen": commands_seen}), flush=True)


def watch(seconds):
    dp = DomainParticipant(int(os.environ.get("ROS_DOMAIN_ID", "0")))
    reader = DataReader(dp, Topic(dp, "rt/joint_states", JointState), qos=SENSOR)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        for m in reader.take(N=100):
            if not hasattr(m, "position"):
                continue
            print(json.dumps({"t": time.monotonic(), "q": list(m.position), "qd": list(m.velocity), "tau": list(m.effort)}), flush=True)
        time.sleep(0.001)


if __name__ == "__main__":
    if sys.argv[1] == "driver":
        driver(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[1] == "watch":
        watch(float(sys.argv[2]))
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
