"""The ingest engine: files -> batches of record texts -> one set-based SQL pass per batch.

Per batch, inside one transaction: parse and map every record in DuckDB (one
``json_extract_string(raw, [paths])`` per record), quarantine what fails with a reason,
drop records already stored (same source format, table and record id) or repeated in the
batch, insert the rest with their raw text. A crash mid-file leaves only whole batches
committed; re-running the file stores the remainder and counts the rest as duplicates.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from vigil.errors import InputError
from vigil.settings import IngestSettings, Settings
from vigil.sources import registry
from vigil.sources._base import CompiledSpec, SourceSpec, compile_spec
from vigil.sources._ordered import in_order
from vigil.sources._reader import RAW_KEEP, Batch, Problem, sniff
from vigil.sources._sql import install_macros
from vigil.sources.files import detect_format, expand_paths, prefetch, read_batches
from vigil.store import Store, connect, ident, literal
from vigil.store.rawblocks import write_blocks
from vigil.store.readonly import harden
from vigil.store.schema import EVENT_TABLES

#: columns the engine fills itself (not the record's content): not counted when judging which copy is complete
_PROVENANCE = ("event_id", "event_time", "source_format", "source_file", "source_record_id", "source_table")


@dataclass
class IngestResult:
    path: str
    source_format: str | None
    read: int = 0
    stored: int = 0
    duplicate: int = 0
    quarantined: int = 0
    bytes: int = 0
    seconds: float = 0.0
    error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def balanced(self) -> bool:
        return self.read == self.stored + self.duplicate + self.quarantined


ProgressFn = Callable[[int], None]


@dataclass
class Mapped:
    """One batch parsed and mapped outside the store's transaction (``ingest_paths`` with workers): what step 1
    of ``Ingestor._map_batch`` computes inside it, for the format and for its fallback format."""

    batch: Batch
    table: pa.Table | None = None  # the batch as registered (_i, raw, line, byte_offset)
    ready: pa.Table | None = None
    fallback_ready: pa.Table | None = None


@dataclass
class _Head:
    """A file sniffed and its format detected by a worker, ahead of its mapped batches."""

    kind: str
    head: bytes
    spec: SourceSpec | None


def _batch_table(batch: Batch) -> pa.Table:
    offsets = batch.offsets
    return pa.table({
        "_i": pa.array(np.arange(len(batch.texts), dtype=np.int64)),
        "raw": batch.texts,
        "line": pa.array(batch.lines, type=pa.int64()),
        # CSV rows have no meaningful byte offset (-1): store NULL
        "byte_offset": pa.array(offsets, type=pa.int64(), mask=offsets < 0),
    })


def _ready_sql(cs: CompiledSpec, source: str) -> tuple[str, list[Any]]:
    """Step 1, parse + map (one parse per record), reasons, ids and times: a query over ``source`` alone (nothing
    from the store), so a worker can run it on its own engine outside the store's transaction."""
    spec = cs.spec
    reject_cols = [f"_reject_{i}" for i in range(len(spec.reject_when))]
    reject_case = " ".join(f"WHEN {c} IS NOT NULL THEN {c}" for c in reject_cols)
    return f"""
        WITH src AS (
            -- try(): invalid JSON gives NULL for that record instead of failing the batch (one parse)
            SELECT _i, line, byte_offset, raw, {cs.extract("raw")}
            FROM {cs.source(source)}
        ), ext AS (
            SELECT * EXCLUDE (l, o), l IS NOT NULL AS _valid, CASE WHEN _object THEN l END AS l,
                   CASE WHEN _object THEN o END AS o FROM src
        ), mapped AS (
            SELECT _i, line, byte_offset, _valid, _object, {cs.select},
                   -- a content hash only where the vendor gives no record id
                   CASE WHEN nullif(trim(_record_id), '') IS NULL THEN 'md5:' || md5(raw) END AS _raw_id
            FROM ext
        ), timed AS (
            SELECT *, TRY_CAST(vigil_ts(_time_text) AS TIMESTAMP) AS _event_time,
                   coalesce(nullif(trim(_record_id), ''), _raw_id) AS _rid
            FROM mapped
        )
        SELECT * EXCLUDE (_raw_id),
            -- the time is part of the key: some exports reuse an id for distinct records
            substr(md5(? || '|' || coalesce(_source_table, '') || '|' || _rid || '|' ||
                       coalesce(CAST(_event_time AS VARCHAR), '')), 1, 16) AS _eid,
            CASE WHEN NOT _valid THEN 'not valid JSON'
                 WHEN NOT _object THEN 'not a JSON object'
                 WHEN NOT _accepted THEN ?
                 {reject_case}
                 WHEN _time_text IS NULL OR trim(_time_text) = '' THEN 'no event time in the record'
                 WHEN _event_time IS NULL THEN 'unparseable event time ' || to_json(_time_text)::VARCHAR
            END AS _reason
        FROM timed
    """, [spec.same_records_as or spec.name, spec.accept_reason]


