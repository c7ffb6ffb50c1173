"""Recording the decision point's real-time detections in ``riskDetections``, off the request path.

The decision answers first; its detections go on a queue that one background thread writes in
batches (``write`` is the service's serialised writer). Nothing is lost:

* :meth:`DetectionRecorder.close` (service shutdown) stops taking rows, drains the queue and
  writes what is left before returning;
* a failed write is retried (the batch stays pending); rows still unwritten at close — the
  store gone, the disk full — are appended to a spill file (JSON lines) that
  :meth:`DetectionRecorder.start` writes back first on the next start.

Rows are ``riskDetections`` rows with ``detection = 'decisionPoint'``: the next analysis keeps
them (the detections stage replaces only its own), and the risk lifecycle drops one as soon as
the batch detections raise the same riskEventType for the same sign-in from the logs.
"""
from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from vigil.detections import registry
from vigil.detections.tables import RISK_DETECTIONS
from vigil.risk.lifecycle import DECISION_POINT as DETECTION
from vigil.store import Store

log = logging.getLogger(__name__)

_STOP = object()

#: one riskDetections row as the recorder writes it (the table's other columns stay NULL)
COLUMNS = ("id", "riskEventType", "riskLevel", "riskState", "riskDetail", "detectionTimingType", "activity",
           "activityDateTime", "detectedDateTime", "ipAddress", "location", "userId", "userPrincipalName",
           "requestId", "correlationId", "source", "additionalInfo", "session_key", "detection", "mitre", "reason")
_SCHEMA = pa.schema([(c, pa.timestamp("us") if c.endswith("DateTime") else pa.string()) for c in COLUMNS])


def detection_rows(signals: list[dict[str, Any]], *, correlation_id: str, when: float, user_id: str | None,
                   user_principal_name: str | None, ip: str | None, country: str | None,
                   session_id: str | None) -> list[dict[str, Any]]:
    """``riskDetections`` rows for the signals (``Signal.to_dict()``) of one decided sign-in."""
    at = datetime.fromtimestamp(when, UTC).replace(tzinfo=None)
    now = datetime.now(UTC).replace(tzinfo=None)
    out = []
    for s in signals:
        mitre = list(registry.get(s["detection"]).mitre) if s.get("detection") else []
        out.append({
            "id": hashlib.md5(f"{correlation_id}|{s['riskEventType']}".encode()).hexdigest()[:16],
            "riskEventType": s["riskEventType"], "riskLevel": s["riskLevel"], "riskState": "atRisk",
            "riskDetail": "none", "detectionTimingType": "realtime", "activity": "signin", "activityDateTime": at,
            "detectedDateTime": now, "ipAddress": ip,
            "location": orjson.dumps({"countryOrRegion": country}).decode() if country else None,
            "userId": user_id, "userPrincipalName": user_principal_name.lower() if user_principal_name else None,
            "requestId": correlation_id, "correlationId": correlation_id, "source": "vigil",
            "additionalInfo": orjson.dumps({"detection": s.get("detection"), "reason": s["reason"],
                                            "evidence": s.get("evidence"), "origin": DETECTION}).decode(),
            "session_key": f"s:{session_id}" if session_id else None, "detection": DETECTION,
            "mitre": orjson.dumps(mitre).decode(), "reason": s["reason"]})
    return out


def write_detections(store: Store, rows: list[dict[str, Any]]) -> int:
    """Insert the rows (idempotent: a row already there by id is kept)."""
    if not rows:
        return 0
    store.ensure([RISK_DETECTIONS])
    table = pa.Table.from_pylist(rows, schema=_SCHEMA)
    cols = ", ".join(store.ident(c) for c in COLUMNS)
    sel = ", ".join(f"cast(r.{store.ident(c)} as JSON)" if c in ("location", "additionalInfo", "mitre")
                    else f"r.{store.ident(c)}" for c in COLUMNS)
    store.con.register("_rt_rows", table)
    try:
        with store.transaction():
            store.con.execute(f"""insert into "riskDetections" ({cols}) select {sel} from _rt_rows r
                                  where not exists (select 1 from "riskDetections" d
                                                    where d.id = r.id and d.source = 'vigil')""")
    finally:
        store.con.unregister("_rt_rows")
    return len(rows)


