"""Simulator throughput: vendor-format NDJSON and the canonical-Parquet fast path.

    .venv/bin/python bench/simulate_throughput.py --path vendor --users 2000 --days 30 --gzip
    .venv/bin/python bench/simulate_throughput.py --path canonical --users 15000 --days 30

Each run happens in a child process so its peak RSS is its own. Same-run baselines: for the vendor
path, re-serialising 200,000 of the written records with orjson alone (the floor for any JSON writer);
for the canonical path, rewriting the produced signins table with pyarrow alone (Parquet I/O floor).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(args: argparse.Namespace) -> None:
    from vigil.simulate import simulate_tenant
    from vigil.simulate.canonical import write_canonical

    started = time.perf_counter()
    if args.path == "vendor":
        s = simulate_tenant(args.out, users=args.users, days=args.days, seed=1, compress=args.gzip)
        files, events = s.files, sum(s.files.values())
    else:
        c = write_canonical(args.out, users=args.users, days=args.days, seed=1)
        files, events = c.files, c.events
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in Path(args.out).iterdir())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime  # CPU time: steadier than wall time on a shared machine
    print(json.dumps({"files": files, "events": events, "seconds": round(seconds, 1),
                      "events_per_s": round(events / seconds), "cpu_seconds": round(cpu, 1),
                      "events_per_cpu_s": round(events / cpu), "bytes_on_disk": size,
                      "peak_rss_mb": round(usage.ru_maxrss / 1024), "load_average": os.getloadavg()}))


def baseline(args: argparse.Namespace) -> dict[str, float]:
    import orjson
    import pyarrow.parquet as pq

    out = Path(args.out)
    if args.path == "vendor":
        name = "AADNonInteractiveUserSignInLogs.json" + (".gz" if args.gzip else "")
        opener = gzip.open if args.gzip else open
        rows = []
        with opener(out / name, "rb") as fh:  # type: ignore[operator]
            for line in fh:
                rows.append(orjson.loads(line))
                if len(rows) == 200_000:
                    break
        t = time.perf_counter()
        for r in rows:
            orjson.dumps(r)
        s = time.perf_counter() - t
        return {"baseline": "orjson.dumps only", "records": len(rows), "records_per_s": round(len(rows) / s)}
    table = pq.read_table(out / "signins.parquet")
    t = time.perf_counter()
    pq.write_table(table, out / "_baseline.parquet", compression="zstd")
    s = time.perf_counter() - t
    os.remove(out / "_baseline.parquet")
    return {"baseline": "pyarrow rewrite of signins.parquet", "records": table.num_rows,
            "records_per_s": round(table.num_rows / s)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", choices=("vendor", "canonical"), default="vendor")
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--child", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    out = args.out or tempfile.mkdtemp(prefix=f"vigil-sim-{args.path}-")
    cmd = [sys.executable, __file__, "--child", "--path", args.path, "--users", str(args.users), "--days",
           str(args.days), "--out", out] + (["--gzip"] if args.gzip else [])
    result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    result.update(path=args.path, users=args.users, days=args.days, gzip=args.gzip, out=out,
                  cpus=os.cpu_count(), python=platform.python_version(), same_run_baseline=baseline(args))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
