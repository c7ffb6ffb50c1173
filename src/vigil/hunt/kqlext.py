"""vigil's extensions to the pinned duckdb-kql (1.1.2), installed once behind the adapter.

duckdb-kql is a pure-Python translator (ANTLR parse tree -> IR -> DuckDB SQL) whose function
tables are plain dictionaries and whose lowering and rendering are module-level functions, so
vigil extends it in place rather than forking it (docs/hunting.md, "Engine", has the measured
decision). Every extension here keeps KQL's semantics; anything else stays refused with
duckdb-kql's one-line ``unsupported KQL construct '...'`` error.

* Scalar functions: ``extract_json`` (2 arguments; the typed 3-argument form is rewritten to a
  conversion by :mod:`vigil.hunt.rewrite`), ``new_guid``, ``bag_keys``, ``bag_merge``,
  ``set_difference``, ``set_intersect``, ``set_union``, ``range``, ``url_decode``,
  ``unixtime_seconds_todatetime``, ``unixtime_milliseconds_todatetime``.
* Aggregates: ``make_set_if``, ``make_list_if``, ``make_bag``.
* Operators: ``mv-apply`` whose subquery is row-wise (``where``, ``extend``, ``project``,
  ``project-away``, ``project-rename``, ``mv-expand``), lowered to the expansion followed by
  the subquery; ``project-reorder`` (listed columns first, the rest in their order);
  ``mv-expand`` of an unnamed expression, named as Kusto names it (the one column it reads,
  else ``Column1``).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import duckdb_kql
from duckdb_kql import ir, lower
from duckdb_kql import schema as kql_schema_mod
from duckdb_kql import translate as kql_translate
from duckdb_kql.errors import KqlUnsupportedError
from duckdb_kql.translate import functions as kql_functions

from vigil.hunt import makeseries, series

PINNED_VERSION = "1.1.2"
_installed: list[bool] = []


@dataclasses.dataclass(frozen=True)
class ProjectReorder(ir.Operator):
    """``project-reorder a, b``: the listed columns first, in that order, then the others."""

    columns: tuple[str, ...]


def _json_list(arg: str) -> str:
    return f"CAST(TRY_CAST({arg} AS JSON) AS JSON[])"


_SCALARS: list[tuple[str, str, tuple[int, ...]]] = [
    # KQL's extract_json answers the value as a string (a JSON text for an object or array).
    ("extract_json", "json_extract_string(TRY_CAST({1} AS JSON), {0})", (2,)),
    ("new_guid", "CAST(uuid() AS VARCHAR)", (0,)),
    ("bag_keys", "to_json(json_keys(TRY_CAST({0} AS JSON)))", (1,)),
    # Kusto's bag_merge keeps the first bag's value when a key repeats.
    ("bag_merge", "json_merge_patch(TRY_CAST({1} AS JSON), TRY_CAST({0} AS JSON))", (2,)),
    ("set_difference", "to_json(list_distinct(list_filter(" + _json_list("{0}")
     + ", lambda _v: NOT list_contains(" + _json_list("{1}") + ", _v))))", (2,)),
    ("set_intersect", "to_json(list_distinct(list_filter(" + _json_list("{0}")
     + ", lambda _v: list_contains(" + _json_list("{1}") + ", _v))))", (2,)),
    ("set_union", "to_json(list_distinct(list_concat(" + _json_list("{0}") + ", " + _json_list("{1}") + ")))",
     (2,)),
    # range(start, stop, step) includes stop, as generate_series does; numbers and datetimes.
    ("range", "to_json(generate_series({0}, {1}, {2}))", (3,)),
    ("url_decode", "url_decode({0})", (1,)),
    ("unixtime_seconds_todatetime", "CAST(to_timestamp({0}) AS TIMESTAMP)", (1,)),
    ("unixtime_milliseconds_todatetime", "CAST(epoch_ms(CAST({0} AS BIGINT)) AS TIMESTAMP)", (1,)),
    # when the record was ingested: the end of the ingest run that stored it (its raw record's block
    # id starts with the run's id); null for rows no ingest run stored. Reads the row's _ItemId, which
    # every Sentinel view has, as Kusto's ingestion_time() reads the row's hidden $IngestionTime.
    ("ingestion_time", "(SELECT max(coalesce(_ir.finished_at, _ir.started_at)) FROM raw_records _rr "
     "JOIN ingest_runs _ir ON _ir.ingest_id = split_part(_rr.block_id, '-', 1) WHERE _rr.event_id = _ItemId)",
     (0,)),
]

_MAKE_SET_IF = ("to_json(coalesce(list_distinct(flatten(list("
                "CASE WHEN json_type(TRY_CAST({0} AS JSON)) = 'ARRAY' "
                "THEN CAST(to_json({0}) AS JSON[]) ELSE [to_json({0})] END"
                ") FILTER (WHERE {0} IS NOT NULL AND {1}))), []))")
_AGGREGATES: list[tuple[str, str, tuple[int, ...], str]] = [
    ("take_anyif", "any_value({0}) FILTER (WHERE {1})", (2,), "take_anyif"),
    ("make_set_if", _MAKE_SET_IF, (2, 3), "set"),
    ("make_list_if", "coalesce(list({0}) FILTER (WHERE {0} IS NOT NULL AND {1}), [])", (2, 3), "list"),
    # make_bag unions the property bags of the group; a repeated key keeps one of its values.
    ("make_bag", "coalesce(list_reduce(list_prepend(CAST('{{}}' AS JSON), list(TRY_CAST({0} AS JSON)) "
     "FILTER (WHERE json_type(TRY_CAST({0} AS JSON)) = 'OBJECT')), lambda _a, _b: json_merge_patch(_a, _b)), "
     "CAST('{{}}' AS JSON))", (1, 2), "bag"),
]


def _columns_read(expr: Any) -> list[str]:
    """Column names an IR expression reads, in order, without repeats."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, ir.ColumnRef):
            if node.name not in out:
                out.append(node.name)
            return
        if dataclasses.is_dataclass(node):
            for f in dataclasses.fields(node):
                walk(getattr(node, f.name))
        elif isinstance(node, (list, tuple)):
            for x in node:
                walk(x)

    walk(expr)
    return out


