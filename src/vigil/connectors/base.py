"""What every connector shares: streams, the write path into the store, one poll.

A connector has named streams (Graph: signins, directoryAudits ...; Okta: logs). A poll runs
each stream; a stream reads pages and hands each page to a ``commit_*`` function, which
writes the page's records through the same code as file ingest (canonical rows, quarantine,
raw kept, de-duplication) and the stream's new checkpoint in one transaction. A failing
stream records its error and the others go on; its checkpoint stays where the last
committed page left it, so the next poll resumes there.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from vigil.connectors import state
from vigil.connectors.http import Http
from vigil.errors import VigilError
from vigil.settings import ConnectorCommonSettings, Settings
from vigil.sources import registry
from vigil.sources.ingest import Ingestor
from vigil.store import Store

log = logging.getLogger("vigil.connectors")

#: opens the store for one write (the service: its serialised writer; the CLI: its own connection)
Writer = Callable[[], AbstractContextManager[Store]]


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time from an API record, as naive UTC (None when absent or unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # Graph gives 7 fractional digits; Python reads at most 6
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[:min(digits, 6)]}{tail[digits:]}"
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StreamResult:
    stream: str
    pages: int = 0
    received: int = 0
    stored: int = 0
    duplicate: int = 0
    quarantined: int = 0
    newest: datetime | None = None
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PollContext:
    """What a stream needs during one poll."""

    connector: str
    settings: Settings
    writer: Writer
    http: Http
    since: datetime | None = None  # a backfill: start here whatever the checkpoint says
    stop: threading.Event = field(default_factory=threading.Event)

    def checkpoint(self, stream: str) -> dict[str, Any] | None:
        with self.writer() as store:
            return state.load_checkpoint(store, self.connector, stream)

    def window_start(self, cp: dict[str, Any] | None, cfg: ConnectorCommonSettings) -> datetime:
        """Where a time-window poll starts: --since, else the newest record seen minus the overlap,
        else the initial look-back."""
        if self.since is not None:
            return self.since
        high = parse_time((cp or {}).get("high_water"))
        if high is not None:
            return high - timedelta(minutes=cfg.overlap_minutes)
        return utcnow() - timedelta(hours=cfg.initial_lookback_hours)


def _origin(connector: str, stream: str) -> str:
    return f"{connector}:{stream}"


def commit_events(ctx: PollContext, res: StreamResult, stream: str, fmt: str, records: list[Any],
                  checkpoint: dict[str, Any] | None, *, replace: bool, newest: datetime | None) -> None:
    """Store one page's event records (any adapter of ``vigil formats``) with ``checkpoint``."""
    if not records:  # nothing new: only the checkpoint moves (no empty ingest run)
        commit_with(ctx, res, stream, checkpoint, lambda store: (0, 0, 0), newest)
        return
    texts = [orjson.dumps(r).decode() for r in records]
    spec = registry.get(fmt)
    with ctx.writer() as store:
        state.ensure(store)
        ing = Ingestor(store, ctx.settings)

        def with_checkpoint(counts: Any) -> None:
            state.save_checkpoint(store, ctx.connector, stream, checkpoint, received=counts.read,
                                  stored=counts.stored, newest=newest)

        r = ing.ingest_records(spec, texts, _origin(ctx.connector, stream), replace=replace,
                               before_commit=with_checkpoint)
    res.pages += 1
    res.received += r.read
    res.stored += r.stored
    res.duplicate += r.duplicate
    res.quarantined += r.quarantined
    _newest(res, newest)


def _newest(res: StreamResult, t: datetime | None) -> None:
    if t is not None and (res.newest is None or t > res.newest):
        res.newest = t


