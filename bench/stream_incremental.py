"""One incremental micro-batch analysis over a stored month, per stage, beside a batch run of the same store.

    .venv/bin/python bench/stream_incremental.py [--users 100] [--days 30] [--records 50] [--folder DIR]

A simulated tenant's records in time order: all but the newest ``--records`` are stored and analysed in one
batch run (the service's state before the micro-batch); then the newest are stored as one micro-batch and
``vigil.stream.incremental.run`` analyses them (per-stage seconds, the affected users and the scope each
per-user stage ran with). Same-run baseline: ``run_stages`` (a whole ``vigil analyze``) over the same final
store, on a copy, without the identity stage's state and with every IP looked up again (what a first analysis
of that store does). ``--folder`` keeps the simulated tenant and the stored month between runs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from vigil.identity import incremental as identity_state  # noqa: E402
from vigil.pipeline import run_stages  # noqa: E402
from vigil.settings import Settings, load_settings  # noqa: E402
from vigil.simulate import simulate_tenant  # noqa: E402
from vigil.simulate.replay import log_records, store_records  # noqa: E402
from vigil.store import open_store  # noqa: E402
from vigil.stream import incremental, tables  # noqa: E402


def settings(db: Path) -> Settings:
    return load_settings(overrides={"store.path": str(db), "cae.state_path": f"{db}.cae.sqlite",
                                    "cae.keys_path": f"{db}.keys.json"}, environ={})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--records", type=int, default=50, help="records in the micro-batch (the newest)")
    ap.add_argument("--folder", type=Path)
    a = ap.parse_args()
    folder = a.folder or Path(tempfile.mkdtemp(prefix="vigil-stream-inc-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"folder {folder}; load before: {os.getloadavg()}")
    sim = folder / "sim"
    if not sim.exists():
        simulate_tenant(sim, users=a.users, days=a.days, seed=3)
    recs = log_records(sim)
    base = folder / f"base-{a.records}.duckdb"
    if not base.exists():
        with open_store(base) as store:
            tables.ensure(store)
            store_records(store, settings(base), recs[:-a.records], "kafka:month")
            run_stages(store, settings(base))
    work, batch = folder / "work.duckdb", folder / "batch.duckdb"
    shutil.copy(base, work)
    s = settings(work)
    with open_store(work) as store:
        events = store.count("signins") + store.count("activities")
        t0 = time.perf_counter()
        store_records(store, s, recs[-a.records:], "kafka:micro")
        stored = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = incremental.run(store, s, ["kafka:micro"])
        analysed = time.perf_counter() - t0
    shutil.copy(work, batch)
    with open_store(batch) as store:
        # the baseline recomputes what a first analysis does: no identity state, every IP looked up again
        store.execute(f"DROP SCHEMA IF EXISTS {identity_state.SCHEMA} CASCADE")
        store.execute("DELETE FROM enrich_sources WHERE name = 'ip_enrichment'")
        t0 = time.perf_counter()
        full = run_stages(store, settings(batch))
        batch_s = time.perf_counter() - t0
    print(f"{a.users} users, {a.days} days: {events:,} events stored; micro-batch of {a.records:,} records stored in "
          f"{stored:.2f} s, analysed in {analysed:.2f} s ({res['scope']['affected_users']} affected user keys)")
    print(f"{'stage':12} {'incremental s':>14} {'batch s':>9}  scope")
    print(f"{'scope':12} {res['scope']['seconds'] + res['scope'].get('close_seconds', 0):>14.3f} {'':>9}  "
          "affected users and their closure over the identity keys")
    for name, summary in res.items():
        if name == "scope":
            continue
        how = summary.get("scope") or summary.get("behavior_mode") or summary.get("ip_mode") or ""
        if name == "identity":
            how = f"{summary.get('mode')}: {summary.get('new_events', 'all')} new events, " \
                  f"{summary.get('alias_keys_recomputed', 'all')} alias keys"
        print(f"{name:12} {summary.get('seconds', 0):>14.3f} {full.get(name, {}).get('seconds', 0):>9.3f}  {how}")
    print(f"{'total':12} {analysed:>14.2f} {batch_s:>9.2f}   (baseline: one vigil analyze of the same store)")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
