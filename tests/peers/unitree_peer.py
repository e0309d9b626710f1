#!/usr/bin/env python3
"""Test peer for Tether's Unitree protocol: the vendor's own Python SDK (`unitree_sdk2` 1.0.1 from
PyPI, module `unitree_sdk2py`): its IDL classes for unitree_go / unitree_hg and its `CRC` helper,
with the Python `cyclonedds` package for serialization and transport (loopback: CYCLONEDDS_URI is
set by the caller).

Messages travel as JSON objects with the IDL's field names (nested objects, lists for arrays);
types are named "go.LowCmd", "go.LowState", "hg.LowCmd", "hg.LowState", "go.MotorCmd", ...

argv[1] is a JSON request, or @path of a file holding one:
  {"op": "encode", "messages": [{"type": T, "fields": {...}}, ...]}
      -> {"encoded": [{"cdr": hex of the SDK's serialization (header included),
                       "crc": the SDK's CRC (checked messages only), "fields": the message back}]}
  {"op": "exchange", "domain": D, "protocol": "go"|"hg", "commands": N, "states": [{"fields": {...},
   "corrupt": bool}, ...], "period": s, "timeout": s}
      Subscribes to rt/lowcmd, publishes each state on rt/lowstate (CRC set by the SDK's helper, then
      flipped when "corrupt"), every `period` seconds once a reader matched, and collects N commands.
      Prints {"ready": true} once its entities exist, then
      {"commands": [{"crc_ok": bool, "crc": sent, "expected": SDK's, "fields": {...}}], "states_sent": n}
"""
import dataclasses
import importlib.util
import json
import platform
import sys
import time
import types

# unitree_sdk2 1.0.1's package __init__ imports a `b2` subpackage the wheel does not ship, so
# `import unitree_sdk2py` fails. Register the package without running its __init__; the
# submodules we need (idl, utils.crc) import cleanly on their own.
_spec = importlib.util.find_spec("unitree_sdk2py")
if _spec is None:
    sys.exit("unitree_sdk2py is not installed: run scripts/setup.sh (it installs unitree-sdk2==1.0.1 without dependencies)")
_package = types.ModuleType("unitree_sdk2py")
_package.__path__ = list(_spec.submodule_search_locations)
sys.modules["unitree_sdk2py"] = _package

from cyclonedds.core import Policy, Qos  # noqa: E402
from cyclonedds.domain import DomainParticipant  # noqa: E402
from cyclonedds.pub import DataWriter  # noqa: E402
from cyclonedds.sub import DataReader  # noqa: E402
from cyclonedds.topic import Topic  # noqa: E402

from unitree_sdk2py.idl import default as sdk_defaults  # noqa: E402
from unitree_sdk2py.utils.crc import CRC  # noqa: E402


def make_crc():
    """The SDK's CRC helper. On Linux its constructor loads a compiled `lib/crc_amd64.so` that the
    1.0.1 wheel does not ship; on other systems it uses its own pure-Python routine. So it is
    built while `platform.system` answers something other than Linux (cyclonedds is loaded
    already, so nothing else sees the answer), and the SDK's Python CRC does the work."""
    real = platform.system
    platform.system = lambda: "NotLinux"
    try:
        return CRC()
    finally:
        platform.system = real


SDK_CRC = make_crc()
CHECKED = {"LowCmd", "LowState"}


def blank(kind):
    """A message of `kind` ("go.LowCmd") with the SDK's defaults (every field zero)."""
    package, name = kind.split(".")
    factory = getattr(sdk_defaults, f"unitree_{package}_msg_dds__{name}_")
    return factory()


def assign(message, fields):
    """Sets `fields` (nested dicts and lists, IDL names) on an SDK message, recursively."""
    for key, value in fields.items():
        if not hasattr(message, key):
            raise KeyError(f"{type(message).__name__} has no field {key}")
        current = getattr(message, key)
        if isinstance(value, dict):
            assign(current, value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for element, element_fields in zip(current, value):
                assign(element, element_fields)
        else:
            setattr(message, key, value)
    return message


def as_json(message):
    """The message as nested dicts and lists (received uint8 arrays come as bytes: made lists)."""
    def plain(value):
        if isinstance(value, (bytes, bytearray)):
            return list(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    return plain(dataclasses.asdict(message))


def encode(request):
    out = []
    for item in request["messages"]:
        message = assign(blank(item["type"]), item["fields"])
        entry = {"cdr": bytes(message.serialize()).hex(), "fields": as_json(message)}
        if item["type"].split(".")[1] in CHECKED:
            entry["crc"] = SDK_CRC.Crc(message)
        out.append(entry)
    return {"encoded": out}


def exchange(request):
    protocol = request["protocol"]
    participant = DomainParticipant(request.get("domain", 0))
    # The SDK's channels use DDS's default QoS (reliable writers, best-effort readers); a robot
    # (Cyclone DDS 0.10, which the SDK pins) writes XCDR1, which this newer cyclonedds must be told.
    writer_qos = Qos(Policy.DataRepresentation(use_cdrv0_representation=True))
    cmd_type = type(blank(f"{protocol}.LowCmd"))
    state_type = type(blank(f"{protocol}.LowState"))
    reader = DataReader(participant, Topic(participant, "rt/lowcmd", cmd_type))
    writer = DataWriter(participant, Topic(participant, "rt/lowstate", state_type), qos=writer_qos)
    print(json.dumps({"ready": True}), flush=True)

    states = []
    for item in request.get("states", []):
        state = assign(blank(f"{protocol}.LowState"), item["fields"])
        state.crc = SDK_CRC.Crc(state)
        if item.get("corrupt"):
            state.crc ^= 0x1
        states.append(state)

    commands = []
    wanted = request.get("commands", 0)
    period = request.get("period", 0.005)
    deadline = time.time() + request.get("timeout", 20)
    # Start once both endpoints matched Tether's: a command sent after our first state is then never
    # lost to discovery (Tether waits for that state before it sends).
    while time.time() < deadline and states and (not writer.get_matched_subscriptions() or not reader.get_matched_publications()):
        time.sleep(0.01)
    sent = 0
    next_send = time.time()
    while time.time() < deadline and (len(commands) < wanted or sent < len(states)):
        if sent < len(states) and time.time() >= next_send:
            writer.write(states[sent])
            sent += 1
            next_send = time.time() + period
        for command in reader.take(N=16):
            if len(commands) >= wanted:
                break
            commands.append({"crc_ok": command.crc == SDK_CRC.Crc(command), "crc": command.crc,
                             "expected": SDK_CRC.Crc(command), "fields": as_json(command)})
        time.sleep(0.0005)
    time.sleep(0.2)  # let the last states go out
    return {"commands": commands, "states_sent": sent}


def main():
    argument = sys.argv[1]
    if argument.startswith("@"):
        with open(argument[1:]) as f:
            argument = f.read()
    request = json.loads(argument)
    if request["op"] == "encode":
        print(json.dumps(encode(request)), flush=True)
    elif request["op"] == "exchange":
        print(json.dumps(exchange(request)), flush=True)
    else:
        sys.exit(f"unknown op {request['op']}")


if __name__ == "__main__":
    main()
