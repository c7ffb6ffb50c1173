"""Opening, migrating and exporting the DuckDB store."""
from __future__ import annotations

import os

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from vigil.errors import InputError, StoreError
from vigil.store.dialect import DUCKDB, Dialect
from vigil.store.engine import Database, transaction
from vigil.store.migrate import check_readable, migrate
from vigil.store.readonly import harden, lock
from vigil.store.schema import Table

EXPORT_FORMATS = ("parquet", "csv")


class Store:
    """A DuckDB file with vigil's schema: the DuckDB implementation of :class:`Database`.

    ``con`` is the DuckDB connection, for what the interface does not cover (registering Arrow
    tables, ``executemany``); stages go through the methods below for everything else.
    """

    #: ``con`` runs inside a READ ONLY transaction its owner opened (hunts then run in it, not in their own)
    read_only_transaction = False

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str) -> None:
        self.con = con
        self.path = path

    @property
    def dialect(self) -> Dialect:
        return DUCKDB

    def ident(self, name: str) -> str:
        return DUCKDB.ident(name)

    def literal(self, value: object) -> str:
        return DUCKDB.literal(value)

    def ensure(self, tables: Iterable[Table]) -> None:
        for table in tables:
            self.con.execute(table.ddl())

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        # fetch the (status) result so the connection is free for the next relation (DuckDB 2.0)
        (self.con.execute(sql, params) if params else self.con.execute(sql)).fetchall()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run SQL and return an Arrow table."""
        rel = self.con.sql(sql, params=list(params)) if params else self.con.sql(sql)
        if rel is None:
            raise ValueError("statement returns no rows; use store.execute for DDL/DML")
        return rel.to_arrow_table()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """All rows as tuples.

        DuckDB 2.0: ``execute(...).fetchone()`` leaves the result open and blocks the next
        relation on the connection, so every read here fetches completely.
        """
        return (self.con.execute(sql, params) if params else self.con.execute(sql)).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """First column of the first row (None when there is no row)."""
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def relations(self) -> set[str]:
        # duckdb_tables()/duckdb_views() answer in ~1 ms where information_schema takes ~10-25 ms;
        # schema 'main' covers the file's and the temporary catalog's relations
        return {r[0] for r in self.rows(
            "select table_name from duckdb_tables() where schema_name = 'main' union all "
            "select view_name from duckdb_views() where schema_name = 'main' and not internal")}

    def tables(self) -> list[str]:
        """Tables and views, sorted by name."""
        return sorted(self.relations())

    def exists(self, name: str) -> bool:
        return bool(self.scalar(
            "select count(*) from (select table_name from duckdb_tables() where schema_name = 'main' "
            "and table_name = ? union all select view_name from duckdb_views() where schema_name = 'main' "
            "and not internal and view_name = ?)", [name, name]))

    def count(self, table: str) -> int:
        return int(self.scalar(f"select count(*) from {self.ident(table)}") or 0)

    def transaction(self) -> AbstractContextManager[None]:
        return transaction(self.con)

    def export(self, table: str, out: str | Path, fmt: str = "parquet") -> Path:
        if table not in self.tables():
            raise InputError(f"no table named {table!r} (have: {', '.join(self.tables())})")
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
        # a folder (existing, written with a trailing slash, or a name without an extension) gets <table>.<fmt>
        folder = str(out).endswith(("/", os.sep)) or Path(out).is_dir() or not Path(out).suffix
        out = Path(out) / f"{table}.{fmt}" if folder else Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        opts = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else "(FORMAT csv, HEADER true)"
        # The store's instance has no file access (see readonly.harden): its rows stream as Arrow into a
        # private in-memory instance, whose COPY writes the file.
        rows = self.con.sql(f"select * from {self.ident(table)}").to_arrow_reader()
        with connect() as out_con:
            out_con.register("export_rows", rows)
            out_con.execute(f"COPY export_rows TO {self.literal(str(out))} {opts}")
        return out

    def raw(self, event_ids: list[str]) -> dict[str, str]:
        """The raw text of stored records, by event id (ids not in the store are absent)."""
        from vigil.store.rawblocks import read_raw

        return read_raw(self.con, event_ids)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(path: str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC: the one place vigil opens one. ``:memory:`` gives a scratch
    engine for work that needs SQL but no store (reading a feed file, checking a mapping)."""
    con = duckdb.connect(path, read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB draws a progress bar on stdout for queries over 2 s: it would corrupt `--json` output
    # (print off too: setting progress_bar_time would switch the bar itself back on)
    con.execute("SET enable_progress_bar = false")
    con.execute("SET enable_progress_bar_print = false")
    return con


def open_store(path: str | Path, *, read_only: bool = False, threads: int = 0,
               memory_limit: str | None = None, snapshot_dir: str | Path | None = None) -> Store:
    """Open (creating and migrating when needed) the store at ``path``.

    The instance cannot open files (see :mod:`vigil.store.readonly`) except in ``snapshot_dir``, where the
    service writes the store copy of a backup."""
    path = str(path)
    if path != ":memory:" and not read_only:
        parent = Path(path).parent
        if not parent.exists():
            raise StoreError("folder does not exist", path=str(parent))
    if read_only and path != ":memory:" and not Path(path).exists():
        raise StoreError("store not found; run `vigil ingest` or `vigil demo` first", path=path)
    try:
        con = connect(path, read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(f"cannot open DuckDB store ({str(exc).splitlines()[0]})", path=path) from None
    con.execute("SET GLOBAL TimeZone = 'UTC'")  # cursors start from the global value (KQL datetimes are UTC)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {DUCKDB.literal(memory_limit)}")
    # A store never reaches the file system through DuckDB: vigil hands it Arrow, and hunting relies on it.
    harden(con, snapshot_dir)
    store = Store(con, path)
    try:  # refuse a newer store (and, read-only, an older one); migrate an older one forward
        if read_only:
            check_readable(con, path, read_only=True)
            lock(con)
        else:
            migrate(con, path)
            _fail_interrupted_ingests(store)
    except StoreError:
        con.close()
        raise
    return store


def _fail_interrupted_ingests(store: Store) -> None:
    """A run still `running` when the store is opened for writing was killed (DuckDB lets one process
    write a store, and a run that fails in-process marks itself): say so, and how far it got."""
    store.con.execute(
        "UPDATE ingest_runs SET status = 'failed', error = 'interrupted (the process was killed or crashed) after ' "
        "|| records_read || ' records read: ' || records_stored || ' stored, ' || records_duplicate || "
        "' duplicate, ' || records_quarantined || ' quarantined; re-run the file to complete it' "
        "WHERE status = 'running'"
    )


# mypy checks that the DuckDB store implements the whole interface
_IMPLEMENTS: type[Database] = Store
