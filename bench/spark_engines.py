"""Benchmark: every analyze stage on DuckDB and on Spark over the same simulated tenant, same run.

Simulates a tenant (``--users`` x ``--days``; events scale with both; ``--parity`` is the parity test's
tenant), ingests it into a DuckDB store, writes the lake, then runs each stage on DuckDB (the store) and
on Spark (``--master``, default ``local[2]``, over the lake), each engine in its own process so its peak
memory is its own. Prints, per stage, seconds on each engine and the Spark statements and jobs; peak RSS
(the Python process; for Spark also the JVM, read from ``/proc`` while it still runs).

``--compare-src DIR`` also runs the Spark engine on the code at ``DIR`` (another checkout's ``src``,
e.g. ``git archive main src | tar -x -C /tmp/base``) in the same run: a before/after of a store change.
``--conf k=v`` sets a Spark option for the Spark runs (repeatable); ``--compare-conf k=v`` adds one to the
"before" run only (with or without ``--compare-src``): a same-run comparison of a setting.

Each run saves ``result.json`` in ``--out``; ``--fit A.json B.json ...`` (runs of growing size) fits
each stage's Spark time to ``fixed + per_event x events`` and prints a cluster-throughput projection from
the per-event (partitionable) costs, stated as a projection.

    .venv/bin/python bench/spark_engines.py --users 50 --days 7 --out /tmp/vigil-spark-bench
    .venv/bin/python bench/spark_engines.py --fit /tmp/b1/result.json /tmp/b2/result.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from vigil.pipeline import STAGES, analyze_lake, run_stages
from vigil.settings import Settings, load_settings
from vigil.store import open_store
from vigil.store.lake import export_lake

ROOT = Path(__file__).resolve().parents[1]
LOGS = ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "OfficeActivity_ManagementAPI.json",
        "AuditLogs.json")


def _settings(tenant: Path, store: Path) -> Settings:
    return load_settings(overrides={
        "store.path": str(store), "enrich.named_locations": str(tenant / "namedLocations.json"),
        "policy.policies": str(tenant / "conditionalAccessPolicies.json"),
        "detections.leaked_credentials_path": str(tenant / "leaked_credentials.txt"), "ueba.learning_days": 2,
    }, environ={})


def prepare(out: Path, users: int, days: int, seed: int, parity: bool) -> dict[str, Any]:
    from vigil.simulate import simulate_tenant
    from vigil.sources.ingest import ingest_paths
    from vigil.ueba.directory import ingest_directory

    rates = None
    if parity:  # the parity test's tenant: every campaign, the rare benign scenarios made common
        sys.path.insert(0, str(ROOT))
        from tests.pipeline.test_spark_parity import RATES

        rates, users, days, seed = RATES, 8, 3, 3
    tenant = out / "tenant"
    started = time.perf_counter()
    simulate_tenant(tenant, users=users, days=days, seed=seed, rates=rates)
    sim_s = time.perf_counter() - started
    started = time.perf_counter()
    store_path = out / "input.duckdb"
    with open_store(store_path) as store:
        ingest_paths(store, [tenant / n for n in LOGS], _settings(tenant, store_path))
        ingest_directory(store, [tenant / "users.json", tenant / "groups.json"])
        events = store.count("signins") + store.count("activities")
        export_lake(store, out / "lake")
    return {"users": users, "days": days, "events": events, "simulate_s": round(sim_s, 1),
            "ingest_export_s": round(time.perf_counter() - started, 1)}


def _peak_rss_mb(pid: int | str = "self") -> int:
    """A running process's peak resident memory (the JVM still runs, so rusage cannot see it)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0


