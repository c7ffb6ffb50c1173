"""Generate docs/schema.md from the table definitions and the adapters' own mappings, so the
documented vendor field behind each canonical column can never drift from the code.

    .venv/bin/python -m vigil.sources.docs > docs/schema.md
"""
from __future__ import annotations

import re

from vigil.sources import registry
from vigil.store.schema import CORE_TABLES, EVENT_TABLES

_PLACEHOLDER = re.compile(r"\{\$\.([^{}]*)\}")
# json_extract_string(vigil_jtext({$.A}), '$.b.c')  ->  A.b.c  (a field inside a nested object)
_NESTED = re.compile(r"json_extract_string\(vigil_jtext\(\{\$\.([^{}]*)\}\), '\$\.([^']*)'\)")

_SPECIAL = {"event_time": "time", "source_record_id": "record_id", "source_table": "source_table"}

HEADER = """# The canonical model

Generated from `vigil/store/schema.py` and the adapters in `vigil/sources/formats/` by
`python -m vigil.sources.docs` (a test fails when this file is stale).

Every sign-in from every vendor lands in `signins`, every cloud-app / audit activity in `activities`, every
identity change that matters to access in `directory_events`. Times are UTC with microseconds; user
principal names are lower-cased; dynamic values are JSON (KQL `dynamic`), never STRUCT. `event_id` is
`md5(source_format | source_table | record id | event time)` truncated to 16 hex digits: stable across runs, the
tie-breaker of every window, and unique per table (the ingest engine de-duplicates on it). The raw record is kept,
byte for byte, in compressed `raw_blocks` located by `raw_records` (`vigil raw EVENT_ID`, `vigil.raw(store, ids)`),
so no vendor field is ever out of reach. The "vendor fields" column lists,
for each format, the JSON paths (or CSV columns) the value is taken from, in order of preference.
"""


def vendor_fields(table: str) -> dict[str, list[str]]:
    """canonical column -> ["format: path, path", ...]"""
    out: dict[str, list[str]] = {}
    for spec in registry.all_sources():
        if spec.target != table:
            continue
        exprs = dict(spec.columns)
        exprs["event_time"] = spec.time
        exprs["source_record_id"] = spec.record_id
        exprs["source_table"] = spec.source_table
        for col, expr in exprs.items():
            expr = _NESTED.sub(lambda m: "{$." + m.group(1) + "." + m.group(2) + "}", expr)
            paths = list(dict.fromkeys(_PLACEHOLDER.findall(expr)))
            if paths:
                out.setdefault(col, []).append(f"`{spec.name}`: " + ", ".join(f"`{p}`" for p in paths))
            elif col == "source_table" and expr.strip().startswith("'"):
                out.setdefault(col, []).append(f"`{spec.name}`: constant {expr.strip()}")
    return out


def render() -> str:
    parts = [HEADER]
    for table in CORE_TABLES:
        parts.append(f"\n## `{table.name}`\n\n{table.doc}\n")
        fields = vendor_fields(table.name) if table.name in EVENT_TABLES else {}
        if fields:
            parts.append("| column | type | meaning | vendor fields |\n|---|---|---|---|\n")
        else:
            parts.append("| column | type | meaning |\n|---|---|---|\n")
        for c in table.columns:
            row = f"| `{c.name}` | {c.type.replace(' NOT NULL', '')} | {c.doc.replace('|', '/')} |"
            if fields:
                derived = "derived by the engine" if c.name in ("event_id", "source_format", "source_file") else ""
                row += " " + ("<br>".join(fields.get(c.name, [])) or derived) + " |"
            parts.append(row + "\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
