"""The SQL dialect a store speaks: quoting, and the constructs that differ between engines.

Stages build SQL text. What every engine understands (ANSI joins, windows, CASE, CTEs) they write
directly; what only DuckDB understands they ask for by name here, so a second engine (Spark SQL, a
later issue) supplies its own formulation by subclassing :class:`Dialect`. Each method's docstring
gives the portable formulation. Range lookups (ASOF) live in :mod:`vigil.enrich.rangejoin`, which
already has a plain-join formulation. docs/architecture.md lists the DuckDB-only constructs that are
not behind a name yet.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime


class Dialect:
    """DuckDB SQL (the only engine implemented)."""

    name = "duckdb"
    #: ASOF joins run here (else range lookups take rangejoin.window_sql)
    asof = True
    #: KQL hunting runs here, so the Sentinel-named views are built (hunting is DuckDB only: docs/scale.md)
    hunting = True

    # -- quoting ------------------------------------------------------------------------------
    def ident(self, name: str) -> str:
        """A quoted identifier (Spark: backticks)."""
        return '"' + name.replace('"', '""') + '"'

    def literal(self, value: object) -> str:
        """A SQL literal for a Python value: text, number, bool, None, date or datetime."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, datetime):
            return f"TIMESTAMP {self.literal(value.isoformat(sep=' '))}"
        if isinstance(value, date):
            return f"DATE {self.literal(value.isoformat())}"
        return "'" + str(value).replace("'", "''") + "'"

    def in_list(self, values: Iterable[object]) -> str:
        """``(v1, v2, ...)`` for ``x IN ...``."""
        return "(" + ", ".join(self.literal(v) for v in values) + ")"

    def array(self, values: Iterable[object]) -> str:
        """A list literal ``[v1, v2]`` (Spark: ``array(v1, v2)``)."""
        return "[" + ", ".join(self.literal(v) for v in values) + "]"

    # -- DuckDB-only constructs, by name ---------------------------------------------------------
    def epoch_seconds(self, expr: str) -> str:
        """Seconds since 1970 of a timestamp, as a double (Spark: ``unix_micros(x) / 1e6``)."""
        return f"epoch({expr})"

    def format_time(self, expr: str, fmt: str) -> str:
        """A timestamp formatted with strftime codes (Spark: ``date_format`` with Java patterns)."""
        return f"strftime({expr}, {self.literal(fmt)})"

    def format_number(self, expr: str, decimals: int) -> str:
        """A number as text with fixed decimals, no grouping (Spark: ``format_string('%.1f', x)``)."""
        return f"printf('%.{int(decimals)}f', {expr})"

    def first_ordered(self, expr: str, order_by: str) -> str:
        """Aggregate: ``expr`` of the first row in ``order_by`` order (Spark: ``min_by(x, struct(keys))``)."""
        return f"list({expr} ORDER BY {order_by})[1]"

    def last_non_null(self, expr: str) -> str:
        """Window function: the last non-null value in the frame (Spark: ``last(x, true)``)."""
        return f"last_value({expr} IGNORE NULLS)"

    def row_key(self) -> str:
        """A BIGINT unique per row of the table a SELECT reads directly, for joining a temp table back to itself
        on an integer instead of a text id (DuckDB: ``rowid``; Spark: ``monotonically_increasing_id()``)."""
        return "rowid"

    def arg_max(self, value: str, key: str) -> str:
        """Aggregate: ``value`` of the row with the largest ``key`` (Spark: ``max_by``)."""
        return f"arg_max({value}, {key})"

    def string_agg(self, expr: str, sep: str, order_by: str | None = None, distinct: bool = False) -> str:
        """Aggregate: values joined by ``sep`` (Spark: ``array_join(sort_array(collect_set(x)), sep)``)."""
        order = f" ORDER BY {order_by}" if order_by else ""
        return f"string_agg({'DISTINCT ' if distinct else ''}{expr}, {self.literal(sep)}{order})"


DUCKDB = Dialect()

#: Quoting for SQL built where no store is at hand (registries, macros); the store's own
#: ``store.dialect`` gives the same for the engine it runs on.
ident = DUCKDB.ident
literal = DUCKDB.literal
in_list = DUCKDB.in_list
array = DUCKDB.array
