#!/usr/bin/env python3
"""Test peer for `tether detect --ros2` / DetectorNode: a camera on Python cyclonedds.

Uses the ROS 2 types declared independently in IDL in dds_peer.py. argv[1] JSON:
  {"domain": D, "width": W, "height": H, "encoding": "bgr8", "timeout": s,
   "input_topic": "/camera/image_raw", "output_topic": "/detections"}
Publishes an image (stamp 42.000000007, frame_id "peer_camera") every 0.2 s until a
vision_msgs/Detection2DArray arrives; prints {"header": {...}, "detections": [...]} (CYCLONEDDS_URI
is set by the caller).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cyclonedds.core import Policy, Qos  # noqa: E402
from cyclonedds.domain import DomainParticipant  # noqa: E402
from cyclonedds.pub import DataWriter  # noqa: E402
from cyclonedds.sub import DataReader  # noqa: E402
from cyclonedds.topic import Topic  # noqa: E402

from dds_peer import Detection2DArray, Header, Image, Time  # noqa: E402


def topic(name):
    return "rt/" + name.lstrip("/")


def main():
    req = json.loads(sys.argv[1])
    dp = DomainParticipant(req.get("domain", 0))
    qos = Qos(Policy.Reliability.Reliable(max_blocking_time=1_000_000_000), Policy.History.KeepLast(10),
              Policy.Durability.Volatile, Policy.DataRepresentation(use_cdrv0_representation=True))
    writer = DataWriter(dp, Topic(dp, topic(req.get("input_topic", "/camera/image_raw")), Image), qos=qos)
    reader = DataReader(dp, Topic(dp, topic(req.get("output_topic", "/detections")), Detection2DArray), qos=qos)
    w, h = req["width"], req["height"]
    channels = 1 if req.get("encoding") == "mono8" else 3
    data = bytes((x * 7 + y * 3) % 256 for y in range(h) for x in range(w * channels))
    image = Image(header=Header(stamp=Time(sec=42, nanosec=7), frame_id="peer_camera"), height=h, width=w,
                  encoding=req.get("encoding", "bgr8"), is_bigendian=0, step=w * channels, data=data)
    deadline = time.time() + req.get("timeout", 20)
    last = 0.0
    while time.time() < deadline:
        if time.time() - last > 0.2:
            writer.write(image)
            last = time.time()
        for m in reader.take(N=1):
            print(json.dumps({
                "header": {"sec": m.header.stamp.sec, "nanosec": m.header.stamp.nanosec, "frame_id": m.header.frame_id},
                "detections": [{"class_id": d.results[0].hypothesis.class_id, "score": d.results[0].hypothesis.score,
                                "x": d.bbox.center.position.x, "y": d.bbox.center.position.y,
                                "size_x": d.bbox.size_x, "size_y": d.bbox.size_y} for d in m.detections]}), flush=True)
            return
        time.sleep(0.005)
    raise SystemExit("no detections arrived")


if __name__ == "__main__":
    main()