def run_duckdb(out: Path) -> dict[str, Any]:
    tenant, db = out / "tenant", out / "duck.duckdb"
    shutil.copy(out / "input.duckdb", db)
    stages: dict[str, dict[str, float]] = {}
    with open_store(db) as store:
        for name, _ in STAGES:
            t = time.perf_counter()
            run_stages(store, _settings(tenant, db), [name])
            stages[name] = {"s": round(time.perf_counter() - t, 2)}
    return {"stages": stages, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def run_spark(out: Path, master: str, conf: dict[str, str], tag: str) -> dict[str, Any]:
    from vigil.store.spark import session

    tenant, lake = out / "tenant", out / f"lake-{tag}"
    shutil.rmtree(lake, ignore_errors=True)
    shutil.copytree(out / "lake", lake)
    (out / tag).mkdir(exist_ok=True)
    started = time.perf_counter()
    spark = session(master, app="vigil-bench", conf={"spark.ui.enabled": "false", **conf})
    jvm = spark.sparkContext._jsc.sc()

    def jobs() -> int:  # Spark numbers jobs in order: the next id is how many have run
        n = jvm.dagScheduler().nextJobId()
        return int(n if isinstance(n, int) else n.get())

    marks: list[tuple[str, float, int, int]] = []
    holder: dict[str, Any] = {}
    import vigil.store.spark as spark_store

    opened = spark_store.open_spark_store

    def keep(*args: Any, **kwargs: Any) -> Any:  # the store analyze_lake opens, to read its statement count
        holder["store"] = opened(*args, **kwargs)
        return holder["store"]

    spark_store.open_spark_store = keep  # type: ignore[assignment]
    startup = time.perf_counter() - started

    def mark(name: str) -> None:
        marks.append((name, time.perf_counter(), holder["store"].statements, jobs()))

    analyze_lake(str(lake), _settings(tenant, out / tag / "vigil.duckdb"), spark=spark, on_stage=mark)
    marks.append(("_end", time.perf_counter(), holder["store"].statements, jobs()))
    stages = {a[0]: {"s": round(b[1] - a[1], 2), "statements": b[2] - a[2], "jobs": b[3] - a[3]}
              for a, b in zip(marks, marks[1:], strict=False)}  # the last stage includes writing the lake
    jvm_peak = _peak_rss_mb(int(spark.sparkContext._jvm.ProcessHandle.current().pid()))
    spark.stop()
    shutil.rmtree(lake, ignore_errors=True)
    return {"stages": stages, "startup_s": round(startup, 1), "peak_rss_mb": _peak_rss_mb(),
            "jvm_peak_rss_mb": jvm_peak}


def _child(engine: str, args: argparse.Namespace, src: str | None = None, tag: str = "spark",
           conf: list[str] | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    cmd = [sys.executable, __file__, "--engine", engine, "--out", str(args.out), "--master", args.master,
           "--tag", tag, *[a for kv in args.conf + (conf or []) for a in ("--conf", kv)]]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode:
        lines = proc.stderr.strip().splitlines()
        sys.exit(f"{engine} ({tag}) failed: {lines[-1] if lines else '?'}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["total_s"] = round(time.perf_counter() - started, 1)
    result["load"] = round(os.getloadavg()[0], 1)
    return result


def report(facts: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    sparks = [k for k in results if k != "duckdb"]
    print(f"{'stage':<11} {'duckdb s':>9}" + "".join(f" {k + ' s':>12} {'stmts':>6} {'jobs':>6}" for k in sparks))
    for name, _ in STAGES:
        row = f"{name:<11} {results['duckdb']['stages'][name]['s']:>9.2f}"
        for k in sparks:
            st = results[k]["stages"].get(name, {})
            row += f" {st.get('s', 0):>12.1f} {st.get('statements', 0):>6} {st.get('jobs', 0):>6}"
        print(row)
    for k, r in results.items():
        extra = f", JVM peak {r['jvm_peak_rss_mb']} MB, start-up {r['startup_s']} s" if k != "duckdb" else ""
        work = sum(s["s"] for s in r["stages"].values())
        print(f"{k}: stages {work:.1f} s ({facts['events'] / work:,.0f} events/s), process {r['total_s']} s, "
              f"peak RSS {r['peak_rss_mb']} MB{extra}; load at end {r['load']}")


def fit(paths: list[Path], cores_measured: int = 2) -> None:
    """Each stage's Spark time as fixed + per_event x events (least squares over the runs), and what the
    per-event part would become on a cluster: a projection, not a measurement."""
    runs = [json.loads(p.read_text()) for p in paths]
    xs = [float(r["facts"]["events"]) for r in runs]
    if len(set(xs)) < 2:
        sys.exit("--fit needs runs of at least two sizes")
    mx = sum(xs) / len(xs)
    fixed_all = per_event_all = 0.0
    print(f"runs: {', '.join(f'{int(x):,} events' for x in xs)}")
    print(f"{'stage':<11} {'fixed s':>9} {'us/event':>9}   (Spark local[{cores_measured}], least squares)")
    for name, _ in STAGES:
        ys = [float(r["results"]["spark"]["stages"][name]["s"]) for r in runs]
        my = sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
        slope = max(slope, 0.0)
        fixed = max(my - slope * mx, 0.0)
        fixed_all += fixed
        per_event_all += slope
        print(f"{name:<11} {fixed:>9.1f} {slope * 1e6:>9.1f}")
    print(f"all        {fixed_all:>9.1f} {per_event_all * 1e6:>9.1f}")
    core_s = per_event_all * cores_measured  # CPU-seconds per event, if local[N] kept its N cores busy
    print("PROJECTION (not measured: assumes the per-event work divides evenly over executor cores, as the "
          "per-user partitioning of every window allows, and that the fixed per-statement cost stays as "
          "measured here):")
    for cores, events in ((16, 10e6), (64, 10e6), (64, 1e9), (256, 1e9)):
        t = fixed_all + core_s * events / cores
        print(f"  {events / 1e6:>6,.0f} M events on {cores:>3} cores: ~{t / 60:,.1f} min "
              f"({events / t:,.0f} events/s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--parity", action="store_true", help="the parity test's tenant (8 users x 3 days)")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--conf", action="append", default=[], metavar="K=V", help="a Spark option (repeatable)")
    ap.add_argument("--compare-src", help="also run Spark on the code at this src directory (before/after)")
    ap.add_argument("--compare-conf", action="append", default=[], metavar="K=V",
                    help="a Spark option for the 'before' run only (repeatable)")
    ap.add_argument("--engines", default="duckdb,spark", help="which engines to run (a size too large for one)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/vigil-spark-bench"))
    ap.add_argument("--fit", type=Path, nargs="+", help="fit and project from these runs' result.json")
    ap.add_argument("--engine", choices=("duckdb", "spark"), help=argparse.SUPPRESS)
    ap.add_argument("--tag", default="spark", help=argparse.SUPPRESS)
    args = ap.parse_args()
    conf = dict(kv.split("=", 1) for kv in args.conf)
    facts_conf = {"conf": conf, "compare_conf": args.compare_conf, "compare_src": args.compare_src}
    if args.fit:
        fit(args.fit)
        return
    if args.engine:  # child: one engine
        result = run_duckdb(args.out) if args.engine == "duckdb" else run_spark(args.out, args.master, conf, args.tag)
        print(json.dumps(result))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    facts = prepare(args.out, args.users, args.days, args.seed, args.parity)
    facts.update(cores=os.cpu_count(), master=args.master, load_start=os.getloadavg()[0], **facts_conf)
    print(f"tenant: {facts['users']} users x {facts['days']} days = {facts['events']:,} events (simulated in "
          f"{facts['simulate_s']} s, ingested and exported in {facts['ingest_export_s']} s); machine: "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    results: dict[str, dict[str, Any]] = {}
    engines = args.engines.split(",")
    if "spark" in engines and (args.compare_src or args.compare_conf):  # the baseline first, then the code
        results["before"] = _child("spark", args, args.compare_src, "before", args.compare_conf)
    if "spark" in engines:
        results["spark"] = _child("spark", args)
    results["duckdb"] = _child("duckdb", args)
    report(facts, results)
    (args.out / "result.json").write_text(json.dumps({"facts": facts, "results": results}, indent=1))


if __name__ == "__main__":
    main()
