"""Text rewrites applied before translation, for constructs duckdb-kql's grammar or IR lacks.

Each keeps KQL's meaning:

* **Deprecated names** Kusto still accepts (``makeset``, ``makelist``, ``argmin``, ``argmax``,
  ``arraylength``, ``extractjson``, ``columnifexists``) become their current names; output columns are named the
  same either way (``set_x``, ``list_x``).
* ``extract_json(path, text, typeof(T))`` becomes the two-argument call wrapped in the
  conversion to ``T``; ``split(text, sep, i)`` becomes ``pack_array(split(text, sep)[i])``
  (an empty array when ``i`` is out of range, as in Kusto).
* **Tabular ``let`` functions** (``let f = (t:string) { table(t) | ... };`` and ``view``
  functions) are expanded where they are called, the way Kusto itself expands a function's
  body at its call site: each distinct call becomes a ``let`` of the body with the arguments
  bound, and ``table('Name')`` with a literal name becomes that table.
* ``_GetWatchlist('alias')`` becomes the name of a relation the adapter registers for the hunt
  (:mod:`vigil.hunt.watchlist`).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
import re
from dataclasses import dataclass, field

from vigil.errors import QueryError
from vigil.hunt.series import KQL_FUNCTIONS as SERIES_FUNCTIONS, OUTPUTS as SERIES_OUTPUTS
from vigil.hunt.text import _scan, find_calls, live_positions, split_top

ALIASES = {"makeset": "make_set", "makelist": "make_list", "argmin": "arg_min", "argmax": "arg_max",
           "arraylength": "array_length", "extractjson": "extract_json", "columnifexists": "column_ifexists"}
_CONVERT = {"string": "tostring", "long": "tolong", "int": "toint", "real": "toreal", "double": "todouble",
            "bool": "tobool", "boolean": "tobool", "datetime": "todatetime", "timespan": "totimespan",
            "dynamic": "todynamic", "guid": "toguid", "decimal": "todecimal"}
_FUNC_DEF = re.compile(r"^\s*let\s+([A-Za-z_]\w*)\s*=\s*(view\s*)?\(", re.S)
_STRING = re.compile(r"""^\s*(?:@?'([^']*)'|@?"([^"]*)")\s*$""")
_counter = itertools.count()


@dataclass
class Rewritten:
    text: str
    watchlists: list[str] = field(default_factory=list)    # aliases, in order of first use


def _replace_calls(text: str, name: str, render: Callable[[str, list[str]], str]) -> str:
    for start, end, args in reversed(find_calls(text, name)):
        text = text[:start] + render(args, [a.strip() for a in split_top(args, ",")]) + text[end:]
    return text


def _aliases(text: str) -> str:
    for old, new in ALIASES.items():
        def renamed(args: str, _parts: list[str], new: str = new) -> str:
            return f"{new}({args})"
        text = _replace_calls(text, old, renamed)
    return text


def _typed_extract_json(args: str, parts: list[str]) -> str:
    if len(parts) != 3:
        return f"extract_json({args})"
    m = re.fullmatch(r"typeof\s*\(\s*(\w+)\s*\)", parts[2])
    if not m or m.group(1).lower() not in _CONVERT:
        raise QueryError(f"extract_json(): unsupported type argument {parts[2]!r}")
    return f"{_CONVERT[m.group(1).lower()]}(extract_json({parts[0]}, {parts[1]}))"


def _split3(args: str, parts: list[str]) -> str:
    if len(parts) != 3:
        return f"split({args})"
    whole = f"split({parts[0]}, {parts[1]})"
    return (f"iff(({parts[2]}) < array_length({whole}), pack_array({whole}[{parts[2]}]), dynamic([]))")


def _identifier_sub(body: str, values: dict[str, str]) -> str:
    """Replace whole-word identifiers outside strings and comments (not after '.' or '$')."""
    if not values:
        return body
    live = live_positions(body)
    # not after '.' (a property or $left.x), but after '..' (a range's upper bound) it is a use
    pattern = re.compile(r"(?<![\w$])(?:(?<=\.\.)|(?<!\.))(" + "|".join(re.escape(k) for k in values) + r")(?!\w)")
    out, last = [], 0
    for m in pattern.finditer(body):
        if m.start() not in live:
            continue
        rest = body[m.end():].lstrip()
        if rest.startswith("=") and not rest.startswith("=="):
            continue    # `name = ...` assigns a column of that name; not a use of the parameter
        out.append(body[last:m.start()])
        out.append(values[m.group(1)])
        last = m.end()
    out.append(body[last:])
    return "".join(out)


