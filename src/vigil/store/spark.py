"""The Spark implementation of :class:`vigil.store.Database`: the stages' DuckDB SQL, run on Apache Spark.

A :class:`SparkStore` is opened on a lake (:mod:`vigil.store.lake`): every table of the manifest becomes
a Spark temporary view over its Parquet files. Stages then run unchanged: each statement is parsed as
DuckDB SQL, rewritten by :mod:`vigil.store.transpile` and run as Spark SQL. Plain Spark tables are
immutable, so the statements that change a table are carried out here on DataFrames, with DuckDB's
meaning:

* ``CREATE [TEMP] TABLE t (...)`` / ``AS SELECT``: a DataFrame with that schema / that result;
* ``INSERT INTO t [(cols)] SELECT | VALUES`` (positional, cast to the column types), ``INSERT OR
  REPLACE`` / ``ON CONFLICT DO UPDATE`` (rows with the same primary key replaced), ``INSERT OR IGNORE`` /
  ``ON CONFLICT DO NOTHING`` (kept);
* ``DELETE FROM t [WHERE c]``: the rows where ``c`` is not true;
* ``UPDATE t [AS a] SET ... [FROM x] WHERE c``: every assignment reads the old row; with ``FROM``, a row
  matched several times takes one match (DuckDB leaves it unspecified too);
* ``BEGIN`` / ``COMMIT`` / ``ROLLBACK`` and :meth:`SparkStore.transaction`: tables are immutable
  DataFrames, so a rollback puts the previous ones back.

Each new version of a table is materialised (``localCheckpoint``) so plans stay short. Views stay
views (re-created from their Spark text when a table under them changes). :meth:`SparkStore.save`
writes the tables a run changed back to the lake, partitioned as the lake says.
"""
from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from vigil.errors import PortabilityError
from vigil.store.dialect import Dialect
from vigil.store.engine import Database
from vigil.store.lake import NULL_PARTITION, LakeTable, Manifest, table_files
from vigil.store.schema import Table
from vigil.store.transpile import excerpt, parse, spark_type, to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class SparkSourceDialect(Dialect):
    """What a stage writes for the Spark store: DuckDB text (transpiled by the store), without ASOF."""

    name = "spark"
    asof = False
    hunting = False

    def row_key(self) -> str:
        return "monotonically_increasing_id()"


SPARK = SparkSourceDialect()

#: Spark types back to the DuckDB types a lake manifest records (for tables a stage made with CTAS)
_DUCK_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT",
               "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN", "date": "DATE",
               "timestamp_ntz": "TIMESTAMP", "timestamp": "TIMESTAMP WITH TIME ZONE", "binary": "BLOB"}


