"""The durable side of CAE: one SQLite file in WAL mode.

Why SQLite and not the DuckDB store: revocations are written by several processes at once
(``vigil serve`` answering POSTs, ``vigil cae revoke`` from a shell, ``vigil analyze`` running
the stage) and read continuously by every process that enforces. DuckDB allows one writer
*process* per file; SQLite in WAL mode lets any number of processes write (each transaction
takes the write lock for microseconds, others wait on ``busy_timeout``) while readers never
block. Each row is committed before the call returns, so a crash loses nothing that was
acknowledged (``synchronous=NORMAL`` in WAL survives process crashes; ``FULL`` also survives
power loss). ``seq`` is monotonic, so every process tails the journal with ``seq > last``.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from vigil.cae.events import CriticalEvent
from vigil.store import transaction
from vigil.errors import StoreError

_DDL = (
    """create table if not exists revocations (
        seq integer primary key autoincrement,
        event_key text not null unique,      -- idempotency: a replayed event is ignored
        event_type text not null,
        scope text not null check (scope in ('user', 'session', 'device')),
        subject text not null,               -- user object id / session id / device id, lower-case
        subject_alt text,                    -- UPN alias for user scope
        user_id text,                        -- owning user of a session / device, when known
        revoked_at real not null,            -- tokens issued before this epoch time are invalid
        source text not null,                -- audit_logs | risk | api | cli | ssf | bench
        reason text not null,
        evidence text not null default '{}', -- JSON
        recorded_at real not null            -- when this process stored it
    )""",
    "create index if not exists revocations_subject on revocations (scope, subject)",
    """create table if not exists ssf_receivers (
        stream_id text primary key,
        aud text not null,
        description text,
        events_requested text not null,      -- JSON array of event-type URIs
        delivery_method text not null,       -- urn:ietf:rfc:8935 (push) | urn:ietf:rfc:8936 (poll)
        endpoint_url text,                   -- push: receiver URL; poll: our poll URL
        authorization_header text,           -- push: sent to the receiver as Authorization
        poll_token_hash text,                -- poll: SHA-256 of the stream's bearer token
        status text not null default 'enabled',
        created_at real not null
    )""",
    """create table if not exists ssf_outbox (
        seq integer primary key autoincrement,
        stream_id text not null,
        jti text not null,
        event_type text not null,            -- CAEP event URI
        set_jwt text not null,
        state text not null default 'pending', -- pending | delivered | acked | failed
        attempts integer not null default 0,
        next_attempt_at real not null,
        last_error text,
        created_at real not null,
        delivered_at real,
        unique (stream_id, jti)
    )""",
    "create index if not exists ssf_outbox_due on ssf_outbox (state, next_attempt_at)",
    """create table if not exists ssf_transmitters (
        transmitter_id text primary key,
        issuer text not null,
        jwks text not null,                  -- JSON public JWKS
        audience text not null,              -- aud the SETs must carry
        token_hash text not null,            -- SHA-256 of the bearer token the transmitter pushes with
        poll_url text,                       -- the transmitter's poll endpoint (RFC 8936), if we poll
        poll_token text,                     -- bearer token we poll with
        created_at real not null
    )""",
    """create table if not exists ssf_received (
        transmitter_id text not null,
        jti text not null,
        received_at real not null,
        event_types text not null,
        outcome text not null,
        primary key (transmitter_id, jti)
    )""",
)

REVOCATION_COLUMNS = ("seq", "event_key", "event_type", "scope", "subject", "subject_alt", "user_id",
                      "revoked_at", "source", "reason", "evidence", "recorded_at")


def _row_event(row: Sequence[Any]) -> CriticalEvent:
    return CriticalEvent(event_key=row[1], event_type=row[2], scope=row[3], subject=row[4],
                         subject_alt=row[5], user_id=row[6], revoked_at=row[7], source=row[8],
                         reason=row[9], evidence=orjson.loads(row[10]))


class Journal:
    """A SQLite connection shared by the threads of one process (serialised by ``lock``)."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        self.path = str(path)
        if self.path != ":memory:" and not Path(self.path).parent.exists():
            raise StoreError("folder does not exist", path=str(Path(self.path).parent))
        if self.path != ":memory:":
            # it holds receivers' push credentials and the tokens we poll with: owner-only, like the
            # signing keys (SQLite gives its -wal and -shm files the database file's mode)
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
            except OSError as exc:
                raise StoreError(f"cannot create the CAE journal ({exc.strerror})", path=self.path) from None
        try:
            self.con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                       check_same_thread=False)
            self.con.execute("pragma busy_timeout = 30000")
            self.con.execute("pragma journal_mode = wal")
            self.con.execute(f"pragma synchronous = {'FULL' if synchronous == 'FULL' else 'NORMAL'}")
            with self.transaction():
                for ddl in _DDL:
                    self.con.execute(ddl)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the CAE journal ({exc})", path=self.path) from None
        self.lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` takes the write lock up front, so two processes never deadlock."""
        with transaction(self.con, "BEGIN IMMEDIATE"):
            yield self.con

    def append(self, events: Sequence[CriticalEvent]) -> list[tuple[int, CriticalEvent]]:
        """Store events (one transaction); returns those that were new, with their ``seq``."""
        new: list[tuple[int, CriticalEvent]] = []
        now = time.time()
        with self.lock, self.transaction() as con:
            for ev in events:
                cur = con.execute(
                    "insert into revocations (event_key, event_type, scope, subject, subject_alt, user_id,"
                    " revoked_at, source, reason, evidence, recorded_at) values (?,?,?,?,?,?,?,?,?,?,?)"
                    " on conflict (event_key) do nothing",
                    (ev.event_key, ev.event_type, ev.scope, ev.subject, ev.subject_alt, ev.user_id,
                     ev.revoked_at, ev.source, ev.reason, orjson.dumps(ev.evidence).decode(), now))
                if cur.rowcount == 1 and cur.lastrowid is not None:
                    new.append((cur.lastrowid, ev))
        return new

    def since(self, seq: int, limit: int = 100_000) -> list[tuple[int, CriticalEvent]]:
        with self.lock:
            rows = self.con.execute(
                f"select {', '.join(REVOCATION_COLUMNS)} from revocations where seq > ? order by seq limit ?",
                (seq, limit)).fetchall()
        return [(int(r[0]), _row_event(r)) for r in rows]

    def revocation_rows(self, *, limit: int | None = None, subject: str | None = None) -> list[dict[str, Any]]:
        sql = f"select {', '.join(REVOCATION_COLUMNS)} from revocations"
        params: list[Any] = []
        if subject:
            sql += " where subject = ? or subject_alt = ? or user_id = ?"
            params += [subject.lower()] * 3
        sql += " order by seq desc"
        if limit:
            sql += " limit ?"
            params.append(limit)
        with self.lock:
            rows = self.con.execute(sql, params).fetchall()
        out = []
        for r in rows:
            d = dict(zip(REVOCATION_COLUMNS, r, strict=True))
            d["evidence"] = orjson.loads(d["evidence"])
            out.append(d)
        return out

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.lock:
            row = self.con.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            cur = self.con.execute(sql, params)
            names = [d[0] for d in cur.description or ()]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns the changed row count."""
        with self.lock, self.transaction() as con:
            return con.execute(sql, params).rowcount

    def close(self) -> None:
        with self.lock:
            self.con.close()
