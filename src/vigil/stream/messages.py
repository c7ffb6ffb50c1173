"""Kafka message values to record texts per log format, and the messages that cannot be read.

A message value is one of what Event Hubs and Kafka pipelines carry: an Azure Monitor batch
``{"records": [...]}`` (Entra diagnostic settings), another wrapper vigil's file reader knows
(``value``, ``Records``, ``items``), a JSON array, one JSON record, or NDJSON (records one a line).
Each record is recognised by the same format detectors as files (``vigil formats``), one record at a
time: a topic may carry several formats. What cannot be read is a :class:`BadMessage` naming its
topic, partition and offset (quarantined, never dropped).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from vigil.sources import registry
from vigil.sources._base import SourceSpec

#: wrapper keys of a batch document, as the file reader knows them (sources/_reader.py)
WRAPPER_KEYS = ("records", "value", "Records", "items")
RAW_KEEP = 64 * 1024


@dataclass(frozen=True)
class Position:
    topic: str
    partition: int
    offset: int


@dataclass
class BadMessage:
    at: Position
    reason: str
    raw: str
    record: int | None = None  # 1-based record (or line) inside the message, when the message itself was readable

    def describe(self) -> str:
        where = f"kafka {self.at.topic}[{self.at.partition}]@{self.at.offset}"
        if self.record is not None:
            where += f" record {self.record}"
        return f"{where}: {self.reason}"


@dataclass
class Parsed:
    """A micro-batch's records grouped by format (texts, in arrival order) and its unreadable messages."""

    records: dict[str, list[str]] = field(default_factory=dict)
    bad: list[BadMessage] = field(default_factory=list)
    messages: int = 0

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.records.values())


def _recognise(specs: list[SourceSpec], rec: dict[str, Any]) -> SourceSpec | None:
    # the first format (registry order) whose detector accepts the record: what file detection does on a tie
    for spec in specs:
        try:
            if spec.detect(rec):
                return spec
        except (KeyError, TypeError, AttributeError):
            continue
    return None


def _records(value: bytes) -> tuple[list[tuple[Any, str | None]], list[tuple[int, str, str]]]:
    """(record, its own text when it was a line of its own) and unreadable lines (1-based, reason, raw)."""
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        doc = None
        if b"\n" not in value.strip():
            raise
    if doc is not None:
        if isinstance(doc, dict):
            for key in WRAPPER_KEYS:
                inner = doc.get(key)
                if isinstance(inner, list):
                    return [(r, None) for r in inner], []
            return [(doc, value.decode())], []
        if isinstance(doc, list):
            return [(r, None) for r in doc], []
        return [(doc, None)], []
    out: list[tuple[Any, str | None]] = []
    bad: list[tuple[int, str, str]] = []
    for i, line in enumerate(value.split(b"\n"), 1):
        line = line.strip()
        if not line:
            continue
        try:
            out.append((orjson.loads(line), line.decode()))
        except orjson.JSONDecodeError as exc:
            bad.append((i, f"line is not valid JSON ({exc})", line.decode("utf-8", "replace")))
    return out, bad


def parse(messages: Iterable[tuple[Position, bytes | None]], max_bytes: int,
          targets: set[str] | None = None) -> Parsed:
    """Split each message into records and recognise each record's format (set-based mapping follows).

    ``targets``: keep only records of formats writing these tables, others are skipped, not bad (the
    CAE fast lane reads audit records only)."""
    specs = registry.all_sources()
    out = Parsed()
    for at, value in messages:
        out.messages += 1
        if not value:
            out.bad.append(BadMessage(at, "empty message", ""))
            continue
        if len(value) > max_bytes:
            out.bad.append(BadMessage(at, f"message is longer than the {max_bytes:,}-byte limit",
                                      value[:RAW_KEEP].decode("utf-8", "replace")))
            continue
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.bad.append(BadMessage(at, f"message is not UTF-8 ({exc.reason} at byte {exc.start})",
                                      value[:RAW_KEEP].decode("utf-8", "replace")))
            continue
        try:
            records, bad_lines = _records(value)
        except orjson.JSONDecodeError as exc:
            out.bad.append(BadMessage(at, f"message is not JSON or NDJSON ({exc})",
                                      value[:RAW_KEEP].decode("utf-8", "replace")))
            continue
        for line, reason, raw in bad_lines:
            out.bad.append(BadMessage(at, reason, raw[:RAW_KEEP], record=line))
        for i, (rec, text) in enumerate(records, 1):
            if not isinstance(rec, dict):
                out.bad.append(BadMessage(at, f"record is a JSON {type(rec).__name__}, not an object",
                                          orjson.dumps(rec).decode()[:RAW_KEEP], record=i))
                continue
            spec = _recognise(specs, rec)
            if spec is not None and targets is not None and spec.target not in targets:
                continue
            if spec is None and targets is not None:
                continue
            if spec is None:
                keys = ", ".join(sorted(rec)[:12])
                out.bad.append(BadMessage(at, f"no format recognises this record (keys: {keys}); see `vigil formats`",
                                          (text or orjson.dumps(rec).decode())[:RAW_KEEP], record=i))
                continue
            out.records.setdefault(spec.name, []).append(text if text is not None else orjson.dumps(rec).decode())
    return out