def commit_with(ctx: PollContext, res: StreamResult, stream: str, checkpoint: dict[str, Any] | None,
                write: Callable[[Store], tuple[int, int, int]], newest: datetime | None) -> None:
    """Run ``write(store)`` (returns received, stored, quarantined) and save ``checkpoint``, one transaction."""
    with ctx.writer() as store:
        state.ensure(store)
        with store.transaction():
            received, stored, quarantined = write(store)
            state.save_checkpoint(store, ctx.connector, stream, checkpoint, received=received, stored=stored,
                                  newest=newest)
    res.pages += 1
    res.received += received
    res.stored += stored
    res.quarantined += quarantined
    _newest(res, newest)


def quarantine_page(ctx: PollContext, res: StreamResult, stream: str, url: str, text: str, reason: str) -> None:
    """A page that cannot be read at all (not JSON, no records array) is kept with its reason."""
    from vigil.sources._reader import RAW_KEEP

    with ctx.writer() as store:
        store.con.execute("INSERT INTO quarantine VALUES (?, ?, ?, NULL, NULL, ?, ?, ?)",
                          ["conn-" + uuid.uuid4().hex[:12], _origin(ctx.connector, stream),
                           ctx.connector, f"{url}: {reason}"[:1000], text[:RAW_KEEP], utcnow()])
    res.quarantined += 1
    log.warning("%s %s: page quarantined: %s", ctx.connector, stream, reason)


def page_json(ctx: PollContext, res: StreamResult, stream: str, url: str, text: str,
              key: str | None) -> tuple[dict[str, Any] | list[Any], list[Any]] | None:
    """The page's JSON document and its records (``key`` names the records array; None: the page is the
    array), or None after quarantining a page that is not what the API documents."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        quarantine_page(ctx, res, stream, url, text, f"page is not valid JSON ({exc})")
        return None
    records = doc.get(key) if key and isinstance(doc, dict) else doc
    if not isinstance(records, list):
        where = f"no '{key}' array" if key else "not a JSON array"
        quarantine_page(ctx, res, stream, url, text, f"page has {where}")
        return None
    return doc, records


class Connector:
    """Base of every connector: ``streams`` maps a name to a method reading that stream."""

    name = ""
    title = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def cfg(self) -> ConnectorCommonSettings:
        raise NotImplementedError

    def streams(self) -> dict[str, Callable[[PollContext, StreamResult], None]]:
        raise NotImplementedError

    def check_config(self) -> None:
        """Raise ConfigError naming the missing setting."""

    def test(self, http: Http) -> list[dict[str, Any]]:
        """Authenticate and read one record of each stream; writes nothing."""
        raise NotImplementedError

    def poll(self, writer: Writer, *, since: datetime | None = None, stop: threading.Event | None = None,
             only: list[str] | None = None, http: Http | None = None) -> list[StreamResult]:
        self.check_config()
        stop = stop or threading.Event()
        own = http is None
        client = http or Http(self.cfg, self.name, stop=stop)
        ctx = PollContext(self.name, self.settings, writer, client, since=since, stop=stop)
        results = []
        try:
            for stream, read in self.streams().items():
                if only and stream not in only:
                    continue
                if stop.is_set():
                    break
                results.append(self._run_stream(ctx, stream, read))
        finally:
            if own:
                client.close()
        return results

    def _run_stream(self, ctx: PollContext, stream: str,
                    read: Callable[[PollContext, StreamResult], None]) -> StreamResult:
        res = StreamResult(stream)
        started = utcnow()
        with ctx.writer() as store:
            state.ensure(store)
            state.mark(store, self.name, stream, started=started)
        try:
            read(ctx, res)
        except VigilError as exc:
            res.error = str(exc)
        except Exception as exc:  # recorded as the stream's error, then the other streams go on
            log.exception("%s %s failed", self.name, stream)
            res.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        res.seconds = (utcnow() - started).total_seconds()
        with ctx.writer() as store:
            state.mark(store, self.name, stream, error=res.error, success=res.error is None)
        if res.error:
            log.warning("%s %s: %s", self.name, stream, res.error)
        return res
