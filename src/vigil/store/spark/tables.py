"""A table of the Spark store, and what the package's modules need of the store (:class:`Tables`)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from vigil.errors import PortabilityError


@dataclass
class SparkTable:
    """One table of the Spark store: its current version and what the lake's manifest records of it."""

    name: str
    df: DataFrame
    duck_types: list[tuple[str, str]]
    key: list[str] = field(default_factory=list)
    temporary: bool = False


class Tables(Protocol):
    """The store as :mod:`.statements` and :mod:`.connection` use it (:class:`.store.SparkStore` is it)."""

    spark: SparkSession

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def last(self, sql: str, params: Sequence[Any] | None) -> DataFrame | None: ...

    def exists(self, name: str) -> bool: ...

    def table(self, name: str, source: str) -> SparkTable: ...

    def fail(self, why: str, source: str) -> PortabilityError: ...

    def to_spark(self, tree: exp.Expr, source: str) -> str: ...

    def sql(self, tree: exp.Expr, source: str) -> DataFrame: ...

    def put(self, name: str, df: DataFrame, source: str, duck_types: list[tuple[str, str]] | None = None,
            key: list[str] | None = None, temporary: bool | None = None, empty: bool = False) -> None: ...

    def add_view(self, name: str, text: str) -> None: ...

    def forget(self, name: str) -> None: ...

    def close(self) -> None: ...
