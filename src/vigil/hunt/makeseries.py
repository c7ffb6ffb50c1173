"""``make-series``, lowered into duckdb-kql's IR and rendered as one set-based SELECT.

``T | make-series [name =] agg [default = v], ... on Axis [from A] [to B] step S | in range(A, B, S)
[by k, ...]`` gives one row per key with, for each aggregate, an array holding its value in every
bin of the axis (``default``, 0 unless given, where a bin has no row) and the axis column as the
array of bin starts, as Kusto does:

* bins start at ``A`` (``from`` / ``range``) and are ``S`` wide; without ``from`` the first bin is
  ``bin(min(Axis), S)`` and the last the one holding ``max(Axis)``;
* ``to B`` is exclusive (bins start before ``B``); ``in range(A, B, S)`` includes a bin starting at
  ``B``; rows outside the bins are left out before aggregating;
* keys come from the rows inside the bins; output columns are the keys, the aggregates (named as
  ``summarize`` names them: ``count_``, ``dcount_x``), then the axis.

The SQL aggregates by key and bin once, builds the bins with ``generate_series``, and gathers
each key's values in bin order with ``list(... ORDER BY bin)``: no per-row Python.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from duckdb_kql import ir, lower
from duckdb_kql import translate as kql_translate
from duckdb_kql.errors import KqlUnsupportedError


@dataclasses.dataclass(frozen=True)
class MakeSeries(ir.Operator):
    aggregates: tuple[ir.NamedExpr, ...]
    defaults: tuple[ir.Expr | None, ...]
    axis: ir.NamedExpr
    start: ir.Expr | None
    end: ir.Expr | None
    step: ir.Expr
    end_inclusive: bool
    by: tuple[ir.NamedExpr, ...] = ()


def lower_make_series(node: Any) -> MakeSeries:
    aggregates: list[ir.NamedExpr] = []
    defaults: list[ir.Expr | None] = []
    axis: ir.NamedExpr | None = None
    bounds: dict[str, ir.Expr] = {}
    by: list[ir.NamedExpr] = []
    in_range = False
    pending: tuple[str, str] | None = None
    for k in lower._rule_children(node):
        cls = lower._cls(k)
        if cls == "RelaxedQueryOperatorParameter":
            # `n = dcount(x)` reaches here as a parameter `n=dcount` and an aggregation `(x)`: the
            # grammar's operator parameters (`name=value`) take the name and the function's name
            name, _, value = k.getText().partition("=")
            if pending is not None or not value:
                raise lower._unsupported(k, f"make-series parameter {k.getText()[:30]}")
            pending = (name.strip(), value.strip())
        elif cls == "MakeSeriesOperatorAggregation":
            parts = lower._rule_children(k)
            named = lower._lower_named(parts[0])
            if pending is not None:
                text = parts[0].getText()
                if named.name is not None or not text.startswith("("):
                    raise lower._unsupported(k, f"make-series parameter {pending[0]}={pending[1]}")
                args = _paren_args(text, named.expr)
                named = ir.NamedExpr(ir.FunctionCall(pending[1], args), pending[0])
                pending = None
            aggregates.append(named)
            default = None
            for p in parts[1:]:
                if lower._cls(p) == "MakeSeriesOperatorExpressionDefaultClause":
                    default = lower._lower_named(lower._rule_children(p)[0]).expr
            defaults.append(default)
        elif cls == "MakeSeriesOperatorOnClause":
            axis = lower._lower_named(lower._rule_children(k)[0])
        elif cls == "MakeSeriesOperatorInRangeClause":
            in_range = True
            values = [lower._lower_named(c).expr for c in lower._rule_children(k)]
            if len(values) != 3:
                raise lower._unsupported(k, "make-series in range() needs start, stop and step")
            bounds = dict(zip(("from", "to", "step"), values, strict=True))
        elif cls == "MakeSeriesOperatorFromToStepClause":
            slot = None
            for c in lower._children(k):
                if type(c).__name__.endswith("Context"):
                    if slot is None:
                        raise lower._unsupported(k, "make-series range clause")
                    bounds[slot] = lower._lower_named(c).expr
                elif c.getText().lower() in ("from", "to", "step"):
                    slot = c.getText().lower()
        elif cls == "MakeSeriesOperatorByClause":
            by.extend(lower._lower_named(c) for c in lower._rule_children(k))
        else:
            raise lower._unsupported(k, f"make-series parameter {k.getText()[:30]}")
    if pending is not None:
        raise lower._unsupported(node, f"make-series parameter {pending[0]}={pending[1]}")
    if axis is None or not aggregates or "step" not in bounds:
        raise lower._unsupported(node, "make-series without an aggregate, an on axis or a step")
    return MakeSeries(tuple(aggregates), tuple(defaults), axis, bounds.get("from"), bounds.get("to"),
                      bounds["step"], in_range, tuple(by))


def substitute(op: MakeSeries, sub: Callable[[Any], Any]) -> MakeSeries:
    """``op`` with duckdb-kql's scalar-``let`` substitution applied to every expression in it."""
    def opt(e: ir.Expr | None) -> ir.Expr | None:
        return None if e is None else sub(e)
    return dataclasses.replace(
        op, aggregates=tuple(sub(a) for a in op.aggregates), defaults=tuple(opt(d) for d in op.defaults),
        axis=sub(op.axis), start=opt(op.start), end=opt(op.end), step=sub(op.step),
        by=tuple(sub(k) for k in op.by))


