"""The lake: vigil's tables as Parquet files any engine reads (Spark, DuckDB, Trino, pandas).

Layout (docs/scale.md, "The lake")::

    DIR/_vigil_lake.json                      manifest: every table's columns and DuckDB types, key,
                                              partitioning, row count (what a reader needs to rebuild
                                              the exact schema; Parquet alone loses JSON-ness)
    DIR/<table>/tenant=<id>/date=<day>/*.parquet   tables with a time column, several tenants
    DIR/<table>/date=<day>/*.parquet               tables with a time column, one tenant
    DIR/<table>/*.parquet                          the rest (directory, named locations, policies ...)

Partition values live only in the folder names (Hive style); the files hold exactly the table's own
columns, so ``read_parquet('DIR/t/**/*.parquet')`` without Hive partitioning returns the table as
it was. ``date`` is the UTC day of the table's partition column (the first ``TIMESTAMP`` column, for
example ``signins.event_time``); a row whose time is null goes under ``date=__HIVE_DEFAULT_PARTITION__``
as Spark writes it. Tenants are partitioned only when a table holds more than one ``tenant_id``.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from vigil.errors import InputError, StoreError
from vigil.store.dialect import DUCKDB

MANIFEST = "_vigil_lake.json"
LAKE_VERSION = 1
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: the compressed raw text blocks are the store's archive, not analysis input: exported only on request
ARCHIVE_TABLES = ("raw_blocks", "raw_records")
#: deployment state, not data: never written to a lake (backups carry it; docs/operations.md)
PRIVATE_TABLES = ("api_tokens", "connector_state")


@dataclass
class LakeTable:
    """One table of the lake, as its manifest entry describes it."""

    name: str
    columns: list[tuple[str, str]]  # (name, DuckDB type)
    primary_key: list[str] = field(default_factory=list)
    time_column: str | None = None  # partitioned by its UTC date when set
    by_tenant: bool = False  # partitioned by tenant_id first
    rows: int = 0

    @property
    def partition_by(self) -> list[str]:
        return (["tenant"] if self.by_tenant else []) + (["date"] if self.time_column else [])

    def ddl(self, if_not_exists: bool = True) -> str:
        cols = [f"{DUCKDB.ident(n)} {t}" for n, t in self.columns]
        if self.primary_key:
            cols.append("PRIMARY KEY (" + ", ".join(DUCKDB.ident(k) for k in self.primary_key) + ")")
        return (f"CREATE TABLE {'IF NOT EXISTS ' if if_not_exists else ''}{DUCKDB.ident(self.name)} ("
                + ", ".join(cols) + ")")


@dataclass
class Manifest:
    tables: dict[str, LakeTable]
    version: int = LAKE_VERSION

    def write(self, lake: Path) -> None:
        doc = {"version": self.version, "tables": [asdict(t) for t in self.tables.values()]}
        tmp = lake / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(doc, indent=1, default=list) + "\n")
        tmp.replace(lake / MANIFEST)

    @classmethod
    def read(cls, lake: str | Path) -> Manifest:
        path = Path(lake) / MANIFEST
        if not path.exists():
            raise StoreError("not a vigil lake (no manifest); write one with `vigil export --lake DIR`", path=str(path))
        try:
            doc = json.loads(path.read_text())
            if int(doc.get("version", 0)) > LAKE_VERSION:
                raise StoreError(f"lake version {doc['version']} is newer than this vigil reads ({LAKE_VERSION})",
                                 path=str(path))
            tables = {}
            for t in doc["tables"]:
                t["columns"] = [tuple(c) for c in t["columns"]]
                tables[t["name"]] = LakeTable(**t)
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"unreadable lake manifest ({exc})", path=str(path)) from None
        return cls(tables)


def table_files(lake: str | Path, table: str) -> str:
    """The glob matching every Parquet file of ``table`` (partitioned or not)."""
    return str(Path(lake) / table / "**" / "*.parquet")


def describe(con: Any, table: str, primary_key: Sequence[str] = ()) -> LakeTable:
    """The manifest entry for ``table`` of a DuckDB connection (columns, types, partitioning)."""
    cols = [(str(n), str(t)) for n, t in con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ? "
        "ORDER BY column_index", [table]).fetchall()]
    time_col = next((n for n, t in cols if t == "TIMESTAMP"), None)
    by_tenant = any(n == "tenant_id" for n, _ in cols) and int(con.execute(
        f"SELECT count(DISTINCT tenant_id) FROM {DUCKDB.ident(table)}").fetchall()[0][0]) > 1
    return LakeTable(table, cols, list(primary_key), time_col, by_tenant)


def primary_keys(con: Any) -> dict[str, list[str]]:
    """Each table's primary key, from DuckDB's catalog."""
    return {str(t): [str(c) for c in cols] for t, cols in con.execute(
        "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE schema_name = 'main' AND constraint_type = 'PRIMARY KEY'").fetchall()}


def partition_select(t: LakeTable, source: str) -> str:
    """``source``'s rows plus the derived partition columns (``tenant``, ``date``) of ``t``."""
    extra = []
    if t.by_tenant:
        extra.append(f"coalesce(tenant_id, {DUCKDB.literal(NULL_PARTITION)}) AS tenant")
    if t.time_column:
        extra.append(f"coalesce(CAST(CAST({DUCKDB.ident(t.time_column)} AS DATE) AS VARCHAR), "
                     f"{DUCKDB.literal(NULL_PARTITION)}) AS date")
    return f"SELECT *{''.join(', ' + e for e in extra)} FROM {source}"


