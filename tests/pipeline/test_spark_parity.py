"""Parity: every stage on DuckDB and on Spark (``local[2]``) over one simulated tenant with every attack
campaign and the benign scenarios, and every table the stages write compared.

Keys, verdicts, detections and incidents must be identical; floating-point columns agree within
``REL_TOL`` relative (``ABS_TOL`` absolute near zero): the engines sum and divide in different orders.
JSON text is compared parsed. A difference names the stage, the table, the column and the first rows
that differ; a statement Spark cannot run fails the Spark run with the stage and the statement.
"""
from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from vigil.pipeline import STAGES, analyze_lake, run_stages
from vigil.settings import Settings, load_settings
from vigil.store import Store, open_store
from vigil.store.lake import ARCHIVE_TABLES, export_lake, load_lake

pytestmark = pytest.mark.slow

# not skipped when missing: CI proves parity, so a clone without the spark extra fails here (scripts/setup.sh)
import pyspark  # noqa: E402, F401
import sqlglot  # noqa: E402, F401

REL_TOL = 1e-9
ABS_TOL = 1e-9
#: columns that hold the wall-clock time of the run (or a value derived from it), not a result
RUN_TIME = {
    "ueba_behavior": {"TimeGenerated", "TimeProcessed"},
    "UserPeerAnalytics": {"TimeGenerated"},
    "IdentityInfo": {"TimeGenerated"},
    "riskDetections": {"detectedDateTime"},
    "incidents": {"created_at", "updated_at"},
    "revocations": {"recorded_at"},
    "ueba_state": {"value"},
    "enrich_sources": {"built_at"},
}
#: the rare benign scenarios made common, so a small tenant has each of them
RATES = {"vpn_failover": 0.5, "travel": 0.5, "confidential_client": 0.3, "new_joiners": 0.15,
         "dormant_return": 0.15, "shared_accounts": 0.1, "leavers": 0.15}


def _settings(tenant: Path, store: Path) -> Settings:
    return load_settings(overrides={
        "store.path": str(store),
        "enrich.named_locations": str(tenant / "namedLocations.json"),
        "policy.policies": str(tenant / "conditionalAccessPolicies.json"),
        "detections.leaked_credentials_path": str(tenant / "leaked_credentials.txt"),
        "ueba.learning_days": 2,
    }, environ={})


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> Iterator[tuple[Store, Store, dict[str, str]]]:
    """(DuckDB store analysed by DuckDB, DuckDB store loaded from the Spark run's lake, table -> stage)."""
    from vigil.simulate import simulate_tenant
    from vigil.sources.ingest import ingest_paths
    from vigil.ueba.directory import ingest_directory

    root = tmp_path_factory.mktemp("parity")
    tenant = root / "tenant"
    sim = simulate_tenant(tenant, users=8, days=3, seed=3, rates=RATES)
    from vigil.simulate.attacks import CAMPAIGNS

    assert {c["type"] for c in sim.campaigns} == set(CAMPAIGNS), "every campaign is in the tenant"
    duck = open_store(root / "duck.duckdb")
    settings = _settings(tenant, root / "duck.duckdb")
    logs: list[str | Path] = [tenant / n for n in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json",
                                                  "OfficeActivity_ManagementAPI.json", "AuditLogs.json")]
    assert not [r.error for r in ingest_paths(duck, logs, settings) if r.error]
    ingest_directory(duck, [tenant / "users.json", tenant / "groups.json"])
    export_lake(duck, root / "lake")  # the input, before any stage ran

    stage_of: dict[str, str] = {}
    for name, _ in STAGES:
        before = set(_tables(duck))  # stored tables: not views, not a stage's temporary tables
        run_stages(duck, settings, [name])
        stage_of.update({t: name for t in set(_tables(duck)) - before})
    for t in set(_tables(duck)) - set(stage_of) - set(ARCHIVE_TABLES):
        stage_of[t] = "input"  # compared too: stages update input tables (identity columns, for one)

    spark_settings = _settings(tenant, root / "spark" / "vigil.duckdb")
    (root / "spark").mkdir()
    analyze_lake(str(root / "lake"), spark_settings, spark=spark)
    back = open_store(root / "back.duckdb")
    load_lake(back, root / "lake")
    yield duck, back, stage_of
    duck.close()
    back.close()
    shutil.rmtree(root, ignore_errors=True)


