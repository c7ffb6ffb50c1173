"""Stream benchmark: a producer replays a simulated tenant at a sustained rate through a Kafka broker into a
running `vigil serve`; throughput, latency produce -> stored / analysed / CAE-enforced; SIGKILL and restart.

    .venv/bin/python bench/stream_latency.py [--rate 5000] [--seconds 60] [--users 60] [--days 30]
                                             [--kill-at 30] [--probes 10]

Figures (all on this machine, broker = Tansu in memory, one record per message):

* throughput: records per second the service stored (and analysed) while the producer ran at --rate;
* produce -> stored: from the producer's delivery acknowledgement of a record's message to the commit of
  the transaction holding it (``stream_batches.stored_at`` of its micro-batch);
* produce -> analysed: to the commit of the analysis that took its micro-batch in; from then its sessions,
  detections, risk and incidents are what the API serves (checked by polling GET /api/v1/stream);
* critical event -> enforced: a password reset (Event Hubs batch) of a user holding a token, produced while
  the load runs; time until a CAE-protected resource (another process' middleware reading the CAE journal)
  answers 401 to that token;
* SIGKILL at --kill-at s and immediate restart: records lost and duplicated (must be 0), time until the
  per-second p99 of produce -> stored is back under 5 s.

Baselines in the same run: a bare consumer group on the same broker at the same rate (produce -> consumed:
what the broker and client cost), and the same records ingested from files + one `vigil analyze` (batch).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.stream.broker import Tansu  # noqa: E402
from vigil.api.cae_demo import ServerThread, create_demo_app  # noqa: E402
from vigil.api.launch import free_port, wait_until_serving  # noqa: E402
from vigil.cae.service import CaeService  # noqa: E402
from vigil.cae.tokens import issue_token  # noqa: E402
from vigil.cli._service import read_state, state_path  # noqa: E402
from vigil.settings import load_settings  # noqa: E402
from vigil.simulate import simulate_tenant  # noqa: E402
from vigil.store import open_store  # noqa: E402

LOGS = ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "OfficeActivity_ManagementAPI.json",
        "AuditLogs.json")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else float("nan")


def fmt(values: list[float]) -> str:
    return (f"p50 {pct(values, 50):7.3f} s  p99 {pct(values, 99):7.3f} s  max {max(values or [0]):7.3f} s  "
            f"(n={len(values)})")


def records(sim: Path) -> list[tuple[str, bytes]]:
    """(record id, line) in event-time order, as a tenant would emit them."""
    out = []
    for name in LOGS:
        for line in (sim / name).read_bytes().splitlines():
            rec = orjson.loads(line)
            out.append((str(rec.get("TimeGenerated") or rec.get("CreationTime")), str(rec["Id"]), line))
    out.sort()
    return [(i, line) for _t, i, line in out]


class Producer:
    """Produces at ``rate`` records per second (one record per message); the acknowledgement time per id."""

    def __init__(self, broker: Tansu, topic: str, rate: int) -> None:
        self.p = broker.producer(**{"linger.ms": 2, "queue.buffering.max.messages": 1_000_000})
        self.topic, self.rate = topic, rate
        self.acked: dict[str, float] = {}
        self.errors = 0

    def _cb(self, rid: str) -> Any:
        def cb(err: Any, _msg: Any) -> None:
            if err is None:
                self.acked[rid] = time.time()
            else:
                self.errors += 1
        return cb

    def run(self, items: list[tuple[str, bytes]], stop: threading.Event | None = None) -> float:
        started = time.monotonic()
        for n, (rid, value) in enumerate(items):
            due = started + n / self.rate
            while (now := time.monotonic()) < due:
                self.p.poll(min(0.005, due - now))
            self.p.produce(self.topic, value, on_delivery=self._cb(rid))
            if n % 256 == 0:
                self.p.poll(0)
            if stop is not None and stop.is_set():
                break
        self.p.flush(60)
        return time.monotonic() - started


def bare_consumer_baseline(broker: Tansu, items: list[tuple[str, bytes]], rate: int, seconds: float) -> list[float]:
    from confluent_kafka import Consumer

    topic = f"baseline-{uuid.uuid4().hex[:6]}"
    broker.create_topic(topic, 2)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"b-{uuid.uuid4().hex[:6]}",
                  "auto.offset.reset": "earliest", "session.timeout.ms": 4000, "heartbeat.interval.ms": 1000})
    c.subscribe([topic])
    while not c.assignment():  # Tansu: joining takes session.timeout.ms / 2
        c.poll(0.2)
    n = int(rate * seconds)
    sent: dict[bytes, float] = {}
    lat: list[float] = []
    prod = Producer(broker, topic, rate)
    keyed = [(str(i), f"{i}|".encode() + v) for i, (_r, v) in enumerate(items[:n])]
    t = threading.Thread(target=prod.run, args=(keyed,))
    t.start()
    deadline = time.monotonic() + seconds + 30
    while len(lat) < len(keyed) and time.monotonic() < deadline:
        for m in c.consume(1000, timeout=0.2):
            if m.error() is None:
                key = m.value().split(b"|", 1)[0]
                sent[key] = time.time()
        for k in list(sent):
            if k.decode() in prod.acked:
                lat.append(max(0.0, sent.pop(k) - prod.acked[k.decode()]))
    t.join()
    c.close()
    return lat


def batch_baseline(sim: Path, folder: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}"}
    db = folder / "batch.duckdb"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vigil", "ingest", *(str(sim / n) for n in LOGS), "--db", str(db)],
                   check=True, env=env, capture_output=True)
    t1 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vigil", "analyze", "--db", str(db)], check=True, env=env,
                   capture_output=True)
    lines = sum(len((sim / n).read_bytes().splitlines()) for n in LOGS)
    return {"ingest_s": t1 - t0, "analyze_s": time.perf_counter() - t1, "records": lines}


def password_reset(user_id: str, upn: str, when: datetime) -> bytes:
    t = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return orjson.dumps({"records": [{
        "time": t, "category": "AuditLogs", "tenantId": "bench", "operationName": "Reset user password",
        "properties": {"id": f"Directory_{uuid.uuid4().hex}", "activityDateTime": t,
                       "activityDisplayName": "Reset user password", "category": "UserManagement",
                       "operationType": "Reset", "result": "success", "loggedByService": "Core Directory",
                       "initiatedBy": {"user": {"id": "admin", "userPrincipalName": "helpdesk@contoso.com"}},
                       "targetResources": [{"id": user_id, "type": "User", "userPrincipalName": upn}]}}]})


def stream_status(db: Path) -> dict[str, Any] | None:
    """GET /api/v1/stream with the running service's local credential (a restart makes a new one)."""
    info = read_state(state_path(db))
    if info is None:
        return None
    try:
        r = httpx.get(f"{info['url']}/api/v1/stream", headers={"Authorization": f"Bearer {info['token']}"},
                      timeout=30)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