def write_table(t: LakeTable, rows: pa.RecordBatchReader | pa.Table, lake: Path) -> None:
    """Write one table's rows under ``lake/<name>/`` (replacing what was there), partitioned as ``t`` says."""
    from vigil.store.db import connect

    folder = lake / t.name
    staging = lake / f".{t.name}.writing"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with connect() as con:
        con.register("lake_rows", rows)
        if t.partition_by:
            con.execute(f"COPY ({partition_select(t, 'lake_rows')}) TO {DUCKDB.literal(str(staging))} "
                        f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({', '.join(t.partition_by)}), "
                        "FILENAME_PATTERN 'part-{i}')")
        else:
            con.execute(f"COPY lake_rows TO {DUCKDB.literal(str(staging / 'part-0.parquet'))} "
                        "(FORMAT parquet, COMPRESSION zstd)")
    # swap in whole: a reader never sees half a table
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def export_lake(store: Any, lake: str | Path, tables: Iterable[str] | None = None,
                archive: bool = False) -> Manifest:
    """Write the store's tables (all, or ``tables``) to the lake at ``lake`` and update its manifest.

    ``archive`` also writes the raw text blocks (``raw_blocks``, ``raw_records``)."""
    out = Path(lake)
    out.mkdir(parents=True, exist_ok=True)
    have = [t for t in _base_tables(store.con) if t not in PRIVATE_TABLES]
    wanted = list(tables) if tables else [t for t in have if archive or t not in ARCHIVE_TABLES]
    missing = [t for t in wanted if t not in have]
    if missing:
        raise InputError(f"no table named {missing[0]!r} (have: {', '.join(have)})")
    manifest = Manifest.read(out) if (out / MANIFEST).exists() else Manifest({})
    keys = primary_keys(store.con)
    for name in wanted:
        entry = describe(store.con, name, keys.get(name, ()))
        entry.rows = store.count(name)
        write_table(entry, store.con.sql(f"SELECT * FROM {DUCKDB.ident(name)}").to_arrow_reader(), out)
        manifest.tables[name] = entry
    manifest.write(out)
    return manifest


def read_table(lake: str | Path, t: LakeTable) -> pa.Table:
    """One lake table as Arrow, with the manifest's column order and DuckDB types."""
    from vigil.store.db import connect

    cols = ", ".join(f"CAST({DUCKDB.ident(n)} AS {typ}) AS {DUCKDB.ident(n)}" for n, typ in t.columns)
    with connect() as con:
        if not list(Path(lake, t.name).glob("**/*.parquet")):
            con.execute(t.ddl().replace("CREATE TABLE IF NOT EXISTS", "CREATE TEMP TABLE", 1))
            return con.sql(f"SELECT {cols} FROM {DUCKDB.ident(t.name)}").to_arrow_table()
        return con.sql(f"SELECT {cols} FROM read_parquet({DUCKDB.literal(table_files(lake, t.name))}, "
                       "hive_partitioning = false, union_by_name = true)").to_arrow_table()


def load_lake(store: Any, lake: str | Path, tables: Iterable[str] | None = None) -> dict[str, int]:
    """Replace the store's copies of the lake's tables (all, or ``tables``) with the lake's rows, in one
    transaction; tables the store lacks are created from the manifest. Returns rows loaded per table."""
    from vigil.store.migrate import MOVED, STEPS

    manifest = Manifest.read(lake)
    # a table a schema step replaced (written by an older vigil) is read only when its replacement is not there
    wanted = list(tables) if tables else [t for t in manifest.tables
                                          if t not in MOVED or MOVED[t][1] not in manifest.tables]
    missing = [t for t in wanted if t not in manifest.tables]
    if missing:
        raise InputError(f"the lake has no table {missing[0]!r} (has: {', '.join(manifest.tables)})")
    loaded: dict[str, int] = {}
    with store.transaction():
        for name in wanted:
            t = manifest.tables[name]
            data = read_table(lake, t)
            if name in MOVED:  # the store has it as a view over its replacement: load it, then move it over
                store.execute(f"DROP VIEW IF EXISTS {DUCKDB.ident(name)}")
            store.execute(t.ddl())
            cols = ", ".join(DUCKDB.ident(n) for n, _ in t.columns)
            store.execute(f"DELETE FROM {DUCKDB.ident(name)}")
            store.con.register("_lake_rows", data)
            try:
                store.execute(f"INSERT INTO {DUCKDB.ident(name)} ({cols}) SELECT {cols} FROM _lake_rows")
            finally:
                store.con.unregister("_lake_rows")
            loaded[name] = data.num_rows
            if name in MOVED:
                STEPS[MOVED[name][0]](store.con)
    return loaded


def _base_tables(con: Any) -> list[str]:
    return sorted(str(r[0]) for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary").fetchall())
