"""Load a detection's YAML test cases (beside its module) into a store and run it.

A cases file::

    defaults: {signins_enriched: {result: failure, ...}}   # merged into every row of that table
    cases:
      - name: ...
        params: {min_accounts: 5}                           # optional overrides
        leaked: ["a@contoso.com,<sha256 hex>"]              # optional leaked-credential list lines
        signins_enriched:                                   # rows per upstream table
          - {event_id: "s{i}", user_principal_name: "u{i}@contoso.com", _repeat: 6, _step_s: 60, ...}
        expect:                                             # findings: [] for a negative case
          - {event_id: s5, risk_level: high}

``_repeat: n`` expands a row n times with ``{i}`` (0..n-1) substituted in strings and ``event_time``
advanced by ``_step_s`` seconds each time.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.detections.upstream import UPSTREAM, create_upstream, insert
from vigil.detections import engine, registry
from vigil.detections.base import Detection
from vigil.settings import load_settings
from vigil.store import Store

TABLES = set(UPSTREAM) | {"signins", "activities", "directory_events"}


def load(det: Detection) -> dict[str, Any]:
    path = registry.cases_path(det)
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _as_dt(v: Any) -> datetime:
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return v if v.tzinfo else v.replace(tzinfo=UTC)


def _sub(v: Any, i: int) -> Any:
    return v.replace("{i}", str(i)) if isinstance(v, str) else v


def expand(rows: list[dict[str, Any]], defaults: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        n = int(row.get("_repeat", 1))
        step = float(row.get("_step_s", 0))
        base = {**defaults, **{k: v for k, v in row.items() if not k.startswith("_")}}
        for i in range(n):
            r = {k: _sub(v, i) for k, v in base.items()}
            for tcol in ("event_time", "detected_time", "from_time", "to_time", "TimeGenerated"):
                if tcol in r and r[tcol] is not None:
                    r[tcol] = _as_dt(r[tcol]) + timedelta(seconds=step * i)
            out.append(r)
    return out


def load_case(store: Store, spec: dict[str, Any], case: dict[str, Any]) -> None:
    create_upstream(store)
    defaults = spec.get("defaults") or {}
    for table in TABLES:
        if table in case:
            rows = expand(case[table], defaults.get(table, {}))
            if table not in UPSTREAM:  # canonical tables: the provenance ingest would have written
                for r in rows:
                    r.setdefault("source_format", "test")
                    r.setdefault("source_record_id", r.get("event_id"))
            insert(store, table, rows)


def run_case(store: Store, tmp: Path, det: Detection, spec: dict[str, Any], case: dict[str, Any]
             ) -> list[dict[str, Any]]:
    load_case(store, spec, case)
    overrides: dict[str, Any] = {"store.path": store.path}
    if case.get("leaked") is not None:
        leaked = tmp / "leaked.txt"
        leaked.write_text("\n".join(case["leaked"]) + "\n", encoding="utf-8")
        overrides["detections.leaked_credentials_path"] = str(leaked)
    if case.get("params"):
        overrides[f"detections.params.{det.id}"] = case["params"]
    settings = load_settings(overrides=overrides, environ={})
    result = engine.run(store, settings, only=[det.id])
    assert det.id not in result.skipped, result.skipped
    return store.query(
        """select event_id, userPrincipalName as user_principal_name, riskLevel as risk_level, reason,
                  additionalInfo from "riskDetections" where source = 'vigil' order by event_id"""
    ).to_pylist()
