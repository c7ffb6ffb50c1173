"""The statements that change a table, carried out on DataFrames with DuckDB's meaning.

Spark's plain tables are immutable, so each of these makes the table's next version (a DataFrame) and
hands it to :meth:`SparkStore.put`, which materialises it:

* ``CREATE [TEMP] TABLE t (...)`` / ``AS SELECT``: a DataFrame with that schema / that result;
* ``INSERT INTO t [(cols)] SELECT | VALUES`` (positional, cast to the column types), ``INSERT OR
  REPLACE`` / ``ON CONFLICT DO UPDATE`` (rows with the same primary key replaced), ``INSERT OR IGNORE`` /
  ``ON CONFLICT DO NOTHING`` (kept);
* ``DELETE FROM t [WHERE c]``: the rows where ``c`` is not true;
* ``UPDATE t [AS a] SET ... [FROM x] WHERE c``: every assignment reads the old row; with ``FROM``, a row
  matched several times takes one match (DuckDB leaves it unspecified too);
* ``ALTER TABLE t ADD COLUMN``, ``DROP TABLE | VIEW``; ``CREATE VIEW`` stays a view (its Spark text kept,
  re-created when a table under it changes).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from vigil.store.spark.convert import duck_sql, first_line
from vigil.store.spark.tables import SparkTable, Tables
from vigil.store.transpile import spark_type

if TYPE_CHECKING:
    from pyspark.sql import DataFrame



def create(store: Tables, tree: exp.Create, source: str) -> None:
    kind = str(tree.args.get("kind") or "").upper()
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    name = target.name
    exists = store.exists(name)
    if exists and tree.args.get("exists"):
        return
    if exists and not tree.args.get("replace"):
        raise store.fail(f"{name!r} already exists", source)
    temporary = any(isinstance(p, exp.TemporaryProperty) for p in (tree.args.get("properties") or exp.Properties(
        expressions=[])).expressions)
    if kind == "VIEW":
        text = store.to_spark(tree.expression, source)
        try:
            store.spark.sql(f"CREATE OR REPLACE TEMP VIEW `{name}` AS {text}")
        except Exception as exc:
            raise store.fail(f"Spark refused the view ({first_line(exc)})", source) from None
        store.add_view(name, text)
        return
    if kind != "TABLE":
        raise store.fail(f"no Spark formulation for CREATE {kind}", source)
    if tree.expression is not None:
        store.put(name, store.sql(tree.expression, source), source, None, [], temporary)
        return
    cols: list[tuple[str, str]] = []
    key: list[str] = []
    for e in tree.this.expressions:
        if isinstance(e, exp.ColumnDef):
            cols.append((e.name, duck_sql(e.args["kind"])))
            if any(isinstance(c.args.get("kind"), exp.PrimaryKeyColumnConstraint) for c in e.constraints):
                key.append(e.name)
        elif isinstance(e, exp.PrimaryKey):
            key = [i.name for i in e.expressions]
    ddl = ", ".join(f"`{n}` {spark_type(t)}" for n, t in cols)
    store.put(name, store.spark.createDataFrame([], ddl), source, cols, key, temporary, empty=True)


def drop(store: Tables, tree: exp.Drop, source: str) -> None:
    for table in tree.args.get("tables") or [tree.this]:
        if not store.exists(table.name):
            if tree.args.get("exists"):
                continue
            raise store.fail(f"no table or view named {table.name!r}", source)
        store.forget(table.name)


def alter(store: Tables, tree: exp.Alter, source: str) -> None:
    t = store.table(tree.this.name, source)
    df, types = t.df, list(t.duck_types)
    for action in tree.args.get("actions") or []:
        if not isinstance(action, exp.ColumnDef):
            raise store.fail("only ALTER TABLE ADD COLUMN runs on Spark", source)
        if action.name in {n for n, _ in types}:
            continue
        types.append((action.name, duck_sql(action.args["kind"])))
        df = df.selectExpr("*", f"CAST(NULL AS {spark_type(types[-1][1])}) AS `{action.name}`")
    store.put(t.name, df, source, types)


def conform(store: Tables, t: SparkTable, df: DataFrame, columns: list[str] | None, source: str) -> DataFrame:
    """``df``'s columns, by position, as ``t``'s (``columns`` of them, NULL for the rest), cast to its types."""
    names = columns or [n for n, _ in t.duck_types]
    if len(df.columns) != len(names):
        raise store.fail(f"{len(df.columns)} values for {len(names)} columns of {t.name}", source)
    got = {n.lower(): f"c{i}" for i, n in enumerate(names)}
    renamed = df.toDF(*[f"c{i}" for i in range(len(df.columns))])
    exprs = [f"CAST({got[n.lower()] if n.lower() in got else 'NULL'} AS {spark_type(typ)}) AS `{n}`"
             for n, typ in t.duck_types]
    return renamed.selectExpr(*exprs)


def insert(store: Tables, tree: exp.Insert, source: str) -> None:
    target = tree.this
    columns = [i.name for i in target.expressions] if isinstance(target, exp.Schema) else None
    table = target.this if isinstance(target, exp.Schema) else target
    t = store.table(table.name, source)
    src = tree.expression
    if isinstance(src, exp.Values):
        src = exp.select("*").from_(exp.Subquery(this=src, alias=exp.TableAlias(this=exp.to_identifier("v"))))
    new = conform(store, t, store.sql(src, source), columns, source)
    conflict = tree.args.get("conflict")
    alternative = str(tree.args.get("alternative") or "").upper()
    action = str(conflict.args.get("action") or "").upper() if conflict is not None else ""
    replace = alternative == "REPLACE" or (conflict is not None and "UPDATE" in action)
    ignore = alternative == "IGNORE" or (conflict is not None and "NOTHING" in action)
    if conflict is not None and "UPDATE" in action and conflict.args.get("expressions"):
        raise store.fail("ON CONFLICT DO UPDATE SET ...: write INSERT OR REPLACE", source)
    if (replace or ignore) and not t.key:
        raise store.fail(f"{t.name} has no primary key to resolve conflicts on", source)
    if replace:
        kept = t.df.join(new.select(*t.key).distinct(), on=t.key, how="left_anti")
        df = kept.unionByName(new)
    elif ignore:
        df = t.df.unionByName(new.join(t.df.select(*t.key), on=t.key, how="left_anti"))
    else:
        df = t.df.unionByName(new)
    store.put(t.name, df, source)


def delete(store: Tables, tree: exp.Delete, source: str) -> None:
    table = tree.this
    t = store.table(table.name, source)
    where = tree.args.get("where")
    if tree.args.get("using"):
        raise store.fail("DELETE ... USING: write DELETE ... WHERE key IN (SELECT ...)", source)
    if where is None:
        store.put(t.name, store.spark.createDataFrame([], t.df.schema), source, empty=True)
        return
    keep = exp.select(exp.Star() if not table.alias else exp.column(exp.Star(), table=table.alias)) \
        .from_(table.copy()) \
        .where(exp.Not(this=exp.Coalesce(this=exp.Paren(this=where.this.copy()), expressions=[exp.false()])))
    store.put(t.name, store.sql(keep, source), source)


def update(store: Tables, tree: exp.Update, source: str) -> None:
    table = tree.this
    t = store.table(table.name, source)
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
        updated = store.sql(exp.select(*cols).from_(table.copy()), source)
        store.put(t.name, conform(store, t, updated, None, source), source)
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
        m = store.sql(matches, source).dropDuplicates(["__rid"]).withColumnRenamed("__rid", "__mid")
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
        store.put(t.name, joined.selectExpr(*exprs), source)
    finally:
        store.spark.catalog.dropTempView(base)