_ROW_WISE = (ir.Where, ir.Extend, ir.ProjectAway, ir.ProjectRename, ir.MvExpand, ir.Parse)


def _path_name(expr: Any) -> str | None:
    """Kusto's name for an unnamed path: ``a.b[0].c`` is ``a_b_0_c``."""
    if not (isinstance(expr, ir.PathAccess) and isinstance(expr.base, ir.ColumnRef)):
        return None
    parts = [expr.base.name]
    for step in expr.steps:
        if step.name is not None:
            parts.append(step.name)
        elif isinstance(step.index, ir.Literal) and isinstance(step.index.value, (int, str)):
            parts.append(str(step.index.value))
        else:
            return None
    return "_".join(parts)


def _lower_target(node: Any) -> tuple[ir.MvExpandTarget, ir.NamedExpr | None]:
    """One ``[name =] expr [to typeof(T)]`` of mv-expand / mv-apply. An unnamed computed
    expression is named as Kusto names it: after the one column it reads, else ``Column1``
    (measured by duckdb-kql's authors, who refuse the case rather than reproduce it)."""
    to_type = None
    named = node
    for c in lower._rule_children(node):
        if lower._cls(c) == "MvapplyOperatorExpressionToClause":
            to_type = c.getText().lower().partition("typeof(")[2].rstrip(")").strip()
        elif lower._cls(c) == "NamedExpression":
            named = c
    target = lower._lower_named(named)
    if isinstance(target.expr, ir.ColumnRef):
        return ir.MvExpandTarget(target.expr.name, target.name, to_type), None
    name = target.name
    if name is None:
        name = _path_name(target.expr)
    if name is None:
        read = _columns_read(target.expr)
        name = read[0] if len(read) == 1 else "Column1"
    return ir.MvExpandTarget(name, None, to_type), ir.NamedExpr(target.expr, name)


def _expansion(node: Any) -> tuple[list[ir.MvExpandTarget], list[ir.NamedExpr], str | None, int | None, bool,
                                   list[Any]]:
    """The parts of an mv-expand / mv-apply: targets, computed preludes, with_itemindex, limit,
    kind=array, and (mv-apply) the subquery's operator nodes."""
    targets: list[ir.MvExpandTarget] = []
    computed: list[ir.NamedExpr] = []
    item_index: str | None = None
    limit: int | None = None
    array_expansion = False
    sub: list[Any] = []
    for k in lower._rule_children(node):
        cls, text = lower._cls(k), k.getText()
        if cls == "MvapplyOperatorLimitClause":
            limit = int(text[len("limit"):])
        elif "Parameter" in cls:
            key, _, value = text.partition("=")
            key, value = key.strip().lower(), value.strip()
            if key == "with_itemindex":
                item_index = value
            elif key in ("kind", "bagexpansion") and value.lower() in ("bag", "array"):
                array_expansion = value.lower() == "array"
            else:
                raise lower._unsupported(k, f"mv-expand parameter:{text}")
        elif cls.endswith("SubExpression"):
            sub = lower._rule_children(k)
            if len(sub) == 1 and lower._cls(sub[0]) == "PipeSubExpression":
                sub = lower._rule_children(sub[0])
        else:
            target, prelude = _lower_target(k)
            targets.append(target)
            if prelude is not None:
                computed.append(prelude)
    if not targets:
        raise lower._unsupported(node, "mv-expand")
    return targets, computed, item_index, limit, array_expansion, sub


