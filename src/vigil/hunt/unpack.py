"""``evaluate bag_unpack(col)`` and ``column_ifexists(name, default)``, whose output columns depend on the data.

Kusto decides them when the query runs, from the rows and the columns that reach the stage; so
does vigil. The query is cut before the ``evaluate bag_unpack`` stage; the part before it is run
twice (set-based): once for the distinct keys of the bag column's property bags, once for its
column names. The stage then becomes ``extend ['key'] = col['key'], ... | project-away col`` (with
the optional column prefix), which is what bag_unpack returns, and each later
``column_ifexists('name', default)`` becomes ``['name']`` when that column exists there, else the
default. A key that collides with an existing column is refused, as Kusto refuses it.
``column_ifexists`` elsewhere in a query's last statement is resolved the same way against the
columns reaching its stage (:func:`expand_column_ifexists`).
"""
from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa

from vigil.errors import QueryError
from vigil.hunt.text import find_calls, split_top

_UNPACK = re.compile(r"^\s*evaluate\s+bag_unpack\s*\((.*)\)\s*$", re.S)
MAX_KEYS = 500


def _quote(name: str) -> str:
    return "['" + name.replace("\\", "\\\\").replace("'", "\\'") + "']"


def _literal_name(text: str) -> str | None:
    m = re.fullmatch(r"""\s*(?:'([^']*)'|"([^"]*)")\s*""", text)
    return None if m is None else (m.group(1) if m.group(1) is not None else m.group(2))


def resolve_columns(text: str, columns: list[str]) -> str:
    """``column_ifexists('name', default)`` against the columns known at that point."""
    for start, end, args in reversed(find_calls(text, "column_ifexists")):
        parts = split_top(args, ",")
        name = _literal_name(parts[0]) if len(parts) == 2 else None
        if name is None:
            raise QueryError("column_ifexists() takes a literal column name and a default")
        text = text[:start] + (_quote(name) if name in columns else f"({parts[1].strip()})") + text[end:]
    return text


def expand(kql: str, run: Callable[[str], pa.Table]) -> str:
    """``kql`` with its first top-level ``evaluate bag_unpack`` stage (and the ``column_ifexists`` calls
    after it) made explicit; ``run`` executes KQL. Unchanged when there is none."""
    statements = split_top(kql, ";")
    body = statements[-1]
    stages = split_top(body, "|")
    for i, stage in enumerate(stages):
        m = _UNPACK.match(stage)
        if not m or i == 0:
            continue
        args = [a.strip() for a in split_top(m.group(1), ",")]
        if not args or not re.fullmatch(r"[A-Za-z_]\w*", args[0]) or len(args) > 2:
            raise QueryError("evaluate bag_unpack(): vigil takes a column name and an optional column prefix")
        column, prefix = args[0], (_literal_name(args[1]) if len(args) == 2 else "") or ""
        lets = ";".join(statements[:-1])
        before = "|".join(stages[:i])
        head = (lets + ";\n" if lets else "")
        keys_query = (f"{head}{before} | mv-expand _vigil_key = bag_keys({column}) to typeof(string) "
                      f"| where isnotempty(_vigil_key) | distinct _vigil_key | take {MAX_KEYS + 1}")
        keys = sorted(str(k) for k in run(keys_query).column("_vigil_key").to_pylist() if k is not None)
        if len(keys) > MAX_KEYS:
            raise QueryError(f"evaluate bag_unpack({column}): more than {MAX_KEYS} distinct keys")
        columns = [c for c in run(f"{head}{before} | take 0").column_names if c != column]
        clash = sorted({prefix + k for k in keys} & set(columns))
        if clash:
            raise QueryError(f"evaluate bag_unpack({column}): the key(s) {', '.join(clash)} are already columns "
                             f"(give a column prefix, as Kusto requires)")
        extend = ", ".join(f"{_quote(prefix + k)} = {column}[{_quote(k)[1:-1]}]" for k in keys)
        replaced = [f" extend {extend} " if keys else " extend _vigil_unpacked = 0 ",
                    f" project-away {column}" + (", _vigil_unpacked " if not keys else " ")]
        rest = "|".join(stages[i + 1:])
        known = columns + [prefix + k for k in keys]
        new_body = "|".join(stages[:i] + replaced) + ("|" + resolve_columns(rest, known) if rest else "")
        return ";".join(statements[:-1] + [new_body])
    return kql


def expand_column_ifexists(kql: str, run: Callable[[str], pa.Table]) -> str:
    """``kql`` with the ``column_ifexists`` calls of its first top-level stage that has them resolved
    against the columns reaching that stage (the part before it run for no rows). Unchanged when
    there is none."""
    statements = split_top(kql, ";")
    stages = split_top(statements[-1], "|")
    for i, stage in enumerate(stages):
        if i == 0 or not find_calls(stage, "column_ifexists"):
            continue
        lets = ";".join(statements[:-1])
        head = (lets + ";\n" if lets else "")
        columns = run(f"{head}{'|'.join(stages[:i])} | take 0").column_names
        stages[i] = resolve_columns(stage, columns)
        return ";".join(statements[:-1] + ["|".join(stages)])
    return kql
