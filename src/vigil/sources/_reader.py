"""Streaming readers: turn a file into batches of record texts in constant memory.

A file is NDJSON, a JSON document (array, a ``value`` / ``records`` wrapper, one object,
or concatenated objects), or CSV (:mod:`vigil.sources._csv`); any of them may be gzip-compressed and may start with
a UTF-8 or UTF-16 byte-order mark. Readers never parse records: they only find record
boundaries and hand the texts to DuckDB in Arrow batches. Problems found while splitting
(invalid UTF-8, over-long or over-deep records, malformed CSV rows) become :class:`Problem`
entries that the engine quarantines; they never stop the file. A damaged gzip stream ends the
file: the records before the damage are read, the one cut by it is a :class:`Problem`, and
``_Source.damage`` is raised once the reader has handed everything over.
"""
from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from vigil.errors import InputError

RAW_KEEP = 64 * 1024  # raw text kept in quarantine rows
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
MAX_DEPTH = 256  # default nesting limit (ingest.max_record_depth); orjson itself stops at 1024
CUT_REASON = "incomplete record: the gzip stream is damaged here"


@dataclass
class Problem:
    line: int | None
    offset: int | None
    reason: str
    raw: str


@dataclass
class Batch:
    """Record texts with the 1-based line and byte offset where each starts."""

    texts: pa.LargeStringArray
    lines: np.ndarray
    offsets: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    bytes_done: int = 0  # position in the (compressed) file, for progress

    @property
    def count(self) -> int:
        return len(self.texts) + len(self.problems)