#: the records a format does not accept, which its fallback format maps instead
_TO_FALLBACK = "_valid AND _object AND NOT _accepted"


def map_outside(cur: Any, cs: CompiledSpec | None, fallback: CompiledSpec | None, batch: Batch) -> Mapped:
    """Step 1 of a batch on ``cur`` (a worker's own engine, with the TEMP macros), into Arrow."""
    if cs is None or not len(batch.texts):
        return Mapped(batch)
    table = _batch_table(batch)
    cur.register("_vigil_batch", table)
    try:
        sql, params = _ready_sql(cs, "_vigil_batch")
        ready = cur.sql(sql, params=params).to_arrow_table()
        fallback_ready = None
        if fallback is not None:
            cur.register("_vigil_mapped", ready)
            try:
                rest = cur.sql("SELECT b.* FROM _vigil_batch b WHERE _i IN "
                               f"(SELECT _i FROM _vigil_mapped WHERE {_TO_FALLBACK})").to_arrow_table()
            finally:
                cur.unregister("_vigil_mapped")
            cur.register("_vigil_rest", rest)
            try:
                sql, params = _ready_sql(fallback, "_vigil_rest")
                fallback_ready = cur.sql(sql, params=params).to_arrow_table()
            finally:
                cur.unregister("_vigil_rest")
    finally:
        cur.unregister("_vigil_batch")
    return Mapped(batch, table, ready, fallback_ready)


