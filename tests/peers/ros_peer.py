#!/usr/bin/env python3
"""Test peer for TetherROS: rosbags (CDR serializer, ROS 2 Humble type store) and the mcap /
mcap-ros2-support libraries as independent oracles for Tether's CDR codec and MCAP files.

argv[1] is a JSON request (or "@path" to a file holding it); the answer is JSON on stdout.
Message values are JSON objects with the ROS field names (snake_case), nested as in the .msg.

  {"op": "serialize", "items": [{"type": "sensor_msgs/msg/JointState", "value": {...}}, ...],
   "definitions": {"tether_msgs/msg/SafetyEvent": "<msg text>"}}
      -> {"hex": ["0001...", ...]}            rosbags' serialize_cdr, little endian
  {"op": "deserialize", "items": [{"type": ..., "hex": "0001...", "value": {...}}, ...],
   "definitions": {...}}
      -> {"problems": [...]}                  rosbags' deserialize_cdr of each item's bytes,
                                              compared with its value
  {"op": "check_definitions", "items": [{"type": ..., "definition": "<concatenated msg text>"}]}
      -> {"problems": [...]}                  each section parsed by rosbags and mcap_ros2 and
                                              its fields compared with the Humble store

The store is rosbags' ROS 2 Humble store plus vision_msgs 4 (Humble / Jazzy), which rosbags does
not ship: VISION_MSGS below declares the vision_msgs types Tether uses from the field lists of the
vision_msgs 4.x .msg files, independently of Tether's own definitions.
  {"op": "read_mcap", "path": ..., "expect": [{"topic", "log_time", "value"}...] | null}
      -> {"header", "statistics", "chunk_indexes", "counts", "mismatches", "messages_read"}
  {"op": "write_mcap", "path": ..., "chunk_size": N,
   "messages": [{"topic", "type", "log_time", "value"}...]}
      -> {"ok": true}                         mcap_ros2's writer, uncompressed chunks
"""
import array
import json
import sys
from types import SimpleNamespace

import numpy as np
from rosbags.interfaces import Nodetype
from rosbags.typesys import Stores, get_typestore, get_types_from_msg

STORE = get_typestore(Stores.ROS2_HUMBLE)

# vision_msgs 4.x (ros-perception/vision_msgs, branch ros2, tags 4.0.0-4.1.1): field lists only.
VISION_MSGS = {
    "vision_msgs/msg/Point2D": "float64 x\nfloat64 y\n",
    "vision_msgs/msg/Pose2D": "Point2D position\nfloat64 theta\n",
    "vision_msgs/msg/BoundingBox2D": "Pose2D center\nfloat64 size_x\nfloat64 size_y\n",
    "vision_msgs/msg/ObjectHypothesis": "string class_id\nfloat64 score\n",
    "vision_msgs/msg/ObjectHypothesisWithPose": "ObjectHypothesis hypothesis\ngeometry_msgs/PoseWithCovariance pose\n",
    "vision_msgs/msg/Detection2D": "std_msgs/Header header\nObjectHypothesisWithPose[] results\nBoundingBox2D bbox\nstring id\n",
    "vision_msgs/msg/Detection2DArray": "std_msgs/Header header\nDetection2D[] detections\n",
}
_vision = {}
for _name, _text in VISION_MSGS.items():
    _vision.update(get_types_from_msg(_text, _name))
STORE.register(_vision)

NUMPY_TYPES = {
    "float64": np.float64, "float32": np.float32, "int8": np.int8, "uint8": np.uint8, "byte": np.uint8,
    "char": np.uint8, "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32,
    "int64": np.int64, "uint64": np.uint64, "bool": np.bool_,
}


def register(definitions):
    """Adds our own message types (tether_msgs) to the store, parsed from their .msg text."""
    types = {}
    for name, text in (definitions or {}).items():
        types.update(get_types_from_msg(text, name))
    if types:
        STORE.register(types)


