"""Run KQL over the store: duckdb-kql (pinned 1.1.2) behind vigil's rewrites and error mapping.

``run_hunt(store, kql)`` returns an Arrow table. Before translation, vigil
1. makes sure the Sentinel-named views exist (temporary ones on a store the ueba stage has
   not prepared), 2. prepends the prelude functions the query calls
   (:mod:`vigil.hunt.functions`), and 3. evaluates ``prev()`` / ``next()`` / ``row_number()``
   over serialized rows (:mod:`vigil.hunt.serialize`). Every failure is a
   :class:`vigil.errors.QueryError` naming the construct, table or column at fault.

Hunting is read-only in two layers (docs/hunting.md): :func:`vigil.hunt.guard.check_kql` and duckdb-kql's own
write gate (``allow_write=False``) refuse management commands before translation; every statement then runs
through :func:`vigil.store.readonly.run_select` (one SELECT, read-only transaction, no file access). Either
layer alone stops the attacks in tests/hunt/test_readonly.py.
"""
from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import Any

import duckdb
import duckdb_kql
import pyarrow as pa

from duckdb_kql.engine import schema as kql_schema

from vigil.errors import QueryError, RefusedQuery
from vigil.hunt.casenames import distinct_names, restore as restore_names
from vigil.hunt.functions import with_prelude
from vigil.hunt.guard import check_kql, check_sql
from vigil.hunt.kqlext import install as install_extensions
from vigil.hunt.rewrite import Rewritten, rewrite, watchlist_relation
from vigil.hunt.series import register as register_series
from vigil.hunt.serialize import continuation, rewrite_stage, split
from vigil.store import Store
from vigil.hunt.unpack import expand as expand_bag_unpack, expand_column_ifexists
from vigil.hunt.watchlist import items_sql
from vigil.store.readonly import HuntControl, run_select
from vigil.ueba.views import create_views, expected_views

_serial = itertools.count()
_BAG_UNPACK = re.compile(r"\|\s*evaluate\s+bag_unpack\s*\(")
MAX_SERIAL_STEPS = 16
#: duckdb-kql's write gate, part of the second layer (False: ingestion and database commands refused)
KQL_ALLOW_WRITE = False


def _tables(store: Store) -> list[str]:
    return [t for t in store.tables() if not t.startswith("_")]


def _translate_error(exc: Exception, store: Store | None) -> QueryError:
    if isinstance(exc, duckdb_kql.KqlUnsupportedError) and "writes are disabled" in str(exc):
        return RefusedQuery(f"hunting is read-only: {str(exc).split(' (')[0]} is not allowed")
    if isinstance(exc, duckdb_kql.KqlUnsupportedError):
        return QueryError(f"{exc} -- not supported by vigil's KQL engine (duckdb-kql "
                          f"{duckdb_kql.__version__}); see docs/hunting.md for what is")
    if isinstance(exc, duckdb_kql.KqlSyntaxError):
        return QueryError(f"KQL syntax error: {exc}")
    if isinstance(exc, duckdb_kql.KqlSchemaError):
        return QueryError(f"KQL schema error: {exc}")
    if isinstance(exc, duckdb_kql.KqlError):
        return QueryError(f"KQL error: {exc}")
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    m = re.search(r'Table with name "?(\w+)"? does not exist', str(exc))
    if m and store is not None:
        hint = " (run `vigil analyze` to build the UEBA tables)" if m.group(1) in (
            "BehaviorAnalytics", "UserPeerAnalytics", "IdentityInfo") else ""
        return QueryError(f"unknown table {m.group(1)!r}{hint}; tables: {', '.join(_tables(store))}")
    return QueryError(f"query failed in DuckDB: {first}")


def _schema(store: Store) -> dict[str, list[str]]:
    """duckdb-kql's schema, with the connection's temporary views (the Sentinel views of a store the
    ueba stage has not prepared) under their bare names: they shadow a stored view, as in DuckDB."""
    schema = kql_schema(store.con)
    for key, cols in list(schema.items()):
        if key.startswith("temp."):
            schema[key[len("temp."):]] = cols
    return schema


def _run(store: Store, kql: str, now: datetime | None, control: HuntControl) -> pa.Table:
    try:
        sql = duckdb_kql.to_sql(kql, schema=_schema(store), allow_write=KQL_ALLOW_WRITE, query_now=now)
        if sql.unbound:
            raise QueryError(f"declared query parameter with no value: {', '.join(sql.unbound)}")
        return run_select(store.con, str(sql), sql.parameters, control, store.read_only_transaction)
    except (duckdb_kql.KqlError, duckdb.Error) as exc:
        raise _translate_error(exc, store) from None


def _views_current(store: Store) -> bool:
    if not all(store.exists(v) for v in expected_views(store)):
        return False
    # a store analysed by an older vigil has the views without the columns added since (or filled since)
    return bool(store.rows("SELECT 1 FROM information_schema.columns WHERE table_name = 'SigninLogs' "
                           "AND column_name = 'CrossTenantAccessType'")) and bool(store.rows(
        "SELECT 1 FROM duckdb_views() WHERE view_name = 'AuditLogs' AND contains(sql, 'operation_type')"))


