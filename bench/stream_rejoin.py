"""How long a consumer restarted after SIGKILL waits for its partitions, per group session timeout and with or
without static membership (group.instance.id), on the test broker (Tansu, in memory, 127.0.0.1).

    .venv/bin/python bench/stream_rejoin.py [--sessions 2000,6000,10000]

Each case: a fresh broker and 2-partition topic, a consumer process joins (first join time), is killed with
SIGKILL a second later, and a new process with the same settings joins; the figure is from the kill to the new
process' first assignment. Same-run baseline: the first join of the same consumer (what joining costs at all).
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.stream.broker import Tansu  # noqa: E402

CHILD = r'''
import sys, time
from confluent_kafka import Consumer
conf = {"bootstrap.servers": sys.argv[1], "group.id": "g", "session.timeout.ms": int(sys.argv[2]),
        "heartbeat.interval.ms": max(100, int(sys.argv[2]) // 3), "auto.offset.reset": "earliest"}
if sys.argv[3] != "-":
    conf["group.instance.id"] = sys.argv[3]
c = Consumer(conf)
t0 = time.time()
c.subscribe(["t"])
while not c.assignment():
    c.poll(0.1)
print("%.2f" % (time.time() - t0), flush=True)
while True:
    c.poll(0.1)
'''


def member(bootstrap: str, session_ms: int, instance: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, bootstrap, str(session_ms), instance],
                            stdout=subprocess.PIPE, text=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", default="2000,6000,10000", help="session.timeout.ms values, comma-separated")
    a = ap.parse_args()
    log = Path(tempfile.mkdtemp(prefix="vigil-rejoin-")) / "tansu.log"
    print(f"{'session ms':>10} {'static':>7} {'first join s':>13} {'kill -> assigned s':>19}")
    for session_ms in (int(s) for s in a.sessions.split(",")):
        for instance in ("-", "vigil-1"):
            broker = Tansu(log)
            broker.start()
            try:
                broker.create_topic("t", 2)
                first = member(broker.bootstrap, session_ms, instance)
                joined = (first.stdout.readline() if first.stdout else "").strip()
                time.sleep(1)
                first.send_signal(signal.SIGKILL)
                first.wait()
                killed = time.time()
                again = member(broker.bootstrap, session_ms, instance)
                (again.stdout.readline() if again.stdout else "").strip()
                print(f"{session_ms:>10} {instance != '-'!s:>7} {joined:>13} {time.time() - killed:>19.2f}", flush=True)
                again.kill()
                again.wait()
            finally:
                broker.stop()


if __name__ == "__main__":
    main()
