"""The stream in the background of ``vigil serve``: read, store, commit, analyse, publish, notify.

One thread runs micro-batches one after another: read messages (up to ``batch_max_events`` or
``batch_interval_s``), store them (:mod:`vigil.stream.consumer`), commit the group's offsets, then
analyse every micro-batch not yet analysed (:mod:`vigil.stream.incremental`; after a crash that
includes the ones stored before it), publish incidents and risk changes (output topic, webhook),
and call the listeners with a :class:`MicroBatch`. While the analysis runs, new messages wait in
the consumer's queue, so the next micro-batch is larger: the batch size follows the load.

Listeners (``StreamRunner.listeners``, or ``add_listener``) are the hook for anything that keeps
in-memory state derived from the store, e.g. the decision point's user profiles: they are called
after each applied micro-batch, with the users it affected, outside the store's write lock.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from vigil.cae import stage as cae_stage
from vigil.settings import Settings
from vigil.store import Store
from vigil.stream import incremental, tables
from vigil.stream.consumer import BatchResult, StreamConsumer, Writer

if TYPE_CHECKING:
    from vigil.cae.service import CaeService
    from vigil.stream.critical import CriticalLane
    from vigil.stream.outputs import OutputTopic

log = logging.getLogger("vigil.stream")


@dataclass
class MicroBatch:
    """What one micro-batch did; listeners receive it after the analysis (and outputs) applied it."""

    origin: str | None
    messages: int = 0
    stored: int = 0
    duplicate: int = 0
    quarantined: int = 0
    #: UPNs and object ids whose events, sessions, risk or incidents may have changed
    affected_users: list[str] = field(default_factory=list)
    #: micro-batches this analysis took in (more than one after a crash or while the analysis lagged)
    analyzed_origins: list[str] = field(default_factory=list)
    analysis: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    #: broker timestamps (ms) of the first and last message; when stored and analysed (epoch seconds)
    first_ts_ms: int | None = None
    last_ts_ms: int | None = None
    stored_at: float | None = None
    analyzed_at: float | None = None
    #: the CAE stage run on the batch's directory events right after storing them (before the analysis)
    critical: dict[str, Any] | None = None
    critical_at: float | None = None
    #: the consumer is behind: this batch's analysis waits for the next micro-batch's (max_analysis_delay_s)
    deferred: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Listener = Callable[[MicroBatch], None]


def pending_origins(store: Store) -> list[str]:
    if not store.exists("stream_batches"):
        return []
    return [r[0] for r in store.rows(
        "SELECT origin FROM stream_batches WHERE analyzed_at IS NULL GROUP BY origin ORDER BY min(stored_at), origin")]


def analyze_pending(store: Store, settings: Settings,
                    cae: CaeService | None = None) -> tuple[list[str], dict[str, Any]]:
    """Analyse the micro-batches not yet analysed; (their origins, the stages' summaries)."""
    origins = pending_origins(store)
    if not origins:
        return [], {}
    replace = {"cae": partial(cae_stage.run, service=cae)} if cae is not None else None
    results = incremental.run(store, settings, origins, replace=replace)
    store.con.execute("UPDATE stream_batches SET analyzed_at = ? WHERE list_contains(?, origin)",
                      [tables.now(), origins])
    return origins, results


class StreamRunner:
    def __init__(self, settings: Settings, writer: Writer, cae: CaeService | None = None,
                 listeners: list[Listener] | None = None) -> None:
        self.settings = settings
        self.cfg = settings.stream
        self.writer = writer
        self.cae = cae
        self.listeners: list[Listener] = list(listeners or [])
        self.stop_event = threading.Event()
        self.consumer = StreamConsumer(settings, writer)
        self.output: OutputTopic | None = None
        self.lane: CriticalLane | None = None
        if cae is not None and self.cfg.cae_fast_lane:
            from vigil.stream.critical import CriticalLane

            self.lane = CriticalLane(settings, cae)
        self._thread = threading.Thread(target=self._loop, name="vigil-stream", daemon=True)
        self._analysed_at = time.monotonic()
        self._deferred = False  # micro-batches stored whose analysis was put off (max_analysis_delay_s)
        self.stats: dict[str, Any] = {"batches": 0, "messages": 0, "stored": 0, "duplicate": 0, "quarantined": 0,
                                      "analyses": 0, "last_batch_at": None, "last_analysis_s": None,
                                      "last_error": None, "last_error_at": None, "running": False}

    def add_listener(self, fn: Listener) -> None:
        self.listeners.append(fn)

    def start(self) -> None:
        self._thread.start()
        if self.lane is not None:
            self.lane.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        if self.lane is not None:
            self.lane.stop()
        self._thread.join(timeout)

    def status(self) -> dict[str, Any]:
        lane = {"cae_fast_lane": {"revoked": self.lane.revoked, "last_error": self.lane.last_error}} \
            if self.lane is not None else {}
        return dict(self.stats, assigned=sorted(f"{t}[{p}]" for t, p in self.consumer.assigned), **lane)

    def _loop(self) -> None:
        backoff = 1.0
        self.stats["running"] = True
        try:
            while not self.stop_event.is_set():
                try:
                    if self.consumer.consumer is None:
                        self.consumer.open()
                        if self.cfg.output_topic and self.output is None:
                            from vigil.stream.outputs import OutputTopic

                            self.output = OutputTopic(self.cfg)
                        # what a crash left stored but not analysed goes with the first micro-batch's analysis
                        # (or alone when none comes): reading first lets the group assign the partitions at
                        # once (librdkafka serves the assignment in the consumer's poll), not after an analysis
                        self._deferred = True
                    self.step()
                    backoff = 1.0
                except Exception as exc:  # logged and shown in status; the consumer re-opens at the committed offsets
                    self.stats["last_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    self.stats["last_error_at"] = datetime.now().isoformat(timespec="seconds")
                    log.exception("stream micro-batch failed; re-reading from the committed offsets in %.0f s", backoff)
                    self.consumer.close()
                    self.stop_event.wait(backoff)
                    backoff = min(backoff * 2, 60.0)
        finally:
            self.consumer.close()
            if self.output is not None:
                self.output.close()
            self.stats["running"] = False

    def step(self, analyze_first: bool = False) -> MicroBatch | None:
        """One micro-batch (``analyze_first``: only the analysis of what is pending, after a start)."""
        msgs: list[Any] = [] if analyze_first else self.consumer.read()
        if not msgs and not (analyze_first or self._deferred):
            return None
        if not msgs and not analyze_first and not self.consumer.assigned and self.defer(behind=True):
            return None  # joining the group: what waits is analysed with the first micro-batch (or after the delay)
        if msgs:
            started = time.perf_counter()
            res = self.consumer.store(msgs)
            self.consumer.commit(res)
            log.info("micro-batch %s: %d messages, %d records stored, %d duplicate, %d quarantined in %.2f s",
                     res.origin, res.messages, res.stored, res.duplicate, res.quarantined,
                     time.perf_counter() - started)
        else:  # after a start, or caught up after deferred analyses: analyse what waits
            res = BatchResult(origin="")
            analyze_first = True
        batch = MicroBatch(origin=res.origin or None, messages=res.messages, stored=res.stored,
                           duplicate=res.duplicate, quarantined=res.quarantined, first_ts_ms=res.first_ts_ms,
                           last_ts_ms=res.last_ts_ms, stored_at=time.time())
        self._count(res)
        if self.cfg.analyze and "directory_events" in res.targets:
            # critical events first: a password reset or a disabled account revokes before the full analysis
            with self.writer() as store:
                batch.critical = dict(cae_stage.run(store, self.settings, service=self.cae))
            batch.critical_at = time.time()
        if self.defer(behind=res.messages >= self.cfg.batch_max_events):
            # catching up: store the next micro-batch first; this one stays pending (durably) until then
            batch.deferred = True
        elif self.cfg.analyze:
            started = time.perf_counter()
            with self.writer() as store:
                origins, results = analyze_pending(store, self.settings, self.cae)
                if origins:
                    batch.analyzed_origins = origins
                    batch.affected_users = list(results.get("scope", {}).pop("users", []))
                    batch.analysis = results
                    batch.outputs = self._publish(store)
            self._analysed_at = time.monotonic()
            if origins:
                batch.analyzed_at = time.time()
                self.stats["analyses"] += 1
                self.stats["last_analysis_s"] = round(time.perf_counter() - started, 3)
                log.info("analysed %d micro-batches (%d users affected) in %.2f s: %s", len(origins),
                         len(batch.affected_users), self.stats["last_analysis_s"],
                         ", ".join(f"{k} {v.get('seconds')}" for k, v in (batch.analysis or {}).items()
                                   if isinstance(v, dict)))
        self._deferred = batch.deferred
        if (analyze_first and not batch.analyzed_origins) or batch.deferred:
            return None if analyze_first else batch  # nothing applied yet: listeners wait for the analysis
        for fn in self.listeners:
            try:
                fn(batch)
            except Exception:  # one listener's failure stops neither the stream nor the others
                log.exception("stream listener %r failed", fn)
        return batch

    def defer(self, behind: bool) -> bool:
        """Put the analysis off (the consumer is behind and the last one was recent). While behind, storing gets
        at least as much time as the last analysis took (its cost follows the store, hardly the number of
        micro-batches it takes in), so the backlog shrinks even when analyses are slow."""
        delay = max(self.cfg.max_analysis_delay_s, self.stats["last_analysis_s"] or 0.0)
        return behind and time.monotonic() - self._analysed_at < delay

    def _count(self, res: BatchResult) -> None:
        if not res.messages:
            return
        for k in ("messages", "stored", "duplicate", "quarantined"):
            self.stats[k] += getattr(res, k)
        self.stats["batches"] += 1
        self.stats["last_batch_at"] = datetime.now().isoformat(timespec="seconds")

    def _publish(self, store: Store) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.output is not None:
            out["output_topic"] = self.output.publish(store)
        inc = self.settings.incidents
        if inc.webhook_url and inc.webhook_secret:
            from vigil.incidents import output

            # one attempt per micro-batch, under the store's lock: the next micro-batch is the retry (what is not
            # delivered stays pending), so a receiver that is down never stalls the stream with back-off sleeps
            sent = output.send(store, inc.model_copy(update={"webhook_max_attempts": 1}))
            out["webhook"] = {"sent": sent["sent"], "failed": sent["failed"]}
        return out
