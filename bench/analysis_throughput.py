"""Benchmark: the whole ``vigil analyze`` over N simulated sign-ins and activities, then one more day.

The canonical fast path of the simulator (``write_canonical``) writes ``--days + 1`` days of a tenant;
the first ``--days`` are loaded into a fresh store and analysed with every stage (identity, enrich,
sessions, ueba, detections, risk, incidents, cae), then the last day is added and analysed again
(the incremental figure). Prints seconds and CPU seconds per stage, events/s and peak RSS, beside a
same-run baseline: one ``lag()`` window over the sign-ins (partition by user, order by time and
event_id), the cheapest pass any per-user analysis makes.

    .venv/bin/python bench/analysis_throughput.py --users 13400 --days 30      # ~10 M events
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vigil.pipeline import STAGES
from vigil.settings import load_settings
from vigil.simulate.canonical import write_canonical
from vigil.simulate.engine import DEFAULT_START
from vigil.store import Store, open_store


def _load(store: Store, folder: Path, lo: int, hi: int) -> int:
    """Insert the canonical rows with lo <= day < hi (days since the simulation start), in batches."""
    first = datetime(DEFAULT_START.year, DEFAULT_START.month, DEFAULT_START.day)
    t_lo = pa.scalar(first + timedelta(days=lo), pa.timestamp("us"))
    t_hi = pa.scalar(first + timedelta(days=hi), pa.timestamp("us"))
    n = 0
    for table in ("signins", "activities", "directory_events"):
        path = folder / f"{table}.parquet"
        if not path.exists():
            continue
        for batch in pq.ParquetFile(path).iter_batches(batch_size=250_000):
            t = batch.column("event_time")
            keep = pc.and_(pc.greater_equal(t, t_lo.cast(t.type)), pc.less(t, t_hi.cast(t.type)))
            part = batch.filter(keep)
            if part.num_rows:
                store.con.register("_bench_batch", part)
                store.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _bench_batch")
                store.con.unregister("_bench_batch")
                n += part.num_rows
    return n


def _analyze(store: Store, settings: object) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, run in STAGES:
        w0, c0 = time.perf_counter(), time.process_time()
        summary = run(store, settings)  # type: ignore[arg-type]
        out[name] = {"s": round(time.perf_counter() - w0, 2), "cpu_s": round(time.process_time() - c0, 2)}
        # how the stage ran: identity full | incremental, enrich's IPs, BehaviorAnalytics' increment
        mode = " ".join(f"{k}={summary[k]}" for k in ("mode", "ip_mode", "behavior_mode") if k in summary)
        print(f"  {name:<11} {out[name]['s']:7.2f} s  cpu {out[name]['cpu_s']:7.2f} s  load {os.getloadavg()[0]:.1f}"
              f"  {mode}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=13_400)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="vigil-analysis-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}; "
          f"load {os.getloadavg()}", flush=True)
    t0 = time.perf_counter()
    sim = write_canonical(work / "tenant", users=args.users, days=args.days + 1, seed=1)
    print(f"simulated {sim.events:,} events in {time.perf_counter() - t0:.0f} s (not counted)", flush=True)
    path = work / "store.duckdb"
    settings = load_settings(overrides={"store.path": str(path)}, environ={})
    store = open_store(str(path), memory_limit=settings.store.memory_limit)
    events = _load(store, work / "tenant", 0, args.days)
    store.con.execute("CHECKPOINT")
    print(f"loaded {events:,} events of {args.days} days", flush=True)

    w0, c0 = time.perf_counter(), time.process_time()
    # hashed, so the optimiser cannot drop the window
    store.con.sql("SELECT sum(hash(prev)) FROM (SELECT lag(event_time) OVER (PARTITION BY user_id "
                  "ORDER BY event_time, event_id) AS prev FROM signins)").fetchall()
    base = {"s": round(time.perf_counter() - w0, 1), "cpu_s": round(time.process_time() - c0, 1)}
    print(f"baseline: one lag() window over the sign-ins: {base['s']} s (cpu {base['cpu_s']} s)", flush=True)

    print("full analysis:", flush=True)
    w0 = time.perf_counter()
    full = _analyze(store, settings)
    full_s = time.perf_counter() - w0
    cpu = sum(v["cpu_s"] for v in full.values())
    print(f"full: {full_s:.1f} s -> {events / full_s:,.0f} events/s; cpu {cpu:.1f} s", flush=True)

    new = _load(store, work / "tenant", args.days, args.days + 1)
    print(f"one more day: {new:,} events", flush=True)
    w0 = time.perf_counter()
    inc = _analyze(store, settings)
    inc_s = time.perf_counter() - w0
    print(f"incremental: {inc_s:.1f} s; cpu {sum(v['cpu_s'] for v in inc.values()):.1f} s", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:,.0f} MB; load {os.getloadavg()}")
    store.close()
    if args.json:
        print(json.dumps({"events": events, "baseline": base, "full_s": full_s, "full": full, "new_events": new,
                          "incremental_s": inc_s, "incremental": inc, "peak_rss_mb": round(rss)}))


if __name__ == "__main__":
    main()
