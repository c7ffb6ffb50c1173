"""Watchlists: named CSV lists that hunts read with ``_GetWatchlist('alias')``, as in Sentinel.

``vigil watchlist import ALIAS FILE.csv [--search-key COLUMN]`` (and ``PUT /api/v1/watchlists/ALIAS``)
stores a CSV file's rows in ``watchlist_items`` (one JSON object per row) and its description in
``watchlists``; importing an alias again replaces its rows. ``_GetWatchlist('alias')`` answers
Sentinel's columns ``_DTItemId``, ``LastUpdatedTimeUTC``, ``SearchKey`` (the search-key column's
value), ``WatchlistItem`` (the row as a bag), then every CSV column by its header name, as
strings. Examples for the common identity lists are in docs/examples/watchlists/.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from vigil.errors import InputError, QueryError
from vigil.store import Store
from vigil.store.schema import C, Table

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")

WATCHLISTS = Table(
    "watchlists",
    (C("alias", "VARCHAR NOT NULL", "the name _GetWatchlist() takes"),
     C("description", "VARCHAR", "what the list is for"),
     C("search_key", "VARCHAR NOT NULL", "the column whose value is SearchKey"),
     C("columns", "JSON NOT NULL", "the CSV header, in order"),
     C("source", "VARCHAR", "file the rows were imported from"),
     C("item_count", "BIGINT NOT NULL", "rows"),
     C("updated_at", "TIMESTAMP NOT NULL", "when it was last imported, UTC")),
    "Watchlists: named CSV lists for hunting queries (_GetWatchlist).",
    primary_key=("alias",),
)
WATCHLIST_ITEMS = Table(
    "watchlist_items",
    (C("alias", "VARCHAR NOT NULL", "watchlist"),
     C("item_id", "VARCHAR NOT NULL", "_DTItemId: stable id of the row (hash of alias and row)"),
     C("row_number", "BIGINT NOT NULL", "position in the imported file (1 = first data row)"),
     C("search_key", "VARCHAR", "value of the search-key column"),
     C("item", "JSON NOT NULL", "the row: header -> value"),
     C("updated_at", "TIMESTAMP NOT NULL", "LastUpdatedTimeUTC")),
    "Rows of the watchlists.",
)


@dataclass(frozen=True)
class Watchlist:
    alias: str
    description: str
    search_key: str
    columns: list[str]
    source: str
    item_count: int
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "description": self.description, "search_key": self.search_key,
                "columns": self.columns, "source": self.source, "item_count": self.item_count,
                "updated_at": self.updated_at.isoformat()}


def check_alias(alias: str) -> str:
    if not _ALIAS.match(alias or ""):
        raise InputError(f"watchlist alias {alias!r}: use a letter then letters, digits, '_' or '-' (at most 64)")
    return alias


def parse_csv(text: str, source: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a watchlist CSV; every problem is an error naming the line."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise InputError(f"{source}: larger than {MAX_BYTES // (1024 * 1024)} MB; a watchlist is a short list")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError(f"{source}: empty file (a watchlist CSV starts with a header row)") from None
    if not all(header):
        raise InputError(f"{source}: line 1: a header cell is empty")
    if len({h.lower() for h in header}) != len(header):
        raise InputError(f"{source}: line 1: header names repeat (ignoring case): {header}")
    rows: list[list[str]] = []
    for row in reader:
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(f"{source}: line {reader.line_num}: {len(row)} fields, the header has {len(header)}")
        rows.append([cell.strip() for cell in row])
        if len(rows) > MAX_ROWS:
            raise InputError(f"{source}: more than {MAX_ROWS:,} rows")
    return header, rows


def import_csv(store: Store, alias: str, text: str, *, source: str, search_key: str | None = None,
               description: str = "") -> Watchlist:
    """Store (or replace) watchlist ``alias`` from CSV text."""
    check_alias(alias)
    header, rows = parse_csv(text, source)
    key = search_key or header[0]
    matches = [h for h in header if h.lower() == key.lower()]
    if not matches:
        raise InputError(f"{source}: search key column {key!r} is not in the header {header}")
    key = matches[0]
    k = header.index(key)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    items = [json.dumps(dict(zip(header, r, strict=True)), ensure_ascii=False) for r in rows]
    batch = pa.table({
        "alias": pa.array([alias] * len(rows), pa.string()),
        "item_id": pa.array([hashlib.sha256(f"{alias}\x00{i}".encode()).hexdigest()[:32] for i in items],
                            pa.string()),
        "row_number": pa.array(range(1, len(rows) + 1), pa.int64()),
        "search_key": pa.array([r[k] for r in rows], pa.string()),
        "item": pa.array(items, pa.string()),
        "updated_at": pa.array([now] * len(rows), pa.timestamp("us")),
    })
    store.ensure([WATCHLISTS, WATCHLIST_ITEMS])
    with store.transaction():
        store.execute("DELETE FROM watchlist_items WHERE alias = ?", [alias])
        store.execute("DELETE FROM watchlists WHERE alias = ?", [alias])
        store.con.register("_vigil_watchlist_batch", batch)
        try:
            store.execute("INSERT INTO watchlist_items SELECT alias, item_id, row_number, search_key, "
                          "CAST(item AS JSON), updated_at FROM _vigil_watchlist_batch")
        finally:
            store.con.unregister("_vigil_watchlist_batch")
        store.execute("INSERT INTO watchlists VALUES (?, ?, ?, CAST(? AS JSON), ?, ?, ?)",
                      [alias, description, key, json.dumps(header), source, len(rows), now])
    return Watchlist(alias, description, key, header, source, len(rows), now)


def _row(r: tuple[Any, ...]) -> Watchlist:
    return Watchlist(r[0], r[1] or "", r[2], json.loads(r[3]), r[4] or "", int(r[5]), r[6])


def list_watchlists(store: Store) -> list[Watchlist]:
    if not store.exists("watchlists"):
        return []
    return [_row(r) for r in store.rows(
        "SELECT alias, description, search_key, CAST(columns AS VARCHAR), source, item_count, updated_at "
        "FROM watchlists ORDER BY alias")]


def get(store: Store, alias: str) -> Watchlist | None:
    return next((w for w in list_watchlists(store) if w.alias == alias), None)


def delete(store: Store, alias: str) -> bool:
    if get(store, alias) is None:
        return False
    with store.transaction():
        store.execute("DELETE FROM watchlist_items WHERE alias = ?", [alias])
        store.execute("DELETE FROM watchlists WHERE alias = ?", [alias])
    return True


def items_sql(store: Store, alias: str) -> str:
    """SELECT answering ``_GetWatchlist(alias)``: Sentinel's columns, then the CSV's."""
    wl = get(store, alias)
    if wl is None:
        known = ", ".join(w.alias for w in list_watchlists(store)) or "none"
        raise QueryError(f"unknown watchlist {alias!r} (import it: vigil watchlist import {alias} FILE.csv); "
                         f"watchlists: {known}")
    cols = ", ".join(f"item ->> {store.literal(c)} AS {store.ident(c)}" for c in wl.columns
                     if c not in ("_DTItemId", "LastUpdatedTimeUTC", "SearchKey", "WatchlistItem"))
    return (f"SELECT item_id AS _DTItemId, updated_at AS LastUpdatedTimeUTC, search_key AS SearchKey, "
            f"item AS WatchlistItem, {cols} FROM watchlist_items WHERE alias = {store.literal(alias)} "
            f"ORDER BY row_number")