class Ingestor:
    """Ingests files into one store. One instance per store connection."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.con = store.con
        install_macros(self.con)
        self._compiled: dict[str, CompiledSpec] = {}
        self._blocks = 0  # raw block groups written by this ingestor (block ids stay unique per run)

    def compiled(self, spec: SourceSpec) -> CompiledSpec:
        if spec.name not in self._compiled:
            self._compiled[spec.name] = compile_spec(spec)
        return self._compiled[spec.name]

    def ingest_file(self, path: Path, fmt: str | None = None, progress: ProgressFn | None = None,
                    spec: SourceSpec | None = None, mapped: Iterator[Any] | None = None) -> IngestResult:
        """One file, one transaction per batch. ``mapped`` is the file as ``ingest_paths``' workers prepared it
        (its ``_Head``, then its ``Mapped`` batches): only de-duplicating and storing happen here then."""
        started = datetime.now(timezone.utc).replace(tzinfo=None)
        first = next(mapped) if mapped is not None else None
        if isinstance(first, _Head):
            kind, head = first.kind, first.head
        else:
            kind, head = sniff(path)
        result = IngestResult(str(path), None, bytes=path.stat().st_size)
        if kind == "empty":
            result.source_format = fmt
            return result
        if isinstance(first, _Head):
            spec = first.spec
        elif spec is None and fmt:
            spec = registry.get(fmt)
        elif spec is None:
            spec = detect_format(path, kind, head, settings=self.settings.ingest)
        result.source_format = spec.name if spec else None
        ingest_id = uuid.uuid4().hex
        self.con.execute(
            "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, NULL, 0, 0, 0, 0, 'running', NULL)",
            [ingest_id, str(path), result.source_format, started],
        )
        cs = self.compiled(spec) if spec else None
        ing = self.settings.ingest
        t0 = datetime.now(timezone.utc)
        # Raw record text dominates what a checkpoint writes; zstd compresses it ~6x faster than the
        # default string analysis (FSST/dictionary) at a similar ratio (bench/ingest_throughput.py).
        self.con.execute("SET force_compression = 'zstd'")
        # bounded memory whatever the file size: batches are streamed, DuckDB's buffer pool is capped
        previous_limit = self.store.scalar("SELECT current_setting('memory_limit')")
        self.con.execute(f"SET memory_limit = {literal(ing.memory_limit)}")
        try:
            batches: Iterator[Batch | Mapped] = mapped if mapped is not None else prefetch(
                read_batches(path, kind, ing.batch_bytes, ing.max_record_bytes, ing.max_record_depth))
            for item in batches:
                batch = item.batch if isinstance(item, Mapped) else item
                self._ingest_batch(cs, path, ingest_id, batch, result,
                                   mapped=item if isinstance(item, Mapped) else None)
                if progress:
                    progress(batch.bytes_done)
        except InputError as exc:
            result.error = str(exc)
        except BaseException as exc:  # recorded, then re-raised: the run must not look complete
            crash = f"{type(exc).__name__}: {exc}"
            self.con.execute("UPDATE ingest_runs SET status = 'failed', error = ? WHERE ingest_id = ?",
                             [crash, ingest_id])
            raise
        finally:
            result.seconds = (datetime.now(timezone.utc) - t0).total_seconds()
            try:
                self.con.execute(
                    "UPDATE ingest_runs SET finished_at = ?, status = CASE WHEN status = 'failed' THEN status "
                    "ELSE ? END, error = coalesce(error, ?) WHERE ingest_id = ?",
                    [datetime.now(timezone.utc).replace(tzinfo=None),
                     "failed" if result.error else "complete", result.error, ingest_id],
                )
                # write what is still in the WAL while zstd is forced (the default string analysis is ~6x slower)
                self.con.execute("CHECKPOINT")
            finally:
                self.con.execute("RESET force_compression")
                self.con.execute(f"SET memory_limit = {literal(previous_limit)}")
            result.seconds = (datetime.now(timezone.utc) - t0).total_seconds()
        return result

    def ingest_records(self, spec: SourceSpec, texts: list[str], origin: str, *, replace: bool = False,
                       problems: list[Problem] | None = None,
                       before_commit: Callable[[IngestResult], None] | None = None) -> IngestResult:
        """Ingest record texts fetched from an API (one batch, one transaction) exactly as a file's.

        ``origin`` names where they came from (stored as ``source_file``). ``replace`` keeps the
        latest version of a record whose id was stored before with different content (APIs
        republish records). ``before_commit`` runs inside the transaction with the counts, so a
        caller's checkpoint commits with the records it covers, or not at all."""
        ingest_id = uuid.uuid4().hex
        result = IngestResult(origin, spec.name, bytes=sum(len(t) for t in texts))
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        batch = Batch(texts=pa.array(texts, type=pa.large_string()), lines=np.arange(1, len(texts) + 1),
                      offsets=np.full(len(texts), -1, dtype=np.int64), problems=list(problems or []))

        def record_run(counts: IngestResult) -> None:
            self.con.execute("INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'complete', NULL)",
                             [ingest_id, origin, spec.name, now, datetime.now(timezone.utc).replace(tzinfo=None),
                              counts.read, counts.stored, counts.duplicate, counts.quarantined])
            if before_commit is not None:
                before_commit(counts)

        t0 = datetime.now(timezone.utc)
        self._ingest_batch(self.compiled(spec), Path(origin), ingest_id, batch, result, replace=replace,
                           before_commit=record_run)
        result.seconds = (datetime.now(timezone.utc) - t0).total_seconds()
        return result

    def _ingest_batch(self, cs: CompiledSpec | None, path: Path, ingest_id: str, batch: Batch,
                      result: IngestResult, *, replace: bool = False,
                      before_commit: Callable[[IngestResult], None] | None = None,
                      mapped: Mapped | None = None) -> None:
        """One transaction; ``cs`` is None for a file with no readable record (only quarantine rows)."""
        con = self.con
        if cs is None and len(batch.texts):
            raise InputError("records of an unrecognised format", path=str(path))
        counts = {"read": batch.count, "stored": 0, "dup": 0, "quar": len(batch.problems)}
        registered = False
        try:
            with self.store.transaction():
                if batch.problems:
                    self._quarantine_problems(ingest_id, path, cs.spec.name if cs else None, batch.problems,
                                             result)
                if cs is not None and len(batch.texts):
                    con.register("_vigil_batch", mapped.table if mapped is not None and mapped.table is not None
                                 else _batch_table(batch))
                    registered = True
                    stored, dup, quar = self._map_batch(cs, path, ingest_id, result, "_vigil_batch", batch.texts,
                                                        replace, mapped)
                    counts["stored"], counts["dup"] = stored, dup
                    counts["quar"] += quar
                con.execute(
                    "UPDATE ingest_runs SET records_read = records_read + ?, records_stored = records_stored + ?, "
                    "records_duplicate = records_duplicate + ?, records_quarantined = records_quarantined + ? "
                    "WHERE ingest_id = ?",
                    [counts["read"], counts["stored"], counts["dup"], counts["quar"], ingest_id],
                )
                if before_commit is not None:
                    before_commit(IngestResult(result.path, cs.spec.name if cs else None, read=counts["read"],
                                               stored=counts["stored"], duplicate=counts["dup"],
                                               quarantined=counts["quar"]))
        finally:
            if registered:
                con.unregister("_vigil_batch")
        result.read += counts["read"]
        result.stored += counts["stored"]
        result.duplicate += counts["dup"]
        result.quarantined += counts["quar"]

    def _map_batch(self, cs: CompiledSpec, path: Path, ingest_id: str, result: IngestResult,
                   source: str, texts: pa.LargeStringArray, replace: bool = False,
                   mapped: Mapped | None = None, view: str = "_vigil_mapped") -> tuple[int, int, int]:
        """Map the records in relation ``source`` (columns _i, line, byte_offset, raw); returns
        (stored, duplicate, quarantined). ``_i`` indexes ``texts``, the batch's record texts. The raw text
        stays out of the intermediate tables: they carry the row index ``_i``, the quarantine joins back to
        ``source`` and the raw blocks take the new records' texts from ``texts`` by index. With ``mapped``
        (step 1 done by a worker outside the transaction) its table, registered as ``view``, stands in for step 1's."""
        fallback = self.compiled(registry.get(cs.spec.fallback)) if cs.spec.fallback else None
        if mapped is None:
            # 1. parse + map, in this transaction
            sql, params = _ready_sql(cs, source)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _vigil_ready AS {sql}", params)
            return self._store_mapped(cs, path, ingest_id, result, source, texts, replace, "_vigil_ready",
                                      fallback, None)
        assert mapped.ready is not None, "a mapped batch with records has step 1's table"
        self.con.register(view, mapped.ready)
        try:
            return self._store_mapped(cs, path, ingest_id, result, source, texts, replace, view, fallback, mapped)
        finally:
            self.con.unregister(view)

    def _store_mapped(self, cs: CompiledSpec, path: Path, ingest_id: str, result: IngestResult, source: str,
                      texts: pa.LargeStringArray, replace: bool, ready: str, fallback: CompiledSpec | None,
                      mapped: Mapped | None) -> tuple[int, int, int]:
        """Steps 2 and 3 of :meth:`_map_batch` over step 1's relation ``ready``: quarantine, de-duplicate
        within the batch and against the store, insert, keep the raw texts; then the fallback's records."""
        spec = cs.spec
        columns = EVENT_TABLES[spec.target].column_names
        con = self.con
        src_file = str(path)
        # 2. quarantine (records this format does not accept go to its fallback format instead, if it has one)
        quarantine_if = "_reason IS NOT NULL" + (f" AND NOT ({_TO_FALLBACK})" if fallback else "")
        quar = con.execute(f"""
            INSERT INTO quarantine
            SELECT ?, ?, ?, r.line, r.byte_offset, r._reason, left(rtrim(b.raw, chr(10) || chr(13)), {RAW_KEEP}),
                   now()::TIMESTAMP
            FROM {ready} r JOIN {source} b USING (_i) WHERE {quarantine_if}
        """, [ingest_id, src_file, spec.name]).fetchall()
        n_quar = int(quar[0][0]) if quar else 0
        if n_quar:
            for reason, n in con.execute(
                f"SELECT _reason, count(*) FROM {ready} WHERE {quarantine_if} GROUP BY 1"
            ).fetchall():
                result.reasons[reason] = result.reasons.get(reason, 0) + int(n)
        if fallback is not None and mapped is None:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _vigil_rest AS SELECT b.* FROM {source} b "
                        f"WHERE _i IN (SELECT _i FROM {ready} WHERE {_TO_FALLBACK})")
        # 3. de-duplicate within the batch and against the store, then insert. A record exported twice (same
        # id and time) is one record: keep its most complete copy (an export may carry AuthenticationRequirement
        # in one copy only); a republished one (`replace`) keeps the last read instead.
        if replace:
            self._replace_changed(spec.target, source, ready)
        filled = " + ".join(f"(CASE WHEN {ident(c)} IS NOT NULL THEN 1 ELSE 0 END)" for c in columns
                            if c not in _PROVENANCE)
        order = "line DESC, byte_offset, _i DESC" if replace else "_filled DESC, line, byte_offset, _i"
        # only the keys of the records to insert: the mapped columns are read once more, by the INSERT, from
        # step 1's table (copying ~60 columns into another temp table cost more than that join)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _vigil_new AS
            SELECT r._i, r._eid, s.event_id IS NOT NULL AS _upgrade FROM (
                SELECT _i, _eid, {filled} AS _filled FROM {ready} WHERE _reason IS NULL
                QUALIFY row_number() OVER (PARTITION BY _eid ORDER BY {order}) = 1
            ) r
            LEFT JOIN (SELECT event_id, {filled} AS _filled FROM {ident(spec.target)}
                       WHERE event_id IN (SELECT _eid FROM {ready})) s ON s.event_id = r._eid
            WHERE s.event_id IS NULL OR (NOT {'TRUE' if replace else 'FALSE'} AND r._filled > s._filled)
        """)
        good = int(self.store.scalar(f"SELECT count(*) FROM {ready} WHERE _reason IS NULL") or 0)
        new = int(self.store.scalar("SELECT count(*) FROM _vigil_new") or 0)
        # a more complete copy of a stored record replaces it (counted stored: the row is now this file's)
        upgraded = int(self.store.scalar("SELECT count(*) FROM _vigil_new WHERE _upgrade") or 0)
        if upgraded:
            for table in (spec.target, "raw_records"):
                con.execute(f"DELETE FROM {ident(table)} "
                            "WHERE event_id IN (SELECT _eid FROM _vigil_new WHERE _upgrade)")
        select = []
        for c in columns:
            if c == "event_id":
                select.append("_eid")
            elif c == "event_time":
                select.append("_event_time")
            elif c == "source_format":
                select.append(literal(spec.name))
            elif c == "source_table":
                select.append("_source_table")
            elif c == "source_file":
                select.append("?")
            elif c == "source_record_id":
                select.append("_rid")
            else:
                select.append(ident(c))
        con.execute(f'INSERT INTO {ident(spec.target)} SELECT {", ".join(select)} '
                    f'FROM {ready} JOIN _vigil_new USING (_i, _eid)', [src_file])
        if new:
            keys = con.sql("SELECT _i, _eid FROM _vigil_new ORDER BY _i").to_arrow_table()
            index = keys.column(0).combine_chunks()
            self._blocks += 1
            # usually every record of the batch is new (distinct _i, so all of them): its texts as they are, else
            # those rows; no DuckDB join, sort and Arrow round trip of the batch's text
            write_blocks(con, f"{ingest_id}-{self._blocks}", spec.target, keys.column(1).combine_chunks(),
                         texts if len(index) == len(texts) else texts.take(index))
        if fallback is not None:
            if fallback.spec.fallback:
                raise ValueError(f"{spec.name}: fallback {fallback.spec.name} must not have a fallback itself")
            if mapped is None:
                f_new, f_dup, f_quar = self._map_batch(fallback, path, ingest_id, result, "_vigil_rest", texts)
            else:  # the worker mapped the fallback's records too; they keep their _i, so the batch serves as source
                f_new, f_dup, f_quar = self._map_batch(fallback, path, ingest_id, result, source, texts,
                                                       mapped=Mapped(mapped.batch, mapped.table, mapped.fallback_ready),
                                                       view="_vigil_mapped_fallback")
            return new + f_new, good - new + f_dup, n_quar + f_quar
        return new, good - new, n_quar

    def _replace_changed(self, target: str, source: str, ready: str) -> None:
        """Drop stored records that the batch brings again with different raw text (a republished
        version), so the insert that follows stores the latest; identical ones stay duplicates."""
        con = self.con
        ids = [r[0] for r in con.execute(
            f'SELECT DISTINCT r._eid FROM {ready} r JOIN "{target}" t ON t.event_id = r._eid '
            "WHERE r._reason IS NULL").fetchall()]
        if not ids:
            return
        stored = self.store.raw(ids)
        con.register("_vigil_stored_raw", pa.table({"event_id": pa.array(list(stored), pa.string()),
                                                    "raw": pa.array(list(stored.values()), pa.large_string())}))
        try:
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE _vigil_changed AS
                SELECT DISTINCT r._eid AS event_id FROM {ready} r JOIN {source} b USING (_i)
                JOIN _vigil_stored_raw s ON s.event_id = r._eid
                WHERE r._reason IS NULL AND rtrim(b.raw, chr(10) || chr(13)) <> s.raw
            """)
        finally:
            con.unregister("_vigil_stored_raw")
        con.execute(f'DELETE FROM "{target}" WHERE event_id IN (SELECT event_id FROM _vigil_changed)')
        con.execute("DELETE FROM raw_records WHERE event_id IN (SELECT event_id FROM _vigil_changed)")

    def _quarantine_problems(self, ingest_id: str, path: Path, fmt: str | None, problems: list[Problem],
                             result: IngestResult) -> None:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        rows = [(ingest_id, str(path), fmt, p.line, p.offset if p.offset is None or p.offset >= 0 else None,
                 p.reason, p.raw[:RAW_KEEP], now) for p in problems]
        self.con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        for p in problems:
            result.reasons[p.reason] = result.reasons.get(p.reason, 0) + 1


