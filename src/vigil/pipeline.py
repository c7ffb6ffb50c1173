"""``vigil analyze``: the batch stages, in data-flow order.

Each stage module exposes ``run(store: Store, settings: Settings) -> dict[str, Any]``
returning a small summary (counts a SOC analyst would want to read). Stages are
set-based (DuckDB SQL over the whole store) and idempotent: re-running a stage
replaces what it wrote before.
"""
from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any

from vigil.settings import Settings
from vigil.store import Store

STAGES: tuple[tuple[str, str], ...] = (
    ("enrich", "vigil.enrich.stage"),
    ("sessions", "vigil.sessions.stage"),
    ("ueba", "vigil.ueba.stage"),
    ("detections", "vigil.detections.stage"),
    ("risk", "vigil.risk.stage"),
    ("incidents", "vigil.incidents.stage"),
    ("cae", "vigil.cae.stage"),
)


def stage_names() -> list[str]:
    return [name for name, _ in STAGES]


def run_stages(
    store: Store,
    settings: Settings,
    only: list[str] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the stages (all, or ``only`` those named) and return each one's summary."""
    results: dict[str, dict[str, Any]] = {}
    for name, module_name in STAGES:
        if only and name not in only:
            continue
        if on_stage:
            on_stage(name)
        module = importlib.import_module(module_name)
        started = time.perf_counter()
        summary = dict(module.run(store, settings))
        summary["seconds"] = round(time.perf_counter() - started, 3)
        results[name] = summary
    return results