def build(typename, value):
    """A rosbags message object of `typename` from a JSON value."""
    _, fields = STORE.fielddefs[typename]
    kwargs = {}
    for name, (kind, detail) in fields:
        v = value[name]
        if kind == Nodetype.BASE:
            base = detail[0]
            kwargs[name] = v if base in ("string", "bool", "float32", "float64") else int(v)
        elif kind == Nodetype.NAME:
            kwargs[name] = build(detail, v)
        else:  # ARRAY or SEQUENCE
            (sub_kind, sub_detail), _size = detail
            if sub_kind == Nodetype.NAME:
                kwargs[name] = [build(sub_detail, x) for x in v]
            elif sub_detail[0] == "string":
                kwargs[name] = list(v)
            else:
                kwargs[name] = np.array(v, dtype=NUMPY_TYPES[sub_detail[0]])
    return STORE.types[typename](**kwargs)


def to_json(value):
    """A rosbags message object (or part of one) as plain JSON data, ROS field names."""
    msgtype = getattr(value, "__msgtype__", None)
    if msgtype is not None:  # the message's fields only, not its constants
        return {name: to_json(getattr(value, name)) for name, _ in STORE.fielddefs[msgtype][1]}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def deserialize(items):
    """rosbags decodes each item's bytes; any difference from its value is a problem."""
    problems = []
    for i, item in enumerate(items):
        typename = item["type"]
        try:
            got = to_json(STORE.deserialize_cdr(bytes.fromhex(item["hex"]), typename))
        except Exception as e:  # noqa: BLE001 - report every failure by item
            problems.append(f"[{i}] {typename}: rosbags cannot deserialize the bytes: {e}")
            continue
        if not same(got, item["value"]):
            problems.append(f"[{i}] {typename}: rosbags read {json.dumps(got)[:2000]}, "
                            f"expected {json.dumps(item['value'])[:2000]}")
    return {"problems": problems}


def field_type_text(kind, detail):
    """The ROS 2 .msg spelling of a rosbags field type."""
    if kind == Nodetype.BASE:
        return detail[0]
    if kind == Nodetype.NAME:
        pkg, _, name = detail.split("/")
        return f"{pkg}/{name}"
    (sub_kind, sub_detail), size = detail
    inner = field_type_text(sub_kind, sub_detail)
    return f"{inner}[{size}]" if kind == Nodetype.ARRAY else f"{inner}[]"


def msgdef(typename):
    """A ROS 2 concatenated definition built from the Humble store alone (not from Tether)."""
    order, seen = [], set()

    def visit(t):
        if t in seen:
            return
        seen.add(t)
        order.append(t)
        for _, (kind, detail) in STORE.fielddefs[t][1]:
            if kind == Nodetype.NAME:
                visit(detail)
            elif kind in (Nodetype.ARRAY, Nodetype.SEQUENCE) and detail[0][0] == Nodetype.NAME:
                visit(detail[0][1])

    visit(typename)
    sections = []
    for t in order:
        consts, fields = STORE.fielddefs[t]
        lines = [f"{ctype} {cname}={cvalue}" for cname, ctype, cvalue in consts]
        lines += [f"{field_type_text(kind, detail)} {name}" for name, (kind, detail) in fields]
        body = "\n".join(lines) + "\n"
        if t != typename:
            pkg, _, name = t.split("/")
            body = "=" * 80 + f"\nMSG: {pkg}/{name}\n" + body
        sections.append(body)
    return "".join(sections)