class Service:
    def __init__(self, folder: Path, config: Path) -> None:
        self.folder, self.config, self.log = folder, config, folder / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = free_port()

    def start(self) -> float:
        t0 = time.monotonic()
        env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}"}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "vigil", "serve", "--config", str(self.config),
                                          "--port", str(self.port)], cwd=self.folder, env=env, stdout=out,
                                         stderr=subprocess.STDOUT)
        wait_until_serving(f"http://127.0.0.1:{self.port}", self.proc, lambda: self.log.read_text()[-3000:], 120)
        return time.monotonic() - t0

    def kill(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--users", type=int, default=60)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--kill-at", type=float, default=30, help="SIGKILL the service this many seconds in (0: never)")
    ap.add_argument("--probes", type=int, default=10, help="critical events during the load")
    ap.add_argument("--batch-max", type=int, default=20000)
    ap.add_argument("--session-ms", type=int, default=6000, help="stream.session_timeout_ms (Event Hubs: >= 6000)")
    ap.add_argument("--static", action=argparse.BooleanOptionalAction, default=True,
                    help="static group membership (stream.instance_id): a restart takes the partitions back at once")
    ap.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--profile", type=Path, help="py-spy the service while it runs; collapsed stacks to this file")
    a = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="vigil-stream-bench-"))
    print(f"folder {folder}; load before: {os.getloadavg()}")
    sim = folder / "sim"
    simulate_tenant(sim, users=a.users, days=a.days, seed=5)
    items = records(sim)
    n = min(len(items), int(a.rate * a.seconds))
    items = items[:n]
    print(f"tenant: {a.users} users, {a.days} days; replaying {n:,} records at {a.rate:,}/s")
    broker = Tansu(folder / "tansu.log")
    broker.start()
    try:
        run(a, folder, sim, broker, items)
    finally:
        broker.stop()


