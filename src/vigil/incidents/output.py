"""Outputs for a SIEM or a SOAR: JSON lines, and a signed webhook for new or updated incidents.

Webhook requests are ``POST`` with a JSON body ``{"type": "incident.created" | "incident.updated",
"incident": {...}}`` and headers:

* ``X-Vigil-Timestamp``: Unix seconds when signed;
* ``X-Vigil-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with the shared
  secret (receivers recompute it and reject stale timestamps, which stops replays);
* ``X-Vigil-Delivery``: id of this delivery; ``X-Vigil-Event``: the type.

A version of an incident (its evidence hash, status and classification) is delivered once per
URL; connection errors, timeouts, 429 and 5xx are retried with exponential back-off (``Retry-After``
honoured up to 60 s); other 4xx fail at once. Deliveries are recorded in ``incident_deliveries``.
"""
from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

import httpx
import orjson

from vigil.errors import ConfigError, InputError
from vigil.incidents.tables import TABLES
from vigil.settings import IncidentSettings
from vigil.store import Store

JSON_COLUMNS = ("session_keys", "detection_ids", "event_ids", "risk_event_types", "behavior_ids", "accounts")


def _dumps(row: dict[str, Any]) -> bytes:
    return orjson.dumps(row, default=str, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z)


def incident_rows(store: Store, where: str = "true", params: list[Any] | None = None) -> list[dict[str, Any]]:
    if "incidents" not in store.relations():
        raise InputError("no incidents table: run `vigil analyze` first")
    rows = store.query(
        f"""select * exclude (content_hash) from incidents where {where}
            order by priority desc, last_activity desc, incident_id""", params).to_pylist()
    for r in rows:
        for c in JSON_COLUMNS:
            if isinstance(r.get(c), str):
                r[c] = orjson.loads(r[c])
    return rows


def detection_rows(store: Store) -> Iterator[dict[str, Any]]:
    if "riskDetections" not in store.relations():
        raise InputError("no riskDetections table: run `vigil analyze` first")
    table = store.query('select * from "riskDetections" order by activityDateTime, id')
    for batch in table.to_batches(max_chunksize=10_000):
        for row in batch.to_pylist():
            for c in ("location", "additionalInfo", "mitre"):
                if isinstance(row.get(c), str):
                    row[c] = orjson.loads(row[c])
            yield row


def write_jsonl(rows: Any, out: IO[bytes]) -> int:
    n = 0
    for row in rows:
        out.write(_dumps(row) + b"\n")
        n += 1
    return n


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, max_age_s: int = 300,
           now: float | None = None) -> bool:
    """What a receiver does: constant-time compare, and refuse old timestamps (replays)."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


def _version(row: dict[str, Any], content_hash: str) -> str:
    return f"{content_hash}|{row.get('status')}|{row.get('classification')}"


def pending(store: Store, url: str) -> list[tuple[dict[str, Any], str, bool]]:
    """(incident, version, already delivered before) for every incident version not yet at ``url``."""
    store.ensure(TABLES)
    hashes = dict(store.con.execute("select incident_id, content_hash from incidents").fetchall())
    delivered = store.con.execute("select incident_id, version from incident_deliveries where url = ?",
                                  [url]).fetchall()
    seen_versions = {(i, v) for i, v in delivered}
    seen_ids = {i for i, _ in delivered}
    out = []
    for row in incident_rows(store):
        v = _version(row, hashes.get(row["incident_id"]) or "")
        if (row["incident_id"], v) not in seen_versions:
            out.append((row, v, row["incident_id"] in seen_ids))
    return out


def send(store: Store, s: IncidentSettings, *, url: str | None = None, secret: str | None = None,
         client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    url = url or s.webhook_url
    secret = secret or s.webhook_secret
    if not url:
        raise ConfigError("no webhook URL (incidents.webhook_url or --url)")
    if not secret:
        raise ConfigError("no webhook secret (incidents.webhook_secret or --secret): deliveries are always signed")
    own = client is None
    http = client or httpx.Client(timeout=s.webhook_timeout_s)
    sent, failed = [], []
    try:
        for row, version, updated in pending(store, url):
            event = "incident.updated" if updated else "incident.created"
            body = _dumps({"type": event, "incident": row})
            ok, attempts, status, error = _deliver(http, url, secret, event, body, s, sleep)
            if ok:
                store.con.execute("insert or replace into incident_deliveries values (?, ?, ?, ?, ?, ?)",
                                  [url, row["incident_id"], version,
                                   datetime.now(UTC).replace(tzinfo=None), attempts, status])
                sent.append({"incident_id": row["incident_id"], "type": event, "attempts": attempts})
            else:
                failed.append({"incident_id": row["incident_id"], "type": event, "attempts": attempts,
                               "http_status": status, "error": error})
    finally:
        if own:
            http.close()
    return {"url": url, "sent": len(sent), "failed": len(failed), "deliveries": sent, "failures": failed}


def _deliver(http: httpx.Client, url: str, secret: str, event: str, body: bytes, s: IncidentSettings,
             sleep: Callable[[float], None]) -> tuple[bool, int, int | None, str | None]:
    delivery = uuid.uuid4().hex
    status: int | None = None
    error: str | None = None
    delay = s.webhook_backoff_s
    for attempt in range(1, s.webhook_max_attempts + 1):
        ts = int(time.time())
        headers = {"Content-Type": "application/json", "X-Vigil-Event": event, "X-Vigil-Delivery": delivery,
                   "X-Vigil-Timestamp": str(ts), "X-Vigil-Signature": sign(secret, ts, body)}
        wait = delay
        try:
            resp = http.post(url, content=body, headers=headers)
            status = resp.status_code
            if 200 <= status < 300:
                return True, attempt, status, None
            error = f"HTTP {status}"
            if status != 429 and status < 500:
                return False, attempt, status, error  # the receiver refuses it: retrying will not help
            retry_after = resp.headers.get("Retry-After", "")
            if retry_after.isdigit():
                wait = min(float(retry_after), 60.0)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if attempt < s.webhook_max_attempts:
            sleep(wait)
            delay *= 2
    return False, s.webhook_max_attempts, status, error
