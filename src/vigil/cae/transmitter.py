"""The SSF transmitter: streams (registered receivers), the persisted outbox, push and poll.

* Streams live in ``ssf_receivers``; creating one returns the SSF stream configuration.
  Poll streams get a bearer token (shown once, stored as SHA-256) for their poll endpoint.
* Every critical event becomes one signed SET per enabled stream that requested its event
  type; SETs wait in ``ssf_outbox`` (SQLite, so they survive a restart) until delivered.
* Push (RFC 8935): POST ``application/secevent+jwt``; 202 means delivered; a 400 with an
  ``err`` is permanent (the receiver will never accept this SET) and marks it failed; network
  errors, 5xx and 429 are retried with exponential backoff and jitter up to a maximum.
* Poll (RFC 8936): the receiver POSTs ``{maxEvents, returnImmediately, ack, setErrs}``;
  acknowledged SETs leave the queue, unacknowledged ones are offered again after a while.
"""
from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from joserfc.jwk import KeySet

from vigil.cae.events import CriticalEvent
from vigil.cae.journal import Journal
from vigil.cae.sets import EVENTS_SUPPORTED, VERIFICATION, build_set, caep_event, sub_id_for
from vigil.errors import InputError
from vigil.settings import CaeSettings

PUSH = "urn:ietf:rfc:8935"
POLL = "urn:ietf:rfc:8936"
DELIVERY_METHODS = (PUSH, POLL)
REDELIVER_AFTER_S = 30.0
ERR_CODES = ("invalid_request", "invalid_key", "invalid_issuer", "invalid_audience",
             "authentication_failed", "access_denied")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class PushResult:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