def _rows(item: Any) -> list[dict[str, Any]]:
    if not callable(item):
        return list(item)
    try:
        return list(item())
    except Exception:  # a bug building rows must not stop the recorder: say so loudly, keep going
        log.exception("building real-time detection rows failed; these detections are not recorded")
        return []


class DetectionRecorder:
    """A queue of detection rows and the thread that writes them with ``write``."""

    def __init__(self, write: Callable[[list[dict[str, Any]]], object], *, spill: str | Path | None = None,
                 batch: int = 500, retry_s: float = 1.0) -> None:
        self._write = write
        self._spill = Path(spill) if spill else None
        self._batch = batch
        self._retry_s = retry_s
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()
        self.written = 0
        self.spilled = 0
        self.failures = 0
        self.last_error: str | None = None

    def start(self) -> DetectionRecorder:
        """Start the writer thread; rows spilled by an earlier run are queued first."""
        if self._spill is not None and self._spill.exists():
            taken = self._spill.with_suffix(self._spill.suffix + ".replay")
            self._spill.replace(taken)
            rows = [orjson.loads(line) for line in taken.read_bytes().splitlines() if line.strip()]
            for r in rows:
                for c in ("activityDateTime", "detectedDateTime"):
                    if r.get(c):
                        r[c] = datetime.fromisoformat(r[c])
            if rows:
                self._queue.put(rows)
            taken.unlink()
        self._thread = threading.Thread(target=self._run, name="vigil-risk-recorder", daemon=True)
        self._thread.start()
        return self

    def record(self, rows: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]]) -> None:
        """Queue rows for writing — or a function making them, called on the writer thread so the caller
        does not even pay for building them; never blocks the caller on the store."""
        if isinstance(rows, list) and not rows:
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("the detection recorder is closed")
            self._queue.put(rows)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def _take(self, first: Any) -> tuple[list[dict[str, Any]], bool]:
        rows, stop = _rows(first), False
        while len(rows) < self._batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stop = True
                break
            rows.extend(_rows(item))
        return rows, stop

    def _run(self) -> None:
        pending: list[dict[str, Any]] = []
        stop = False
        while True:
            if not pending:
                item = self._queue.get()
                if item is _STOP:
                    return
                pending, stop = self._take(item)
            try:
                self._write(pending)
                self.written += len(pending)
                pending = []
            except Exception as exc:  # the store is busy or failing: keep the rows, retry
                self.failures += 1
                self.last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                log.warning("recording %d real-time detection(s) failed (%s); retrying", len(pending), self.last_error)
                if stop:
                    self._spill_rows(pending)
                    return
                time.sleep(self._retry_s)
                continue
            if stop:
                return

    def _spill_rows(self, rows: list[dict[str, Any]]) -> None:
        if self._spill is None:
            log.error("%d real-time detection(s) could not be written and no spill file is set", len(rows))
            return
        with self._spill.open("ab") as f:
            for r in rows:
                f.write(orjson.dumps(r) + b"\n")
        self.spilled += len(rows)
        log.error("%d real-time detection(s) could not be written (%s): kept in %s for the next start",
                  len(rows), self.last_error, self._spill)

    def close(self, timeout: float | None = 30.0) -> dict[str, int]:
        """Stop taking rows, write everything queued (spill what cannot be written), stop the thread."""
        with self._lock:
            if self._closed:
                return self.stats()
            self._closed = True
            self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)
        # the thread stopped early (write failed at the end) or never ran: nothing queued may be dropped
        left: list[dict[str, Any]] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                left.extend(_rows(item))
        if left:
            try:
                self._write(left)
                self.written += len(left)
            except Exception as exc:
                self.last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                self._spill_rows(left)
        return self.stats()

    def stats(self) -> dict[str, int]:
        return {"written": self.written, "pending": self.pending, "spilled": self.spilled, "failures": self.failures}