def plain(value):
    """A decoded mcap_ros2 message (or part of one) as plain JSON data."""
    if isinstance(value, SimpleNamespace) or hasattr(value, "__slots__") and not isinstance(value, (str, bytes)):
        slots = getattr(type(value), "__slots__", None) or list(vars(value).keys())
        return {k: plain(getattr(value, k)) for k in slots}
    if isinstance(value, (list, tuple, array.array, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def same(a, b):
    """Exact equality of JSON data, with ints and floats compared as numbers."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    return a == b


def normalize_fields(fielddefs):
    """Field definitions with type references in one spelling (pkg/msg/Name)."""
    def norm(kind, detail):
        if kind == Nodetype.NAME:
            pkg, *_, name = detail.split("/")
            return (int(kind), f"{pkg}/msg/{name}")
        if kind == Nodetype.BASE:
            return (int(kind), detail[0])
        (sub_kind, sub_detail), size = detail
        return (int(kind), norm(sub_kind, sub_detail), size)

    consts, fields = fielddefs
    return (sorted((n, t, v) for n, t, v in consts), [(n, norm(k, d)) for n, (k, d) in fields])


def check_definitions(items):
    from mcap_ros2._dynamic import generate_dynamic

    problems = []
    for item in items:
        typename, text = item["type"], item["definition"]
        try:
            parsed = get_types_from_msg(text, typename)
        except Exception as e:  # noqa: BLE001 - report every failure by type
            problems.append(f"{typename}: rosbags cannot parse the definition: {e}")
            continue
        for name, fielddefs in parsed.items():
            if name not in STORE.fielddefs:
                if not name.startswith("tether_msgs/"):
                    problems.append(f"{typename}: {name} is not a Humble type")
                continue
            ours, theirs = normalize_fields(fielddefs), normalize_fields(STORE.fielddefs[name])
            if ours != theirs:
                problems.append(f"{typename}: section {name} differs from Humble: {ours} vs {theirs}")
        try:
            decoders = generate_dynamic(typename, text)
            if typename not in decoders:
                problems.append(f"{typename}: mcap_ros2 found no decoder")
        except Exception as e:  # noqa: BLE001
            problems.append(f"{typename}: mcap_ros2 cannot parse the definition: {e}")
    return {"problems": problems}


def read_mcap(path, expect):
    from mcap.reader import NonSeekingReader, make_reader
    from mcap_ros2.decoder import DecoderFactory

    with open(path, "rb") as f:
        reader = make_reader(f, validate_crcs=True, decoder_factories=[DecoderFactory()])
        header = reader.get_header()
        summary = reader.get_summary()
        got = [
            {"topic": channel.topic, "log_time": message.log_time, "publish_time": message.publish_time,
             "sequence": message.sequence, "value": plain(decoded)}
            for _, channel, message, decoded in reader.iter_decoded_messages(log_time_order=False)
        ]
    # A linear pass that checks every chunk CRC and the data-section CRC as well.
    with open(path, "rb") as f:
        linear = sum(1 for _ in NonSeekingReader(f, validate_crcs=True).iter_messages())
    result = {
        "header": {"profile": header.profile, "library": header.library},
        "messages_read": len(got),
        "linear_messages_read": linear,
        "counts": {},
        "statistics": None,
        "chunk_indexes": 0,
        "mismatches": [],
    }
    for m in got:
        result["counts"][m["topic"]] = result["counts"].get(m["topic"], 0) + 1
    if summary is not None:
        st = summary.statistics
        if st is not None:
            topic_of = {c.id: c.topic for c in summary.channels.values()}
            result["statistics"] = {
                "message_count": st.message_count, "chunk_count": st.chunk_count,
                "channel_count": st.channel_count, "schema_count": st.schema_count,
                "message_start_time": st.message_start_time, "message_end_time": st.message_end_time,
                "per_topic": {topic_of[k]: v for k, v in st.channel_message_counts.items()},
            }
        result["chunk_indexes"] = len(summary.chunk_indexes)
        result["message_index_entries"] = sum(len(ci.message_index_offsets) for ci in summary.chunk_indexes)
    if expect is not None:
        # Compare per topic, in the order written.
        by_topic = {}
        for m in got:
            by_topic.setdefault(m["topic"], []).append(m)
        want = {}
        for m in expect:
            want.setdefault(m["topic"], []).append(m)
        for topic in sorted(set(by_topic) | set(want)):
            a, b = by_topic.get(topic, []), want.get(topic, [])
            if len(a) != len(b):
                result["mismatches"].append(f"{topic}: read {len(a)} messages, expected {len(b)}")
                continue
            for i, (x, y) in enumerate(zip(a, b)):
                if x["log_time"] != y["log_time"] or not same(x["value"], y["value"]):
                    result["mismatches"].append(f"{topic}[{i}]: read {x}, expected {y}")
                    break
    return result


def write_mcap(path, chunk_size, messages):
    from mcap.writer import CompressionType
    from mcap_ros2.writer import Writer

    schemas = {}
    with open(path, "wb") as f:
        writer = Writer(f, chunk_size=chunk_size, compression=CompressionType.NONE)
        for m in messages:
            t = m["type"]
            if t not in schemas:
                schemas[t] = writer.register_msgdef(t, msgdef(t))
            writer.write_message(m["topic"], schemas[t], to_namespace(t, m["value"]),
                                 log_time=m["log_time"], publish_time=m["log_time"])
        writer.finish()
    return {"ok": True}


def to_namespace(typename, value):
    """JSON value → nested objects with attributes, as mcap_ros2's encoder reads them."""
    _, fields = STORE.fielddefs[typename]
    out = {}
    for name, (kind, detail) in fields:
        v = value[name]
        if kind == Nodetype.NAME:
            out[name] = to_namespace(detail, v)
        elif kind in (Nodetype.ARRAY, Nodetype.SEQUENCE) and detail[0][0] == Nodetype.NAME:
            out[name] = [to_namespace(detail[0][1], x) for x in v]
        else:
            out[name] = v
    return SimpleNamespace(**out)


def rosbags_plain(value):
    """A rosbags message (dataclasses, numpy arrays) as JSON values."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: rosbags_plain(getattr(value, k)) for k in value.__dataclass_fields__ if k != "__msgtype__"}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [rosbags_plain(v) for v in value]
    return value


def read_rosbags(path, definitions, samples=()):
    """Reads an MCAP file with rosbags' rosbag2 reader (its MCAP storage plugin) and deserializes
    every message with rosbags' own CDR decoder. rosbags reads bag directories, so the file is
    linked into a temporary directory beside a metadata.yaml written from the file's summary, as
    `ros2 bag` would have written it."""
    import os
    import tempfile
    from pathlib import Path

    from mcap.reader import make_reader
    from rosbags.rosbag2 import Reader

    register(definitions)
    with open(path, "rb") as f:
        summary = make_reader(f).get_summary()
    stats = summary.statistics
    topics = []
    for cid, channel in summary.channels.items():
        schema = summary.schemas[channel.schema_id]
        topics.append({"topic_metadata": {"name": channel.topic, "type": schema.name, "serialization_format": "cdr",
                                          "offered_qos_profiles": ""},
                       "message_count": stats.channel_message_counts.get(cid, 0)})
    counts = {}
    last = {}
    with tempfile.TemporaryDirectory() as tmp:
        bag = Path(tmp) / "bag"
        bag.mkdir()
        os.symlink(os.path.abspath(path), bag / "bag_0.mcap")
        meta = {"rosbag2_bagfile_information": {
            "version": 5, "storage_identifier": "mcap", "relative_file_paths": ["bag_0.mcap"],
            "duration": {"nanoseconds": stats.message_end_time - stats.message_start_time},
            "starting_time": {"nanoseconds_since_epoch": stats.message_start_time},
            "message_count": stats.message_count, "topics_with_message_count": topics,
            "compression_format": "", "compression_mode": "", "files": []}}
        (bag / "metadata.yaml").write_text(json.dumps(meta))  # JSON is YAML
        with Reader(bag) as reader:
            for connection, _timestamp, raw in reader.messages():
                message = STORE.deserialize_cdr(raw, connection.msgtype)
                counts[connection.topic] = counts.get(connection.topic, 0) + 1
                if connection.topic in samples:
                    last[connection.topic] = rosbags_plain(message)
    return {"counts": counts, "samples": last}


def main():
    arg = sys.argv[1]
    if arg.startswith("@"):
        with open(arg[1:]) as f:
            arg = f.read()
    req = json.loads(arg)
    op = req["op"]
    if op == "serialize":
        register(req.get("definitions"))
        out = [bytes(STORE.serialize_cdr(build(i["type"], i["value"]), i["type"])).hex() for i in req["items"]]
        print(json.dumps({"hex": out}))
    elif op == "deserialize":
        register(req.get("definitions"))
        print(json.dumps(deserialize(req["items"])))
    elif op == "check_definitions":
        print(json.dumps(check_definitions(req["items"])))
    elif op == "read_mcap":
        print(json.dumps(read_mcap(req["path"], req.get("expect"))))
    elif op == "read_rosbags":
        print(json.dumps(read_rosbags(req["path"], req.get("definitions"), tuple(req.get("samples", ())))))
    elif op == "write_mcap":
        print(json.dumps(write_mcap(req["path"], req.get("chunk_size", 4096), req["messages"])))
    else:
        raise SystemExit(f"unknown op {op}")


if __name__ == "__main__":
    main()
