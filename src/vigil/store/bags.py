"""JSON "bags" built at read time from typed columns.

A vendor table whose columns are JSON objects with fixed keys (Sentinel's ``BehaviorAnalytics``:
``UsersInsights``, ``DevicesInsights``, ``ActivityInsights``) is stored with one typed column per key
and read through a view that folds them back into the objects. Writing booleans costs a fraction of
building and writing ~1.5 KB of JSON text per row, and only the rows a query reads pay for the text
(docs/benchmarks.md, "Issue 17, third round"). The view gives the same JSON as ``json_object`` over the
same values (same keys, same order), so queries written for the vendor's table see no difference.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from vigil.store.dialect import ident, literal


def fold_sql(source: str, columns: Sequence[str], bags: Mapping[str, Sequence[str]]) -> str:
    """``SELECT`` over ``source`` giving ``columns`` in order: a column named in ``bags`` is the JSON object
    of its keys, each read from the typed column of the same name; any other column is read as is."""
    out = []
    for c in columns:
        if c in bags:
            pairs = ", ".join(f"{literal(k)}, {ident(k)}" for k in bags[c])
            out.append(f"json_object({pairs}) AS {ident(c)}")
        else:
            out.append(ident(c))
    return f"SELECT {', '.join(out)} FROM {ident(source)}"