def _lower_mv_expand(node: Any, orig: Callable[[Any], Any]) -> Any:
    """duckdb-kql's own mv-expand, except that an unnamed computed expression is named."""
    try:
        return orig(node)
    except KqlUnsupportedError as exc:
        if exc.construct != "mv-expand of an unnamed computed expression":
            raise
    targets, computed, item_index, limit, array_expansion, _ = _expansion(node)
    expanded = ir.MvExpand(tuple(targets), item_index, limit, array_expansion)
    return [ir.Extend(tuple(computed)), expanded] if computed else expanded


def _lower_mv_apply(node: Any, lower_op: Callable[[Any], Any]) -> list[ir.Operator]:  # noqa: C901
    """``mv-apply x = expr [to typeof(T)], ... on (subquery)`` with a row-wise subquery.

    Kusto runs the subquery on each row's sub-table of expanded values and joins its rows back
    to the row; when every operator of the subquery works row by row, that is exactly the
    expansion followed by those operators (a row whose sub-table leaves nothing is dropped in
    both). A ``project`` in the subquery keeps the row's other columns, as mv-apply does."""
    targets, computed, item_index, limit, array_expansion, sub = _expansion(node)
    if not sub:
        raise lower._unsupported(node, "mv-apply without a subquery")
    expanded = [t.name or t.column for t in targets] + ([item_index] if item_index else [])
    aggregate: ir.Summarize | None = None
    after: list[ir.Operator] = []
    ops: list[ir.Operator] = [ir.Extend(tuple(computed))] if computed else []
    ops.append(ir.MvExpand(tuple(targets), item_index, limit, array_expansion))
    for k in sub:
        lowered = lower_op(k)
        for op in lowered if isinstance(lowered, list) else [lowered] if lowered is not None else []:
            if isinstance(op, ir.Project):
                kept = [e.name or (e.expr.name if isinstance(e.expr, ir.ColumnRef) else None)
                        for e in op.expressions]
                new = tuple(e for e in op.expressions if not (isinstance(e.expr, ir.ColumnRef) and e.name is None))
                if new:
                    ops.append(ir.Extend(new))
                dropped = tuple(c for c in expanded if c not in kept)
                if dropped:
                    ops.append(ir.ProjectAway(dropped))
                expanded = [c for c in kept if c]
            elif aggregate is not None:
                if not isinstance(op, _ROW_WISE):
                    raise KqlUnsupportedError(
                        f"mv-apply with a {type(op).__name__.lower()} after its summarize", span=lower._span(k))
                after.append(op)
            elif isinstance(op, ir.Summarize):
                aggregate = op
            elif isinstance(op, _ROW_WISE):
                ops.append(op)
            else:
                raise KqlUnsupportedError(
                    f"mv-apply with a {type(op).__name__.lower()} in its subquery", span=lower._span(k),
                    hint="vigil runs mv-apply subqueries made of where, extend, project, project-away, "
                         "project-rename, parse, mv-expand and summarize")
    if aggregate is not None:
        return [MvApplyAggregate(tuple(ops), aggregate, tuple(after), tuple(expanded))]
    return ops


@dataclasses.dataclass(frozen=True)
class MvApplyAggregate(ir.Operator):
    """``mv-apply x = arr on (... | summarize ...)``: the subquery runs on each row's sub-table, so its
    summarize groups by the row (a row number) as well as its own keys; its rows are joined back to
    the row's other columns. A row whose sub-table is empty gets what the summarize gives for an empty
    input (count() 0, make_list [] ...) when it has no keys, as Kusto keeps the row; with keys the
    sub-table gives no rows, so the row goes, as in Kusto."""

    before: tuple[ir.Operator, ...]      # the expansion and the row-wise operators before the summarize
    summarize: ir.Summarize
    after: tuple[ir.Operator, ...]       # row-wise operators after it
    expanded: tuple[str, ...]            # the expanded columns, which the output does not keep


_ROW = "_vigil_mvrow"


