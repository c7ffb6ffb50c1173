"""The Spark store: the :class:`vigil.store.Database` protocol over a lake, each statement run as Spark SQL."""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from vigil.errors import PortabilityError
from vigil.store.dialect import Dialect
from vigil.store.engine import Database
from vigil.store.lake import Manifest
from vigil.store.schema import Table
from vigil.store.spark import lakeio, statements
from vigil.store.spark.connection import SparkConnection
from vigil.store.spark.convert import duck_type, first_line, mentions
from vigil.store.spark.tables import SparkTable
from vigil.store.spark.session import SPARK, session
from vigil.store.transpile import excerpt, parse, to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class SparkStore:
    """vigil's tables on Apache Spark: the second implementation of :class:`Database`.

    Besides the protocol, ``put``, ``sql``, ``table``, ``fail``, ``to_spark``, ``add_view``, ``forget``
    and ``last`` are for the package's modules (:mod:`~vigil.store.spark.statements` and the connection)."""

    def __init__(self, spark: SparkSession, path: str, manifest: Manifest | None = None) -> None:
        self.spark = spark
        # Spark 4 fails checkpointing a UNION over an earlier checkpoint while propagating constraints
        # ("key not found: kind#..." in UnionBase.rewriteConstraints): the store's plans do without them
        spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
        self.path = path
        self.manifest = manifest or Manifest({})
        self.stage: str | None = None  # the running stage, named in errors
        self.statements = 0
        self._tables: dict[str, SparkTable] = {}
        self._views: dict[str, str] = {}  # lower name -> Spark SQL of the view's query
        self._view_names: dict[str, str] = {}  # lower name -> name as created
        self._changed: set[str] = set()
        self._savepoints: list[tuple[dict[str, SparkTable], dict[str, str], set[str]]] = []
        # what a table is kept in: the session's shuffle width, never fewer partitions than cores
        self._partitions = max(int(spark.conf.get("spark.sql.shuffle.partitions") or 1),
                               spark.sparkContext.defaultParallelism)
        self.con = SparkConnection(self)

    # -- the Database interface -----------------------------------------------------------------
    @property
    def dialect(self) -> Dialect:
        return SPARK

    def ident(self, name: str) -> str:
        return SPARK.ident(name)

    def literal(self, value: object) -> str:
        return SPARK.literal(value)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        for tree in self._parse(sql, params):
            self._run(tree, sql)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        df = self.last(sql, params)
        if df is None:
            raise ValueError("statement returns no rows; use store.execute for DDL/DML")
        return df.toArrow()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        df = self.last(sql, params)
        return [] if df is None else [tuple(r) for r in df.collect()]

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def relations(self) -> set[str]:
        return {t.name for t in self._tables.values()} | {self._view_names[k] for k in self._views}

    def tables(self) -> list[str]:
        return sorted(self.relations())

    def exists(self, name: str) -> bool:
        return name.lower() in self._tables or name.lower() in self._views

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {self.ident(table)}") or 0)

    def transaction(self) -> AbstractContextManager[None]:
        return self._transaction()

    def ensure(self, tables: Iterable[Table]) -> None:
        for table in tables:
            self.execute(table.ddl())

    # -- the lake -------------------------------------------------------------------------------
    def load(self, lake: str | Path) -> None:
        """Every table of the lake's manifest as a view over its Parquet files."""
        for t in lakeio.read(self.spark, self.manifest, lake):
            self._tables[t.name.lower()] = t
            t.df.createOrReplaceTempView(t.name)

    def save(self, lake: str | Path, tables: Iterable[str] | None = None) -> Manifest:
        """Write the tables this run changed (or ``tables``) to the lake and update its manifest."""
        names = [n.lower() for n in tables] if tables is not None else sorted(self._changed)
        return lakeio.write([self._tables[k] for k in names if k in self._tables], self.manifest, lake)

    # -- statements -----------------------------------------------------------------------------
    def _parse(self, sql: str, params: Sequence[Any] | None) -> list[exp.Expr]:
        try:
            return parse(sql, params)
        except PortabilityError as exc:
            if self.stage:
                raise PortabilityError(f"stage {self.stage}: {exc}") from None
            raise

    def last(self, sql: str, params: Sequence[Any] | None) -> DataFrame | None:
        """Run every statement of ``sql``; the rows of the last one (None when it returns none)."""
        result = None
        for tree in self._parse(sql, params):
            result = self._run(tree, sql)
        return result

    def fail(self, why: str, source: str) -> PortabilityError:
        where = f"stage {self.stage}: " if self.stage else ""
        return PortabilityError(f"{where}{why}: {excerpt(source)}")

    def to_spark(self, tree: exp.Expr, source: str) -> str:
        try:
            types = [(n.lower(), typ.upper()) for t in self._tables.values() for n, typ in t.duck_types]
            lists = frozenset(n for n, typ in types if typ.endswith("]"))
            json = {n for n, typ in types if typ == "JSON"} - {n for n, typ in types if typ != "JSON"}
            return to_spark(tree, source, lists, frozenset(json))
        except PortabilityError as exc:
            if self.stage:
                raise PortabilityError(f"stage {self.stage}: {exc}") from None
            raise

    def sql(self, tree: exp.Expr, source: str) -> DataFrame:
        """A query as a DataFrame (planned, not run)."""
        text = self.to_spark(tree, source)
        self.statements += 1
        try:
            return self.spark.sql(text)
        except Exception as exc:  # Spark's AnalysisException / ParseException, named with the statement
            raise self.fail(f"Spark refused the transpiled statement ({first_line(exc)}) "
                            f"[spark: {excerpt(text, 400)}]", source) from None

    def _run(self, tree: exp.Expr, source: str) -> DataFrame | None:
        if isinstance(tree, exp.Query):
            return self.sql(tree, source)
        if isinstance(tree, exp.Create):
            statements.create(self, tree, source)
        elif isinstance(tree, exp.Insert):
            statements.insert(self, tree, source)
        elif isinstance(tree, exp.Delete):
            statements.delete(self, tree, source)
        elif isinstance(tree, exp.Update):
            statements.update(self, tree, source)
        elif isinstance(tree, exp.Drop):
            statements.drop(self, tree, source)
        elif isinstance(tree, exp.Alter):
            statements.alter(self, tree, source)
        elif isinstance(tree, exp.Transaction):
            self._begin()
        elif isinstance(tree, exp.Commit):
            self._end(commit=True)
        elif isinstance(tree, exp.Rollback):
            self._end(commit=False)
        elif isinstance(tree, exp.Set | exp.Pragma) or (
                isinstance(tree, exp.Column | exp.Command) and tree.name.upper() in ("CHECKPOINT", "SET", "RESET")):
            pass  # engine settings: the Spark session's configuration stands for them
        else:
            raise self.fail(f"no Spark formulation for a {type(tree).__name__} statement", source)
        return None

    # -- table versions -------------------------------------------------------------------------
    def table(self, name: str, source: str) -> SparkTable:
        t = self._tables.get(name.lower())
        if t is None:
            raise self.fail(f"no table named {name!r}", source)
        return t

    def put(self, name: str, df: DataFrame, source: str, duck_types: list[tuple[str, str]] | None = None,
            key: list[str] | None = None, temporary: bool | None = None, empty: bool = False) -> None:
        """``df`` as the next version of table ``name``, materialised (``localCheckpoint``) so plans stay
        short; the views over it re-created."""
        old = self._tables.get(name.lower())
        try:
            # an empty table has nothing to materialise (a job saved); otherwise at most `partitions` of them,
            # or every INSERT's UNION would add the new rows' partitions to the table's for good
            df = df if empty else df.coalesce(self._partitions).localCheckpoint(eager=True)
        except Exception as exc:  # Spark fails some plans only when it runs them
            raise self.fail(f"Spark failed running it ({first_line(exc)})", source) from None
        if duck_types is None:
            duck_types = old.duck_types if old else [(f.name, duck_type(f.dataType.simpleString()))
                                                      for f in df.schema.fields]
        t = SparkTable(old.name if old else name, df, duck_types, key if key is not None else (old.key if old else []),
                       temporary if temporary is not None else (old.temporary if old else False))
        self._tables[name.lower()] = t
        self._views.pop(name.lower(), None)
        df.createOrReplaceTempView(t.name)
        if not t.temporary:
            self._changed.add(name.lower())
        self._refresh_views(name)

    def add_view(self, name: str, text: str) -> None:
        """Record a view Spark has just created from ``text`` (replacing a table of that name)."""
        self._tables.pop(name.lower(), None)
        self._views[name.lower()] = text
        self._view_names[name.lower()] = name

    def forget(self, name: str) -> None:
        """Drop a table or view."""
        self._tables.pop(name.lower(), None)
        self._views.pop(name.lower(), None)
        self.spark.catalog.dropTempView(name)
        self._changed.discard(name.lower())

    def _refresh_views(self, changed: str | None = None) -> None:
        """Re-create the views over ``changed`` (all views when None), and the views over those, so they
        read the new version. Re-creating is a parse and an analysis each, so only the views whose Spark
        text names the table are re-created."""
        stale = {changed.lower()} if changed else None
        done: set[str] = set()
        grew = True
        while grew:
            grew = False
            for key, text in self._views.items():
                if key in done or (stale is not None and not any(mentions(text, n) for n in stale)):
                    continue
                self.spark.sql(f"CREATE OR REPLACE TEMP VIEW `{self._view_names[key]}` AS {text}")
                done.add(key)
                if stale is not None:
                    stale.add(key)
                    grew = True

    # -- transactions ---------------------------------------------------------------------------
    def _begin(self) -> None:
        self._savepoints.append((dict(self._tables), dict(self._views), set(self._changed)))

    def _end(self, commit: bool) -> None:
        if not self._savepoints:
            raise PortabilityError("COMMIT / ROLLBACK without BEGIN")
        tables, views, changed = self._savepoints.pop()
        if commit:
            return
        for key in set(self._tables) - set(tables):
            self.spark.catalog.dropTempView(self._tables[key].name)
        self._tables, self._views, self._changed = tables, views, changed
        for t in self._tables.values():
            t.df.createOrReplaceTempView(t.name)
        self._refresh_views()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._begin()
        try:
            yield
        except BaseException:
            self._end(commit=False)
            raise
        self._end(commit=True)

    def close(self) -> None:
        for t in self._tables.values():
            self.spark.catalog.dropTempView(t.name)
        for key in self._views:
            self.spark.catalog.dropTempView(self._view_names[key])
        self._tables.clear()
        self._views.clear()

    def __enter__(self) -> SparkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_spark_store(lake: str | Path, spark: SparkSession | None = None, master: str = "local[2]") -> SparkStore:
    """A Spark store over the lake at ``lake`` (its tables as views; nothing is read until used)."""
    manifest = Manifest.read(lake)
    store = SparkStore(spark or session(master), str(lake), manifest)
    store.load(lake)
    return store


# mypy checks that the Spark store implements the whole interface
_IMPLEMENTS: type[Database] = SparkStore
