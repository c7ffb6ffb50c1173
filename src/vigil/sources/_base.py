"""The adapter interface: a declarative map from a vendor record to canonical columns.

An adapter is a :class:`SourceSpec`. Its ``columns`` map canonical column names to SQL
expressions in which ``{$.path}`` placeholders stand for values extracted from the raw
JSON record. The ingest engine gathers every placeholder of a spec into ONE
``json_extract_string(raw, [paths])`` call, so each record is parsed once, in DuckDB,
for a whole batch at a time: no per-record or per-field Python in the hot path.

Nested objects that some exports type as strings (the non-interactive sign-in table's
``DeviceDetail``) come out of ``json_extract_string`` as JSON text either way, so
expressions extract sub-fields from them with :func:`sub`.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vigil.store import array
from vigil.store.schema import EVENT_TABLES

_PLACEHOLDER = re.compile(r"\{(\$[^{}]*)\}")
_OUTER = re.compile(r"\{\^(\$[^{}]*)\}")

Detector = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class SourceSpec:
    """One log format: how to recognise it and how to map it to a canonical table."""

    name: str
    title: str
    target: str  # signins | activities | directory_events
    detect: Detector
    columns: Mapping[str, str]
    #: SQL for the vendor record id; a content hash is used when it is null or empty
    record_id: str
    #: SQL for the event time as text (parsed by the engine's vigil_ts macro)
    time: str
    #: SQL for the vendor table / category
    source_table: str = "NULL"
    #: extra validation: SQL boolean expression -> reason when it is true
    reject_when: Mapping[str, str] = field(default_factory=dict)
    #: SQL boolean: records for which this is false are not for this adapter (quarantined with reason)
    accept_when: str | None = None
    accept_reason: str = "record is not of this format"
    #: format that maps the records this one does not accept (e.g. the activity twin of a sign-in format),
    #: in the same transaction, instead of quarantining them
    fallback: str | None = None
    #: CSV header renames applied before mapping (exports add " [UTC]" and *_dynamic twins)
    notes: str = ""
    #: path of the field that holds the vendor record, as JSON text or an object (a UAL CSV's ``AuditData``):
    #: ``{$.x}`` then addresses that record and ``{^$.x}`` the outer row (its other columns, for cross-checks);
    #: a record that is not a JSON object maps to NULLs, so ``reject_when`` must say why it is refused
    record: str | None = None
    #: format whose records these are (the same UAL record exported as CSV or read from the API): the event
    #: key is taken in that format's name, so a record read from both is stored once and counted a duplicate
    same_records_as: str | None = None

    def __post_init__(self) -> None:
        if self.target not in EVENT_TABLES:
            raise ValueError(f"{self.name}: unknown target table {self.target}")
        known = set(EVENT_TABLES[self.target].column_names)
        unknown = set(self.columns) - known
        if unknown:
            raise ValueError(f"{self.name}: columns not in {self.target}: {sorted(unknown)}")


def sub(expr: str, path: str) -> str:
    """SQL extracting ``path`` (e.g. ``$.city``) from JSON text produced by ``expr``."""
    return f"json_extract_string(vigil_jtext({expr}), '{path}')"


def nz(expr: str) -> str:
    """NULL for empty strings (vendors write "" for absent values)."""
    return f"nullif(trim({expr}), '')"


def first(*exprs: str) -> str:
    return "coalesce(" + ", ".join(nz(e) for e in exprs) + ")"


def lower(expr: str) -> str:
    return f"lower({nz(expr)})"


def boolean(expr: str) -> str:
    return f"vigil_bool({expr})"


def as_json(expr: str) -> str:
    """A JSON column from JSON text (or a string holding JSON text); NULL when empty or invalid."""
    return f"vigil_json({expr})"


@dataclass
class CompiledSpec:
    spec: SourceSpec
    paths: list[str]
    select: str  # SELECT list over the extracted lists ``l`` (record) and ``o`` (outer row) and ``raw``
    outer_paths: list[str] = field(default_factory=list)

    def extract(self, raw: str = "raw") -> str:
        """SELECT items ``_object`` (the text is a JSON object) and the lists ``l`` (the record's fields; NULL
        when the text is not JSON) and ``o`` (the outer row's fields), over :meth:`source`: one parse of the text,
        one more for a record held in a field of it (``o[1]``)."""
        paths = array(self.paths)
        items = [f"ltrim({raw})[1] = '{{' AS _object"]
        if self.spec.record is None:
            return ", ".join([*items, f"try(json_extract_string({raw}, {paths})) AS l", "NULL::VARCHAR[] AS o"])
        rec = "_o[1]"
        # a record that is not one JSON object maps to NULLs (the spec's reject_when says why), not to 'not JSON'
        fields = f"try(json_extract_string(CASE WHEN ltrim({rec})[1] = '{{' THEN {rec} END, {paths}))"
        items.append(f"CASE WHEN _o IS NOT NULL THEN coalesce({fields}, json_extract_string('{{}}', {paths})) END AS l")
        items.append("_o AS o")
        return ", ".join(items)

    def source(self, relation: str) -> str:
        """The relation to select :meth:`extract` from: for a record held in a field, the outer fields (the record
        text first) are extracted once here."""
        if self.spec.record is None:
            return relation
        return f"(SELECT *, try(json_extract_string(raw, {array(self.outer_paths)})) AS _o FROM {relation})"


def compile_spec(spec: SourceSpec) -> CompiledSpec:
    """Turn placeholders into indexes of one extraction list."""
    paths: list[str] = []
    index: dict[str, int] = {}

    def repl(m: re.Match[str]) -> str:
        path = m.group(1)
        if path not in index:
            index[path] = len(paths)
            paths.append(path)
        return f"l[{index[path] + 1}]"

    outer: list[str] = [spec.record] if spec.record else []  # the record's own text is o[1]

    def repl_outer(m: re.Match[str]) -> str:
        if m.group(1) not in outer:
            outer.append(m.group(1))
        return f"o[{outer.index(m.group(1)) + 1}]"

    def render(expr: str) -> str:
        return _PLACEHOLDER.sub(repl, _OUTER.sub(repl_outer, expr))

    target = EVENT_TABLES[spec.target]
    parts: list[str] = []
    for col in target.columns:
        if col.name in ("event_id", "event_time", "source_format", "source_file", "source_record_id",
                        "source_table"):
            continue
        expr = spec.columns.get(col.name)
        ctype = col.type.replace(" NOT NULL", "")
        parts.append(f'TRY_CAST({render(expr)} AS {ctype}) AS "{col.name}"' if expr else
                     f'NULL::{ctype} AS "{col.name}"')
    parts.append(f"{render(spec.record_id)} AS _record_id")
    parts.append(f"{render(spec.time)} AS _time_text")
    parts.append(f"{render(spec.source_table)} AS _source_table")
    accept = render(spec.accept_when) if spec.accept_when else "TRUE"
    parts.append(f"coalesce({accept}, FALSE) AS _accepted")
    for i, (reason_sql, cond) in enumerate(spec.reject_when.items()):
        parts.append(f"CASE WHEN {render(cond)} THEN {reason_sql} END AS _reject_{i}")
    if outer and spec.record is None:
        raise ValueError(f"{spec.name}: {{^$...}} placeholders need `record` (the field holding the record)")
    return CompiledSpec(spec, paths, ",\n  ".join(parts), outer)
