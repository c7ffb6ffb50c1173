"""``prev()``, ``next()`` and ``row_number()`` over serialized rows (duckdb-kql 1.1.2 refuses them).

The query is cut before the first pipe stage that calls one of them. The part before the cut
must serialize the rows (``order by`` / ``sort by`` / ``top`` / ``serialize``), as Kusto requires;
it is run, and its rows are numbered in their order (``_vigil_rn``). The calls become columns
computed with ``lag`` / ``lead`` over that number, and the rest of the query runs on the
numbered rows, kept in order. Repeated until no call is left. Arguments: a column name, an
optional integer offset and an optional literal default (Kusto's signature).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from vigil.errors import QueryError
from vigil.hunt.text import find_calls, first_word, split_top
from vigil.store import ident, literal

ORDER_FUNCS = ("prev", "next", "row_number")
SERIALIZING = ("order", "sort", "top", "serialize")
_IDENT = re.compile(r"^\s*(?:([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\])\s*$")
_LITERAL = re.compile(r"^\s*(-?\d+(?:\.\d+)?|true|false|'[^'\\]*'|\"[^\"\\]*\")\s*$", re.I)


@dataclass
class Split:
    lets: list[str]
    prefix: list[str]     # stages before the cut (serialize stages dropped)
    stage: str            # the stage calling prev/next/row_number
    rest: list[str]


def needs_serial(kql: str) -> bool:
    return any(find_calls(kql, f) for f in ORDER_FUNCS)


def split(kql: str) -> Split | None:
    statements = [s for s in split_top(kql, ";") if s.strip()]
    if not statements:
        return None
    *lets, body = statements
    stages = split_top(body, "|")
    for i, stage in enumerate(stages):
        if any(find_calls(stage, f) for f in ORDER_FUNCS):
            before = stages[:i]
            if i == 0 or not any(first_word(s) in SERIALIZING for s in before[1:]):
                raise QueryError(
                    f"{_name(stage)}() needs serialized rows: add `| order by ...` or `| serialize` before "
                    f"`{stage.strip()[:60]}`")
            kept = [before[0]] + [s for s in before[1:] if first_word(s) != "serialize" or s.strip() != "serialize"]
            kept = [_serialize_as_extend(s) for s in kept]
            return Split(lets, kept, stage, stages[i + 1:])
    return None


def _name(stage: str) -> str:
    return next(f for f in ORDER_FUNCS if find_calls(stage, f))


def _serialize_as_extend(stage: str) -> str:
    # `serialize x = expr` computes columns like extend; bare `serialize` was dropped above.
    if first_word(stage) == "serialize":
        return re.sub(r"^(\s*)serialize", r"\1extend", stage, count=1)
    return stage


def _sql_literal(text: str) -> str:
    t = text.strip()
    if t[0] in "'\"":
        return literal(t[1:-1])
    return t.lower() if t.lower() in ("true", "false") else t


def rewrite_stage(stage: str) -> tuple[str, list[str]]:
    """Replace the calls in ``stage`` by helper columns; returns (stage, SQL select items)."""
    items: list[str] = []
    out = stage
    for func in ORDER_FUNCS:
        for start, end, args in sorted(find_calls(out, func), reverse=True):
            k = len(items)
            col = f"_vigil_{func}_{k}"
            parts = [a for a in split_top(args, ",")] if args.strip() else []
            if func == "row_number":
                if len(parts) > 1:
                    raise QueryError("row_number() with a restart argument is not supported")
                first = int(parts[0]) if parts else 1
                items.append(f"_vigil_rn + {first} AS {col}")
            else:
                m = _IDENT.match(parts[0]) if parts else None
                if m is None:
                    raise QueryError(f"{func}() over an expression is not supported: extend a column first, "
                                     f"then call {func}(column)")
                column = ident(m.group(1) or m.group(2))
                offset = parts[1].strip() if len(parts) > 1 else "1"
                if not offset.isdigit():
                    raise QueryError(f"{func}() offset must be an integer literal, not {offset!r}")
                extra = ""
                if len(parts) > 2:
                    if not _LITERAL.match(parts[2]):
                        raise QueryError(f"{func}() default must be a literal, not {parts[2].strip()!r}")
                    extra = ", " + _sql_literal(parts[2])
                sql_func = "lag" if func == "prev" else "lead"
                items.append(f"{sql_func}({column}, {offset}{extra}) OVER (ORDER BY _vigil_rn) AS {col}")
            out = out[:start] + col + out[end:]
    return out, items


def continuation(stage: str) -> list[str]:
    """The rewritten stage plus what keeps the numbered rows in order after it."""
    word = first_word(stage)
    if word in ("extend", "where", "filter"):
        return [stage, " order by _vigil_rn asc"]
    if word == "project":
        return [stage.rstrip() + ", _vigil_rn", " order by _vigil_rn asc"]
    return [stage]
