"""A simulated tenant's log records one by one, in time order, as a stream would deliver them.

Used to replay a tenant through micro-batches (the incremental-equals-batch test, bench/stream_incremental.py):
:func:`log_records` reads the simulator's log files (:data:`vigil.simulate.world.FILES`; the directory,
policies and ground-truth files beside them are not logs) and :func:`store_records` stores a slice of them
as one micro-batch would be stored. A log file whose format cannot be recognised, or a record without a
time, is an error naming the file: a replay that silently dropped a file would compare less than it says.
"""
from __future__ import annotations

from pathlib import Path

import orjson

from vigil.errors import InputError
from vigil.settings import Settings
from vigil.simulate.world import FILES
from vigil.sources import registry
from vigil.sources._reader import sniff
from vigil.sources.ingest import Ingestor, detect_format
from vigil.store import Store

#: where each simulated vendor format keeps its event time (Log Analytics, Management API, Graph, Okta)
TIME_KEYS = ("TimeGenerated", "CreationTime", "createdDateTime", "time", "activityDateTime", "published")

#: (event time as written, format name, record text)
Record = tuple[str, str, str]


def log_records(folder: Path) -> list[Record]:
    """Every record of the simulator's log files in ``folder``, sorted by time (then format and text)."""
    out: list[Record] = []
    found = [folder / name for name in FILES if (folder / name).exists()]
    if not found:
        raise InputError(f"{folder}: none of the simulator's log files ({', '.join(FILES)})")
    for path in found:
        kind, head = sniff(path)
        spec = detect_format(path, kind, head)  # UnknownFormatError names the file
        if spec is None:
            raise InputError(f"{path}: no readable record to recognise its format")
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            rec = orjson.loads(line)
            t = next((str(rec[k]) for k in TIME_KEYS if rec.get(k)), None)
            if t is None:
                raise InputError(f"{path}:{n}: a record with none of the time fields {', '.join(TIME_KEYS)}")
            out.append((t, spec.name, line))
    out.sort()
    return out


def store_records(store: Store, settings: Settings, records: list[Record], origin: str) -> None:
    """Store ``records`` as one micro-batch does: one ingest per format, their ``source_file`` ``origin``."""
    by_format: dict[str, list[str]] = {}
    for _t, fmt, text in records:
        by_format.setdefault(fmt, []).append(text)
    ing = Ingestor(store, settings)
    for fmt, texts in by_format.items():
        ing.ingest_records(registry.get(fmt), texts, origin)