def _paren_args(text: str, expr: ir.Expr) -> tuple[ir.Expr, ...]:
    """The arguments of ``(a)`` / ``(a, b)`` as lowered (a parenthesised list lowers to its parts)."""
    if text == "()":
        return ()
    if isinstance(expr, ir.FunctionCall) and expr.name.lower() in ("pack_array", "tuple"):
        return expr.args
    return (expr,)


def _as_summarize(op: MakeSeries) -> ir.Summarize:
    return ir.Summarize(op.aggregates, op.by)


def axis_name(op: MakeSeries) -> str:
    if op.axis.name:
        return op.axis.name
    if isinstance(op.axis.expr, ir.ColumnRef):
        return op.axis.expr.name
    raise KqlUnsupportedError("make-series on an unnamed expression", hint="name it: on T = expr")


def output_columns(op: MakeSeries, cols: list[str] | None) -> list[str]:
    keys, aggs = kql_translate.summarize_names(_as_summarize(op), cols)
    return keys + [names[0] for names in aggs] + [axis_name(op)]


def render(op: MakeSeries, prev: str, cols: list[str] | None) -> str:
    q = kql_translate.quote_ident
    r = kql_translate.render_expr
    key_names, agg_names = kql_translate.summarize_names(_as_summarize(op), cols)
    for agg in op.aggregates:
        if kql_translate._render_arg_max(agg, key_names, cols) is not None:
            raise KqlUnsupportedError("make-series with arg_max/arg_min", hint="Kusto refuses it too")
    if not kql_translate._is_timespan_expr(op.step):
        raise KqlUnsupportedError("make-series on a numeric axis", hint="vigil's make-series bins datetimes "
                                  "by a timespan step")
    # datetimes as microseconds, so bins are exact integer arithmetic
    axis = f"epoch_us({r(op.axis.expr)})"
    step = f"CAST(epoch({r(op.step)}) * 1000000 AS BIGINT)"
    if op.start is not None:
        lo = f"epoch_us({r(op.start)})"
        source = ""
    else:
        lo = f"floor(min({axis}) / {step}) * {step}"
        source = f" FROM {prev}"
    if op.end is not None:
        past = f"epoch_us({r(op.end)})" + (f" + {step}" if op.end_inclusive else "")   # after the last bin
    elif op.start is not None:
        past = f"(SELECT max({axis}) FROM {prev}) + 1"
    else:
        past = f"max({axis}) + 1"
    bounds = f"SELECT CAST({lo} AS BIGINT) AS _lo, CAST({past} AS BIGINT) AS _past{source}"
    keys = [r(k.expr) for k in op.by] or ["true"]
    kcols = [f"_k{i}" for i in range(len(keys))]
    aggs = [f"{kql_translate.render_aggregate(a)} AS _a{i}" for i, a in enumerate(op.aggregates)]
    binned = f"_b._lo + CAST(floor(({axis} - _b._lo) / _b._step) AS BIGINT) * _b._step"
    series = (f"SELECT {', '.join(f'{k} AS {c}' for k, c in zip(keys, kcols, strict=True))}, {binned} AS _bin, "
              f"{', '.join(aggs)} FROM {prev}, _b WHERE {axis} >= _b._lo AND {axis} < _b._past GROUP BY ALL")
    select = [f"_k.{c} AS {q(n)}" for c, n in zip(kcols[:len(op.by)], key_names, strict=True)]
    for i, (names, default) in enumerate(zip(agg_names, op.defaults, strict=True)):
        d = r(default) if default is not None else "0"
        select.append(f"list(coalesce(_a._a{i}, {d}) ORDER BY _g._bin) AS {q(names[0])}")
    select.append(f"list(make_timestamp(_g._bin) ORDER BY _g._bin) AS {q(axis_name(op))}")
    on = " AND ".join([f"_k.{c} IS NOT DISTINCT FROM _a.{c}" for c in kcols] + ["_g._bin = _a._bin"])
    return (f"WITH _b AS (SELECT *, {step} AS _step FROM ({bounds})), _s AS ({series}) "
            f"SELECT {', '.join(select)} FROM (SELECT DISTINCT {', '.join(kcols)} FROM _s) _k "
            f"CROSS JOIN (SELECT unnest(range(_lo, _past, _step)) AS _bin FROM _b) _g "
            f"LEFT JOIN _s _a ON {on} GROUP BY {', '.join('_k.' + c for c in kcols)}")
