"""Consistent copies of the store with DuckDB's own means (``COPY FROM DATABASE``).

The copy is one statement, so one transaction: it reads a single MVCC snapshot while other
connections keep reading and writing, and an ingest batch is either wholly in it or not at
all. The copy is a fresh, compact file (no free blocks), usually smaller than the store.

Two ways in: from the connection of the process that holds the store (``vigil serve``), or
from the file when no process holds it (attached read-only from an in-memory connection, so a
backup never migrates or otherwise writes the store it copies).
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from vigil.errors import StoreError
from vigil.store.db import connect
from vigil.store.dialect import ident, literal


def copy_database(con: duckdb.DuckDBPyConnection, source: str, dest: Path) -> None:
    """Copy the attached database ``source`` of ``con`` into the new file ``dest``."""
    if dest.exists():
        raise StoreError("snapshot target exists", path=str(dest))
    alias = "vigil_snapshot_target"
    con.execute(f"ATTACH {literal(str(dest))} AS {alias}")
    try:
        con.execute(f"COPY FROM DATABASE {ident(source)} TO {alias}")
    finally:
        con.execute(f"DETACH {alias}")


def snapshot_connection(con: duckdb.DuckDBPyConnection, dest: Path) -> None:
    """Snapshot the database ``con`` is connected to (a cursor of the serving process will do)."""
    name = con.execute("select current_database()").fetchall()[0][0]
    copy_database(con, name, dest)


class StoreBusy(StoreError):
    """Another process holds the store (``vigil serve``): snapshot through it instead."""


def snapshot_file(path: str | Path, dest: Path) -> None:
    """Snapshot the store file at ``path`` when no other process holds it."""
    if not Path(path).is_file():
        raise StoreError("store not found", path=str(path))
    con = connect(":memory:")
    try:
        try:
            con.execute(f"ATTACH {literal(str(path))} AS vigil_snapshot_source (READ_ONLY)")
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            if "lock" in first.lower():
                raise StoreBusy(f"held by another process ({first})", path=str(path)) from None
            raise StoreError(f"cannot open DuckDB store ({first})", path=str(path)) from None
        copy_database(con, "vigil_snapshot_source", dest)
    finally:
        con.close()


def table_counts(path: Path) -> dict[str, int]:
    """Rows per base table of the store file at ``path`` (opened read-only)."""
    with connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' order by 1").fetchall()]
        return {t: int(con.execute(f"select count(*) from {ident(t)}").fetchall()[0][0]) for t in tables}