def session(master: str = "local[2]", app: str = "vigil", conf: dict[str, str] | None = None) -> SparkSession:
    """A SparkSession as vigil needs it: UTC, timestamps without time zone, DuckDB's NULL-on-error
    arithmetic (ANSI off), no console progress bar (it would break ``--json``)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app)
    settings = {"spark.sql.session.timeZone": "UTC", "spark.sql.timestampType": "TIMESTAMP_NTZ",
                "spark.sql.ansi.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.caseSensitive": "false",
                "spark.sql.jsonGenerator.ignoreNullFields": "false",
                "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
                **(conf or {})}
    for k, v in settings.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    # Spark logs every refused statement with its JVM stack; the store's error names it in one line
    spark.sparkContext.setLogLevel("FATAL")
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


@dataclass
class _Table:
    name: str
    df: DataFrame
    duck_types: list[tuple[str, str]]
    key: list[str] = field(default_factory=list)
    temporary: bool = False


class SparkStore:
    """vigil's tables on Apache Spark: the second implementation of :class:`Database`."""

    def __init__(self, spark: SparkSession, path: str, manifest: Manifest | None = None) -> None:
        self.spark = spark
        # Spark 4 fails checkpointing a UNION over an earlier checkpoint while propagating constraints
        # ("key not found: kind#..." in UnionBase.rewriteConstraints): the store's plans do without them
        spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
        self.path = path
        self.manifest = manifest or Manifest({})
        self.stage: str | None = None  # the running stage, named in errors
        self.statements = 0
        self._tables: dict[str, _Table] = {}
        self._views: dict[str, str] = {}  # lower name -> Spark SQL of the view's query
        self._view_names: dict[str, str] = {}  # lower name -> name as created
        self._changed: set[str] = set()
        self._savepoints: list[tuple[dict[str, _Table], dict[str, str], set[str]]] = []
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

    def _parse(self, sql: str, params: Sequence[Any] | None) -> list[exp.Expr]:
        try:
            return parse(sql, params)
        except PortabilityError as exc:
            if self.stage:
                raise PortabilityError(f"stage {self.stage}: {exc}") from None
            raise

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        df = self._last(sql, params)
        if df is None:
            raise ValueError("statement returns no rows; use store.execute for DDL/DML")
        return df.toArrow()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        df = self._last(sql, params)
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
        for t in self.manifest.tables.values():
            schema = ", ".join(f"`{n}` {spark_type(typ)}" for n, typ in t.columns)
            if list(Path(lake, t.name).glob("**/*.parquet")):
                # the manifest's schema: no job to infer it; partition folders are not columns
                df = (self.spark.read.schema(schema).option("recursiveFileLookup", "true")
                      .option("pathGlobFilter", "*.parquet").parquet(str(Path(lake, t.name))))
            else:
                df = self.spark.createDataFrame([], schema)
            self._tables[t.name.lower()] = _Table(t.name, df, list(t.columns), list(t.primary_key))
            df.createOrReplaceTempView(t.name)

    def save(self, lake: str | Path, tables: Iterable[str] | None = None) -> Manifest:
        """Write the tables this run changed (or ``tables``) to the lake and update its manifest."""
        out = Path(lake)
        names = [n.lower() for n in tables] if tables is not None else sorted(self._changed)
        for key in names:
            t = self._tables.get(key)
            if t is None or t.temporary:
                continue
            entry = LakeTable(t.name, t.duck_types, t.key)
            cols = {n for n, _ in t.duck_types}
            entry.time_column = next((n for n, typ in t.duck_types if typ.upper() == "TIMESTAMP"), None)
            if "date" in cols:
                entry.time_column = None
            entry.by_tenant = "tenant_id" in cols and "tenant" not in cols and t.df.select("tenant_id").distinct() \
                .limit(2).count() > 1
            entry.rows = t.df.count()
            df = t.df
            if entry.by_tenant:
                df = df.selectExpr("*", f"coalesce(tenant_id, '{NULL_PARTITION}') AS tenant")
            if entry.time_column:
                df = df.selectExpr("*", f"coalesce(CAST(CAST(`{entry.time_column}` AS DATE) AS STRING), "
                                        f"'{NULL_PARTITION}') AS date")
            staging = out / f".{t.name}.writing"
            shutil.rmtree(staging, ignore_errors=True)
            writer = df.write.mode("overwrite").option("compression", "zstd")
            if entry.partition_by:
                writer = writer.partitionBy(*entry.partition_by)
            writer.parquet(str(staging))
            shutil.rmtree(out / t.name, ignore_errors=True)
            staging.rename(out / t.name)
            self.manifest.tables[t.name] = entry
        self.manifest.write(out)
        return self.manifest

    # -- statements -----------------------------------------------------------------------------
    def _last(self, sql: str, params: Sequence[Any] | None) -> DataFrame | None:
        result = None
        for tree in self._parse(sql, params):
            result = self._run(tree, sql)
        return result

    def _fail(self, why: str, source: str) -> PortabilityError:
        where = f"stage {self.stage}: " if self.stage else ""
        return PortabilityError(f"{where}{why}: {excerpt(source)}")

    def _to_spark(self, tree: exp.Expr, source: str) -> str:
        try:
            types = [(n.lower(), typ.upper()) for t in self._tables.values() for n, typ in t.duck_types]
            lists = frozenset(n for n, typ in types if typ.endswith("]"))
            json = {n for n, typ in types if typ == "JSON"} - {n for n, typ in types if typ != "JSON"}
            return to_spark(tree, source, lists, frozenset(json))
        except PortabilityError as exc:
            if self.stage:
                raise PortabilityError(f"stage {self.stage}: {exc}") from None
            raise

    def _sql(self, tree: exp.Expr, source: str) -> DataFrame:
        text = self._to_spark(tree, source)
        self.statements += 1
        try:
            return self.spark.sql(text)
        except Exception as exc:  # Spark's AnalysisException / ParseException, named with the statement
            raise self._fail(f"Spark refused the transpiled statement ({_first_line(exc)}) "
                             f"[spark: {excerpt(text, 400)}]", source) from None

    def _run(self, tree: exp.Expr, source: str) -> DataFrame | None:
        if isinstance(tree, exp.Query):
            return self._sql(tree, source)
        if isinstance(tree, exp.Create):
            self._create(tree, source)
        elif isinstance(tree, exp.Insert):
            self._insert(tree, source)
        elif isinstance(tree, exp.Delete):
            self._delete(tree, source)
        elif isinstance(tree, exp.Update):
            self._update(tree, source)
        elif isinstance(tree, exp.Drop):
            self._drop(tree, source)
        elif isinstance(tree, exp.Alter):
            self._alter(tree, source)
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
            raise self._fail(f"no Spark formulation for a {type(tree).__name__} statement", source)
        return None

    def _table(self, name: str, source: str) -> _Table:
        t = self._tables.get(name.lower())
        if t is None:
            raise self._fail(f"no table named {name!r}", source)
        return t

    def _put(self, name: str, df: DataFrame, source: str, duck_types: list[tuple[str, str]] | None = None,
             key: list[str] | None = None, temporary: bool | None = None) -> None:
        old = self._tables.get(name.lower())
        try:
            df = df.localCheckpoint(eager=True)
        except Exception as exc:  # Spark fails some plans only when it runs them
            raise self._fail(f"Spark failed running it ({_first_line(exc)})", source) from None
        if duck_types is None:
            duck_types = old.duck_types if old else [(f.name, _duck_type(f.dataType.simpleString()))
                                                      for f in df.schema.fields]
        t = _Table(old.name if old else name, df, duck_types, key if key is not None else (old.key if old else []),
                   temporary if temporary is not None else (old.temporary if old else False))
        self._tables[name.lower()] = t
        self._views.pop(name.lower(), None)
        df.createOrReplaceTempView(t.name)
        if not t.temporary:
            self._changed.add(name.lower())
        self._refresh_views()

    def _refresh_views(self) -> None:
        # a view's plan holds the DataFrames it read; re-create it so it reads the new ones
        for key, text in self._views.items():
            self.spark.sql(f"CREATE OR REPLACE TEMP VIEW `{self._view_names[key]}` AS {text}")

    def _create(self, tree: exp.Create, source: str) -> None:
        kind = str(tree.args.get("kind") or "").upper()
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        name = target.name
        exists = name.lower() in self._tables or name.lower() in self._views
        if exists and tree.args.get("exists"):
            return
        if exists and not tree.args.get("replace"):
            raise self._fail(f"{name!r} already exists", source)
        temporary = any(isinstance(p, exp.TemporaryProperty) for p in (tree.args.get("properties") or exp.Properties(
            expressions=[])).expressions)
        if kind == "VIEW":
            query = tree.expression
            text = self._to_spark(query, source)
            self._tables.pop(name.lower(), None)
            try:
                self.spark.sql(f"CREATE OR REPLACE TEMP VIEW `{name}` AS {text}")
            except Exception as exc:
                raise self._fail(f"Spark refused the view ({str(exc).strip().splitlines()[0][:300]})", source) from None
            self._views[name.lower()] = text
            self._view_names[name.lower()] = name
            return
        if kind != "TABLE":
            raise self._fail(f"no Spark formulation for CREATE {kind}", source)
        if tree.expression is not None:
            self._put(name, self._sql(tree.expression, source), source, None, [], temporary)
            return
        schema = tree.this
        cols: list[tuple[str, str]] = []
        key: list[str] = []
        for e in schema.expressions:
            if isinstance(e, exp.ColumnDef):
                cols.append((e.name, _duck_sql(e.args["kind"])))
                if any(isinstance(c.args.get("kind"), exp.PrimaryKeyColumnConstraint) for c in e.constraints):
                    key.append(e.name)
            elif isinstance(e, exp.PrimaryKey):
                key = [i.name for i in e.expressions]
        ddl = ", ".join(f"`{n}` {spark_type(t)}" for n, t in cols)
        self._put(name, self.spark.createDataFrame([], ddl), source, cols, key, temporary)

    def _drop(self, tree: exp.Drop, source: str) -> None:
        for table in tree.args.get("tables") or [tree.this]:
            name = table.name.lower()
            if name not in self._tables and name not in self._views:
                if tree.args.get("exists"):
                    continue
                raise self._fail(f"no table or view named {table.name!r}", source)
            self._tables.pop(name, None)
            self._views.pop(name, None)
            self.spark.catalog.dropTempView(table.name)
            self._changed.discard(name)

    def _alter(self, tree: exp.Alter, source: str) -> None:
        t = self._table(tree.this.name, source)
        df, types = t.df, list(t.duck_types)
        for action in tree.args.get("actions") or []:
            if not isinstance(action, exp.ColumnDef):
                raise self._fail("only ALTER TABLE ADD COLUMN runs on Spark", source)
            if action.name in {n for n, _ in types}:
                continue
            types.append((action.name, _duck_sql(action.args["kind"])))
            df = df.selectExpr("*", f"CAST(NULL AS {spark_type(types[-1][1])}) AS `{action.name}`")
        self._put(t.name, df, source, types)

    def _conform(self, t: _Table, df: DataFrame, columns: list[str] | None, source: str) -> DataFrame:
        """``df``'s columns, by position, as ``t``'s (``columns`` of them, NULL for the rest), cast to its types."""
        names = columns or [n for n, _ in t.duck_types]
        if len(df.columns) != len(names):
            raise self._fail(f"{len(df.columns)} values for {len(names)} columns of {t.name}", source)
        got = {n.lower(): f"c{i}" for i, n in enumerate(names)}
        renamed = df.toDF(*[f"c{i}" for i in range(len(df.columns))])
        exprs = [f"CAST({got[n.lower()] if n.lower() in got else 'NULL'} AS {spark_type(typ)}) AS `{n}`"
                 for n, typ in t.duck_types]
        return renamed.selectExpr(*exprs)

    def _insert(self, tree: exp.Insert, source: str) -> None:
        target = tree.this
        columns = [i.name for i in target.expressions] if isinstance(target, exp.Schema) else None
        table = target.this if isinstance(target, exp.Schema) else target
        t = self._table(table.name, source)
        src = tree.expression
        if isinstance(src, exp.Values):
            src = exp.select("*").from_(exp.Subquery(this=src, alias=exp.TableAlias(this=exp.to_identifier("v"))))
        new = self._conform(t, self._sql(src, source), columns, source)
        conflict = tree.args.get("conflict")
        alternative = str(tree.args.get("alternative") or "").upper()
        action = str(conflict.args.get("action") or "").upper() if conflict is not None else ""
        replace = alternative == "REPLACE" or (conflict is not None and "UPDATE" in action)
        ignore = alternative == "IGNORE" or (conflict is not None and "NOTHING" in action)
        if conflict is not None and "UPDATE" in action and conflict.args.get("expressions"):
            raise self._fail("ON CONFLICT DO UPDATE SET ...: write INSERT OR REPLACE", source)
        if (replace or ignore) and not t.key:
            raise self._fail(f"{t.name} has no primary key to resolve conflicts on", source)
        if replace:
            kept = t.df.join(new.select(*t.key).distinct(), on=t.key, how="left_anti")
            df = kept.unionByName(new)
        elif ignore:
            df = t.df.unionByName(new.join(t.df.select(*t.key), on=t.key, how="left_anti"))
        else:
            df = t.df.unionByName(new)
        self._put(t.name, df, source)

    def _delete(self, tree: exp.Delete, source: str) -> None:
        table = tree.this
        t = self._table(table.name, source)
        where = tree.args.get("where")
        if tree.args.get("using"):
            raise self._fail("DELETE ... USING: write DELETE ... WHERE key IN (SELECT ...)", source)
        if where is None:
            self._put(t.name, t.df.limit(0), source)
            return
        alias = table.alias_or_name
        keep = exp.select(exp.Star() if not table.alias else exp.column(exp.Star(), table=alias)).from_(table.copy()) \
            .where(exp.Not(this=exp.Coalesce(this=exp.Paren(this=where.this.copy()), expressions=[exp.false()])))
        del alias
        self._put(t.name, self._sql(keep, source), source)

    def _update(self, tree: exp.Update, source: str) -> None:
        table = tree.this
        t = self._table(table.name, source)
        alias = table.alias_or_name
        sets = {e.this.name.lower(): e.expression for e in tree.expressions}
        where = tree.args.get("where")
        cond: exp.Expr = where.this if where is not None else exp.true()
        from_ = tree.args.get("from") or tree.args.get("from_")
        if from_ is None:
            hit = exp.Coalesce(this=exp.Paren(this=cond.copy()), expressions=[exp.false()])
            cols = [exp.alias_(exp.If(this=hit.copy(), true=sets[n.lower()].copy(),
                                      false=exp.column(n, table=alias, quoted=True)) if n.lower() in sets
                               else exp.column(n, table=alias, quoted=True), n, quoted=True)
                    for n, _ in t.duck_types]
            updated = self._sql(exp.select(*cols).from_(table.copy()), source)
            self._put(t.name, self._conform(t, updated, None, source), source)
            return
        # UPDATE ... FROM: number the rows, find each one's (first) match, take the new values from it
        base = "__vigil_upd"
        numbered = t.df.selectExpr("*", "monotonically_increasing_id() AS __rid").localCheckpoint(eager=True)
        numbered.createOrReplaceTempView(base)
        try:
            src_from = from_.this.copy()
            joins = [j.copy() for j in (from_.args.get("joins") or [])]
            picked = [exp.column("__rid", table=alias)] + [exp.alias_(sets[k].copy(), f"__v{i}")
                                                             for i, k in enumerate(sets)]
            matches = exp.select(*picked).from_(exp.Table(this=exp.to_identifier(base),
                                                          alias=exp.TableAlias(this=exp.to_identifier(alias))))
            matches = matches.join(src_from, join_type="cross")
            for j in joins:
                matches = matches.join(j)
            matches = matches.where(cond.copy())
            m = self._sql(matches, source).dropDuplicates(["__rid"]).withColumnRenamed("__rid", "__mid")
            joined = numbered.join(m, numbered["__rid"] == m["__mid"], "left")
            exprs = []
            for n, typ in t.duck_types:
                k = n.lower()
                if k in sets:
                    i = list(sets).index(k)
                    exprs.append(f"CASE WHEN __mid IS NOT NULL THEN CAST(`__v{i}` AS {spark_type(typ)}) "
                                 f"ELSE `{n}` END AS `{n}`")
                else:
                    exprs.append(f"`{n}`")
            self._put(t.name, joined.selectExpr(*exprs), source)
        finally:
            self.spark.catalog.dropTempView(base)

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


