"""Incremental analysis equals a batch run: a simulated month replayed in random micro-batches (some of
one event, some out of order within the overlap window) leaves every table as one batch run does."""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from vigil.pipeline import run_stages
from vigil.settings import Settings, load_settings
from vigil.simulate import simulate_tenant
from vigil.simulate.replay import log_records, store_records
from vigil.sources.ingest import ingest_paths
from vigil.store import Store, open_store
from vigil.stream import incremental, tables

#: bookkeeping of how records arrived (files vs micro-batches), not analysis results
ARRIVAL_TABLES = {"ingest_runs", "raw_records", "raw_blocks", "quarantine", "vigil_meta", "stream_batches",
                  "stream_partitions", "enrich_sources", "ueba_state"}
#: wall-clock columns (when a row was written, not what the data says) and where a record came from
CLOCK_COLUMNS = {"source_file", "detectedDateTime", "created_at", "updated_at", "recorded_at", "TimeProcessed"}
#: per table: UserPeerAnalytics.TimeGenerated is when peers were computed; a revocation's journal number and
#: evidence (which names the file or micro-batch its audit record came in) are bookkeeping
TABLE_CLOCK_COLUMNS = {"UserPeerAnalytics": {"TimeGenerated"}, "revocations": {"seq", "evidence"}}
#: A BehaviorAnalytics row is written when its event arrives, against the peer groups of that moment (as
#: Sentinel's are); peers change as data arrives, so the peer count a reason quotes may differ from one run
#: over everything. The flags and scores must still be equal: only that count is normalised.
PEER_COUNT = re.compile(r"for \d+/\d+ peers")


def _batches(records: list[tuple[str, str, str]], rng: random.Random) -> list[list[tuple[str, str, str]]]:
    """Random sizes, a run of single events, and each batch shuffled (out of order within the overlap)."""
    out, i = [], 0
    while i < len(records):
        if len(out) in range(2, 5):
            size = 1
        else:
            size = rng.choice([40, 900, 2500])
        batch = records[i:i + size]
        i += size
        if len(out) > 0 and rng.random() < 0.5 and i < len(records):
            # some of the next batch's events arrive first
            swap = records[i:i + rng.randint(1, 30)]
            batch = batch + swap
            i += len(swap)
        rng.shuffle(batch)
        out.append(batch)
    return out


def _table(store: Store, name: str) -> list[tuple[Any, ...]]:
    skip = CLOCK_COLUMNS | TABLE_CLOCK_COLUMNS.get(name, set())
    cols = [(c, t) for c, t in store.rows(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
        "AND database_name = current_database() ORDER BY column_index", [name]) if c not in skip]
    # sums of doubles in another order differ in the last bits
    sel = ", ".join(f"CAST(round({store.ident(c)}, 9) AS VARCHAR)" if t == "DOUBLE" else
                    f"CAST({store.ident(c)} AS VARCHAR)" for c, t in cols)
    rows = store.rows(f"SELECT {sel} FROM {store.ident(name)}")
    if name in ("BehaviorAnalytics", "ueba_behavior"):
        rows = [tuple(PEER_COUNT.sub("for n/n peers", v) if isinstance(v, str) else v for v in r) for r in rows]
    return sorted(rows, key=repr)


def _settings(path: Path) -> Settings:
    return load_settings(overrides={"store.path": str(path), "cae.state_path": str(path) + ".cae.sqlite",
                                    "cae.keys_path": str(path) + ".keys.json"}, environ={})


@pytest.mark.slow
def test_incremental_equals_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a small tenant's micro-batch touches most users, where per-user stages would run over everyone:
    # force the scoped path, the one under test
    monkeypatch.setattr(incremental, "FULL_ABOVE_SHARE", 1.0)
    sim = tmp_path / "sim"
    # renames on (the simulator's default share, at least one user): peers and baselines follow the identity
    simulate_tenant(sim, users=8, days=30, seed=7)
    records = log_records(sim)
    assert len(records) > 2000

    batch_settings = _settings(tmp_path / "batch.duckdb")
    with open_store(batch_settings.store.path) as batch:
        ingest_paths(batch, [p for p in sim.glob("*.json")], batch_settings)
        run_stages(batch, batch_settings)

    inc_settings = _settings(tmp_path / "inc.duckdb")
    rng = random.Random(15)
    scoped: list[str | None] = []
    with open_store(inc_settings.store.path) as inc:
        tables.ensure(inc)
        for n, batch_records in enumerate(_batches(records, rng)):
            origin = f"kafka:test{n}"
            store_records(inc, inc_settings, batch_records, origin)
            summary = incremental.run(inc, inc_settings, [origin])
            scoped.append((summary["sessions"].get("scope"), summary["detections"].get("scope")))

        # all but the first run (no tables yet) ran the per-user stages and detections over the affected users
        assert scoped.count(("affected users", "affected users")) >= len(scoped) - 1
        with open_store(batch_settings.store.path) as batch:
            names = sorted(t for t in batch.tables() if t not in ARRIVAL_TABLES)
            assert "sessions" in names and "BehaviorAnalytics" in names and "incidents" in names
            differ = [n for n in names if n != "revocations" and _table(batch, n) != _table(inc, n)]
            assert differ == [], differ
            # a revocation is an action taken when it happened: a user whose risk was high for a while (before a
            # later remediation arrived) was revoked then, which one run over the final state never sees
            once, live = set(_table(batch, "revocations")), set(_table(inc, "revocations"))
            assert once <= live
            assert {r[1] for r in live - once} <= {"user_risk_high"}
