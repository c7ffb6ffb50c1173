"""What the service keeps between requests: the store connection and UI sessions.

DuckDB lets one process write a file. ``vigil serve`` is that process while it runs: it
opens the store once, read-write, and hands each request its own cursor (a cheap
connection to the same database instance, so reads run concurrently under DuckDB's MVCC).
Writes (token, status, comment, ingest, risk actions) are serialised by ``write_lock``
so two writers never hit a transaction conflict; each owner's function manages its own
transaction.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb

from vigil.api.tokens import Principal, TokenRow, ensure_table, load_rows
from vigil.backup import snapshot_staging
from vigil.settings import Settings
from vigil.store import Store, open_store


class Database:
    """One DuckDB database instance shared by every request of the service."""

    def __init__(self, settings: Settings) -> None:
        s = settings.store
        self.path = s.path
        # no file access but the backup snapshots' folder (docs/hunting.md, "Hunting is read-only")
        self._store = open_store(s.path, threads=s.threads, memory_limit=s.memory_limit,
                                 snapshot_dir=snapshot_staging(s.path))
        ensure_table(self._store.con)
        self.write_lock = threading.Lock()
        # Bumped after every write: caches of store rows (the token table) reload when it moves.
        self.generation = 0
        self._tokens: dict[str, TokenRow] = {}
        self._tokens_generation = -1
        self._tokens_lock = threading.Lock()

    @contextmanager
    def reader(self) -> Iterator[Store]:
        cur = self._store.con.cursor()
        try:
            cur.execute("SET TimeZone = 'UTC'")
            yield Store(cur, self.path)
        finally:
            cur.close()

    @contextmanager
    def writer(self) -> Iterator[Store]:
        """A cursor for writing, serialised with every other writer of the service.

        No transaction is opened here: the functions of the owning areas (ingest, risk
        actions, incident updates, analysis stages) open their own, and DuckDB does not nest
        them. Single statements are atomic on their own."""
        with self.write_lock:
            cur = self._store.con.cursor()
            try:
                cur.execute("SET TimeZone = 'UTC'")
                yield Store(cur, self.path)
            finally:
                self.generation += 1
                cur.close()

    def token_row(self, token_id: str) -> TokenRow | None:
        """A token's verification row from memory, reloaded after any write of this process.

        Exact, not a TTL cache: while `vigil serve` holds the store no other process can
        write it, and every write here goes through :meth:`writer`."""
        with self._tokens_lock:
            if self._tokens_generation != self.generation:
                generation = self.generation
                cur = self._store.con.cursor()
                try:
                    self._tokens = load_rows(cur)
                finally:
                    cur.close()
                self._tokens_generation = generation
            return self._tokens.get(token_id)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self._store.con.cursor()

    def close(self) -> None:
        """At shutdown: a writer still running (an ingest batch, an analysis stage) finishes and
        commits first; then a checkpoint folds the WAL into the file."""
        with self.write_lock:
            try:
                self._store.con.execute("CHECKPOINT")
            except duckdb.Error:
                pass  # a read-only or already-failing store still closes
            self._store.close()


@dataclass
class UISession:
    token_id: str
    principal: Principal
    csrf: str
    expires: float


@dataclass
class SessionStore:
    """Browser sessions: the cookie holds a random id; only its SHA-256 is kept here.

    A session is tied to the API token it was opened with: every request re-checks
    that token, so revoking the token ends its sessions at once."""

    ttl_s: float = 8 * 3600
    _sessions: dict[str, UISession] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _key(sid: str) -> str:
        return hashlib.sha256(sid.encode()).hexdigest()

    def open(self, principal: Principal) -> tuple[str, UISession]:
        sid = secrets.token_urlsafe(32)
        sess = UISession(principal.token_id, principal, secrets.token_urlsafe(32), time.time() + self.ttl_s)
        with self._lock:
            now = time.time()
            for k in [k for k, v in self._sessions.items() if v.expires < now]:
                del self._sessions[k]
            self._sessions[self._key(sid)] = sess
        return sid, sess

    def get(self, sid: str) -> UISession | None:
        with self._lock:
            sess = self._sessions.get(self._key(sid))
            if sess is not None and sess.expires < time.time():
                del self._sessions[self._key(sid)]
                return None
            return sess

    def close(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(self._key(sid), None)


class TooManyHunts(Exception):
    """A token already runs as many hunts as hunt.max_concurrent_per_token allows (HTTP 429)."""

    def __init__(self, running: int, cap: int) -> None:
        super().__init__(f"this token already runs {running} hunt(s), the most allowed at once "
                         f"(hunt.max_concurrent_per_token = {cap}); retry when one finishes")


@dataclass
class HuntSlots:
    """Hunts running now, per API token: one token cannot hold every DuckDB thread."""

    _running: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def slot(self, token_id: str, cap: int) -> Iterator[None]:
        with self._lock:
            running = self._running.get(token_id, 0)
            if running >= cap:
                raise TooManyHunts(running, cap)
            self._running[token_id] = running + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._running[token_id] - 1
                if left:
                    self._running[token_id] = left
                else:
                    del self._running[token_id]


@dataclass
class ServiceState:
    settings: Settings
    db: Database
    sessions: SessionStore
    secure_cookies: bool
    #: base URL of every URL the service hands out (settings, never request headers)
    public_url: str
    hunts: HuntSlots = field(default_factory=HuntSlots)

    @property
    def api_url(self) -> str:
        return f"{self.public_url}/api/v1"