def ensure_views(store: Store) -> None:
    if not _views_current(store):
        create_views(store, temp=True)


def run_hunt(store: Store, kql: str, *, now: datetime | None = None, timeout_s: float | None = None,
             control: HuntControl | None = None) -> pa.Table:
    """Run a KQL query over the store and return its rows. ``now`` fixes ``now()`` / ``ago()``; the hunt is
    interrupted after ``timeout_s`` (or as ``control`` says: its time limit, a cancellation)."""
    if not kql or not kql.strip():
        raise QueryError("empty KQL query")
    check_kql(kql)
    install_extensions()
    control = control or HuntControl(timeout_s)
    ensure_views(store)
    rewritten = rewrite(kql)
    check_kql(rewritten.text)   # table('x') and inlined functions name tables only after the rewrite
    try:
        return _hunt(store, rewritten, rewritten.text, {}, now, control)
    except QueryError as exc:
        if "differ only in case" not in str(exc):
            raise
    # names that differ only in case are distinct in KQL, not in DuckDB (vigil/hunt/casenames.py); only a
    # query duckdb-kql refuses for it is renamed, so one that reads a column in another case still runs
    text, renamed = distinct_names(rewritten.text, {c for cols in _schema(store).values() for c in cols})
    return _hunt(store, rewritten, text, renamed, now, control)


def _hunt(store: Store, rewritten: Rewritten, text: str, renamed: dict[str, str], now: datetime | None,
          control: HuntControl) -> pa.Table:
    if "series_" in text:
        register_series(store.con)    # the series functions' UDFs (vigil/hunt/series.py)
    registered: list[str] = []
    try:
        for alias in rewritten.watchlists:
            try:
                rows = run_select(store.con, items_sql(store, alias), None, control, store.read_only_transaction)
            except duckdb.Error as exc:
                raise _translate_error(exc, store) from None
            store.con.register(watchlist_relation(alias), rows)
            registered.append(watchlist_relation(alias))
        for _ in range(4):   # evaluate bag_unpack: its columns come from the data (vigil/hunt/unpack.py)
            if not _BAG_UNPACK.search(text):
                break
            text = expand_bag_unpack(text, lambda q: _run(store, with_prelude(q), now, control))
        for _ in range(8):   # column_ifexists(): whether the column exists is known when the query runs
            resolved = expand_column_ifexists(text, lambda q: _run(store, with_prelude(q), now, control))
            if resolved == text:
                break
            text = resolved
        text = with_prelude(text)
        for _ in range(MAX_SERIAL_STEPS):
            cut = split(text)
            if cut is None:
                break
            prefix = ";\n".join(cut.lets + ["|".join(cut.prefix)])
            rows = _run(store, prefix, now, control)
            rows = rows.append_column("_vigil_rn", pa.array(range(rows.num_rows), pa.int64()))
            stage, items = rewrite_stage(cut.stage)
            base = f"_vigil_serial_{next(_serial)}"
            store.con.register(base + "_in", rows)
            registered.append(base + "_in")
            try:  # items hold the caller's expressions: the same read-only path as every statement
                numbered = run_select(store.con, f"SELECT *, {', '.join(items)} FROM {base}_in ORDER BY _vigil_rn",
                                      control=control, in_read_only_transaction=store.read_only_transaction)
            except duckdb.Error as exc:
                raise _translate_error(exc, store) from None
            store.con.register(base, numbered)
            registered.append(base)
            text = ";\n".join(cut.lets + ["|".join([base] + continuation(stage) + cut.rest)])
        else:
            raise QueryError(f"more than {MAX_SERIAL_STEPS} prev()/next() stages")
        result = _run(store, text, now, control)
    finally:
        for name in registered:
            store.con.unregister(name)
    result = restore_names(result, renamed)
    keep = [c for c in result.column_names if not c.startswith("_vigil_")]
    return result.select(keep) if len(keep) != result.num_columns else result


def translate(kql: str) -> str:
    """The DuckDB SQL duckdb-kql produces for ``kql`` (after vigil's rewrites and prelude), for `--explain`."""
    check_kql(kql)
    install_extensions()
    text = rewrite(kql).text
    check_kql(text)
    try:
        return str(duckdb_kql.to_sql(with_prelude(text), allow_write=KQL_ALLOW_WRITE))
    except duckdb_kql.KqlError as exc:
        raise _translate_error(exc, None) from None


def rows_as_dicts(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def run_sql(store: Store, sql: str, params: list[Any] | None = None, *, timeout_s: float | None = None,
            control: HuntControl | None = None) -> pa.Table:
    """Read-only SQL over the store (``vigil query``, ``vigil.sql``): both layers, as for KQL."""
    check_sql(sql)
    try:
        return run_select(store.con, sql, params, control or HuntControl(timeout_s), store.read_only_transaction)
    except duckdb.Error as exc:
        raise QueryError(f"query failed in DuckDB: {str(exc).splitlines()[0]}") from None
