"""The revocation state on the hot path: dictionaries fed by the journal.

Lookups are plain dict reads (well under a microsecond each). Writes made by this process
go to the journal and the index at once; writes made by other processes (the CLI, the
analyze stage, a second service worker) are picked up by tailing the journal by ``seq``
at most every ``sync_interval`` seconds, so cross-process propagation is bounded by it.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vigil.cae.events import CriticalEvent, norm_subject
from vigil.cae.journal import Journal


@dataclass(frozen=True)
class Revoked:
    """Why a token is no longer valid: the latest revocation that post-dates it."""

    scope: str
    subject: str
    revoked_at: float
    event_type: str
    reason: str
    event_key: str

    @property
    def challenge_nbf(self) -> int:
        return math.ceil(self.revoked_at)


class RevocationState:
    def __init__(self, journal: Journal, *, sync_interval_s: float = 0.05) -> None:
        self.journal = journal
        self.sync_interval_s = sync_interval_s
        self._index: dict[tuple[str, str], Revoked] = {}
        self._seq = 0
        self._next_sync = 0.0
        self._lock = threading.RLock()  # compare-and-set on the index and the tail cursor
        self.sync()

    # -- writes -------------------------------------------------------------------------
    def record(self, events: Sequence[CriticalEvent]) -> list[CriticalEvent]:
        """Persist then index; returns the events that were new (replays are ignored)."""
        if not events:
            return []
        new = self.journal.append(events)
        # Index at once, but do not move the tail: rows other processes committed before ours
        # (lower seq) must still be read by the next sync.
        self._apply(new, advance=False)
        return [ev for _, ev in new]

    def _apply(self, rows: Iterable[tuple[int, CriticalEvent]], *, advance: bool) -> None:
        with self._lock:  # two writers must not let an older revocation overwrite a newer one
            self._apply_locked(rows, advance)

    def _apply_locked(self, rows: Iterable[tuple[int, CriticalEvent]], advance: bool) -> None:
        index = self._index
        for seq, ev in rows:
            entry = Revoked(ev.scope, ev.subject, ev.revoked_at, ev.event_type, ev.reason, ev.event_key)
            keys = [(ev.scope, ev.subject)]
            if ev.subject_alt:
                keys.append((ev.scope, ev.subject_alt))
            for key in keys:
                cur = index.get(key)
                if cur is None or cur.revoked_at < ev.revoked_at:
                    index[key] = entry
            if advance and seq > self._seq:
                self._seq = seq

    def sync(self) -> int:
        """Apply rows other processes appended since the last sync; returns how many."""
        with self._lock:
            self._next_sync = time.monotonic() + self.sync_interval_s
            # Writers are serialised (BEGIN IMMEDIATE), so commit order is seq order and a tail
            # by seq never skips a row that commits later with a lower seq.
            rows = self.journal.since(self._seq)
            self._apply(rows, advance=True)
            return len(rows)

    # -- reads (hot path) ---------------------------------------------------------------
    def check(self, *, issued_at: float, users: Sequence[str] = (), session: str | None = None,
              device: str | None = None) -> Revoked | None:
        """The revocation that invalidates a token issued at ``issued_at``, or None."""
        if time.monotonic() >= self._next_sync:
            self.sync()
        index = self._index
        worst: Revoked | None = None
        keys = [("user", norm_subject(u)) for u in users if u]
        if session:
            keys.append(("session", norm_subject(session)))
        if device:
            keys.append(("device", norm_subject(device)))
        for key in keys:
            hit = index.get(key)
            if hit is not None and hit.revoked_at > issued_at and (worst is None or hit.revoked_at > worst.revoked_at):
                worst = hit
        return worst

    def lookup(self, scope: str, subject: str) -> Revoked | None:
        return self._index.get((scope, norm_subject(subject)))

    @property
    def last_seq(self) -> int:
        return self._seq

    def size(self) -> int:
        return len(self._index)
