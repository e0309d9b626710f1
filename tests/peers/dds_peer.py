#!/usr/bin/env python3
"""Test peer for Tether's ROS 2 transport: the Python `cyclonedds` package, with the ROS 2 types
declared independently in IDL, talking on loopback (CYCLONEDDS_URI set by the caller).

argv[1] JSON: {"op": "echo", "count": N, "timeout": s, "domain": D}
  Subscribes to rt/tether_test/out (sensor_msgs/JointState from Tether), and for each message
  publishes on rt/tether_test/back the same message with every position doubled and the name
  list reversed. Prints {"received": [...]} with what it got.
"""
import json
import sys
import time
from dataclasses import dataclass, field

from cyclonedds.core import Qos, Policy
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.annotations import final
from cyclonedds.idl.types import float64, int32, sequence, uint32
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic


@final
@dataclass
class Time(IdlStruct, typename="builtin_interfaces::msg::dds_::Time_"):
    sec: int32 = 0
    nanosec: uint32 = 0


@final
@dataclass
class Header(IdlStruct, typename="std_msgs::msg::dds_::Header_"):
    stamp: Time = field(default_factory=Time)
    frame_id: str = ""


@final
@dataclass
class JointState(IdlStruct, typename="sensor_msgs::msg::dds_::JointState_"):
    header: Header = field(default_factory=Header)
    name: sequence[str] = field(default_factory=list)
    position: sequence[float64] = field(default_factory=list)
    velocity: sequence[float64] = field(default_factory=list)
    effort: sequence[float64] = field(default_factory=list)


def main():
    req = json.loads(sys.argv[1])
    dp = DomainParticipant(req.get("domain", 0))
    qos = Qos(Policy.Reliability.Reliable(max_blocking_time=1_000_000_000), Policy.History.KeepLast(10),
              Policy.Durability.Volatile, Policy.DataRepresentation(use_cdrv0_representation=True))
    reader = DataReader(dp, Topic(dp, "rt/tether_test/out", JointState), qos=qos)
    writer = DataWriter(dp, Topic(dp, "rt/tether_test/back", JointState), qos=qos)
    print(json.dumps({"ready": True}), flush=True)
    received = []
    deadline = time.time() + req.get("timeout", 10)
    while len(received) < req["count"] and time.time() < deadline:
        for m in reader.take(N=10):
            received.append({"name": list(m.name), "position": list(m.position), "frame_id": m.header.frame_id,
                             "sec": m.header.stamp.sec, "nanosec": m.header.stamp.nanosec})
            writer.write(JointState(header=m.header, name=list(reversed(m.name)),
                                    position=[2 * p for p in m.position], velocity=list(m.velocity), effort=list(m.effort)))
        time.sleep(0.001)
    time.sleep(0.5)  # let the last replies go out
    print(json.dumps({"received": received}), flush=True)


if __name__ == "__main__":
    main()
