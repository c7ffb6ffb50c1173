"""The analyst-query conformance suite (tests/fixtures/hunt/conformance.yaml)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import yaml

from tests.conftest import FIXTURES
from tests.hunt.conftest import NOW
from vigil.hunt import run_hunt
from vigil.store import Store

CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "hunt" / "conformance.yaml").read_text())


def _norm(v: Any) -> Any:
    if isinstance(v, Decimal):
        v = float(v)
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None).isoformat()
    if isinstance(v, str) and v[:1] == "[":
        try:
            v = json.loads(v)
        except ValueError:
            return v
    if isinstance(v, list):
        return sorted(json.dumps(_norm(x)) for x in v)
    return v


def _rows(rows: list[tuple[Any, ...]] | list[list[Any]], ordered: bool) -> list[tuple[Any, ...]]:
    out = [tuple(_norm(v) for v in r) for r in rows]
    return out if ordered else sorted(out, key=repr)


def test_suite_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_query(hunt_store: Store, case: dict[str, Any]) -> None:
    got = run_hunt(hunt_store, case["kql"], now=NOW)
    actual = [tuple(r.values()) for r in got.to_pylist()]
    if "sql" in case:
        expected: list[Any] = hunt_store.con.sql(case["sql"]).fetchall()
    else:
        expected = case["rows"]
    assert expected, "an expectation with no rows proves nothing"
    assert _rows(actual, case.get("ordered", False)) == _rows(expected, case.get("ordered", False))
