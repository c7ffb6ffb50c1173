"""Schema migrations: every store written by a released vigil opens in this one.

A store records its schema version in ``vigil_meta`` (``schema_version``) with the vigil
version that created it and last migrated it. Opening read-write runs the steps from the
store's version up to :data:`SCHEMA_VERSION`, each in its own transaction with the version
bump, so a crash leaves the store at the last complete step. A store written by a newer
vigil is refused before anything is touched. Read-only opens migrate nothing: an older
store is refused with the command that upgrades it.

Released schema versions:

* 1 (vigil 0.1.0 before raw blocks): ``raw_records(event_id, target_table, raw)`` held each
  record's text in a column.
* 2: raw text in zstd blocks (``raw_blocks``) located by ``raw_records(event_id,
  target_table, block_id, start, length)``. The step moves every v1 text into blocks.
* 3: ``directory_events`` has ``operation_type`` and ``additional_details`` (AuditLogs'
  AADOperationType / AdditionalDetails, Graph's operationType / additionalDetails). The step adds
  them and fills the stored rows from their raw records.
* 4: ``BehaviorAnalytics`` is a view over ``ueba_behavior``, which holds each key of the JSON bags
  (UsersInsights, DevicesInsights, ActivityInsights) as a typed column. The step moves the stored rows
  over, each key found in the stored JSON becoming a column of its JSON type, so the view reads the same
  JSON; a ueba stage that writes other keys recomputes the rows (``vigil.ueba.behavior``).

Tables of the downstream areas are created by their stages (``CREATE TABLE IF NOT EXISTS``)
and carried over unchanged; a step is added here whenever one of them changes shape.
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from vigil.errors import StoreError
from vigil.store.bags import fold_sql
from vigil.store.dialect import ident, literal
from vigil.store.engine import transaction
from vigil.store.rawblocks import read_raw, write_blocks
from vigil.store.schema import CORE_TABLES, RAW_BLOCKS, RAW_RECORDS, SCHEMA_VERSION
from vigil.version import version

#: rows of a v1 raw table turned into blocks per round (bounded memory on large stores)
V1_BATCH_ROWS = 200_000


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute("select column_name from duckdb_columns() where schema_name = 'main' "
                       "and table_name = ?", [table]).fetchall()
    return {r[0] for r in rows}


def stored_version(con: duckdb.DuckDBPyConnection) -> int:
    """The store's schema version; 0 for an empty store (nothing written yet)."""
    if "key" in _columns(con, "vigil_meta"):
        rows = con.execute("select value from vigil_meta where key = 'schema_version'").fetchall()
        if rows and rows[0][0] is not None:
            return int(rows[0][0])
    # a v1 store always had vigil_meta; a raw column without it is a v1 store interrupted on creation
    return 1 if "raw" in _columns(con, "raw_records") else 0


def check_readable(con: duckdb.DuckDBPyConnection, path: str, *, read_only: bool) -> int:
    """Refuse a store this vigil cannot use; returns its schema version."""
    current = stored_version(con)
    if current > SCHEMA_VERSION:
        rows = con.execute("select value from vigil_meta where key = 'migrated_by'").fetchall()
        by = f" by vigil {rows[0][0]}" if rows and rows[0][0] else ""
        raise StoreError(
            f"store written{by} with schema version {current}; this vigil ({version()}) reads up to schema "
            f"{SCHEMA_VERSION}: upgrade vigil (docs/operations.md#upgrade), or restore a backup taken before",
            path=path)
    if read_only and 0 < current < SCHEMA_VERSION:
        raise StoreError(f"store has schema version {current} (this vigil: {SCHEMA_VERSION}) and is opened "
                         "read-only; migrate it once with `vigil upgrade --db STORE` (back it up first)", path=path)
    return current