def _tables(store: Store) -> list[str]:
    return sorted(str(r[0]) for r in store.rows(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary"))


def _norm(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return _canon(orjson.loads(value))
        except orjson.JSONDecodeError:
            return value
    return value


def _canon(doc: Any) -> Any:
    """Parsed JSON with timestamps written either way (DuckDB '2026-01-01 10:00:00', Spark '...T10:00:00')
    as one form and numbers as floats."""
    if isinstance(doc, dict):
        return {k: _canon(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_canon(v) for v in doc]
    if isinstance(doc, bool):
        return doc
    if isinstance(doc, int | float):
        return float(doc)
    if isinstance(doc, str) and len(doc) >= 19 and doc[4] == "-" and doc[10] in " T":
        try:
            return datetime.fromisoformat(doc.replace("Z", "")).isoformat()
        except ValueError:
            return doc
    return doc


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _rows(store: Store, table: str, cols: list[str], floats: set[str]) -> list[tuple[Any, ...]]:
    # sorted by every column but the floats (their last digits may differ), floats last as tie-breakers
    order = [c for c in cols if c not in floats] + [c for c in cols if c in floats]
    q = ", ".join(store.ident(c) for c in cols)
    by = ", ".join(f"{store.ident(c)} NULLS FIRST" for c in order)
    return [tuple(_norm(v) for v in r) for r in store.rows(f"SELECT {q} FROM {store.ident(table)} ORDER BY {by}")]


def test_every_table_every_stage_wrote_is_the_same_on_spark(engines: tuple[Store, Store, dict[str, str]]) -> None:
    duck, back, stage_of = engines
    problems: list[str] = []
    outputs = sorted(t for t, s in stage_of.items() if s != "input")
    assert {"identities", "ip_enrichment", "sessions", "travel", "ueba_behavior", "UserPeerAnalytics",
            "riskDetections", "riskyUsers", "incidents", "revocations"} <= set(outputs)
    missing = [t for t in outputs if t not in back.relations()]
    assert not missing, f"tables the Spark run did not write: {[(t, stage_of[t]) for t in missing]}"
    for table in sorted(stage_of):
        where = f"stage {stage_of[table]}, table {table}"
        types = dict(duck.rows("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]))
        theirs = dict(back.rows("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]))
        if set(types) != set(theirs):
            problems.append(f"{where}: columns differ: {sorted(set(types) ^ set(theirs))}")
            continue
        cols = [c for c in types if c not in RUN_TIME.get(table, set())]
        floats = {c for c in cols if types[c] in ("DOUBLE", "FLOAT", "REAL")}
        mine, spark = _rows(duck, table, cols, floats), _rows(back, table, cols, floats)
        if len(mine) != len(spark):
            problems.append(f"{where}: {len(mine)} rows on DuckDB, {len(spark)} on Spark")
            continue
        for i, (a, b) in enumerate(zip(mine, spark, strict=True)):
            bad = [c for c, x, y in zip(cols, a, b, strict=True) if not _same(x, y)]
            if bad:
                c = bad[0]
                k = cols.index(c)
                problems.append(f"{where}: row {i}, column {c} (of {len(bad)} differing): duckdb {a[k]!r} "
                                f"!= spark {b[k]!r}")
                break
    assert not problems, "DuckDB and Spark differ:\n" + "\n".join(problems)


def test_the_verdicts_an_analyst_reads_are_identical(engines: tuple[Store, Store, dict[str, str]]) -> None:
    duck, back, _ = engines
    for q in ("SELECT verdict, count(*) FROM travel GROUP BY 1 ORDER BY 1",
              'SELECT "riskEventType", "riskLevel", count(*) FROM "riskDetections" GROUP BY ALL ORDER BY ALL',
              "SELECT incident_id, severity, status, user_principal_name, title FROM incidents ORDER BY 1",
              'SELECT id, "riskLevel", "riskState" FROM "riskyUsers" ORDER BY 1'):
        assert duck.rows(q) == back.rows(q), q
    assert duck.count("incidents") > 0 and duck.count("riskDetections") > 0