@dataclass
class _Function:
    name: str
    params: list[tuple[str, str | None]]   # (name, default text)
    body: str
    tabular: set[str] = field(default_factory=set)            # parameters of a tabular type, (*) or (col:type)
    lets: list[tuple[str, str]] = field(default_factory=list)   # the body's own let statements, in order


def _parse_function(statement: str) -> _Function | None:
    statement = re.sub(r"^(?:\s*//[^\n]*\n)+", "", statement)   # comment lines before the let
    m = _FUNC_DEF.match(statement)
    if not m:
        return None
    open_at = m.end() - 1
    close = _matching(statement, open_at)
    rest = statement[close + 1:].lstrip()
    if not rest.startswith("{") or not rest.rstrip().endswith("}"):
        return None
    body = rest.strip()[1:-1].strip()
    statements = [s for s in split_top(body, ";") if s.strip()]
    lets: list[tuple[str, str]] = []
    for inner in statements[:-1]:
        lm = re.match(r"\s*(?://[^\n]*\n\s*)*let\s+([A-Za-z_]\w*)\s*=(.*)$", inner, re.S)
        if not lm:
            raise QueryError(f"let function {m.group(1)!r}: cannot read the statement {inner.strip()[:40]!r}")
        lets.append((lm.group(1), lm.group(2).strip()))
    body = statements[-1] if statements else body
    if not m.group(2) and not _is_tabular(body):
        return None     # a scalar function: duckdb-kql substitutes those itself
    params: list[tuple[str, str | None]] = []
    tabular: set[str] = set()
    for p in split_top(statement[open_at + 1:close], ","):
        if not p.strip():
            continue
        pm = re.match(r"\s*([A-Za-z_]\w*)\s*:\s*(\([^)]*\)|\w+)\s*(?:=\s*(.+))?$", p, re.S)
        if not pm:
            raise QueryError(f"let function {m.group(1)!r}: cannot read parameter {p.strip()!r}")
        params.append((pm.group(1), pm.group(3).strip() if pm.group(3) else None))
        if pm.group(2).startswith("("):
            tabular.add(pm.group(1))
    return _Function(m.group(1), params, body, tabular=tabular, lets=lets)


def _matching(text: str, open_at: int) -> int:
    depth = 0
    live = live_positions(text)
    for i in range(open_at, len(text)):
        if i not in live:
            continue
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    raise QueryError("KQL syntax error: unbalanced parentheses in a let function")


def _is_tabular(body: str) -> bool:
    return len(split_top(body, "|")) > 1 or bool(re.match(r"\s*(table|union|datatable|range|print)\b", body))


def _expand(fn: _Function, args: list[str]) -> tuple[list[tuple[str, str]], str]:
    """The body with the arguments bound, and the body's own lets (renamed, one set per call)."""
    if len(args) > len(fn.params):
        raise QueryError(f"let function {fn.name!r} takes {len(fn.params)} argument(s), got {len(args)}")
    values: dict[str, str] = {}
    inner: list[tuple[str, str]] = []
    for i, (pname, default) in enumerate(fn.params):
        if i < len(args) and args[i] and pname in fn.tabular and not re.fullmatch(r"[A-Za-z_]\w*", args[i]):
            # a tabular argument that is an expression becomes a let: duckdb-kql has no parenthesised source
            generated = f"_vigil_fn{next(_counter)}_{pname}"
            inner.append((generated, args[i]))
            values[pname] = generated
        elif i < len(args) and args[i]:
            values[pname] = args[i] if re.fullmatch(r"[\w.]+|'[^']*'|\"[^\"]*\"", args[i]) else f"({args[i]})"
        elif default is not None:
            values[pname] = default
        else:
            raise QueryError(f"let function {fn.name!r}: no value for parameter {pname!r}")
    for name, value in fn.lets:
        generated = f"_vigil_fn{next(_counter)}_{name}"
        inner.append((generated, _identifier_sub(value, values)))
        values[name] = generated
    body = _identifier_sub(fn.body, values)

    def table(args_text: str, parts: list[str]) -> str:
        m = _STRING.match(args_text)
        if not m:
            raise QueryError(f"table({args_text.strip()}): vigil needs the table name as a literal string")
        name = m.group(1) if m.group(1) is not None else m.group(2)
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise QueryError(f"table({args_text.strip()}): not a table name")
        return name
    return ([(n, _replace_calls(v, "table", table)) for n, v in inner], _replace_calls(body, "table", table))


