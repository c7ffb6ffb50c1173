"""``store.con`` on Spark: the part of a DuckDB connection stages still use directly."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from vigil.store.spark.convert import arrow_spark
from vigil.store.spark.session import SPARK
from vigil.store.spark.tables import Tables

if TYPE_CHECKING:
    from pyspark.sql import DataFrame



class Result:
    """What ``con.execute(...)`` returns: the rows of its last statement, fetched by the caller."""

    def __init__(self, df: DataFrame | None) -> None:
        self._df = df
        self._rows: list[tuple[Any, ...]] | None = None

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            self._rows = [] if self._df is None else [tuple(r) for r in self._df.collect()]
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._rows is None:
            self._rows = [] if self._df is None else [tuple(r) for r in self._df.collect()]
        return self._rows.pop(0) if self._rows else None

    def to_arrow_table(self) -> pa.Table:
        if self._df is None:
            raise ValueError("statement returns no rows")
        return self._df.toArrow()

    fetch_arrow_table = to_arrow_table

    def to_arrow_reader(self) -> pa.RecordBatchReader:
        return self.to_arrow_table().to_reader()


class SparkConnection:
    """The part of a DuckDB connection stages still use directly (``store.con``), on Spark."""

    def __init__(self, store: Tables) -> None:
        self._store = store

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Result:
        return Result(self._store.last(sql, params))

    def sql(self, sql: str, params: Sequence[Any] | None = None) -> Result:
        return self.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self._store.execute(sql, row)

    def register(self, name: str, data: Any) -> None:
        """An Arrow table (or reader, or pandas frame) as a temporary table."""
        if isinstance(data, pa.RecordBatchReader):
            data = data.read_all()
        store = self._store
        empty = isinstance(data, pa.Table) and data.num_rows == 0
        if empty:
            ddl = ", ".join(f"`{f.name}` {arrow_spark(f.type)}" for f in data.schema)
            df = store.spark.createDataFrame([], ddl)
        else:
            df = store.spark.createDataFrame(data)
        store.put(name, df, f"register {name}", temporary=True, empty=empty)

    def unregister(self, name: str) -> None:
        self._store.execute(f"DROP TABLE IF EXISTS {SPARK.ident(name)}")

    def close(self) -> None:
        self._store.close()
