"""The database interface every stage goes through.

:class:`Database` is what a stage may ask of the store: run SQL, fetch results as Arrow, ask which
relations exist, count rows, group statements in a transaction, quote, and name its dialect. The
DuckDB :class:`vigil.store.Store` implements it; a second engine (Spark) implements the same
protocol beside it. Stages never open connections, write BEGIN/ROLLBACK or quote by hand.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from vigil.store.dialect import Dialect

if TYPE_CHECKING:
    import pyarrow as pa


class Executes(Protocol):
    """Anything with a DB-API style ``execute`` (a DuckDB or SQLite connection)."""

    def execute(self, sql: str, /) -> Any: ...


@contextmanager
def transaction(con: Executes, begin: str = "BEGIN TRANSACTION") -> Iterator[None]:
    """Commit what the block did, or roll it all back if it raised (any exception, ^C included)."""
    con.execute(begin)
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@runtime_checkable
class Database(Protocol):
    """A store of vigil's tables on some SQL engine."""

    path: str

    @property
    def dialect(self) -> Dialect:
        """The SQL this engine speaks (quoting, named engine-specific constructs)."""
        ...

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement (DDL / DML) and discard any result."""
        ...

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a query and fetch its whole result as an Arrow table."""
        ...

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and fetch its whole result as tuples (small results)."""
        ...

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """First column of the first row (None when there is no row)."""
        ...

    def relations(self) -> set[str]:
        """Names of the tables and views (temporary ones included)."""
        ...

    def exists(self, name: str) -> bool:
        """Whether a table or view called ``name`` exists."""
        ...

    def count(self, table: str) -> int:
        """Rows in a table or view."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Everything in the block commits together or not at all."""
        ...

    def ident(self, name: str) -> str:
        """``name`` quoted as an identifier in this dialect."""
        ...

    def literal(self, value: object) -> str:
        """``value`` as a SQL literal in this dialect."""
        ...