def _inline_functions(text: str) -> str:
    functions: dict[str, _Function] = {}
    out: list[str] = []
    for statement in split_top(text, ";"):
        fn = _parse_function(statement)
        if fn is not None:
            functions[fn.name] = fn
            continue
        lets: list[str] = []

        def expand_in(s: str, depth: int, lets: list[str] = lets) -> str:
            for name, f in functions.items():
                def call(args_text: str, parts: list[str], f: _Function = f) -> str:
                    if depth > 8:
                        raise QueryError(f"let function {f.name!r} calls itself (recursion is not supported)")
                    inner, body = _expand(f, parts if args_text.strip() else [])
                    for name_, value in inner:
                        lets.append(f"let {name_} = {expand_in(value, depth + 1)}")
                    body = expand_in(body, depth + 1)
                    generated = f"_vigil_fn{next(_counter)}_{f.name}"
                    lets.append(f"let {generated} = ({body})")
                    return generated
                s = _replace_calls(s, name, call)
            return s
        statement = expand_in(statement, 0)
        out.extend(lets)
        out.append(statement)
    return ";".join(out)


def _watchlists(text: str, found: list[str]) -> str:
    def render(args_text: str, parts: list[str]) -> str:
        m = _STRING.match(args_text)
        if not m:
            raise QueryError(f"_GetWatchlist({args_text.strip()}): the watchlist alias must be a literal string")
        alias = m.group(1) if m.group(1) is not None else m.group(2)
        if alias not in found:
            found.append(alias)
        return watchlist_relation(alias)
    return _replace_calls(text, "_GetWatchlist", render)


def watchlist_relation(alias: str) -> str:
    """The relation name a watchlist is registered under for one hunt."""
    return "_vigil_watchlist_" + re.sub(r"\W", "_", alias)


def _live_sub(text: str, pattern: str, repl: str) -> str:
    """``re.sub`` restricted to matches that start outside strings and comments."""
    live = live_positions(text)
    return re.sub(pattern, lambda m: repl if m.start() in live else m.group(0), text)


def _count_of(text: str) -> str:
    """``count(x)``: Kusto counts the rows where ``x`` is not null and names the column ``count_x``."""
    for start, end, args in reversed(find_calls(text, "count")):
        if not args.strip():
            continue
        named = re.search(r"=\s*$", text[:start]) and not re.search(r"[=!<>]=\s*$", text[:start])
        call = f"countif(isnotnull({args}))"
        if not named:
            if not re.fullmatch(r"\s*[A-Za-z_]\w*\s*", args):
                raise QueryError(f"count({args.strip()}): name the result (n = count(...)) or count a column")
            call = f"count_{args.strip()} = {call}"
        text = text[:start] + call + text[end:]
    return text


_UNITS = {"d": 86400.0, "day": 86400.0, "days": 86400.0, "h": 3600.0, "hr": 3600.0, "hrs": 3600.0,
          "hour": 3600.0, "hours": 3600.0, "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
          "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "ms": 1e-3, "milli": 1e-3,
          "millisecond": 1e-3, "milliseconds": 1e-3, "microsecond": 1e-6, "microseconds": 1e-6,
          "tick": 1e-7, "ticks": 1e-7}
_TIMESPAN = r"(\d+(?:\.\d+)?)(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b"
_SCALE = re.compile(r"(?<![\w.])" + _TIMESPAN + r"\s*([*/])\s*(\d+(?:\.\d+)?)(?![\w.])")


def _seconds_literal(seconds: float) -> str:
    return f"{round(seconds * 1e7) / 1e7:.7f}".rstrip("0").rstrip(".") + "s"


def _fold_timespans(text: str) -> str:
    """``20min / 2`` and ``let half = window / 2.0`` (window a timespan literal) folded to literals.

    duckdb-kql types a timespan divided or multiplied by a number as a number; Kusto's answer is
    a timespan, which the folded literal is."""
    def scale(value: float, op: str, factor: str) -> float:
        return value * float(factor) if op == "*" else value / float(factor)

    live = live_positions(text)
    text = _SCALE.sub(lambda m: _seconds_literal(scale(float(m.group(1)) * _UNITS[m.group(2)], m.group(3),
                                                       m.group(4))) if m.start() in live else m.group(0), text)
    known: dict[str, float] = {}
    out = []
    for statement in split_top(text, ";"):
        m = re.match(r"((?:\s|//[^\n]*)*let\s+([A-Za-z_]\w*)\s*=\s*)(.*?)(\s*)$", statement, re.S)
        if m:
            value = m.group(3)
            lit = re.fullmatch(_TIMESPAN, value)
            ref = re.fullmatch(r"([A-Za-z_]\w*)\s*([*/])\s*(\d+(?:\.\d+)?)", value)
            if lit:
                known[m.group(2)] = float(lit.group(1)) * _UNITS[lit.group(2)]
            elif ref and ref.group(1) in known:
                known[m.group(2)] = scale(known[ref.group(1)], ref.group(2), ref.group(3))
                statement = m.group(1) + _seconds_literal(known[m.group(2)]) + m.group(4)
            else:
                known.pop(m.group(2), None)
        out.append(statement)
    return ";".join(out)


