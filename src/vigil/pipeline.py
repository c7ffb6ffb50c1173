"""``vigil analyze``: the batch stages, in data-flow order.

Each stage is a ``run(store, settings) -> dict[str, Any]`` function returning a small summary
(counts a SOC analyst would want to read). Stages are set-based (DuckDB SQL over the whole
store) and idempotent: re-running a stage replaces what it wrote before.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from vigil.cae import stage as cae
from vigil.detections import stage as detections
from vigil.enrich import stage as enrich
from vigil.identity import stage as identity
from vigil.incidents import stage as incidents
from vigil.risk import stage as risk
from vigil.sessions import stage as sessions
from vigil.settings import Settings
from vigil.store import Store
from vigil.ueba import stage as ueba

#: what every stage is; mypy checks each entry of STAGES against it
Stage = Callable[[Store, Settings], Mapping[str, Any]]

STAGES: tuple[tuple[str, Stage], ...] = (
    ("identity", identity.run),
    ("enrich", enrich.run),
    ("sessions", sessions.run),
    ("ueba", ueba.run),
    ("detections", detections.run),
    ("risk", risk.run),
    ("incidents", incidents.run),
    ("cae", cae.run),
)


def stage_names() -> list[str]:
    return [name for name, _ in STAGES]


def run_stages(
    store: Store,
    settings: Settings,
    only: list[str] | None = None,
    on_stage: Callable[[str], None] | None = None,
    replace: Mapping[str, Stage] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the stages (all, or ``only`` those named) and return each one's summary.

    ``replace`` swaps a stage's function by name (``vigil serve`` runs the CAE stage with its
    own CAE service, so revocations apply to its in-memory index at once)."""
    unknown = set(replace or ()) - set(stage_names())
    if unknown:
        raise ValueError(f"no stage named {sorted(unknown)[0]!r} (stages: {', '.join(stage_names())})")
    results: dict[str, dict[str, Any]] = {}
    for name, run in STAGES:
        if only and name not in only:
            continue
        if on_stage:
            on_stage(name)
        run = (replace or {}).get(name, run)
        started = time.perf_counter()
        summary = dict(run(store, settings))
        summary["seconds"] = round(time.perf_counter() - started, 3)
        results[name] = summary
    return results


def analyze_lake(
    lake: str,
    settings: Settings,
    only: list[str] | None = None,
    master: str = "local[2]",
    spark: Any = None,
    on_stage: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the stages on Apache Spark over the lake at ``lake`` and write what they changed back to it
    (``vigil analyze --engine spark``; docs/scale.md). ``spark`` is a SparkSession to reuse, else one is
    started on ``master``."""
    from typing import cast

    from vigil.store.spark import open_spark_store

    store = open_spark_store(lake, spark=spark, master=master)

    def named(name: str) -> None:
        store.stage = name  # a statement Spark cannot run is reported with its stage
        if on_stage:
            on_stage(name)

    with store:
        # the stages are typed against the DuckDB Store; SparkStore provides the same surface (store.con too)
        results = run_stages(cast(Store, store), settings, only, on_stage=named)
        store.stage = None
        store.save(lake)
    return results
