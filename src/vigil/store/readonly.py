"""Read-only execution for hunting: the first of hunting's two layers (docs/hunting.md, "Hunting is read-only").

Every hunting path (``POST /api/v1/hunt``, the UI's hunt form, ``vigil hunt``, ``vigil query``, ``vigil.kql``,
``vigil.sql``) runs its text through :func:`run_select`: exactly one statement that DuckDB's own parser classifies
as SELECT, inside ``BEGIN TRANSACTION READ ONLY``, on an instance that cannot reach the file system.

Why this design (measured on DuckDB 2.0.1, one process holding the store read-write as ``vigil serve`` does):

* A second, locked-down DuckDB instance on the same file is impossible in-process:
  ``duckdb.connect(path, read_only=True)`` fails ("Can't open a connection to same database file with a
  different configuration than existing connections") and ``ATTACH path (READ_ONLY)`` from an in-memory
  instance fails ("Unique file handle conflict ... already attached"); another process cannot open the file
  at all while the service holds its lock. A snapshot per hunt would copy the whole store.
* ``enable_external_access``, ``lock_configuration`` and the extension settings are GLOBAL: set on a cursor
  they hold for every cursor of the instance. External access off costs the service nothing (ingest hands
  DuckDB Arrow batches, never file names), so :func:`harden` runs whenever a store is opened. A locked
  configuration refuses every later ``SET`` on every cursor ("Cannot change configuration option
  'TimeZone' - the configuration has been locked"), including the service's own per-cursor time zone and
  ingest's ``memory_limit``, so :func:`lock` is applied only to instances that serve nothing but reads
  (``vigil hunt``, ``vigil query``, read-only notebook stores).
* ``BEGIN TRANSACTION READ ONLY`` makes DuckDB refuse every write to the store ("Cannot write to database
  ... transaction is launched in read-only mode"), but still runs ``SET``, ``ATTACH ':memory:'``, temporary
  tables and ``COMMIT``: hence the single-SELECT rule, checked with ``extract_statements`` (DuckDB's parser,
  not a regex), so nothing can end the transaction or change a setting.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from vigil.errors import QueryError, RefusedQuery

#: set on every store instance when it is opened: no file system, no extensions fetched or loaded on demand
HARDENING = (
    ("enable_external_access", "false"),
    ("autoinstall_known_extensions", "false"),
    ("autoload_known_extensions", "false"),
    ("allow_community_extensions", "false"),
)


def harden(con: duckdb.DuckDBPyConnection, allowed_directory: str | Path | None = None) -> None:
    """Cut the instance off the file system and extensions (global; cannot be undone while it runs).

    ``allowed_directory``: the one folder the instance may still open files in (the service writes its
    backup snapshots there, with ATTACH); DuckDB accepts it only before external access is turned off.
    Idempotent, and a no-op on an instance already hardened and locked."""
    current = dict(con.execute("SELECT name, lower(value) FROM duckdb_settings() WHERE name IN "
                               f"({', '.join(repr(n) for n, _ in HARDENING)})").fetchall())
    if allowed_directory is not None and current.get("enable_external_access") != "false":
        folder = str(Path(allowed_directory).resolve()).rstrip("/") + "/"  # the folder, not a name prefix
        con.execute("SET allowed_directories = ['" + folder.replace("'", "''") + "']")
    for name, value in HARDENING:
        if current.get(name) != value:
            con.execute(f"SET {name} = {value}")


def lock(con: duckdb.DuckDBPyConnection) -> None:
    """Lock the instance's configuration: no later SET on any cursor (read-only instances only)."""
    con.execute("SET lock_configuration = true")


class HuntControl:
    """Time limit and cancellation of one hunt, which may run several statements on one cursor.

    :meth:`cancel` may be called from any thread (the API calls it when the client disconnects)."""

    def __init__(self, timeout_s: float | None) -> None:
        self.timeout_s = timeout_s
        self.deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.cancelled = False
        self.timed_out = False
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._con is not None:
                self._con.interrupt()

    def _expire(self) -> None:
        with self._lock:
            self.timed_out = True
            if self._con is not None:
                self._con.interrupt()

    def _stopped(self) -> QueryError:
        if self.cancelled:
            return QueryError("hunt cancelled: the client went away")
        return QueryError(f"hunt stopped: it ran longer than the {self.timeout_s:g} s limit (hunt.timeout_s)")

    def run(self, con: duckdb.DuckDBPyConnection, fn: Any) -> Any:
        """``fn()`` (one DuckDB statement on ``con``) under the remaining time; interrupted when over."""
        timer = None
        with self._lock:
            if self.cancelled:
                raise self._stopped()
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    self.timed_out = True
                    raise self._stopped()
                timer = threading.Timer(left, self._expire)
                timer.daemon = True
                timer.start()
            self._con = con
        try:
            return fn()
        except duckdb.InterruptException:
            raise self._stopped() from None
        finally:
            with self._lock:
                self._con = None
            if timer is not None:
                timer.cancel()


def check_select(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but exactly one SELECT statement, as DuckDB's own parser reads it."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL syntax error: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise RefusedQuery(f"hunting runs exactly one SELECT statement, not {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise RefusedQuery(f"hunting is read-only: a {kind.name} statement is not allowed, only SELECT")


def refusal(exc: duckdb.Error) -> RefusedQuery | None:
    """The refusal behind a DuckDB error raised by the read-only transaction or the hardening, if it is one."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, duckdb.PermissionException):
        return RefusedQuery(f"hunting cannot reach the file system or extensions ({first})")
    if isinstance(exc, duckdb.TransactionException) and "read-only" in first:
        return RefusedQuery(f"hunting is read-only ({first})")
    return None


def run_select(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None,
               control: HuntControl | None = None, in_read_only_transaction: bool = False) -> pa.Table:
    """Rows of one SELECT, run in a read-only transaction: its own, or the caller's READ ONLY one when
    ``in_read_only_transaction`` (a command handed to `vigil serve`, cli/_service.py); DuckDB cannot nest."""
    check_select(con, sql)
    ctl = control or HuntControl(None)
    if not in_read_only_transaction:
        con.execute("BEGIN TRANSACTION READ ONLY")
    try:
        def fetch() -> pa.Table:
            rel = con.sql(sql, params=params) if params else con.sql(sql)
            if rel is None:
                raise RefusedQuery("hunting is read-only: the statement returns no rows")
            return rel.to_arrow_table()

        try:
            table: pa.Table = ctl.run(con, fetch)
        except duckdb.Error as exc:
            refused = refusal(exc)
            if refused is not None:
                raise refused from None
            raise
        return table
    finally:
        if not in_read_only_transaction:
            con.execute("ROLLBACK")
