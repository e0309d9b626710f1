#!/usr/bin/env python3
"""The vendor's Python SDK (unitree_sdk2 1.0.1) doing `tether bench unitree`'s round trip: a
controller sends a LowCmd with its CRC, the robot side checks it and answers with a LowState with
its CRC, the controller checks that and times the round trip. Same topics, QoS (reliable, keep
last 1, XCDR1), loopback configuration (CYCLONEDDS_URI from the caller) and one message in flight
as Tether's side.

  --role pong --protocol go|hg --domain D --seconds S [--no-crc]
  --role ping --protocol go|hg --domain D --count N --repeats R [--no-crc]
      prints {"median_us": .., "p99_us": .., "crc_us": CRC of one LowState with the SDK's helper}

--no-crc skips the SDK's CRC on both sides: the 1.0.1 wheel lacks the compiled CRC library its
helper loads on Linux, so the helper runs its pure-Python routine; without it the figures are
the SDK's transport and IDL alone (what a compiled CRC would approach).
"""
import argparse
import json
import os
import sys
import time

# The SDK import workarounds (a package __init__ that fails, a missing compiled CRC) live in the
# test peer; reuse them rather than repeat them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "peers"))
from unitree_peer import SDK_CRC, blank  # noqa: E402

from cyclonedds.core import InstanceState, Policy, Qos, ReadCondition, SampleState, ViewState, WaitSet  # noqa: E402
from cyclonedds.domain import DomainParticipant  # noqa: E402
from cyclonedds.pub import DataWriter  # noqa: E402
from cyclonedds.sub import DataReader  # noqa: E402
from cyclonedds.topic import Topic  # noqa: E402
from cyclonedds.util import duration  # noqa: E402

QOS = Qos(Policy.Reliability.Reliable(max_blocking_time=duration(seconds=1)), Policy.History.KeepLast(1),
          Policy.Durability.Volatile, Policy.DataRepresentation(use_cdrv0_representation=True))


def set_tag(command, protocol, value):
    if protocol == "go":
        command.reserve = value
    else:
        command.reserve[0] = value


def get_tag(command, protocol):
    return command.reserve if protocol == "go" else command.reserve[0]


class Waiting:
    """A reader with one waitset made once (cyclonedds' take_iter makes a new one per call)."""

    def __init__(self, participant, reader):
        self.reader = reader
        self.condition = ReadCondition(reader, ViewState.Any | InstanceState.Alive | SampleState.Any)
        self.waitset = WaitSet(participant)
        self.waitset.attach(self.condition)

    def take(self, timeout_s):
        """The samples waiting, after waiting up to timeout_s for one."""
        samples = self.reader.take(N=8, condition=self.condition)
        if samples:
            return samples
        self.waitset.wait(duration(seconds=max(0.0, timeout_s)))
        return self.reader.take(N=8, condition=self.condition)


def endpoints(protocol, domain, role):
    participant = DomainParticipant(domain)
    cmd_topic = Topic(participant, "rt/lowcmd", type(blank(f"{protocol}.LowCmd")))
    state_topic = Topic(participant, "rt/lowstate", type(blank(f"{protocol}.LowState")))
    if role == "pong":
        return participant, DataReader(participant, cmd_topic, qos=QOS), DataWriter(participant, state_topic, qos=QOS)
    return participant, DataReader(participant, state_topic, qos=QOS), DataWriter(participant, cmd_topic, qos=QOS)


def pong(args):
    participant, reader, writer = endpoints(args.protocol, args.domain, "pong")
    waiting = Waiting(participant, reader)
    state = blank(f"{args.protocol}.LowState")
    end = time.time() + args.seconds
    while time.time() < end:
        for command in waiting.take(0.1):
            if args.crc and command.crc != SDK_CRC.Crc(command):
                continue
            state.tick = get_tag(command, args.protocol)
            state.crc = SDK_CRC.Crc(state) if args.crc else 0
            writer.write(state)


def ping(args):
    participant, reader, writer = endpoints(args.protocol, args.domain, "ping")
    waiting = Waiting(participant, reader)
    command = blank(f"{args.protocol}.LowCmd")
    for motor in command.motor_cmd:
        motor.mode, motor.kp, motor.kd = 1, 20.0, 0.5
    deadline = time.time() + 20
    while (not writer.get_matched_subscriptions() or not reader.get_matched_publications()) and time.time() < deadline:
        time.sleep(0.01)

    def one(tag, timeout=1.0):
        set_tag(command, args.protocol, tag)
        command.crc = SDK_CRC.Crc(command) if args.crc else 0
        start = time.perf_counter()
        writer.write(command)
        limit = start + timeout
        while True:
            for state in waiting.take(limit - time.perf_counter()):
                if state.tick == tag and (not args.crc or state.crc == SDK_CRC.Crc(state)):
                    return (time.perf_counter() - start) * 1e6
            if time.perf_counter() >= limit:
                return None

    tag = 1
    while one(tag, timeout=0.1) is None:  # until both sides see each other
        tag += 1
        if time.time() > deadline:
            sys.exit("the pong side never answered")
    for _ in range(max(20, args.count // 10)):
        tag += 1
        one(tag)
    best = None
    for _ in range(args.repeats):
        samples = []
        for _ in range(args.count):
            tag += 1
            t = one(tag)
            if t is not None:
                samples.append(t)
        samples.sort()
        figures = (samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.99))])
        if best is None or figures[0] < best[0]:
            best = figures
    state = blank(f"{args.protocol}.LowState")
    start = time.perf_counter()
    for _ in range(20):
        SDK_CRC.Crc(state)
    crc_us = (time.perf_counter() - start) / 20 * 1e6
    print(json.dumps({"median_us": best[0], "p99_us": best[1], "crc_us": crc_us}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["ping", "pong"], required=True)
    parser.add_argument("--protocol", choices=["go", "hg"], default="go")
    parser.add_argument("--domain", type=int, default=0)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--no-crc", dest="crc", action="store_false")
    args = parser.parse_args()
    pong(args) if args.role == "pong" else ping(args)


if __name__ == "__main__":
    main()