def _mv_apply_chain(op: MvApplyAggregate) -> list[ir.Operator]:
    keyed = ir.Summarize(op.summarize.aggregates, (ir.NamedExpr(ir.ColumnRef(_ROW)),) + op.summarize.by)
    after = [dataclasses.replace(o, expressions=o.expressions + (ir.NamedExpr(ir.ColumnRef(_ROW)),))
             if isinstance(o, ir.Project) else o for o in op.after]
    return [*op.before, keyed, *after]


def _mv_apply_columns(op: MvApplyAggregate, cols: list[str]) -> tuple[list[str], list[str]]:
    """(the input's columns kept, the subquery's output columns)."""
    sub = [*cols, _ROW]
    for o in _mv_apply_chain(op):
        sub = kql_schema_mod._operator_columns(o, sub, None)
    out = [c for c in sub if c != _ROW]
    return [c for c in cols if c not in op.expanded and c not in out], out


def _render_mv_apply(op: MvApplyAggregate, prev: str, cols: list[str] | None) -> str:
    if cols is None:
        raise KqlUnsupportedError("mv-apply with a summarize over an input of unknown columns")
    q = kql_translate.quote_ident
    rel, sub = "_mva_src", [*cols, _ROW]
    chain = _mv_apply_chain(op)
    empty = ""
    for i, o in enumerate(chain):
        o = kql_schema_mod.resolve_let_refs(o, sub)
        if i == len(op.before):
            # what the summarize gives for an empty sub-table (count() 0, make_list []), for rows whose
            # sub-table is empty, which the expansion drops
            unkeyed = kql_schema_mod.resolve_let_refs(op.summarize, sub)
            empty = kql_translate.render_operator(unkeyed, f"(SELECT * FROM {rel} LIMIT 0) AS _mve", sub)
        rel = f"({kql_translate.render_operator(o, rel, sub)}) AS _mva{i}"
        sub = kql_schema_mod._operator_columns(o, sub, None)
    kept, out = _mv_apply_columns(op, cols)
    neutral = not op.summarize.by and not op.after
    a = f"_mva{len(chain) - 1}"
    select = ", ".join([f"_o.{q(c)}" for c in kept]
                       + [f"coalesce({a}.{q(c)}, _e.{q(c)}) AS {q(c)}" if neutral else f"{a}.{q(c)}" for c in out])
    join = (f"LEFT JOIN {rel} ON _o.{_ROW} = {a}.{_ROW} CROSS JOIN ({empty}) _e" if neutral
            else f"{'INNER' if op.summarize.by else 'LEFT'} JOIN {rel} ON _o.{_ROW} = {a}.{_ROW}")
    return (f"WITH _mva_src AS MATERIALIZED (SELECT *, row_number() OVER () AS {_ROW} FROM {prev}) "
            f"SELECT {select} FROM _mva_src _o {join}")


def _render_operator(orig: Callable[..., str]) -> Callable[..., str]:
    def render(op: ir.Operator, prev: str, cols: list[str] | None = None) -> str:
        if isinstance(op, makeseries.MakeSeries):
            return makeseries.render(op, prev, cols)
        if isinstance(op, MvApplyAggregate):
            return _render_mv_apply(op, prev, cols)
        if isinstance(op, ProjectAwayPattern):
            if cols is None:
                raise KqlUnsupportedError("project-away with a wildcard over an input of unknown columns")
            gone = op.dropped(cols)
            if not gone:
                return f"SELECT * FROM {prev}"
            return f"SELECT * EXCLUDE ({', '.join(kql_translate.quote_ident(c) for c in gone)}) FROM {prev}"
        if isinstance(op, ProjectReorder):
            q = kql_translate.quote_ident
            listed = [c for c in op.columns if cols is None or c in cols]
            if not listed:
                return f"SELECT * FROM {prev}"
            names = ", ".join(q(c) for c in listed)
            return f"SELECT {names}, * EXCLUDE ({names}) FROM {prev}"
        return orig(op, prev, cols)
    return render


def _operator_columns(orig: Callable[..., Any]) -> Callable[..., Any]:
    def columns(op: ir.Operator, cols: Any, schema: Any) -> Any:
        if isinstance(op, makeseries.MakeSeries):
            return makeseries.output_columns(op, cols)
        if isinstance(op, ProjectAwayPattern) and cols is not None:
            gone = op.dropped(cols)
            return [c for c in cols if c not in gone]
        if isinstance(op, MvApplyAggregate) and cols is not None:
            kept, out = _mv_apply_columns(op, cols)
            return kept + out
        if isinstance(op, ProjectReorder):
            if cols is None:
                return None
            listed = [c for c in op.columns if c in cols]
            return listed + [c for c in cols if c not in listed]
        return orig(op, cols, schema)
    return columns