class _Result:
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

    def __init__(self, store: SparkStore) -> None:
        self._store = store

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> _Result:
        return _Result(self._store._last(sql, params))

    def sql(self, sql: str, params: Sequence[Any] | None = None) -> _Result:
        return self.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self._store.execute(sql, row)

    def register(self, name: str, data: Any) -> None:
        """An Arrow table (or reader, or pandas frame) as a temporary table."""
        if isinstance(data, pa.RecordBatchReader):
            data = data.read_all()
        store = self._store
        if isinstance(data, pa.Table) and data.num_rows == 0:
            ddl = ", ".join(f"`{f.name}` {_arrow_spark(f.type)}" for f in data.schema)
            df = store.spark.createDataFrame([], ddl)
        else:
            df = store.spark.createDataFrame(data)
        store._put(name, df, f"register {name}", temporary=True)

    def unregister(self, name: str) -> None:
        self._store.execute(f"DROP TABLE IF EXISTS {SPARK.ident(name)}")

    def close(self) -> None:
        self._store.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("\tat ", "An error occurred"))]
    return (lines[0] if lines else type(exc).__name__)[:300]


def _duck_sql(kind: exp.Expr) -> str:
    text = kind.sql("duckdb")
    return "TIMESTAMP" if text.upper() in ("TIMESTAMP", "TIMESTAMPNTZ") else text