def run(a: argparse.Namespace, folder: Path, sim: Path, broker: Tansu, items: list[tuple[str, bytes]]) -> None:
    topic, group = "entra", "vigil-bench"
    broker.create_topic(topic, 2)
    db = folder / "stream.duckdb"
    cfg = folder / "vigil.yaml"
    cfg.write_text(yaml.safe_dump({
        "store": {"path": str(db)},
        "cae": {"state_path": f"{db}.cae.sqlite", "keys_path": f"{db}.keys.json", "sync_interval_ms": 20},
        "stream": {"enabled": True, "brokers": broker.bootstrap, "topics": [topic], "group_id": group,
                   "session_timeout_ms": a.session_ms, "batch_interval_s": 1.0, "batch_max_events": a.batch_max,
                   **({"instance_id": "bench-1"} if a.static else {})}}))
    svc = Service(folder, cfg)
    print(f"service started in {svc.start():.1f} s")
    while not ((stream_status(db) or {}).get("consumer") or {}).get("assigned"):  # Tansu: joining takes ~3 s
        time.sleep(0.2)

    # the CAE-protected resource: another deployment sharing the journal and keys
    rs = load_settings(cfg, overrides={"store.path": str(folder / "resource.duckdb")}, environ={})
    cae = CaeService(rs)
    users = orjson.loads((sim / "users.json").read_bytes())["value"][: a.probes]
    tokens = {u["id"]: issue_token(cae.keys, issuer=rs.cae.issuer, audience=rs.cae.audience, user_id=u["id"],
                                   cp1=True, lifetime_s=3600, now=time.time() - 300)[0] for u in users}
    producer = Producer(broker, topic, a.rate)
    killed: dict[str, float] = {}
    probes: list[float] = []
    stop = threading.Event()

    def killer() -> None:
        if a.kill_at <= 0:
            return
        if stop.wait(a.kill_at):
            return
        svc.kill(signal.SIGKILL)
        killed["at"] = time.time()
        killed["restart_s"] = svc.start()
        killed["up"] = time.time()
        while not stop.is_set() and not ((stream_status(db) or {}).get("consumer") or {}).get("assigned"):
            time.sleep(0.1)
        killed["assigned"] = time.time()

    def prober(resource_url: str) -> None:
        p = broker.producer()
        web = httpx.Client(base_url=resource_url, timeout=10)
        gap = a.seconds / (len(users) + 1)
        for u in users:
            if stop.wait(gap):
                return
            h = {"Authorization": f"Bearer {tokens[u['id']]}"}
            if web.get("/resource/hello", headers=h).status_code != 200:
                continue
            sent = time.time()
            p.produce(topic, password_reset(u["id"], u["userPrincipalName"],
                                            datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)))
            p.flush(10)
            while time.time() - sent < 120 and web.get("/resource/hello", headers=h).status_code != 401:
                time.sleep(0.01)
            probes.append(time.time() - sent)

    with ServerThread(create_demo_app(rs, service=cae)) as resource:
        threads = [threading.Thread(target=killer), threading.Thread(target=prober, args=(resource.url,))]
        for t in threads:
            t.start()
        spy = None
        if a.profile and svc.proc is not None:  # collapsed stacks (flamegraph.pl / speedscope read them)
            spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(svc.proc.pid),
                                    "--format", "raw", "--rate", "50", "--output", str(a.profile)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        produce_s = producer.run(items)
        # wait until everything is stored and analysed
        deadline = time.monotonic() + 600
        want = len(items)
        while time.monotonic() < deadline:
            st = stream_status(db)
            if st and sum(p["committed_offset"] or 0 for p in st["partitions"]) >= want + len(probes) \
                    and st["pending_batches"] == 0:
                break
            time.sleep(0.5)
        drained = time.time() - t0
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy.wait(60)
        stop.set()
        for t in threads:
            t.join()
    cae.close()
    consumer = (stream_status(db) or {}).get("consumer")
    svc.kill(signal.SIGTERM)
    print(f"load during: {os.getloadavg()}")

    with open_store(db, read_only=True) as store:
        rows = store.rows("""
            SELECT r.source_record_id, epoch(b.stored_at), epoch(b.analyzed_at) FROM (
              SELECT source_record_id, source_file FROM signins UNION ALL SELECT source_record_id, source_file
              FROM activities UNION ALL SELECT source_record_id, source_file FROM directory_events) r
            JOIN (SELECT origin, min(stored_at) AS stored_at, min(analyzed_at) AS analyzed_at FROM stream_batches
                  GROUP BY origin) b ON b.origin = r.source_file""")
        dup = store.scalar("""SELECT count(*) - count(DISTINCT source_record_id) FROM (
              SELECT source_record_id FROM signins UNION ALL SELECT source_record_id FROM activities
              UNION ALL SELECT source_record_id FROM directory_events)""")
        quarantined = store.scalar("SELECT count(*) FROM quarantine")
        batches = store.rows("SELECT count(DISTINCT origin), sum(received) FROM stream_batches")[0]
    ids = {rid for rid, _ in items}
    got = {r[0]: r for r in rows if r[0] in ids}
    lost = len(ids - set(got))
    stored_lat = [got[i][1] - producer.acked[i] for i in got if i in producer.acked]
    analysed_lat = [got[i][2] - producer.acked[i] for i in got if i in producer.acked and got[i][2] is not None]
    print(f"\nproduced {len(items):,} records in {produce_s:.1f} s ({len(items) / produce_s:,.0f}/s); all stored and "
          f"analysed after {drained:.1f} s: {len(items) / drained:,.0f} records/s end to end")
    print(f"micro-batches: {batches[0]} (mean {batches[1] / max(batches[0], 1):,.0f} records); "
          f"analyses: {consumer and consumer.get('analyses')}")
    print(f"lost {lost}, duplicated {dup}, quarantined {quarantined}")
    print(f"produce -> stored    {fmt(stored_lat)}")
    print(f"produce -> analysed  {fmt(analysed_lat)}   (incidents, risk and sessions visible over the API)")
    print(f"critical -> enforced {fmt(probes)}")
    if killed:
        after = [(got[i][1], got[i][1] - producer.acked[i]) for i in got if i in producer.acked]
        recovered = None
        for sec in range(int(killed["up"]), int(max(t for t, _ in after)) + 1):
            window = [lat for t, lat in after if sec <= t < sec + 1]
            if window and pct(window, 99) <= 5.0:
                recovered = sec - killed["at"]
                break
        print(f"SIGKILL at {killed['at'] - t0:.1f} s; restarted in {killed['restart_s']:.1f} s; partitions assigned "
              f"again {killed['assigned'] - killed['at']:.1f} s after the kill; produce -> stored p99 "
              f"back under 5 s {recovered if recovered is None else round(recovered, 1)} s after the kill")
    if a.baselines:
        lat = bare_consumer_baseline(broker, items, a.rate, min(a.seconds, 15))
        print(f"baseline: bare consumer group, produce -> consumed {fmt(lat)}")
        b = batch_baseline(sim, folder)
        print(f"baseline: the tenant's {b['records']:,.0f} records from files: ingest {b['ingest_s']:.1f} s "
              f"({b['records'] / b['ingest_s']:,.0f}/s incl. start-up), one vigil analyze {b['analyze_s']:.1f} s")


if __name__ == "__main__":
    main()
