"""The CSV reader: a header row, then one JSON object per row (header names normalised).

Split from :mod:`vigil.sources._reader`, whose source, batch and problem types it shares; it reads
whole lines only, so a row cut by gzip damage is never read as a shorter row.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson

from vigil.errors import InputError
from vigil.sources._reader import CUT_REASON, Batch, Problem, _clip, _Source, _texts

def read_csv(path: Path, max_record: int, batch_records: int = 20000) -> Iterator[Batch]:
    """CSV with a header row; each row becomes a JSON object of its cells (header names normalised)."""
    src = _Source(path)
    try:
        csv.field_size_limit(max(max_record, 131072))
        # whole lines only: a row cut by gzip damage must not be read as a shorter row
        chunks = _ChunkReader(src.chunks(1 << 20, whole_lines=True))
        text = io.TextIOWrapper(io.BufferedReader(chunks), encoding="utf-8", errors="strict", newline="")
        try:
            first, skipped = _header_line(text)
        except UnicodeDecodeError as exc:
            raise InputError(f"header is not valid UTF-8 ({exc.reason})", path=str(path)) from None
        if not first.strip():
            return
        delimiter = _delimiter(first)
        header = next(csv.reader([first], delimiter=delimiter))
        reader = csv.reader(text, delimiter=delimiter)
        names = normalise_header(header)
        pending: list[bytes] = []
        lines: list[int] = []
        problems: list[Problem] = []
        prev_line = reader.line_num + skipped
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except UnicodeDecodeError as exc:
                problems.append(Problem(prev_line + 1, None, f"invalid UTF-8 ({exc.reason}); rest of file unread",
                                        ""))
                raise InputError(f"invalid UTF-8 after line {prev_line} ({exc.reason})", path=str(path)) from None
            except csv.Error as exc:
                problems.append(Problem(prev_line + 1, None, f"malformed CSV ({exc})", ""))
                prev_line = reader.line_num + skipped
                continue
            start_line = prev_line + 1
            prev_line = reader.line_num + skipped
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(names):
                problems.append(Problem(start_line, None,
                                        f"row has {len(row)} cells but the header has {len(names)}",
                                        _clip(",".join(row).encode())))
                continue
            pending.append(orjson.dumps(_row_object(names, row)))
            lines.append(start_line)
            if len(pending) >= batch_records:
                yield Batch(_texts(pending), np.array(lines, dtype=np.int64),
                            np.full(len(lines), -1, dtype=np.int64), problems, src.position())
                pending, lines, problems = [], [], []
        if src.cut is not None and src.cut[1].strip():
            problems.append(Problem(prev_line + 1, src.cut[0], CUT_REASON, _clip(src.cut[1])))
        if pending or problems:
            yield Batch(_texts(pending), np.array(lines, dtype=np.int64),
                        np.full(len(lines), -1, dtype=np.int64), problems, src.position())
        src.raise_damage()
    finally:
        src.close()


def _header_line(text: io.TextIOWrapper) -> tuple[str, int]:
    """The header line and the number of lines up to it: Windows PowerShell's ``Export-Csv`` without
    ``-NoTypeInformation`` writes a ``#TYPE ...`` line first."""
    first = text.readline()
    if first.startswith("#TYPE "):
        return text.readline(), 2
    return first, 1


def _delimiter(header: str) -> str:
    """``,`` unless the header has more ``;`` (Excel in locales with a decimal comma) or tabs (Excel's
    "Unicode Text", UTF-16)."""
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


_UTC_SUFFIX = re.compile(r"\s*\[UTC\]\s*$", re.IGNORECASE)


def normalise_header(header: list[str]) -> list[str]:
    """Sentinel portal exports write ``TimeGenerated [UTC]``; strip that so mappings use the column name."""
    out = []
    for h in header:
        name = _UTC_SUFFIX.sub("", h.strip().lstrip("\ufeff"))
        out.append(name)
    return out


def _row_object(names: list[str], row: list[str]) -> dict[str, str]:
    obj: dict[str, str] = {}
    for name, cell in zip(names, row, strict=True):
        # `X_dynamic` / `X_string` twins: keep the base name pointing at whichever is filled
        for suffix in ("_dynamic", "_string"):
            if name.endswith(suffix):
                base = name[: -len(suffix)]
                if cell and not obj.get(base):
                    obj[base] = cell
                break
        obj[name] = cell
    return obj


class _ChunkReader(io.RawIOBase):
    """Adapts an iterator of byte chunks to a readable binary stream."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