def _series_defaults(text: str) -> str:
    """The series functions' optional arguments filled in with Kusto's defaults."""
    for name, (defaults, _) in SERIES_FUNCTIONS.items():
        def full(args_text: str, parts: list[str], name: str = name, defaults: list[str] = defaults) -> str:
            given = parts if args_text.strip() else []
            if not given or len(given) > 1 + len(defaults):
                raise QueryError(f"{name}() takes 1 to {1 + len(defaults)} arguments, got {len(given)}")
            return f"{name}({', '.join(given + defaults[len(given) - 1:])})"
        text = _replace_calls(text, name, full)
    return text


def _series_item(item: str, temps: list[tuple[str, str]]) -> str:
    """``(a, b) = series_f(...)`` or a bare ``series_f(col, ...)`` as one column per output."""
    m = re.fullmatch(r"(?:\s|//[^\n]*)*(?:\(([\w\s,]+)\)\s*=\s*)?(series_\w+)\s*(\(.*\))(?:\s|//[^\n]*)*",
                     item, re.S)
    if not m or m.group(2) not in SERIES_OUTPUTS or _matching(m.group(3), 0) != len(m.group(3)) - 1:
        return item
    fields = SERIES_OUTPUTS[m.group(2)]
    if m.group(1):
        names = [n.strip() for n in m.group(1).split(",")]
        if len(names) > len(fields):
            raise QueryError(f"{m.group(2)}() returns {len(fields)} series, {len(names)} names given")
    else:
        first = split_top(m.group(3)[1:-1], ",")[0].strip()
        if not re.fullmatch(r"[A-Za-z_]\w*", first):
            return item
        names = [f"{m.group(2)}_{first}_{f}" for f, _ in fields]
    temp = f"_vigil_series{next(_counter)}"
    temps.append((temp, m.group(2) + m.group(3)))
    return ", ".join(f"{n} = todouble({temp}.{f})" if scalar else f"{n} = {temp}.{f}"
                     for n, (f, scalar) in zip(names, fields[:len(names)], strict=True))


def _series_extends(text: str) -> str:
    """``extend`` items assigning the several outputs of a series function: Kusto's tuple form, and
    the unnamed call, which names them ``<function>_<column>_<output>``."""
    for m in reversed(list(re.finditer(r"\|\s*extend\b", text))):
        scan = [(i, c, d) for i, c, d in _scan(text) if i >= m.start()]
        if not scan or scan[0][0] != m.start():
            continue        # inside a string or comment
        base = scan[0][2]
        end = len(text)
        for i, c, depth in scan[1:]:
            if (c in "|;" and depth == base) or (c in ")]}" and depth < base):
                end = i
                break
        body = text[m.end():end]
        temps: list[tuple[str, str]] = []
        items = [_series_item(item, temps) for item in split_top(body, ",")]
        if temps:
            stage = (" " + ", ".join(f"{t} = {call}" for t, call in temps) + " | extend " + ", ".join(items)
                     + " | project-away " + ", ".join(t for t, _ in temps) + " ")
            text = text[:m.end()] + stage + text[end:]
    return text


def rewrite(kql: str) -> Rewritten:
    """``kql`` with the rewrites above applied; the watchlists it reads, by alias."""
    text = _aliases(kql)
    # Kusto accepts `x.[0]` / `x.["key"]` for `x[0]` / `x["key"]`, and a comma before summarize's `by`
    text = _live_sub(text, r"\.\s*\[", "[")
    text = _live_sub(text, r",\s*\bby\b", " by")
    text = _count_of(text)
    text = _fold_timespans(text)
    text = _replace_calls(text, "extract_json", _typed_extract_json)
    text = _replace_calls(text, "split", _split3)
    text = _inline_functions(text)
    text = _series_extends(_series_defaults(text))
    found: list[str] = []
    text = _watchlists(text, found)
    return Rewritten(text, found)
