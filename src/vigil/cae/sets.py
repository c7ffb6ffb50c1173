"""Security Event Tokens (RFC 8417) carrying CAEP events, as profiled by SSF 1.0.

A SET here: header ``typ: secevent+jwt``, ``alg`` + ``kid``; claims ``iss``, ``iat``, ``jti``,
``aud``, optional ``txn``, ``sub_id`` (an RFC 9493 / SSF subject identifier, top-level per
SSF 1.0), and ``events`` with exactly one member keyed by the CAEP event-type URI. No ``sub``
and no ``exp``: a SET is a statement of fact, never an access token.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
from joserfc import jws
from joserfc.jwk import KeySet

from vigil.cae.events import CriticalEvent, new_event
from vigil.cae.keys import ALLOWED_ALGS, signing_key
from vigil.errors import InputError

CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
SESSION_REVOKED = CAEP + "session-revoked"
CREDENTIAL_CHANGE = CAEP + "credential-change"
ASSURANCE_LEVEL_CHANGE = CAEP + "assurance-level-change"
DEVICE_COMPLIANCE_CHANGE = CAEP + "device-compliance-change"
VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification"
EVENTS_SUPPORTED = (SESSION_REVOKED, CREDENTIAL_CHANGE, ASSURANCE_LEVEL_CHANGE, DEVICE_COMPLIANCE_CHANGE)
SET_TYP = "secevent+jwt"
_INITIATOR = {"password_changed": "user", "user_risk_high": "policy", "audit_logs": "admin"}


class SetInvalid(Exception):
    """A SET failed a check; ``err`` is the RFC 8935 §2.4 error code."""

    def __init__(self, err: str, description: str) -> None:
        super().__init__(f"{err}: {description}")
        self.err = err
        self.description = description


# -- emitting ----------------------------------------------------------------------------------
def sub_id_for(ev: CriticalEvent, issuer: str) -> dict[str, Any]:
    """``iss_sub`` for users; a complex subject (``format: complex``) for sessions and devices."""
    if ev.scope == "user":
        if "@" in ev.subject and not ev.user_id:
            return {"format": "email", "email": ev.subject}
        return {"format": "iss_sub", "iss": issuer, "sub": ev.subject}
    member = {"format": "opaque", "id": ev.subject}
    out: dict[str, Any] = {"format": "complex", ev.scope: member}
    if ev.user_id:
        out["user"] = {"format": "iss_sub", "iss": issuer, "sub": ev.user_id}
    return out


def caep_event(ev: CriticalEvent) -> tuple[str, dict[str, Any]]:
    """The CAEP event-type URI and body that tell a receiver about ``ev``."""
    common: dict[str, Any] = {"event_timestamp": int(ev.revoked_at),
                              "initiating_entity": _INITIATOR.get(ev.event_type, "admin" if ev.source in
                                                                  ("cli", "api", "audit_logs") else "system"),
                              "reason_admin": {"en": ev.reason}}
    t = ev.event_type
    if t in ("password_changed", "password_reset"):
        return CREDENTIAL_CHANGE, {**common, "credential_type": "password", "change_type": "update"}
    if t == "mfa_registered":
        ctype = str(ev.evidence.get("credential_type") or "app")
        return CREDENTIAL_CHANGE, {**common, "credential_type": ctype, "change_type": "create"}
    if t == "credential_change":
        return CREDENTIAL_CHANGE, {**common, "credential_type": str(ev.evidence.get("credential_type") or "password"),
                                   "change_type": str(ev.evidence.get("change_type") or "update")}
    if t == "assurance_level_decreased":
        body = {**common, "namespace": str(ev.evidence.get("namespace") or "NIST-AAL"),
                "current_level": str(ev.evidence.get("current_level") or "nist-aal1"),
                "change_direction": "decrease"}
        if ev.evidence.get("previous_level"):
            body["previous_level"] = str(ev.evidence["previous_level"])
        return ASSURANCE_LEVEL_CHANGE, body
    if t == "device_noncompliant":
        return DEVICE_COMPLIANCE_CHANGE, {**common, "previous_status": "compliant",
                                          "current_status": "not-compliant"}
    return SESSION_REVOKED, common  # disabled, deleted, sessions revoked, risk high, session/admin revoke


def build_set(keys: KeySet, *, issuer: str, audience: str | list[str], event_uri: str,
              event_body: dict[str, Any], sub_id: dict[str, Any], txn: str | None = None,
              now: float | None = None) -> tuple[str, dict[str, Any]]:
    claims: dict[str, Any] = {"iss": issuer, "iat": int(now if now is not None else time.time()),
                              "jti": uuid.uuid4().hex, "aud": audience, "sub_id": sub_id,
                              "events": {event_uri: event_body}}
    if txn:
        claims["txn"] = txn
    key = signing_key(keys)
    header = {"alg": key.get("alg") or "ES256", "kid": key.kid, "typ": SET_TYP}
    token = jws.serialize_compact(header, orjson.dumps(claims), key, algorithms=ALLOWED_ALGS)
    return token, claims


# -- checking ----------------------------------------------------------------------------------
def structure_problems(header: dict[str, Any], claims: dict[str, Any]) -> list[str]:
    """Everything that makes this not an RFC 8417 / SSF 1.0 SET (empty list = well formed)."""
    p: list[str] = []
    if str(header.get("typ", "")).lower() not in (SET_TYP, "application/" + SET_TYP):
        p.append(f"header.typ must be {SET_TYP!r}, got {header.get('typ')!r}")
    if not header.get("alg") or header.get("alg") == "none":
        p.append("header.alg must name a signature algorithm")
    for name in ("iss", "jti"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            p.append(f"{name} must be a non-empty string")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        p.append("iat must be a NumericDate")
    aud = claims.get("aud")
    if not (isinstance(aud, str) and aud) and not (isinstance(aud, list) and aud and
                                                   all(isinstance(a, str) for a in aud)):
        p.append("aud must be a string or an array of strings")
    if "sub" in claims:
        p.append("sub must not be used in a SET (SSF puts the subject in sub_id)")
    if "exp" in claims:
        p.append("exp must not be used in a SET (RFC 8417 §2.2: a SET is not an access token)")
    events = claims.get("events")
    if not isinstance(events, dict) or not events:
        p.append("events must be a non-empty JSON object")
    else:
        for uri, body in events.items():
            if not isinstance(body, dict):
                p.append(f"events[{uri!r}] must be a JSON object")
    sub_id = claims.get("sub_id")
    if sub_id is not None and not (isinstance(sub_id, dict) and isinstance(sub_id.get("format"), str)):
        p.append("sub_id must be a subject identifier object with a format")
    if "txn" in claims and not isinstance(claims["txn"], str):
        p.append("txn must be a string")
    return p


def _subject_value(sid: dict[str, Any]) -> str | None:
    fmt = sid.get("format")
    member = {"iss_sub": "sub", "email": "email", "opaque": "id", "account": "uri",
              "phone_number": "phone_number"}.get(fmt if isinstance(fmt, str) else "")
    value = sid.get(member) if member else None
    if not isinstance(value, str) or not value.strip():
        return None  # a subject we cannot read is refused, never guessed
    return value[5:] if fmt == "account" and value.startswith("acct:") else value


def _subject_members(claims: dict[str, Any], body: dict[str, Any]) -> dict[str, str]:
    """user / session / device identifiers from ``sub_id`` (SSF 1.0) or a legacy ``subject``."""
    sid = claims.get("sub_id") or body.get("subject")
    if not isinstance(sid, dict):
        raise SetInvalid("invalid_request", "the SET names no subject (sub_id)")
    out: dict[str, str] = {}
    if sid.get("format") == "complex" or any(k in sid for k in ("user", "session", "device")):
        for member in ("user", "session", "device"):
            m = sid.get(member)
            if isinstance(m, dict) and (v := _subject_value(m)):
                out[member] = v
    elif (v := _subject_value(sid)) is not None:
        out["user"] = v
    if not out:
        raise SetInvalid("invalid_request", f"unsupported subject identifier {sid!r}")
    return out


def events_from_set(claims: dict[str, Any], *, source_key: str) -> tuple[list[CriticalEvent], list[str]]:
    """Critical events a received SET implies, and notes on events that imply none."""
    out: list[CriticalEvent] = []
    notes: list[str] = []
    now = time.time()
    for n, (uri, body) in enumerate(claims["events"].items()):
        subj = _subject_members(claims, body)
        ts = body.get("event_timestamp", claims["iat"])
        if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not 0 < ts < 1e11:
            raise SetInvalid("invalid_request", f"{uri}: event_timestamp {ts!r} is not an epoch time")
        when = min(float(ts), now)  # a future timestamp would block tokens not yet issued
        reason_admin = body.get("reason_admin")
        text = reason_admin.get("en") if isinstance(reason_admin, dict) else reason_admin
        why = f"SSF {uri.rsplit('/', 1)[-1]} from {claims['iss']}" + (f": {text}" if text else "")
        evidence = {"iss": claims["iss"], "jti": claims["jti"], "event": uri}
        key = f"ssf:{claims['iss']}:{claims['jti']}:{n}"
        if uri == SESSION_REVOKED:
            scope = "session" if "session" in subj else "device" if "device" in subj else "user"
            etype = "session_revoked"
        elif uri == CREDENTIAL_CHANGE:
            scope, etype = "user", "credential_change"
            evidence.update(credential_type=body.get("credential_type"), change_type=body.get("change_type"))
        elif uri == ASSURANCE_LEVEL_CHANGE:
            if body.get("change_direction") != "decrease":
                notes.append(f"{uri}: direction {body.get('change_direction')!r}, no revocation")
                continue
            scope, etype = "user", "assurance_level_decreased"
            evidence.update({k: body.get(k) for k in ("namespace", "current_level", "previous_level")})
        elif uri == DEVICE_COMPLIANCE_CHANGE:
            if body.get("current_status") != "not-compliant":
                notes.append(f"{uri}: status {body.get('current_status')!r}, no revocation")
                continue
            scope = "device" if "device" in subj else "user"
            etype = "device_noncompliant"
        elif uri == VERIFICATION:
            notes.append(f"verification event (state {body.get('state')!r})")
            continue
        else:
            raise SetInvalid("invalid_request", f"event type {uri} is not supported by this receiver")
        if scope not in subj:
            raise SetInvalid("invalid_request", f"{uri}: the subject has no {scope} member")
        try:
            out.append(new_event(etype, scope=scope, subject=subj[scope], source="ssf", reason=why,
                                 revoked_at=when, user_id=subj.get("user") if scope != "user" else None,
                                 evidence=evidence, event_key=key))
        except InputError as exc:
            raise SetInvalid("invalid_request", f"{uri}: {exc}") from None
    return out, notes
