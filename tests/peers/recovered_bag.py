"""Checks a bag that `tether log recover` wrote after a `kill -9` (tests/crash_record.sh).

Usage: recovered_bag.py BAG KILL_TIME
  BAG        the recovered MCAP file
  KILL_TIME  when the recording process was killed, s since the epoch

Reads the bag with the `mcap` library (indexed, with CRC checks, and a linear pass), prints what
it holds and how long before the kill its last message was logged, and exits 1 with the problems
found: a summary that does not count the messages, messages out of log-time order, a topic
missing, less than 4 s recovered, or a last message more than 1.5 s (1 s + scheduling) before
the kill.
"""
import sys
from collections import Counter
from mcap.reader import NonSeekingReader, make_reader
from mcap_ros2.decoder import DecoderFactory

path, kill_time = sys.argv[1], float(sys.argv[2])
counts, first, last, previous, ordered = Counter(), None, None, 0, True
with open(path, "rb") as f:
    reader = make_reader(f, validate_crcs=True, decoder_factories=[DecoderFactory()])
    summary = reader.get_summary()
    for _, channel, message, _ in reader.iter_decoded_messages(log_time_order=False):
        counts[channel.topic] += 1
        ordered = ordered and message.log_time >= previous
        previous = message.log_time
        first = message.log_time if first is None else min(first, message.log_time)
        last = message.log_time if last is None else max(last, message.log_time)
with open(path, "rb") as f:  # a linear pass that checks every chunk CRC and the data-section CRC
    linear = sum(1 for _ in NonSeekingReader(f, validate_crcs=True).iter_messages())
total = sum(counts.values())
gap = kill_time - last * 1e-9
span = (last - first) * 1e-9
print(f"recovered bag: {total} messages, {span:.2f} s of log time, topics {dict(sorted(counts.items()))}")
print(f"last recovered message: {gap:.3f} s before the kill")
problems = []
if summary is None or summary.statistics is None or summary.statistics.message_count != total:
    problems.append("the summary's statistics do not count the messages read")
if linear != total:
    problems.append(f"a linear read found {linear} messages, the indexed read {total}")
if not ordered:
    problems.append("messages are not in log-time order")
for topic in ["/joint_states", "/imu", "/joint_commands", "/tether/action", "/tether/observation"]:
    if counts[topic] == 0:
        problems.append(f"no {topic} messages")
if span < 4:
    problems.append(f"only {span:.2f} s recovered of a ~6 s run")
if not -0.05 <= gap <= 1.5:
    problems.append(f"the last message is {gap:.3f} s before the kill (at most 1 s, +0.5 s for scheduling)")
for p in problems:
    print("problem:", p)
sys.exit(1 if problems else 0)