def _v1_raw_to_blocks(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 1 -> 2: move ``raw_records.raw`` texts into compressed blocks, then drop the old table."""
    if "raw" in _columns(con, "raw_records"):
        con.execute("ALTER TABLE raw_records RENAME TO raw_records_v1")
    if not _columns(con, "raw_records_v1"):
        return
    con.execute(RAW_RECORDS.ddl())
    con.execute(RAW_BLOCKS.ddl())
    # one block series per target table, records in event_id order (block ids are stable across runs)
    targets = [r[0] for r in con.execute("select distinct target_table from raw_records_v1 order by 1").fetchall()]
    for target in targets:
        last, part = "", 0
        while True:  # keyset pages: each round reads past the last event id written
            batch: pa.Table = con.sql(
                "select event_id, raw from raw_records_v1 where target_table = ? and event_id > ? "
                "and event_id not in (select event_id from raw_records) order by event_id limit ?",
                params=[target, last, V1_BATCH_ROWS]).to_arrow_table()
            if batch.num_rows == 0:
                break
            ids = batch.column("event_id").combine_chunks()
            write_blocks(con, f"v1-{target}-{part}", target, ids, batch.column("raw").combine_chunks())
            last, part = ids[-1].as_py(), part + 1
    con.execute("DROP TABLE raw_records_v1")


def _json_field(paths: tuple[str, ...]) -> str:
    """The first of ``paths`` in the record ``j`` that holds a value, as JSON (a string holding JSON parsed)."""
    one = ("CASE json_type(j -> '{p}') WHEN 'VARCHAR' THEN TRY_CAST(nullif(trim(j ->> '{p}'), '') AS JSON) "
           "WHEN 'NULL' THEN NULL ELSE j -> '{p}' END")
    return "coalesce(" + ", ".join(one.format(p=p) for p in paths) + ")"


#: raw blocks read per round of the v3 backfill (~1 MB each decompressed)
V3_BATCH_BLOCKS = 32


def _v2_audit_details(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 2 -> 3: ``directory_events.operation_type`` and ``additional_details`` (AuditLogs'
    AADOperationType and AdditionalDetails), filled for the stored rows from their raw records."""
    con.execute("ALTER TABLE directory_events ADD COLUMN IF NOT EXISTS operation_type VARCHAR")
    con.execute("ALTER TABLE directory_events ADD COLUMN IF NOT EXISTS additional_details JSON")
    if not {"block_id", "start"} <= _columns(con, "raw_records"):
        return
    blocks = [r[0] for r in con.execute("select distinct block_id from raw_records "
                                        "where target_table = 'directory_events' order by 1").fetchall()]
    operation = "coalesce(" + ", ".join(f"nullif(trim(j ->> '{p}'), '')" for p in (
        "$.AADOperationType", "$.OperationType", "$.operationType", "$.properties.operationType")) + ")"
    details = _json_field(("$.AdditionalDetails", "$.additionalDetails", "$.properties.additionalDetails"))
    for i in range(0, len(blocks), V3_BATCH_BLOCKS):
        texts = read_raw(con, [r[0] for r in con.execute(
            "select event_id from raw_records where target_table = 'directory_events' "
            "and block_id in (select unnest(?))", [blocks[i:i + V3_BATCH_BLOCKS]]).fetchall()])
        con.register("_vigil_v3_raw", pa.table({"event_id": list(texts), "raw": list(texts.values())}))
        try:
            con.execute(f"""
                UPDATE directory_events d SET operation_type = x.op, additional_details = x.det
                FROM (SELECT event_id, {operation} AS op, {details} AS det
                      FROM (SELECT event_id, TRY_CAST(raw AS JSON) AS j FROM _vigil_v3_raw)) x
                WHERE d.event_id = x.event_id""")
        finally:
            con.unregister("_vigil_v3_raw")


#: schema 4: BehaviorAnalytics' JSON bags, stored since as typed columns of ueba_behavior
_BEHAVIOR_BAGS = ("UsersInsights", "DevicesInsights", "ActivityInsights")
#: tables a step replaced: old name -> (schema version that replaced it, table holding its rows since)
MOVED = {"BehaviorAnalytics": (4, "ueba_behavior")}
_JSON_TYPES = {"BOOLEAN": "BOOLEAN", "VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "UBIGINT": "BIGINT",
               "DOUBLE": "DOUBLE"}


def _v3_behavior_typed(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 3 -> 4: ``BehaviorAnalytics`` table -> ``ueba_behavior`` (bag keys as typed columns) + a view."""
    cols = con.execute("select column_name from duckdb_columns() where schema_name = 'main' "
                       "and table_name = 'BehaviorAnalytics' order by column_index").fetchall()
    if not cols or not con.execute("select 1 from duckdb_tables() where schema_name = 'main' "
                                   "and table_name = 'BehaviorAnalytics'").fetchall():
        return
    names = [str(c[0]) for c in cols]
    bags: dict[str, list[str]] = {}
    out = []
    for name in names:
        if name not in _BEHAVIOR_BAGS:
            out.append(ident(name))
            continue
        keys: list[str] = []  # every key any row has, in the order the rows give them
        for (row,) in con.execute(f"select distinct json_keys({ident(name)}) from BehaviorAnalytics").fetchall():
            keys += [k for k in row or [] if k not in keys]
        clash = [k for k in keys if k in names or any(k in b for b in bags.values())]
        if clash:
            raise StoreError(f"BehaviorAnalytics.{name} key {clash[0]!r} is also another column's name")
        kinds = con.execute("select " + ", ".join(
            f"any_value(json_type({ident(name)} -> {literal('$.' + k)})) FILTER "
            f"(WHERE json_type({ident(name)} -> {literal('$.' + k)}) <> 'NULL')" for k in keys)
            + " from BehaviorAnalytics").fetchall()[0] if keys else ()
        for k, kind in zip(keys, kinds, strict=True):
            path = literal("$." + k)
            typ = _JSON_TYPES.get(str(kind), "JSON" if kind else "VARCHAR")
            value = (f"{ident(name)} -> {path}" if typ == "JSON"
                     else f"CAST({ident(name)} ->> {path} AS {typ})")
            out.append(f"{value} AS {ident(k)}")
        bags[name] = keys
    con.execute("DROP TABLE IF EXISTS ueba_behavior")  # none in a schema-3 store; `vigil load` of an older lake
    con.execute(f"CREATE TABLE ueba_behavior AS SELECT {', '.join(out)} FROM BehaviorAnalytics")
    con.execute("DROP TABLE BehaviorAnalytics")
    con.execute(f"CREATE VIEW BehaviorAnalytics AS {fold_sql('ueba_behavior', names, bags)}")


#: schema version reached -> the step that reaches it from the one before
STEPS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    2: _v1_raw_to_blocks, 3: _v2_audit_details, 4: _v3_behavior_typed}


def _set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("insert or replace into vigil_meta values (?, ?)", [key, value])


def migrate(con: duckdb.DuckDBPyConnection, path: str) -> list[int]:
    """Bring a read-write store to :data:`SCHEMA_VERSION`; returns the versions migrated to."""
    current = check_readable(con, path, read_only=False)
    done: list[int] = []
    # a new store (version 0) is created at the current version below: no steps
    for target in range(current + 1, SCHEMA_VERSION + 1) if current else ():
        try:
            with transaction(con):
                STEPS[target](con)
                _set_meta(con, "schema_version", str(target))
                _set_meta(con, "migrated_by", version())
        except duckdb.Error as exc:
            raise StoreError(f"migration to schema {target} failed ({str(exc).splitlines()[0]}); "
                             f"the store is unchanged at schema {target - 1}", path=path) from None
        done.append(target)
    # stores migrated by the interim v2 code kept the v1 table beside the blocks
    if _columns(con, "raw_records_v1"):
        with transaction(con):
            _v1_raw_to_blocks(con)
    for table in CORE_TABLES:
        con.execute(table.ddl())
    if current == 0:
        _set_meta(con, "created_by", version())
        _set_meta(con, "migrated_by", version())
    _set_meta(con, "schema_version", str(SCHEMA_VERSION))
    return done
