"""The SSF receiver: accept SETs from registered transmitters and apply them.

A transmitter is registered with its issuer, its public JWKS and the audience its SETs must
carry; registration returns the bearer token it must push with (stored as SHA-256). A SET is
accepted only when the token matches, the signature verifies against that transmitter's keys,
``typ`` is ``secevent+jwt``, ``iss`` and ``aud`` match and the structure is RFC 8417 / SSF;
every failure maps to an RFC 8935 error code. Replays (same ``jti``) are acknowledged without
being applied twice. We can also poll a transmitter (RFC 8936) and acknowledge what we applied.
"""
from __future__ import annotations

import hmac
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError

from vigil.cae.events import CriticalEvent
from vigil.cae.journal import Journal
from vigil.cae.keys import ALLOWED_ALGS, jwks_from_dict
from vigil.cae.sets import SetInvalid, events_from_set, structure_problems
from vigil.cae.transmitter import token_hash
from vigil.errors import ConfigError, InputError

Apply = Callable[[Sequence[CriticalEvent]], list[CriticalEvent]]


@dataclass
class Received:
    jti: str
    events: list[CriticalEvent]
    applied: int
    replay: bool
    notes: list[str] = field(default_factory=list)


class Receiver:
    def __init__(self, journal: Journal, apply: Apply) -> None:
        self.journal = journal
        self.apply = apply

    def register(self, *, issuer: Any, jwks: Any, audience: Any, poll_url: Any = None,
                 poll_token: Any = None) -> dict[str, Any]:
        if not isinstance(issuer, str) or not issuer:
            raise InputError("issuer: required")
        if not isinstance(audience, str) or not audience:
            raise InputError("audience: required (the aud of the transmitter's stream for us)")
        try:
            jwks_from_dict(jwks, where="jwks")
        except ConfigError as exc:
            raise InputError(str(exc)) from None
        for name, value in (("poll_url", poll_url), ("poll_token", poll_token)):
            if value is not None and not isinstance(value, str):
                raise InputError(f"{name}: expected a string")
        tid = uuid.uuid4().hex[:16]
        token = "ssfr_" + secrets.token_urlsafe(32)
        self.journal.execute(
            "insert into ssf_transmitters (transmitter_id, issuer, jwks, audience, token_hash, poll_url,"
            " poll_token, created_at) values (?,?,?,?,?,?,?,?)",
            (tid, issuer, orjson.dumps(jwks).decode(), audience, token_hash(token), poll_url, poll_token, time.time()))
        return {"transmitter_id": tid, "issuer": issuer, "audience": audience,
                "push_endpoint_path": f"/ssf/receive/{tid}", "authorization_header": f"Bearer {token}"}

    def transmitters(self) -> list[dict[str, Any]]:
        rows = self.journal.rows("select transmitter_id, issuer, audience, poll_url, created_at,"
                                 " (select count(*) from ssf_received r where r.transmitter_id = t.transmitter_id)"
                                 " as received from ssf_transmitters t order by created_at")
        return rows

    def remove(self, transmitter_id: str) -> bool:
        return self.journal.execute("delete from ssf_transmitters where transmitter_id = ?", (transmitter_id,)) == 1

    def _transmitter(self, transmitter_id: str) -> dict[str, Any] | None:
        rows = self.journal.rows("select * from ssf_transmitters where transmitter_id = ?", (transmitter_id,))
        return rows[0] if rows else None

    def authenticate(self, transmitter_id: str, authorization: str | None) -> dict[str, Any]:
        tr = self._transmitter(transmitter_id)
        scheme, _, token = (authorization or "").partition(" ")
        if tr is None or scheme.lower() != "bearer" or not token.strip() or \
                not hmac.compare_digest(tr["token_hash"], token_hash(token.strip())):
            raise SetInvalid("authentication_failed", "missing or wrong bearer token for this transmitter")
        return tr

    def validate(self, tr: dict[str, Any], token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Signature, header and claims of one SET from transmitter ``tr``."""
        keys = jwks_from_dict(orjson.loads(tr["jwks"]), where=f"transmitter {tr['transmitter_id']} jwks")
        try:
            obj = jws.deserialize_compact(token.strip(), keys, algorithms=ALLOWED_ALGS)
        except BadSignatureError:
            raise SetInvalid("invalid_key", "signature does not verify with the transmitter's keys") from None
        except JoseError as exc:
            err = "invalid_key" if "key" in (exc.error or "") else "invalid_request"
            raise SetInvalid(err, f"not a valid JWS: {exc.description or exc.error}") from None
        except (ValueError, TypeError) as exc:
            raise SetInvalid("invalid_request", f"not a valid JWS: {exc}") from None
        try:
            claims = orjson.loads(obj.payload)
        except orjson.JSONDecodeError:
            raise SetInvalid("invalid_request", "payload is not JSON") from None
        if not isinstance(claims, dict):
            raise SetInvalid("invalid_request", "payload is not a JSON object")
        header = dict(obj.protected)
        problems = structure_problems(header, claims)
        if problems:
            raise SetInvalid("invalid_request", "; ".join(problems))
        if claims["iss"] != tr["issuer"]:
            raise SetInvalid("invalid_issuer", f"iss {claims['iss']!r} is not {tr['issuer']!r}")
        aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if tr["audience"] not in aud:
            raise SetInvalid("invalid_audience", f"aud {claims['aud']!r} does not include {tr['audience']!r}")
        return header, claims

    def receive(self, transmitter_id: str, authorization: str | None, token: str) -> Received:
        """Push entry point: authenticate, validate, de-duplicate, apply."""
        tr = self.authenticate(transmitter_id, authorization)
        return self.accept(tr, token)

    def accept(self, tr: dict[str, Any], token: str) -> Received:
        _, claims = self.validate(tr, token)
        jti = claims["jti"]
        events, notes = events_from_set(claims, source_key=tr["transmitter_id"])
        with self.journal.lock, self.journal.transaction() as con:
            new = con.execute(
                "insert into ssf_received (transmitter_id, jti, received_at, event_types, outcome)"
                " values (?,?,?,?,?) on conflict do nothing",
                (tr["transmitter_id"], jti, time.time(), orjson.dumps(list(claims["events"])).decode(),
                 "; ".join(notes) or f"{len(events)} revocation(s)")).rowcount == 1
        if not new:
            return Received(jti, events, 0, True, notes)
        applied = self.apply(events)
        return Received(jti, events, len(applied), False, notes)

    def poll_once(self, transmitter_id: str, client: httpx.Client, *, max_events: int = 100,
                  ack: Sequence[str] = (), set_errs: dict[str, dict[str, str]] | None = None
                  ) -> tuple[list[Received], list[str], dict[str, dict[str, str]], bool]:
        """Poll the transmitter once (acknowledging ``ack``); returns what was received, the jtis
        to acknowledge next, errors to report next, and moreAvailable."""
        tr = self._transmitter(transmitter_id)
        if tr is None or not tr["poll_url"]:
            raise InputError(f"transmitter {transmitter_id!r}: unknown, or registered without a poll URL")
        body = {"maxEvents": max_events, "returnImmediately": True, "ack": list(ack), "setErrs": set_errs or {}}
        resp = client.post(tr["poll_url"], json=body, headers={"Authorization": f"Bearer {tr['poll_token']}",
                                                                "Accept": "application/json"})
        if resp.status_code != 200:
            raise InputError(f"poll {tr['poll_url']}: HTTP {resp.status_code} {resp.text[:200]}")
        data = resp.json()
        out: list[Received] = []
        acks: list[str] = []
        errs: dict[str, dict[str, str]] = {}
        for jti, token in (data.get("sets") or {}).items():
            try:
                out.append(self.accept(tr, token))
                acks.append(jti)
            except SetInvalid as exc:
                errs[jti] = {"err": exc.err, "description": exc.description}
        return out, acks, errs, bool(data.get("moreAvailable"))

    def poll_all(self, transmitter_id: str, client: httpx.Client, *, max_events: int = 100) -> dict[str, int]:
        """Poll until nothing more is available, acknowledging each batch on the next request."""
        totals = {"received": 0, "applied": 0, "errors": 0, "requests": 0}
        acks: list[str] = []
        errs: dict[str, dict[str, str]] = {}
        more = True
        while more or acks or errs:
            got, acks_next, errs_next, more = self.poll_once(transmitter_id, client, max_events=max_events if more
                                                             else 0, ack=acks, set_errs=errs)
            totals["requests"] += 1
            totals["received"] += len(got)
            totals["applied"] += sum(r.applied for r in got)
            totals["errors"] += len(errs_next)
            if not got and not errs_next and not more:
                acks, errs = [], {}
                break
            acks, errs = acks_next, errs_next
        return totals