def _duck_type(spark_simple: str) -> str:
    if spark_simple.startswith("array<"):
        return _duck_type(spark_simple[6:-1]) + "[]"
    if spark_simple.startswith("decimal"):
        return spark_simple.upper()
    return _DUCK_TYPES.get(spark_simple, "VARCHAR")


def _arrow_spark(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "STRING"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP_NTZ" if t.tz is None else "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"ARRAY<{_arrow_spark(t.value_type)}>"
    names = {pa.int64(): "BIGINT", pa.int32(): "INT", pa.int16(): "SMALLINT", pa.int8(): "TINYINT",
             pa.float64(): "DOUBLE", pa.float32(): "FLOAT", pa.bool_(): "BOOLEAN", pa.date32(): "DATE",
             pa.binary(): "BINARY"}
    return names.get(t, "STRING")


def open_spark_store(lake: str | Path, spark: SparkSession | None = None, master: str = "local[2]") -> SparkStore:
    """A Spark store over the lake at ``lake`` (its tables as views; nothing is read until used)."""
    manifest = Manifest.read(lake)
    store = SparkStore(spark or session(master), str(lake), manifest)
    store.load(lake)
    return store


__all__ = ["SPARK", "SparkConnection", "SparkStore", "open_spark_store", "session", "table_files"]

# mypy checks that the Spark store implements the whole interface
_IMPLEMENTS: type[Database] = SparkStore
