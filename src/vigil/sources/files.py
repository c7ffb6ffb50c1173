"""Finding the files to ingest, recognising their format and cutting them into batches of record texts
(the first step of the ingest engine; ``vigil.sources.ingest`` maps and stores the batches)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from vigil.errors import InputError, UnknownFormatError
from vigil.settings import IngestSettings
from vigil.sources import registry
from vigil.sources._base import SourceSpec
from vigil.sources._csv import read_csv
from vigil.sources._ordered import in_order
from vigil.sources._reader import Batch, read_json_doc, read_ndjson


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files named, and the files inside folders named (sorted, hidden ones skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError("no such file or folder", path=str(p))
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        else:
            out.append(p)
    return out


def detect_format(path: Path, kind: str, head: bytes, max_records: int = 20,
                  settings: IngestSettings | None = None) -> SourceSpec | None:
    """Pick the adapter that recognises most of the first records.

    None when the file holds no readable record but some unreadable ones (over-long, over-deep,
    not UTF-8): those are quarantined without a format rather than failing the file.
    """
    samples: list[dict[str, Any]] = []
    ing = settings or IngestSettings()
    reader = read_batches(path, kind, 16 * 1024 * 1024, ing.max_record_bytes, ing.max_record_depth)
    unreadable = texts = 0
    try:
        for batch in _until_damage(reader, samples):
            unreadable += len(batch.problems)
            texts += len(batch.texts)
            for text in batch.texts.to_pylist()[: max_records - len(samples)]:
                try:
                    obj = orjson.loads(text)
                except orjson.JSONDecodeError:
                    obj = _lenient_loads(text)
                if isinstance(obj, dict):
                    samples.append(obj)
            if len(samples) >= max_records:
                break
    finally:
        close = getattr(reader, "close", None)
        if close:
            close()
    if not samples and unreadable and not texts:
        return None
    if not samples:
        raise UnknownFormatError("no JSON object or CSV row could be read to recognise the format", path=str(path))
    best: tuple[int, SourceSpec] | None = None
    for spec in registry.all_sources():
        try:
            hits = sum(1 for s in samples if spec.detect(s))
        except (KeyError, TypeError, AttributeError):
            hits = 0
        if hits and (best is None or hits > best[0]):
            best = (hits, spec)
    if best is None:
        keys = ", ".join(sorted(samples[0])[:12])
        raise UnknownFormatError(
            f"no adapter recognises this content (first record has keys: {keys}); "
            "see `vigil formats`, or map it with --format mapping --mapping FILE.yaml",
            path=str(path),
        )
    return best[1]


def _until_damage(reader: Iterator[Batch], samples: list[dict[str, Any]]) -> Iterator[Batch]:
    """Batches for detection; damage later in the file (a truncated gzip) is reported by the ingest itself."""
    try:
        yield from reader
    except InputError:
        if not samples:
            raise


def _lenient_loads(text: str) -> Any:
    """Parse JSON the way DuckDB does (it tolerates e.g. trailing commas, as in Microsoft's own examples)."""
    import duckdb

    try:  # its own connection: detection runs in ingest's worker threads too
        with duckdb.connect() as con:
            rows = con.execute("SELECT json(?)", [text]).fetchall()
        return orjson.loads(rows[0][0]) if rows and rows[0][0] else None
    except (duckdb.Error, orjson.JSONDecodeError):  # not JSON, or nested beyond orjson's limit
        return None


def read_batches(path: Path, kind: str, batch_bytes: int, max_record: int, max_depth: int) -> Iterator[Batch]:
    if kind == "ndjson":
        return read_ndjson(path, batch_bytes, max_record, max_depth)
    if kind == "json":
        return read_json_doc(path, batch_bytes, max_record, max_depth=max_depth)
    if kind == "csv":
        return read_csv(path, max_record)
    raise InputError(f"cannot read container kind {kind!r}", path=str(path))


def prefetch(it: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """Read the next batch in a thread while DuckDB (which releases the GIL) works on this one."""
    streams = in_order([it], lambda source, _worker: source, workers=1, depth=depth)
    try:
        yield from next(streams)
    finally:
        streams.close()
