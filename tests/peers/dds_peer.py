#!/usr/bin/env python3
"""Test peer for Tether's ROS 2 transport: the Python `cyclonedds` package, with the ROS 2 types
declared independently in IDL, talking on loopback (CYCLONEDDS_URI set by the caller).

argv[1] JSON: {"op": "echo", "type": T, "count": N, "timeout": s, "domain": D}
  Subscribes to rt/tether_test/out (messages of type T from Tether), and for each message
  publishes on rt/tether_test/back a changed copy; prints {"received": [...]} with what it got.
  T (default "JointState"):
    JointState        sensor_msgs/JointState: positions doubled, names reversed
    Image             sensor_msgs/Image: every data byte inverted (255 - b), frame_id "peer"
    Detection2DArray  vision_msgs/Detection2DArray: detections reversed, scores halved,
                      "peer:" prepended to every id
"""
import json
import sys
import time
from dataclasses import dataclass, field

from cyclonedds.core import Qos, Policy
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.annotations import final
from cyclonedds.idl.types import array, float64, int32, sequence, uint8, uint32
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


@final
@dataclass
class Image(IdlStruct, typename="sensor_msgs::msg::dds_::Image_"):
    header: Header = field(default_factory=Header)
    height: uint32 = 0
    width: uint32 = 0
    encoding: str = ""
    is_bigendian: uint8 = 0
    step: uint32 = 0
    data: sequence[uint8] = field(default_factory=list)


@final
@dataclass
class Point(IdlStruct, typename="geometry_msgs::msg::dds_::Point_"):
    x: float64 = 0.0
    y: float64 = 0.0
    z: float64 = 0.0


@final
@dataclass
class Quaternion(IdlStruct, typename="geometry_msgs::msg::dds_::Quaternion_"):
    x: float64 = 0.0
    y: float64 = 0.0
    z: float64 = 0.0
    w: float64 = 1.0


@final
@dataclass
class Pose(IdlStruct, typename="geometry_msgs::msg::dds_::Pose_"):
    position: Point = field(default_factory=Point)
    orientation: Quaternion = field(default_factory=Quaternion)


@final
@dataclass
class PoseWithCovariance(IdlStruct, typename="geometry_msgs::msg::dds_::PoseWithCovariance_"):
    pose: Pose = field(default_factory=Pose)
    covariance: array[float64, 36] = field(default_factory=lambda: [0.0] * 36)


@final
@dataclass
class Point2D(IdlStruct, typename="vision_msgs::msg::dds_::Point2D_"):
    x: float64 = 0.0
    y: float64 = 0.0


@final
@dataclass
class Pose2D(IdlStruct, typename="vision_msgs::msg::dds_::Pose2D_"):
    position: Point2D = field(default_factory=Point2D)
    theta: float64 = 0.0


@final
@dataclass
class BoundingBox2D(IdlStruct, typename="vision_msgs::msg::dds_::BoundingBox2D_"):
    center: Pose2D = field(default_factory=Pose2D)
    size_x: float64 = 0.0
    size_y: float64 = 0.0


@final
@dataclass
class ObjectHypothesis(IdlStruct, typename="vision_msgs::msg::dds_::ObjectHypothesis_"):
    class_id: str = ""
    score: float64 = 0.0


@final
@dataclass
class ObjectHypothesisWithPose(IdlStruct, typename="vision_msgs::msg::dds_::ObjectHypothesisWithPose_"):
    hypothesis: ObjectHypothesis = field(default_factory=ObjectHypothesis)
    pose: PoseWithCovariance = field(default_factory=PoseWithCovariance)


@final
@dataclass
class Detection2D(IdlStruct, typename="vision_msgs::msg::dds_::Detection2D_"):
    header: Header = field(default_factory=Header)
    results: sequence[ObjectHypothesisWithPose] = field(default_factory=list)
    bbox: BoundingBox2D = field(default_factory=BoundingBox2D)
    id: str = ""


@final
@dataclass
class Detection2DArray(IdlStruct, typename="vision_msgs::msg::dds_::Detection2DArray_"):
    header: Header = field(default_factory=Header)
    detections: sequence[Detection2D] = field(default_factory=list)


def echo_joint_state(m):
    summary = {"name": list(m.name), "position": list(m.position), "frame_id": m.header.frame_id,
               "sec": m.header.stamp.sec, "nanosec": m.header.stamp.nanosec}
    reply = JointState(header=m.header, name=list(reversed(m.name)), position=[2 * p for p in m.position],
                       velocity=list(m.velocity), effort=list(m.effort))
    return summary, reply


def echo_image(m):
    data = bytes(m.data)
    summary = {"height": m.height, "width": m.width, "encoding": m.encoding, "is_bigendian": m.is_bigendian,
               "step": m.step, "size": len(data), "sum": sum(data), "first": list(data[:8]),
               "frame_id": m.header.frame_id, "sec": m.header.stamp.sec, "nanosec": m.header.stamp.nanosec}
    reply = Image(header=Header(stamp=m.header.stamp, frame_id="peer"), height=m.height, width=m.width,
                  encoding=m.encoding, is_bigendian=m.is_bigendian, step=m.step, data=[255 - b for b in data])
    return summary, reply


def echo_detections(m):
    summary = {"frame_id": m.header.frame_id, "sec": m.header.stamp.sec, "count": len(m.detections),
               "ids": [d.id for d in m.detections],
               "classes": [[r.hypothesis.class_id for r in d.results] for d in m.detections],
               "scores": [[r.hypothesis.score for r in d.results] for d in m.detections],
               "centers": [[d.bbox.center.position.x, d.bbox.center.position.y] for d in m.detections],
               "covariance_0": [[r.pose.covariance[0] for r in d.results] for d in m.detections]}
    detections = []
    for d in reversed(m.detections):
        results = [ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id=r.hypothesis.class_id,
                                                                        score=r.hypothesis.score / 2),
                                            pose=r.pose) for r in d.results]
        detections.append(Detection2D(header=d.header, results=results, bbox=d.bbox, id="peer:" + d.id))
    return summary, Detection2DArray(header=m.header, detections=detections)


ECHO = {"JointState": (JointState, echo_joint_state), "Image": (Image, echo_image),
        "Detection2DArray": (Detection2DArray, echo_detections)}


def main():
    req = json.loads(sys.argv[1])
    dp = DomainParticipant(req.get("domain", 0))
    qos = Qos(Policy.Reliability.Reliable(max_blocking_time=1_000_000_000), Policy.History.KeepLast(10),
              Policy.Durability.Volatile, Policy.DataRepresentation(use_cdrv0_representation=True))
    kind, echo = ECHO[req.get("type", "JointState")]
    reader = DataReader(dp, Topic(dp, "rt/tether_test/out", kind), qos=qos)
    writer = DataWriter(dp, Topic(dp, "rt/tether_test/back", kind), qos=qos)
    print(json.dumps({"ready": True}), flush=True)
    received = []
    deadline = time.time() + req.get("timeout", 10)
    while len(received) < req["count"] and time.time() < deadline:
        for m in reader.take(N=10):
            summary, reply = echo(m)
            received.append(summary)
            writer.write(reply)
        time.sleep(0.001)
    time.sleep(0.5)  # let the last replies go out
    print(json.dumps({"received": received}), flush=True)


if __name__ == "__main__":
    main()
