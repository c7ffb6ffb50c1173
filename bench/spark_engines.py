"""Benchmark: every analyze stage on DuckDB and on Spark over the same simulated tenant, same run.

Simulates a tenant (``--users`` x ``--days``; events scale with both), ingests it into a DuckDB
store, writes the lake, then runs each stage on DuckDB (the store) and on Spark (``--master``,
default ``local[2]``, over the lake), each engine in its own process so their peak memory is their
own. Prints seconds per stage, events per second, peak RSS (Python process; for Spark also the
JVM), and a projection of cluster throughput from the per-stage Spark costs, stated as such.

    .venv/bin/python bench/spark_engines.py --users 2000 --days 7 --out /tmp/vigil-spark-bench
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from vigil.pipeline import STAGES, analyze_lake, run_stages
from vigil.settings import Settings, load_settings
from vigil.store import open_store
from vigil.store.lake import export_lake


def _settings(tenant: Path, store: Path) -> Settings:
    return load_settings(overrides={
        "store.path": str(store), "enrich.named_locations": str(tenant / "namedLocations.json"),
        "policy.policies": str(tenant / "conditionalAccessPolicies.json"),
        "detections.leaked_credentials_path": str(tenant / "leaked_credentials.txt"), "ueba.learning_days": 2,
    }, environ={})


def prepare(out: Path, users: int, days: int, seed: int) -> dict[str, Any]:
    from vigil.simulate import simulate_tenant
    from vigil.sources.ingest import ingest_paths
    from vigil.ueba.directory import ingest_directory

    tenant = out / "tenant"
    started = time.perf_counter()
    simulate_tenant(tenant, users=users, days=days, seed=seed)
    sim_s = time.perf_counter() - started
    store_path = out / "input.duckdb"
    with open_store(store_path) as store:
        logs: list[str | Path] = [tenant / n for n in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json",
                                                      "OfficeActivity_ManagementAPI.json", "AuditLogs.json")]
        ingest_paths(store, logs, _settings(tenant, store_path))
        ingest_directory(store, [tenant / "users.json", tenant / "groups.json"])
        events = store.count("signins") + store.count("activities")
        export_lake(store, out / "lake")
    return {"events": events, "simulate_s": round(sim_s, 1)}


def run_engine(engine: str, out: Path, master: str) -> dict[str, Any]:
    """One engine, in this process (called in a child process by main)."""
    tenant = out / "tenant"
    times: dict[str, float] = {}
    jvm_peak = 0
    started = time.perf_counter()
    if engine == "duckdb":
        import shutil

        shutil.copy(out / "input.duckdb", out / "duck.duckdb")
        with open_store(out / "duck.duckdb") as store:
            for name, _ in STAGES:
                t = time.perf_counter()
                run_stages(store, _settings(tenant, out / "duck.duckdb"), [name])
                times[name] = time.perf_counter() - t
    else:
        import shutil

        from vigil.store.spark import session

        shutil.copytree(out / "lake", out / "spark-lake", dirs_exist_ok=True)
        (out / "spark").mkdir(exist_ok=True)
        spark = session(master, app="vigil-bench", conf={"spark.ui.enabled": "false",
                                                          "spark.sql.shuffle.partitions": "4"})
        startup = time.perf_counter() - started
        marks: list[tuple[str, float]] = []
        analyze_lake(str(out / "spark-lake"), _settings(tenant, out / "spark" / "vigil.duckdb"), spark=spark,
                     on_stage=lambda name: marks.append((name, time.perf_counter())))
        end = time.perf_counter()
        for (name, t0), nxt in zip(marks, [m[1] for m in marks[1:]] + [end], strict=True):
            times[name] = nxt - t0  # the last one includes writing the results to the lake
        times["_startup"] = startup
        jvm_peak = _peak_rss_mb(int(spark.sparkContext._jvm.ProcessHandle.current().pid()))
        spark.stop()
    return {"stages": {k: round(v, 2) for k, v in times.items()},
            "total_s": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_child_rss_mb": jvm_peak}


def _peak_rss_mb(pid: int) -> int:
    """A running process's peak resident memory (the JVM is still running, so rusage cannot see it)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--out", type=Path, default=Path("/tmp/vigil-spark-bench"))
    ap.add_argument("--engine", choices=("duckdb", "spark"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine:  # child: one engine
        print(json.dumps(run_engine(args.engine, args.out, args.master)))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    facts = prepare(args.out, args.users, args.days, args.seed)
    print(f"tenant: {args.users} users x {args.days} days = {facts['events']:,} events "
          f"(simulated in {facts['simulate_s']} s); machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    results = {}
    for engine in ("duckdb", "spark"):
        proc = subprocess.run([sys.executable, __file__, "--engine", engine, "--out", str(args.out),
                               "--master", args.master], capture_output=True, text=True, check=False)
        if proc.returncode:
            sys.exit(f"{engine} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else '?'}")
        results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{'stage':<12} {'duckdb s':>9} {'spark s':>9} {'spark/duckdb':>12}")
    for name, _ in STAGES:
        d, s = results["duckdb"]["stages"][name], results["spark"]["stages"][name]
        print(f"{name:<12} {d:>9.2f} {s:>9.2f} {s / d if d else float('inf'):>12.1f}")
    for engine, r in results.items():
        extra = f", JVM peak {r['peak_child_rss_mb']} MB" if engine == "spark" else ""
        print(f"{engine}: {r['total_s']} s in all ({facts['events'] / r['total_s']:,.0f} events/s), "
              f"peak RSS {r['peak_rss_mb']} MB{extra}")
    spark_work = sum(v for k, v in results["spark"]["stages"].items() if not k.startswith("_"))
    cores = int(args.master[6:-1]) if args.master.startswith("local[") and args.master[6:-1].isdigit() else 2
    per_core = facts["events"] / (spark_work * cores)
    print(f"projection (assumes the stages' work divides evenly over cores, which the per-user partitioning "
          f"allows; not measured): {per_core:,.0f} events/s per core -> a 64-core cluster ~"
          f"{per_core * 64 * 3600 / 1e6:,.0f} M events/hour")
    print(json.dumps({"facts": facts, "results": results}))


if __name__ == "__main__":
    main()