@dataclasses.dataclass(frozen=True)
class ProjectAwayPattern(ir.Operator):
    """``project-away`` with wildcards (``*1``, ``Target*``): the columns each pattern matches, decided
    when the input's columns are known (Kusto drops them the same way; a pattern matching nothing is fine)."""

    patterns: tuple[str, ...]

    def dropped(self, cols: list[str]) -> list[str]:
        rx = [re.compile("".join(".*" if ch == "*" else re.escape(ch) for ch in p)) for p in self.patterns]
        return [c for c in cols if any(r.fullmatch(c) for r in rx)]


def _lower_project_away(node: Any, orig: Callable[[Any], Any]) -> Any:
    texts = [k.getText() for k in lower._rule_children(node)]
    if not any("*" in t for t in texts):
        return orig(node)
    if any(t.startswith("[") for t in texts):
        raise lower._unsupported(node, "project-away with a wildcard and an escaped name")
    return ProjectAwayPattern(tuple(texts))


def _lower_project_reorder(node: Any) -> ProjectReorder:
    names: list[str] = []
    for k in lower._rule_children(node):
        text = k.getText()
        if "*" in text or text.lower().endswith(("asc", "desc")) and text not in lower._find_names(k):
            raise lower._unsupported(k, "project-reorder with a wildcard or asc/desc")
        found = lower._find_names(k)
        if len(found) != 1:
            raise lower._unsupported(k, "project-reorder")
        names.append(found[0])
    if not names:
        raise lower._unsupported(node, "project-reorder")
    return ProjectReorder(tuple(names))


def install() -> None:
    """Add vigil's extensions to duckdb-kql (idempotent). Refuses another duckdb-kql version:
    the lowering hooks are written against 1.1.2's internals."""
    if _installed:
        return
    if duckdb_kql.__version__ != PINNED_VERSION:
        raise RuntimeError(f"vigil's KQL extensions are written for duckdb-kql {PINNED_VERSION}, "
                           f"found {duckdb_kql.__version__}: pin it (pyproject.toml)")
    for name, template, arities in _SCALARS:
        kql_functions.SCALAR_FUNCTIONS.setdefault(name, kql_functions._f(name, "template", template, arities))
    for name, (defaults, template) in series.KQL_FUNCTIONS.items():
        # vigil.hunt.rewrite fills the optional arguments in, so the template always sees them all
        kql_functions.SCALAR_FUNCTIONS.setdefault(name, kql_functions._f(name, "template", template,
                                                                         (1 + len(defaults),)))
    for name, template, arities, prefix in _AGGREGATES:
        kql_functions.AGGREGATE_FUNCTIONS.setdefault(
            name, kql_functions._a(name, template, arities, name_prefix=prefix))

    orig_lower = lower._lower_operator

    def lower_operator(node: Any) -> Any:
        inner = node
        while lower._cls(inner) in ("PipedOperator", "AfterPipeOperator"):
            rules = lower._rule_children(inner)
            if not rules:
                break
            inner = rules[0]
        inner = lower._collapse(inner)
        kind = lower._cls(inner)
        if kind == "MvapplyOperator":
            return _lower_mv_apply(inner, lower_operator)
        if kind == "MakeSeriesOperator":
            return makeseries.lower_make_series(inner)
        if kind == "ProjectReorderOperator":
            return _lower_project_reorder(inner)
        if kind == "ProjectAwayOperator":
            return _lower_project_away(inner, orig_lower)
        if kind in ("MvexpandOperator", "MvExpandOperator"):
            return _lower_mv_expand(inner, orig_lower)
        return orig_lower(node)

    lower._lower_operator = lower_operator
    orig_substitute = lower._substitute_operator

    def substitute_operator(op: ir.Operator, scalars: Any) -> ir.Operator:
        if isinstance(op, makeseries.MakeSeries):
            return makeseries.substitute(op, lambda e: lower._substitute(e, scalars))
        if isinstance(op, MvApplyAggregate):
            summarize = substitute_operator(op.summarize, scalars)
            assert isinstance(summarize, ir.Summarize)
            return dataclasses.replace(op, before=tuple(substitute_operator(o, scalars) for o in op.before),
                                       summarize=summarize,
                                       after=tuple(substitute_operator(o, scalars) for o in op.after))
        return orig_substitute(op, scalars)

    lower._substitute_operator = substitute_operator
    kql_translate.render_operator = _render_operator(kql_translate.render_operator)
    kql_schema_mod._operator_columns = _operator_columns(kql_schema_mod._operator_columns)
    _installed.append(True)
