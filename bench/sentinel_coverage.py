"""Sentinel content coverage: how many published queries run, with and without vigil's KQL work.

    .venv/bin/python bench/sentinel_coverage.py [--users 30] [--days 21] [--seed 5]

Simulates, ingests and analyses a tenant under bench/out/sentinel/, imports the example
watchlists, then runs every query in tests/hunt/sentinel_content/ twice: first as the pinned
duckdb-kql translates it alone (the same-run baseline: vigil's views and prelude, none of its
rewrites or duckdb-kql extensions), then through vigil's hunt adapter. Prints, per query, the
outcome and time, and the totals as runs / applicable (queries expected_failures.yaml marks not
applicable are left out of the denominator). Figures go in docs/hunting.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb_kql
import yaml

from vigil.hunt.adapter import _schema, ensure_views
from vigil.hunt.functions import with_prelude
from vigil.hunt.sentinel import fill_templates, load_content
from vigil.hunt.watchlist import import_csv
from vigil.pipeline import run_stages
from vigil.settings import load_settings
from vigil.simulate import simulate_tenant
from vigil.sources.ingest import ingest_paths
from vigil.store import Store, open_store
from vigil.ueba.directory import ingest_directory

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "tests" / "hunt" / "sentinel_content"


def build(out: Path, users: int, days: int, seed: int) -> Store:
    shutil.rmtree(out, ignore_errors=True)
    simulate_tenant(out / "sim", users=users, days=days, seed=seed)
    settings = load_settings(overrides={"store.path": str(out / "vigil.duckdb")}, environ={})
    store = open_store(settings.store.path)
    sim = out / "sim"
    ingest_paths(store, [sim / n for n in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json",
                                            "AuditLogs.json", "OfficeActivity_ManagementAPI.json")], settings)
    ingest_directory(store, [sim / "users.json", sim / "groups.json"])
    run_stages(store, settings)
    for csv in [*(REPO / "docs" / "examples" / "watchlists").glob("*.csv"), *(CONTENT / "watchlists").glob("*.csv")]:
        import_csv(store, csv.stem, csv.read_text(encoding="utf-8"), source=csv.name)
    return store


def baseline(store: Store, query: str, now: Any) -> str | None:
    """duckdb-kql alone (no vigil rewrites or extensions): None when it runs, else the error."""
    try:
        sql = duckdb_kql.to_sql(with_prelude(query), schema=_schema(store), query_now=now)
        store.con.sql(str(sql), params=sql.parameters or None).fetchall()
        return None
    except Exception as exc:  # noqa: BLE001 - every failure is a figure here
        return str(exc).splitlines()[0][:120]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=30)
    ap.add_argument("--days", type=int, default=21)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    store = build(REPO / "bench" / "out" / "sentinel", args.users, args.days, args.seed)
    ensure_views(store)
    expected = yaml.safe_load((CONTENT / "expected_failures.yaml").read_text()) or {}
    now = store.scalar("SELECT max(event_time) FROM signins")
    files = sorted(p for d in ("hunting", "rules") for p in (CONTENT / d).glob("*.yaml"))
    queries = {p.name: fill_templates(load_content(p).query, now - timedelta(days=1), now) for p in files}
    base = {name: baseline(store, q, now) for name, q in queries.items()}   # before vigil's extensions load
    from vigil.hunt import run_hunt

    results: dict[str, tuple[str | None, float]] = {}
    for name, q in queries.items():
        started = time.perf_counter()
        try:
            run_hunt(store, q, now=now, timeout_s=120)
            error = None
        except Exception as exc:  # noqa: BLE001
            error = str(exc).splitlines()[0][:120]
        results[name] = (error, time.perf_counter() - started)
    applicable = [n for n in queries if expected.get(n, {}).get("applicable", True)]
    for name in sorted(queries):
        error, seconds = results[name]
        print(f"{'ok  ' if error is None else 'FAIL'} {'ok  ' if base[name] is None else 'fail'} "
              f"{seconds:6.2f}s {name}{'' if name in applicable else ' (not applicable)'}"
              + (f"  -- {error}" if error else ""))
    runs = sum(1 for n in applicable if results[n][0] is None)
    base_runs = sum(1 for n in applicable if base[n] is None)
    print(f"\nmachine: {platform.machine()} {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; "
          f"{len(queries)} queries, {len(applicable)} applicable")
    print(f"duckdb-kql {duckdb_kql.__version__} alone: {base_runs} / {len(applicable)} "
          f"({100 * base_runs / len(applicable):.0f} %)")
    print(f"vigil:                  {runs} / {len(applicable)} ({100 * runs / len(applicable):.0f} %), "
          f"total {sum(s for _, s in results.values()):.1f} s")
    store.close()


if __name__ == "__main__":
    main()