class _Source:
    """A file opened as a byte stream, decompressed and transcoded to UTF-8 as needed."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise InputError("no such file", path=str(path))
        if path.is_dir():
            raise InputError("is a directory (pass the files, or use `vigil ingest DIR` for a folder)",
                             path=str(path))
        self.path = path
        self.raw: io.BufferedReader = open(path, "rb")
        head = self.raw.read(2)
        self.raw.seek(0)
        self.compressed = head == GZIP_MAGIC
        stream: io.BufferedReader | gzip.GzipFile = (
            gzip.GzipFile(fileobj=self.raw, mode="rb") if self.compressed else self.raw)
        try:
            start = stream.read(8)
        except EOFError:
            start = b""  # damaged within the first bytes: nothing is readable, chunks() reports it
        except (OSError, zlib.error) as exc:
            raise InputError(f"cannot decompress ({exc})", path=str(path)) from None
        self.encoding = _utf16(start)
        self.utf16 = self.encoding is not None
        if self.encoding is None and _utf32(start):
            raise InputError("NUL bytes at the start: not UTF-8 text (UTF-16 or UTF-32 without a byte-order mark?); "
                             "convert it to UTF-8", path=str(path))
        self.damage: InputError | None = None  # set when the gzip stream turns out to be damaged
        self.yielded = 0  # UTF-8 bytes handed out so far (the offset of the next chunk)
        if self.compressed:
            stream = gzip.GzipFile(fileobj=self.raw, mode="rb")
            self.raw.seek(0)
        else:
            self.raw.seek(0)
        self.stream = stream

    def position(self) -> int:
        return self.raw.tell()

    def chunks(self, size: int, whole_lines: bool = False) -> Iterator[bytes]:
        """UTF-8 bytes of the content, BOM removed.

        At gzip damage the bytes read so far are yielded, ``damage`` is set and the stream ends;
        with ``whole_lines`` the unterminated last line is kept back as ``cut`` (offset, bytes).
        """
        for part in self._chunks(size):
            if self.damage is not None and whole_lines:
                nl = part.rfind(b"\n") + 1
                self.cut = (self.yielded + nl, part[nl:])
                part = part[:nl]
            self.yielded += len(part)
            if part:
                yield part

    def _chunks(self, size: int) -> Iterator[bytes]:
        first = True
        if self.encoding is not None:
            text = io.TextIOWrapper(self.stream, encoding=self.encoding, newline="")
            try:
                while True:
                    try:
                        decoded = text.read(size // 2)
                    except (OSError, EOFError, zlib.error) as exc:
                        self.damage = _truncated(self.path, exc, self.position())
                        return
                    except UnicodeDecodeError as exc:
                        raise InputError(f"invalid {self.encoding.upper()} ({exc.reason})",
                                         path=str(self.path)) from None
                    if not decoded:
                        return
                    yield decoded.encode("utf-8")
            finally:
                text.detach()  # the wrapper would close the file when collected: position() still reads it
        step = min(size, 1 << 20) if self.compressed else size
        while True:
            # compressed input is read in small steps so the records before any damage are still yielded
            pieces: list[bytes] = []
            got = 0
            damage: BaseException | None = None
            while got < size:
                try:
                    # gzip: read1, as a failing read() loses the bytes it had already decompressed
                    want = min(step, size - got)
                    piece = self.stream.read1(want) if self.compressed else self.stream.read(want)
                except (OSError, EOFError, zlib.error) as exc:
                    damage = exc
                    break
                if not piece:
                    break
                pieces.append(piece)
                got += len(piece)
            # a plain file's batch is one read: used as it is (a growing bytearray and its bytes() copy cost
            # two copies of every batch, and fresh pages for each)
            part = pieces[0] if len(pieces) == 1 else b"".join(pieces)
            if damage is not None:
                self.damage = _truncated(self.path, damage, self.position())
                if first and part.startswith(UTF8_BOM):
                    part = part[len(UTF8_BOM):]
                yield part
                return
            if not part:
                return
            if first and part.startswith(UTF8_BOM):
                part = part[len(UTF8_BOM):]
            first = False
            yield part

    cut: tuple[int, bytes] | None = None

    def close(self) -> None:
        self.raw.close()

    def raise_damage(self) -> None:
        """Called by a reader once every batch before the damage has been handed over."""
        if self.damage is not None:
            raise self.damage


def _utf16(start: bytes) -> str | None:
    """The UTF-16 codec of content starting with a BOM, or with ASCII text interleaved with NULs."""
    if any(start.startswith(b) for b in UTF16_BOMS):
        return "utf-16"
    if len(start) < 4 or len(start) % 2:
        return None
    even, odd = start[0::2], start[1::2]
    if not odd.strip(b"\0") and b"\0" not in even:
        return "utf-16-le"
    if not even.strip(b"\0") and b"\0" not in odd:
        return "utf-16-be"
    return None


def _utf32(start: bytes) -> bool:
    """Content that reads as ASCII text in UTF-32 without a BOM. Any other NUL near the start is a damaged
    first record, quarantined like any other, not a reason to refuse the whole file."""
    if len(start) < 8:
        return False
    units = [start[i:i + 4] for i in range(0, 8, 4)]
    text = set(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}
    return (all(u[1:] == b"\0\0\0" and u[0] in text for u in units)
            or all(u[:3] == b"\0\0\0" and u[3] in text for u in units))


def _truncated(path: Path, exc: BaseException, at: int) -> InputError:
    what = (f"truncated gzip stream (the file ends at byte {at:,})" if isinstance(exc, EOFError)
            else f"damaged gzip stream near byte {at:,} ({exc})")
    return InputError(f"{what}; the records before the damage were read, the rest of the file is lost",
                      path=str(path))


def sniff(path: Path, size: int = 65536) -> tuple[str, bytes]:
    """Return (container kind, first bytes) where kind is ndjson | json | csv | empty."""
    src = _Source(path)
    try:
        head = b""  # damage is not raised here: the reader keeps the records before it and reports it
        for chunk in src.chunks(size):
            head += chunk
            if len(head) >= size:
                break
    finally:
        src.close()
    stripped = head.lstrip()
    if not stripped:
        return "empty", head
    # NDJSON when any of the first lines is a whole JSON object on its own (a damaged first line must not
    # turn the file into one broken document or a CSV); pretty-printed documents have no such line
    for line in stripped.split(b"\n")[:50]:
        # only unindented lines: an indented one-line object inside a pretty-printed document is not a record
        if line[:1] != b"{":
            continue
        line = line.strip()
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            # a page or batch wrapper ({"value": [...]}, {"records": [...]}) per line: the document
            # scanner reads the records out of each wrapper
            wrapped = any(isinstance(obj.get(k.decode()), list) for k in _WRAPPER_KEYS)
            return ("json" if wrapped else "ndjson"), head
    if stripped[:1] in (b"{", b"["):
        return "json", head
    return "csv", head


def _texts(parts: list[bytes]) -> pa.LargeStringArray:
    data = b"".join(parts)
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=offsets[1:])
    return pa.LargeStringArray.from_buffers(len(parts), pa.py_buffer(offsets), pa.py_buffer(data))


def _whole_object(raw: bytes) -> bool:
    """A last line that the damage happened to cut right after (it is then a complete record)."""
    try:
        return isinstance(orjson.loads(raw), dict)
    except orjson.JSONDecodeError:
        return False


def _clip(raw: bytes) -> str:
    return raw[:RAW_KEEP].decode("utf-8", errors="replace")


def _checked(texts: pa.LargeStringArray, lines: np.ndarray, offsets: np.ndarray, problems: list[Problem],
             max_depth: int = MAX_DEPTH) -> tuple[pa.LargeStringArray, np.ndarray, np.ndarray]:
    """Valid UTF-8, nested no deeper than ``max_depth``; the others become problems."""
    texts, lines, offsets = _valid_utf8(texts, lines, offsets, problems)
    return _shallow(texts, lines, offsets, problems, max_depth)


_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _deeper_than(raw: bytes, limit: int) -> bool:
    depth = 0
    for m in _TOKENS.finditer(raw):  # strings are matched whole, so brackets inside them do not count
        ch = raw[m.start()]
        if ch in (123, 91):
            depth += 1
            if depth > limit:
                return True
        elif ch in (125, 93):
            depth -= 1
    return False


def _shallow(texts: pa.LargeStringArray, lines: np.ndarray, offsets: np.ndarray, problems: list[Problem],
             max_depth: int) -> tuple[pa.LargeStringArray, np.ndarray, np.ndarray]:
    """Quarantine records nested deeper than ``max_depth`` (later stages parse them with orjson, which
    stops at 1024 levels). Only a record with more opening brackets than the limit can be that deep:
    those are counted for the whole batch with numpy, and only they are scanned exactly."""
    if not len(texts):
        return texts, lines, offsets
    bounds = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
    data = np.frombuffer(texts.buffers()[2] or b"", dtype=np.uint8)[bounds[0]:bounds[-1]]
    if len(data) <= max_depth:
        return texts, lines, offsets
    opening = np.flatnonzero((data | 32) == 123)  # '{' (0x7b) or '[' (0x5b), one comparison
    counts = np.diff(np.searchsorted(opening, bounds - bounds[0]))  # per record (reduceat is ~25x slower)
    suspects = np.flatnonzero(counts > max_depth)
    if not len(suspects):
        return texts, lines, offsets
    keep = np.ones(len(texts), dtype=bool)
    for i in suspects:
        raw = texts[int(i)].as_py().encode()
        if _deeper_than(raw, max_depth):
            keep[i] = False
            problems.append(Problem(int(lines[i]), int(offsets[i]),
                                    f"nested deeper than the {max_depth}-level limit", _clip(raw)))
    if keep.all():
        return texts, lines, offsets
    return texts.filter(pa.array(keep)), lines[keep], offsets[keep]


def _valid_utf8(texts: pa.LargeStringArray, lines: np.ndarray, offsets: np.ndarray,
                problems: list[Problem]) -> tuple[pa.LargeStringArray, np.ndarray, np.ndarray]:
    """Validate UTF-8 for the whole batch at C speed; only a failing batch is checked record by record."""
    try:
        texts.validate(full=True)
        return texts, lines, offsets
    except pa.ArrowInvalid:
        pass
    data = memoryview(texts.buffers()[2] or b"")
    offs_buf = texts.buffers()[1]
    assert offs_buf is not None
    bounds = np.frombuffer(offs_buf, dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
    keep: list[int] = []
    kept: list[bytes] = []
    for i in range(len(texts)):
        raw = bytes(data[int(bounds[i]):int(bounds[i + 1])])
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(int(lines[i]), int(offsets[i]),
                                    f"invalid UTF-8 at byte {exc.start} of the record", _clip(raw)))
            continue
        keep.append(i)
        kept.append(raw)
    idx = np.asarray(keep, dtype=np.int64)
    return _texts(kept), lines[idx], offsets[idx]


def read_ndjson(path: Path, batch_bytes: int, max_record: int, max_depth: int = MAX_DEPTH) -> Iterator[Batch]:
    """Newline-delimited JSON, split with numpy on the raw bytes (zero-copy into Arrow)."""
    src = _Source(path)
    try:
        carry = b""
        carry_line = 1
        carry_offset = 0
        skipping: Problem | None = None  # an over-long record being skipped to its end
        for chunk in src.chunks(batch_bytes):
            problems: list[Problem] = []
            if skipping is not None:
                nl = chunk.find(b"\n")
                if nl < 0:
                    carry_offset += len(chunk)
                    continue
                problems.append(skipping)
                skipping = None
                carry_offset += nl + 1
                carry_line += 1
                chunk = chunk[nl + 1:]
                carry = b""
            data = carry + chunk
            base_offset = carry_offset
            buf = np.frombuffer(data, dtype=np.uint8)
            nls = np.flatnonzero(buf == 10)
            if len(nls) == 0:
                if len(data) > max_record:
                    skipping = Problem(carry_line, carry_offset,
                                       f"record is longer than the {max_record:,}-byte limit", _clip(data))
                    carry_offset += len(data)
                    carry = b""
                else:
                    carry = data
                continue
            last = int(nls[-1])
            carry = data[last + 1:]
            starts = np.concatenate(([0], nls[:-1] + 1)).astype(np.int64)
            ends = nls.astype(np.int64)
            line_nos = carry_line + np.arange(len(nls), dtype=np.int64)
            # strip CR and surrounding whitespace-only lines cheaply: drop lines that are empty after CR
            lens = ends - starts
            cr = (lens > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
            ends = ends - cr.astype(np.int64)
            lens = ends - starts
            too_long = lens > max_record
            for i in np.flatnonzero(too_long):
                s = int(starts[i])
                problems.append(Problem(int(line_nos[i]), base_offset + s,
                                        f"record is longer than the {max_record:,}-byte limit",
                                        _clip(data[s:s + RAW_KEEP])))
            nonblank = lens > 0
            # whitespace-only lines are rare; detect via first byte being space/tab
            first_byte = buf[np.minimum(starts, len(buf) - 1)]
            maybe_blank = nonblank & ((first_byte == 32) | (first_byte == 9))
            for i in np.flatnonzero(maybe_blank):
                if not data[int(starts[i]):int(ends[i])].strip():
                    nonblank[i] = False
            keep = nonblank & ~too_long
            s_keep, e_keep = starts[keep], ends[keep]
            parts_offsets = np.zeros(len(s_keep) + 1, dtype=np.int64)
            # zero-copy when every kept line is followed directly by the next one (typical NDJSON)
            contiguous = len(s_keep) > 0 and bool(np.all(s_keep[1:] == e_keep[:-1] + 1)) and not cr[keep].any()
            if contiguous:
                parts_offsets[:-1] = s_keep
                parts_offsets[-1] = e_keep[-1] + 1
                texts = pa.LargeStringArray.from_buffers(len(s_keep), pa.py_buffer(parts_offsets),
                                                         pa.py_buffer(data))
                # each text keeps its trailing newline; the engine trims it in SQL
            else:
                texts = _texts([data[int(a):int(b)] for a, b in zip(s_keep, e_keep, strict=True)])
            lines_kept = line_nos[keep]
            offs_kept = base_offset + s_keep
            texts, lines_kept, offs_kept = _checked(texts, lines_kept, offs_kept, problems, max_depth)
            carry_line = int(carry_line + len(nls))
            carry_offset = base_offset + last + 1
            yield Batch(texts, lines_kept, offs_kept, problems, src.position())
        problems = []
        if skipping is not None:
            problems.append(skipping)
        elif carry.strip() and src.damage is not None and not _whole_object(carry):
            problems.append(Problem(carry_line, carry_offset, CUT_REASON, _clip(carry)))
        elif carry.strip():
            tail = carry.rstrip(b"\r")
            texts, lines_kept, offs_kept = _checked(_texts([tail]), np.array([carry_line]),
                                                    np.array([carry_offset]), problems, max_depth)
            yield Batch(texts, lines_kept, offs_kept, problems, src.position())
            problems = []
        if problems:
            yield Batch(_texts([]), np.array([], dtype=np.int64), np.array([], dtype=np.int64), problems,
                        src.position())
        src.raise_damage()
    finally:
        src.close()


_SPECIAL = re.compile(rb'["{}\[\],]')
# page / batch wrappers: Graph `value`, diagnostic `records`, CloudTrail `Records`, Reports API `items`
_WRAPPER_KEYS = (b"value", b"records", b"Records", b"items")


def read_json_doc(path: Path, batch_bytes: int, max_record: int, batch_records: int = 20000,
                  max_depth: int = MAX_DEPTH) -> Iterator[Batch]:
    """A JSON document: top-level array, wrapper object with a records array, or concatenated values.

    Records are the elements of a top-level array; the elements of the array under a wrapper
    key (``value``, ``records``, ...) of a top-level object; otherwise each top-level value.
    Boundaries are found by a scanner that only looks at quotes, brackets and commas.
    """
    src = _Source(path)
    try:
        yield from _DocScanner(src, max_record, batch_records, max_depth).run(batch_bytes)
        src.raise_damage()
    finally:
        src.close()


class _DocScanner:
    def __init__(self, src: _Source, max_record: int, batch_records: int, max_depth: int) -> None:
        self.src = src
        self.max_depth = max_depth
        self.max_record = max_record
        self.batch_records = batch_records
        self.stack: list[int] = []
        self.in_string = False
        self.string_start = -1
        self.last_string = b""
        self.record_depth: int | None = None  # stack depth at which each element is a record
        self.rec_start: int | None = None  # absolute offset of the open record
        self.top_start: int | None = None  # absolute offset of an open top-level object
        self.sep_pos: int | None = None  # after the last '[' or ',' at record depth: where a scalar would start
        self.buf = b""
        self.base = 0  # absolute offset of buf[0]
        self.count_pos = 0  # absolute offset up to which newlines are counted
        self.count_line = 1
        self.pending: list[bytes] = []
        self.lines: list[int] = []
        self.offs: list[int] = []
        self.problems: list[Problem] = []

    def line_of(self, pos: int) -> int:
        self.count_line += self.buf.count(b"\n", self.count_pos - self.base, pos - self.base)
        self.count_pos = pos
        return self.count_line

    def emit(self, start: int, end: int) -> None:
        text = self.buf[start - self.base:end - self.base].strip()
        line = self.line_of(start)
        if len(text) > self.max_record:
            self.problems.append(Problem(line, start, f"record is longer than the {self.max_record:,}-byte limit",
                                         _clip(text)))
        elif text:
            self.pending.append(text)
            self.lines.append(line)
            self.offs.append(start)

    def scalar(self, end: int) -> None:
        """A bare number / true / false / null element between separators is a record too (a bad one)."""
        if (self.sep_pos is not None and self.sep_pos >= self.base
                and self.buf[self.sep_pos - self.base:end - self.base].strip()):
            self.emit(self.sep_pos, end)

    def flush(self) -> Batch:
        texts, lines, offs = _checked(_texts(self.pending), np.array(self.lines, dtype=np.int64),
                                      np.array(self.offs, dtype=np.int64), self.problems, self.max_depth)
        batch = Batch(texts, lines, offs, self.problems, self.src.position())
        self.pending, self.lines, self.offs, self.problems = [], [], [], []
        return batch

    def run(self, chunk_size: int) -> Iterator[Batch]:
        for chunk in self.src.chunks(chunk_size):
            scan_from = len(self.buf)
            self.buf += chunk
            self.scan(scan_from)
            self.trim()
            if len(self.pending) >= self.batch_records:
                yield self.flush()
        if self.rec_start is not None or self.top_start is not None or self.stack or self.in_string:
            start = self.rec_start if self.rec_start is not None else self.top_start
            at = start if start is not None else self.base
            self.problems.append(Problem(self.line_of(max(at, self.count_pos)), at,
                                         "document ends inside a record (file truncated?)"
                                         if self.src.damage is None else CUT_REASON,
                                         _clip(self.buf[at - self.base:at - self.base + RAW_KEEP])))
        if self.pending or self.problems:
            yield self.flush()

    def scan(self, pos: int) -> None:
        buf = self.buf
        for m in _SPECIAL.finditer(buf, pos):
            i = m.start()
            ch = buf[i]
            if self.in_string:
                if ch == 34:  # a quote ends the string unless escaped by an odd run of backslashes
                    j = i - 1
                    while j >= 0 and buf[j] == 92:
                        j -= 1
                    if (i - 1 - j) % 2 == 0:
                        self.in_string = False
                        self.last_string = buf[self.string_start + 1:i]
                continue
            absolute = self.base + i
            depth = len(self.stack)
            if ch == 34:
                self.in_string = True
                self.string_start = i
                if self.record_depth == depth and self.rec_start is None:
                    self.rec_start = absolute
            elif ch in (123, 91):  # { [
                if depth == 0 and ch == 123 and self.record_depth is None:
                    self.top_start = absolute
                if self.record_depth == depth and self.rec_start is None:
                    self.rec_start = absolute
                self.stack.append(ch)
                if self.record_depth is None:
                    if depth == 0 and ch == 91:
                        self.record_depth = 1
                        self.sep_pos = absolute + 1
                    elif depth == 1 and ch == 91 and self.stack[0] == 123 and self.last_string in _WRAPPER_KEYS:
                        self.record_depth = 2
                        self.sep_pos = absolute + 1
                        self.top_start = None
            elif ch in (125, 93):  # } ]
                if not self.stack:
                    self.problems.append(Problem(self.line_of(absolute), absolute,
                                                 f"unbalanced '{chr(ch)}' in the document", ""))
                    continue
                self.stack.pop()
                depth -= 1
                if self.record_depth is not None and depth == self.record_depth and self.rec_start is not None:
                    self.emit(self.rec_start, absolute + 1)
                    self.rec_start = None
                    self.sep_pos = None
                elif self.record_depth is not None and depth < self.record_depth:
                    if self.rec_start is not None:  # a string last element
                        self.emit(self.rec_start, absolute)
                        self.rec_start = None
                    else:
                        self.scalar(absolute)
                    self.sep_pos = None
                    if depth == 0:
                        self.record_depth = None
                elif self.record_depth is None and depth == 0 and self.top_start is not None:
                    self.emit(self.top_start, absolute + 1)
                    self.top_start = None
            elif ch == 44:  # ,
                if self.record_depth == depth:
                    if self.rec_start is not None:
                        self.emit(self.rec_start, absolute)
                        self.rec_start = None
                    else:
                        self.scalar(absolute)
                    self.sep_pos = absolute + 1

    def trim(self) -> None:
        """Drop consumed bytes; keep what an unfinished record needs (bounded by the record limit)."""
        keep_from = self.rec_start if self.rec_start is not None else self.top_start
        end = self.base + len(self.buf)
        if keep_from is not None and end - keep_from > self.max_record:
            self.problems.append(Problem(self.line_of(keep_from), keep_from,
                                         f"record is longer than the {self.max_record:,}-byte limit",
                                         _clip(self.buf[keep_from - self.base:keep_from - self.base + RAW_KEEP])))
            # the rest of this record is skipped: scanning continues structurally
            self.rec_start = None
            self.top_start = None
            keep_from = None
        cut = (keep_from if keep_from is not None else end) - self.base
        if keep_from is None and self.sep_pos is not None:
            cut = min(cut, self.sep_pos - self.base)
        if self.in_string and keep_from is None:
            cut = min(cut, self.string_start)
        if cut > 0:
            self.line_of(max(self.count_pos, self.base + cut))
            if self.in_string:
                self.string_start -= cut
            self.buf = self.buf[cut:]
            self.base += cut
