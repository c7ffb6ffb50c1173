"""Small helpers shared by the API and the web pages: rows as JSON-ready dicts, table checks."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from starlette.responses import Response

from vigil.errors import InputError, VigilError
from vigil.store import Store


class NotFound(VigilError):
    """The incident, user or object asked for does not exist (HTTP 404)."""


class NotAnalyzed(VigilError):
    """A table the request needs is not in the store yet (HTTP 409): run ``vigil analyze``."""


def existing(store: Store) -> set[str]:
    """Tables and views of the store; remembered on the (per-request) Store object."""
    cached = getattr(store, "_vigil_relations", None)
    if isinstance(cached, set):
        return cached
    found = store.relations()
    store._vigil_relations = found  # type: ignore[attr-defined]
    return found


def require(store: Store, *tables: str) -> None:
    have = existing(store)
    missing = [t for t in tables if t not in have]
    if missing:
        raise NotAnalyzed(
            f"table(s) {', '.join(missing)} not in the store {store.path}: run `vigil analyze` first")


def first_present(store: Store, *tables: str) -> str:
    """The first of ``tables`` that exists (e.g. ``activities_enriched`` before ``activities``)."""
    have = existing(store)
    for t in tables:
        if t in have:
            return t
    raise NotAnalyzed(f"none of {', '.join(tables)} is in the store {store.path}: run `vigil analyze` first")


def jsonable(value: Any, is_json: bool) -> Any:
    if value is None:
        return None
    if is_json and isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):  # NaN is not JSON
        return None
    return value


class FastJSON(Response):
    """JSON rendered by orjson, bypassing FastAPI's per-value encoder (a user page is ~1 MB)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)


def iso(t: datetime) -> str:
    """A store time (naive UTC) as ISO-8601 with Z."""
    return str(jsonable(t, False))


def fetch(store: Store, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Run SQL; rows as dicts with JSON columns parsed and times as ISO-8601 UTC strings."""
    rel = store.con.sql(sql, params=params) if params else store.con.sql(sql)
    if rel is None:
        raise ValueError("statement returns no rows")
    cols = rel.columns
    json_cols = [str(t) == "JSON" for t in rel.types]
    return [{c: jsonable(v, j) for c, v, j in zip(cols, row, json_cols, strict=True)} for row in rel.fetchall()]


def fetch_one(store: Store, sql: str, params: list[Any] | None = None) -> dict[str, Any] | None:
    rows = fetch(store, sql, params)
    return rows[0] if rows else None


def columns(store: Store, table: str) -> list[str]:
    rows = store.con.execute(
        "select column_name from duckdb_columns() where schema_name = 'main' and table_name = ? "
        "order by column_index", [table]).fetchall()
    return [r[0] for r in rows]


def parse_time(value: str) -> datetime:
    """An ISO-8601 time from a row (``...Z``) as the store's naive UTC."""
    t = datetime.fromisoformat(value)
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def naive_utc(t: datetime | None) -> datetime | None:
    """Timestamps in the store are naive UTC."""
    if t is None:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return t


def window(start: datetime | None, end: datetime | None, latest: datetime | None,
           default_days: int = 7) -> tuple[datetime, datetime]:
    """A [start, end] window: given bounds, else the ``default_days`` before the latest event."""
    now = datetime.now(UTC).replace(tzinfo=None)
    end_n = naive_utc(end) or naive_utc(latest) or now
    start_n = naive_utc(start) or end_n - timedelta(days=default_days)
    if start_n > end_n:
        raise InputError(f"start {start_n.isoformat()} is after end {end_n.isoformat()}")
    return start_n, end_n