class Transmitter:
    def __init__(self, journal: Journal, keys: KeySet, settings: CaeSettings, base_url: str = "") -> None:
        self.journal = journal
        self.keys = keys
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.wake = threading.Event()  # set when push SETs are queued; the deliverer waits on it

    # -- streams ------------------------------------------------------------------------------
    def create_stream(self, body: dict[str, Any], *, base_url: str | None = None) -> dict[str, Any]:
        """Create a stream from an SSF stream-creation body; returns the configuration
        (plus ``poll_token`` once, for poll streams)."""
        if not isinstance(body, dict):
            raise InputError("body: expected a JSON object")
        delivery = body.get("delivery") or {}
        if not isinstance(delivery, dict):
            raise InputError("body.delivery: expected an object")
        method = delivery.get("method", PUSH)
        if method not in DELIVERY_METHODS:
            raise InputError(f"body.delivery.method: must be one of {', '.join(DELIVERY_METHODS)}")
        requested = body.get("events_requested") or list(EVENTS_SUPPORTED)
        if not isinstance(requested, list) or not all(isinstance(e, str) for e in requested):
            raise InputError("body.events_requested: expected an array of event-type URIs")
        aud = body.get("aud") or f"urn:vigil:receiver:{uuid.uuid4().hex[:12]}"
        if not isinstance(aud, str):
            raise InputError("body.aud: expected a string")
        stream_id = uuid.uuid4().hex
        endpoint = delivery.get("endpoint_url")
        auth_header = delivery.get("authorization_header")
        poll_token = None
        if method == PUSH:
            if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
                raise InputError("body.delivery.endpoint_url: push delivery needs the receiver's http(s) URL")
            if auth_header is not None and not isinstance(auth_header, str):
                raise InputError("body.delivery.authorization_header: expected a string")
        else:
            poll_token = "ssfp_" + secrets.token_urlsafe(32)
            endpoint = f"{(base_url or self.base_url).rstrip('/')}/ssf/poll/{stream_id}"
            auth_header = None
        desc = body.get("description")
        self.journal.execute(
            "insert into ssf_receivers (stream_id, aud, description, events_requested, delivery_method,"
            " endpoint_url, authorization_header, poll_token_hash, status, created_at)"
            " values (?,?,?,?,?,?,?,?,'enabled',?)",
            (stream_id, aud, desc if isinstance(desc, str) else None, orjson.dumps(requested).decode(), method,
             endpoint, auth_header, token_hash(poll_token) if poll_token else None, time.time()))
        config = self.get_stream(stream_id)
        assert config is not None
        if poll_token:
            config["poll_token"] = poll_token
        return config

    def _config(self, row: dict[str, Any]) -> dict[str, Any]:
        requested = orjson.loads(row["events_requested"])
        delivery: dict[str, Any] = {"method": row["delivery_method"], "endpoint_url": row["endpoint_url"]}
        return {
            "stream_id": row["stream_id"], "iss": self.settings.issuer, "aud": row["aud"],
            "events_supported": list(EVENTS_SUPPORTED), "events_requested": requested,
            "events_delivered": [e for e in requested if e in EVENTS_SUPPORTED],
            "delivery": delivery, "description": row["description"], "status": row["status"],
        }

    def get_stream(self, stream_id: str) -> dict[str, Any] | None:
        rows = self.journal.rows("select * from ssf_receivers where stream_id = ?", (stream_id,))
        return self._config(rows[0]) if rows else None

    def list_streams(self) -> list[dict[str, Any]]:
        streams = [self._config(r) for r in self.journal.rows("select * from ssf_receivers order by created_at")]
        counts = {(r["stream_id"], r["state"]): r["n"] for r in self.journal.rows(
            "select stream_id, state, count(*) n from ssf_outbox group by 1, 2")}
        for s in streams:
            s["outbox"] = {st: counts.get((s["stream_id"], st), 0)
                           for st in ("pending", "delivered", "acked", "failed")}
        return streams

    def delete_stream(self, stream_id: str) -> bool:
        with self.journal.lock, self.journal.transaction() as con:
            con.execute("delete from ssf_outbox where stream_id = ?", (stream_id,))
            return con.execute("delete from ssf_receivers where stream_id = ?", (stream_id,)).rowcount == 1

    def check_poll_token(self, stream_id: str, authorization: str | None) -> bool:
        stored = self.journal.scalar("select poll_token_hash from ssf_receivers where stream_id = ?", (stream_id,))
        scheme, _, token = (authorization or "").partition(" ")
        if not stored or scheme.lower() != "bearer" or not token.strip():
            return False
        return hmac.compare_digest(stored, token_hash(token.strip()))

    # -- emitting -----------------------------------------------------------------------------
    def emit(self, events: Sequence[CriticalEvent], *, now: float | None = None) -> int:
        """Queue one SET per (event, interested stream); returns how many were queued."""
        if not events:
            return 0
        streams = self.journal.rows("select stream_id, aud, events_requested, delivery_method from ssf_receivers"
                                    " where status = 'enabled'")
        if not streams:
            return 0
        t = time.time() if now is None else now
        rows = []
        for ev in events:
            uri, body = caep_event(ev)
            sub = sub_id_for(ev, self.settings.issuer)
            for s in streams:
                if uri not in orjson.loads(s["events_requested"]):
                    continue
                token, claims = build_set(self.keys, issuer=self.settings.issuer, audience=s["aud"],
                                          event_uri=uri, event_body=body, sub_id=sub, txn=ev.event_key, now=t)
                rows.append((s["stream_id"], claims["jti"], uri, token, t, t))
        return self._queue(rows)

    def _queue(self, rows: list[tuple[Any, ...]]) -> int:
        if rows:
            with self.journal.lock, self.journal.transaction() as con:
                con.executemany("insert into ssf_outbox (stream_id, jti, event_type, set_jwt, next_attempt_at,"
                                " created_at) values (?,?,?,?,?,?)", rows)
            self.wake.set()
        return len(rows)

    def verify(self, stream_id: str, state: str | None = None) -> str:
        """Queue an SSF verification event on one stream (SSF 1.0 §8.1.4); returns its jti."""
        s = self.journal.rows("select aud from ssf_receivers where stream_id = ?", (stream_id,))
        if not s:
            raise InputError(f"stream_id {stream_id!r}: no such stream")
        body = {"state": state} if state else {}
        token, claims = build_set(self.keys, issuer=self.settings.issuer, audience=s[0]["aud"],
                                  event_uri=VERIFICATION, event_body=body,
                                  sub_id={"format": "opaque", "id": stream_id})
        t = time.time()
        self._queue([(stream_id, claims["jti"], VERIFICATION, token, t, t)])
        return str(claims["jti"])

    # -- push (RFC 8935) ----------------------------------------------------------------------
    def push_due(self, client: httpx.Client, *, now: float | None = None, limit: int = 500) -> PushResult:
        """Attempt every push SET whose time has come; returns what happened."""
        t = time.time() if now is None else now
        with self.journal.lock, self.journal.transaction() as con:
            cur = con.execute(
                "select o.seq, o.set_jwt, o.attempts, r.endpoint_url, r.authorization_header from ssf_outbox o"
                " join ssf_receivers r using (stream_id) where o.state = 'pending' and r.delivery_method = ?"
                " and r.status = 'enabled' and o.next_attempt_at <= ? order by o.seq limit ?", (PUSH, t, limit))
            names = [d[0] for d in cur.description]
            due = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            # lease: another deliverer (the service, `vigil ssf deliver`) skips these while we push them
            lease = t + len(due) * self.settings.push_timeout_s + 1
            con.executemany("update ssf_outbox set next_attempt_at = ? where seq = ?", [(lease, d["seq"]) for d in due])
        res = PushResult()
        for item in due:
            res.attempted += 1
            headers = {"Content-Type": "application/secevent+jwt", "Accept": "application/json"}
            if item["authorization_header"]:
                headers["Authorization"] = item["authorization_header"]
            permanent, error = False, None
            try:
                resp = client.post(item["endpoint_url"], content=item["set_jwt"], headers=headers,
                                   timeout=self.settings.push_timeout_s)
                if 200 <= resp.status_code < 300:
                    self.journal.execute("update ssf_outbox set state = 'delivered', attempts = attempts + 1,"
                                         " delivered_at = ?, last_error = null where seq = ?",
                                         (time.time(), item["seq"]))
                    res.delivered += 1
                    continue
                error = f"HTTP {resp.status_code}: {_err_text(resp)}"
                permanent = resp.status_code in (400, 401, 403, 404, 413)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            attempts = int(item["attempts"]) + 1
            if permanent or attempts >= self.settings.push_max_attempts:
                self.journal.execute("update ssf_outbox set state = 'failed', attempts = ?, last_error = ?"
                                     " where seq = ?", (attempts, error, item["seq"]))
                res.failed += 1
            else:
                delay = min(self.settings.push_backoff_s * 2 ** (attempts - 1), self.settings.push_backoff_max_s)
                delay *= random.uniform(0.8, 1.2)  # jitter: receivers coming back are not stampeded
                self.journal.execute("update ssf_outbox set attempts = ?, last_error = ?, next_attempt_at = ?"
                                     " where seq = ?", (attempts, error, time.time() + delay, item["seq"]))
                res.retrying += 1
        return res

    def next_push_due(self) -> float | None:
        v = self.journal.scalar("select min(o.next_attempt_at) from ssf_outbox o join ssf_receivers r"
                                " using (stream_id) where o.state = 'pending' and r.delivery_method = ?"
                                " and r.status = 'enabled'",
                                (PUSH,))
        return None if v is None else float(v)

    # -- poll (RFC 8936) ----------------------------------------------------------------------
    def poll(self, stream_id: str, body: dict[str, Any], *, now: float | None = None) -> dict[str, Any]:
        """One poll request: apply acks and setErrs, then hand out up to maxEvents SETs."""
        if not isinstance(body, dict):
            raise InputError("body: expected a JSON object")
        max_events = body.get("maxEvents", 100)
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 0:
            raise InputError("body.maxEvents: expected a non-negative integer")
        acks = body.get("ack") or []
        if not isinstance(acks, list) or not all(isinstance(a, str) for a in acks):
            raise InputError("body.ack: expected an array of jti strings")
        errs = body.get("setErrs") or {}
        if not isinstance(errs, dict):
            raise InputError("body.setErrs: expected an object keyed by jti")
        t = time.time() if now is None else now
        with self.journal.lock, self.journal.transaction() as con:
            if acks:
                con.executemany("update ssf_outbox set state = 'acked', delivered_at = coalesce(delivered_at, ?)"
                                " where stream_id = ? and jti = ?", [(t, stream_id, a) for a in acks])
            for jti, err in errs.items():
                detail = err if isinstance(err, dict) else {"err": str(err)}
                con.execute("update ssf_outbox set state = 'failed', last_error = ? where stream_id = ? and jti = ?",
                            (f"receiver: {detail.get('err')}: {detail.get('description', '')}", stream_id, jti))
            rows = con.execute(
                "select seq, jti, set_jwt from ssf_outbox where stream_id = ? and (state = 'pending' or"
                " (state = 'delivered' and delivered_at < ?)) order by seq limit ?",
                (stream_id, t - REDELIVER_AFTER_S, max_events + 1)).fetchall()
            handed = rows[:max_events]
            con.executemany("update ssf_outbox set state = 'delivered', delivered_at = ?, attempts = attempts + 1"
                            " where seq = ?", [(t, r[0]) for r in handed])
        return {"sets": {r[1]: r[2] for r in handed}, "moreAvailable": len(rows) > max_events}

    def has_pollable(self, stream_id: str) -> bool:
        return bool(self.journal.scalar("select count(*) from ssf_outbox where stream_id = ? and state = 'pending'",
                                        (stream_id,)))

    def outbox(self, *, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        sql = ("select seq, stream_id, jti, event_type, state, attempts, last_error, created_at, delivered_at"
               " from ssf_outbox")
        params: list[Any] = []
        if state:
            sql += " where state = ?"
            params.append(state)
        return self.journal.rows(sql + " order by seq desc limit ?", (*params, limit))


def _err_text(resp: httpx.Response) -> str:
    try:
        body = resp.json()
        if isinstance(body, dict) and "err" in body:
            return f"{body['err']}: {body.get('description', '')}"
    except ValueError:
        pass
    return resp.text[:200]


class PushDeliverer:
    """A daemon thread that pushes due SETs; woken at once when SETs are queued in-process,
    and every ``idle_s`` to pick up SETs other processes queued or retries that came due."""

    def __init__(self, transmitter: Transmitter, *, idle_s: float = 0.5) -> None:
        self.transmitter = transmitter
        self.idle_s = idle_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.totals = PushResult()

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="vigil-ssf-push", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.transmitter.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client() as client:
            while not self._stop.is_set():
                self.transmitter.wake.clear()
                r = self.transmitter.push_due(client)
                for f in ("attempted", "delivered", "retrying", "failed"):
                    setattr(self.totals, f, getattr(self.totals, f) + getattr(r, f))
                nxt = self.transmitter.next_push_due()
                wait = self.idle_s if nxt is None else max(0.0, min(self.idle_s, nxt - time.time()))
                if r.attempted == 0:
                    self.transmitter.wake.wait(max(wait, 0.01))
