"""KQL's case-sensitive names over DuckDB's case-insensitive identifiers.

Kusto tells ``InitiatedBy`` from ``Initiatedby``; DuckDB folds them into one column, so
duckdb-kql refuses such a query ("differ only in case"). Published content does this
(``extend Initiatedby = Identity`` over AuditLogs' ``InitiatedBy``). Before translation, every
spelling of a name that clashes with another spelling in the query, or with a column of the
store, is given a distinct internal name (``_vigil_case<n>_<name>``), all of its uses alike; the
result's columns get their spelling back, so the answer has both columns, as Kusto's has. The
spelling that is a column of the store (else the first in the text) keeps its name.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

import pyarrow as pa

from vigil.hunt.text import live_positions

# not a property (after '.'), but after '..' (a range's upper bound) it is a name
_NAME = re.compile(r"(?<![\w$@])(?:(?<=\.\.)|(?<!\.))([A-Za-z_]\w*)(?!\w)")
PREFIX = "_vigil_case"
#: KQL's own words: never columns, whatever their case in the query
_KEYWORDS = frozenset("""
and or not in has by on of to from step with kind let set true false asc desc nulls first last between
where extend project summarize join union lookup take limit top sort order count distinct render parse
mv mv-expand mv-apply make series typeof string long int real double bool boolean datetime timespan
dynamic guid decimal inner outer leftouter rightouter fullouter leftanti rightanti leftsemi rightsemi
innerunique anti semi isfuzzy contains startswith endswith matches regex view materialize invoke
evaluate print range datatable as hint null default away rename reorder keep
""".split())
_counter = itertools.count(1)


def distinct_names(kql: str, columns: Iterable[str]) -> tuple[str, dict[str, str]]:
    """``kql`` with clashing spellings renamed, and {internal name: spelling} to restore them."""
    live = live_positions(kql)
    found: dict[str, list[str]] = {}
    assigned: set[str] = set()
    for m in _NAME.finditer(kql):
        word = m.group(1)
        rest = kql[m.end():].lstrip()
        if m.start() not in live or word.lower() in _KEYWORDS or rest.startswith("("):
            continue
        spellings = found.setdefault(word.lower(), [])
        if word not in spellings:
            spellings.append(word)
        if rest.startswith("=") and not rest.startswith("=="):
            assigned.add(word)
    known: dict[str, set[str]] = {}
    for c in columns:
        known.setdefault(c.lower(), set()).add(c)
    clashes: dict[str, str] = {}
    for lower, spellings in found.items():
        cols = known.get(lower, set())
        if len(set(spellings) | cols) < 2:
            continue
        # a spelling that is a column keeps its name (tables may differ in case: Id, id), else the first;
        # a spelling the query only reads, beside a column's, is left to DuckDB (it reads that column)
        keep = [w for w in spellings if w in cols] or spellings[:1]
        for word in spellings:
            if word not in keep and (word in assigned or len(spellings) > 1):
                clashes[word] = f"{PREFIX}{next(_counter)}_{word}"
        if not [w for w in spellings if w in cols] and cols and spellings[0] in assigned:
            clashes[spellings[0]] = f"{PREFIX}{next(_counter)}_{spellings[0]}"
    if not clashes:
        return kql, {}
    out, last = [], 0
    for m in _NAME.finditer(kql):
        if m.group(1) in clashes and m.start() in live and not kql[m.end():].lstrip().startswith("("):
            out.append(kql[last:m.start()])
            out.append(clashes[m.group(1)])
            last = m.end()
    out.append(kql[last:])
    return "".join(out), {internal: word for word, internal in clashes.items()}


def restore(table: pa.Table, renamed: dict[str, str]) -> pa.Table:
    """The result's column names with the query's own spellings back."""
    if not renamed:
        return table
    names = []
    for name in table.column_names:
        for internal, word in renamed.items():
            name = name.replace(internal, word)
        names.append(name)
    return table.rename_columns(names)
