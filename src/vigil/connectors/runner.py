"""Connectors in the background of ``vigil serve``: one thread per enabled connector polling every
``interval_s``, and one analysis thread that re-runs the analysis after polls that stored records
(coalesced: polls that land while an analysis runs cause one more run, not one each)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from vigil.connectors.base import Connector, Writer

log = logging.getLogger("vigil.connectors")


class Coalesced:
    """Runs ``fn`` in its own thread whenever :meth:`kick` was called since the last run started."""

    def __init__(self, fn: Callable[[], Any], name: str) -> None:
        self.fn = fn
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self.runs = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        self._wanted.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._wanted.wait(0.5):
                continue
            self._wanted.clear()
            if self._stop.is_set():
                return
            try:
                self.fn()
                self.last_error = None
            except Exception as exc:  # logged and kept for status; the next batch tries again
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("analysis after a connector batch failed")
            self.runs += 1

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wanted.set()
        self._thread.join(timeout)


class Runner:
    """Polls each connector until :meth:`stop`; ``on_stored`` is called after a poll stored records."""

    def __init__(self, connectors: list[Connector], writer: Writer,
                 on_stored: Callable[[], None] | None = None) -> None:
        self.connectors = connectors
        self.writer = writer
        self.on_stored = on_stored
        self.stop_event = threading.Event()
        self.polls: dict[str, int] = {c.name: 0 for c in connectors}
        self._threads = [threading.Thread(target=self._loop, args=(c,), name=f"vigil-connector-{c.name}",
                                          daemon=True) for c in connectors]

    def start(self) -> None:
        for t in self._threads:
            t.start()
        if self.connectors:
            log.info("connectors running: %s", ", ".join(c.name for c in self.connectors))

    def _loop(self, conn: Connector) -> None:
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                results = conn.poll(self.writer, stop=self.stop_event)
                stored = sum(r.stored for r in results)
                self.polls[conn.name] += 1
                if stored:
                    log.info("%s: %d new records", conn.name, stored)
                    if self.on_stored is not None:
                        self.on_stored()
            except Exception:  # a configuration or store error: logged; status keeps the streams' errors
                log.exception("%s: poll failed", conn.name)
            self.stop_event.wait(max(0.0, conn.cfg.interval_s - (time.monotonic() - started)))

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        for t in self._threads:
            t.join(timeout)