def _prepare(path: Path, fmt: str | None, spec: SourceSpec | None, ing: IngestSettings,
             cur: Any) -> Iterator[_Head | Mapped]:
    """A worker's part of one file: sniff it, detect its format, then read and map each batch on ``cur``."""
    kind, head = sniff(path)
    if kind == "empty":
        yield _Head(kind, head, None)
        return
    if spec is None and fmt:
        spec = registry.get(fmt)
    elif spec is None:
        spec = detect_format(path, kind, head, settings=ing)
    yield _Head(kind, head, spec)
    cs = compile_spec(spec) if spec else None
    fallback = compile_spec(registry.get(spec.fallback)) if spec and spec.fallback else None
    for batch in read_batches(path, kind, ing.batch_bytes, ing.max_record_bytes, ing.max_record_depth):
        yield map_outside(cur, cs, fallback, batch)


def ingest_paths(store: Store, paths: list[str | Path], settings: Settings, fmt: str | None = None,
                 progress: Callable[[Path, int], None] | None = None, *, spec: SourceSpec | None = None,
                 errors: tuple[type[Exception], ...] = (InputError,)) -> list[IngestResult]:
    """Ingest files (and folders' files). Errors about one file (``errors``) are recorded on its result.

    With ``ingest.map_workers`` > 0, worker threads read, detect and map (step 1, the parse) up to that many files
    ahead, each on its own in-memory engine outside the store's transaction, while this thread quarantines,
    de-duplicates, stores and commits each batch in the order given: the transactions of a serial run, in the same
    order, so duplicates across files resolve as they would one file at a time."""
    files = expand_paths(paths)
    ingestor = Ingestor(store, settings)
    results: list[IngestResult] = []
    workers = min(settings.ingest.map_workers, len(files))
    engines = [_mapping_engine(settings.ingest) for _ in range(workers)]
    streams = in_order(files, lambda path, w: _prepare(path, fmt, spec, settings.ingest, engines[w]), workers) \
        if workers else None
    try:
        for path in files:
            cb: ProgressFn | None = (lambda n, p=path: progress(p, n)) if progress else None
            try:
                results.append(ingestor.ingest_file(path, fmt, cb, spec, next(streams) if streams else None))
            except errors as exc:
                results.append(IngestResult(str(path), spec.name if spec else fmt, error=str(exc)))
    finally:
        if streams is not None:
            streams.close()
        for engine in engines:
            engine.close()
    return results


def _mapping_engine(ing: IngestSettings) -> Any:
    """A worker's own in-memory DuckDB: mapping needs nothing from the store, and a cursor of the store's
    instance would hold catalog transactions (its registered batches) that make the store's CHECKPOINT fail."""
    engine = connect()
    install_macros(engine)
    engine.execute(f"SET memory_limit = {literal(ing.memory_limit)}")
    harden(engine)
    return engine
