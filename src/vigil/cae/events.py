"""Critical events: what revokes tokens, for whom, since when, and why.

A critical event says "tokens of this user / session / device issued before ``revoked_at``
are no longer valid". The set follows Entra CAE's list (user deleted or disabled, password
changed or reset, MFA registered, refresh tokens revoked by an admin, user risk high) plus
what SSF / CAEP peers can tell us (session revoked, credential change, assurance level
decreased, device no longer compliant).
"""
from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from vigil.errors import InputError

#: event_type -> (default scope, human description)
EVENT_TYPES: dict[str, str] = {
    "password_changed": "password changed by the user",
    "password_reset": "password reset",
    "user_disabled": "user account disabled",
    "user_deleted": "user account deleted",
    "sessions_revoked": "all sessions / refresh tokens revoked by an admin",
    "mfa_registered": "MFA method registered",
    "user_risk_high": "user risk raised to high",
    "session_revoked": "session revoked",
    "credential_change": "credential changed",
    "assurance_level_decreased": "authentication assurance level decreased",
    "device_noncompliant": "device no longer compliant",
    "admin_revoke": "revoked by an administrator through vigil",
}
#: the directory_events.event_type values the stage treats as critical (architecture contract)
DIRECTORY_CRITICAL = ("password_changed", "password_reset", "user_disabled", "user_deleted",
                      "sessions_revoked", "mfa_registered")
SCOPES = ("user", "session", "device")
SOURCES = ("audit_logs", "risk", "api", "cli", "ssf", "bench")


@dataclass(frozen=True)
class CriticalEvent:
    """One revocation. ``subject`` is a user object id, session id or device id (per ``scope``);
    ``subject_alt`` an alias (the UPN) so tokens carrying only ``upn`` match too."""

    event_key: str
    event_type: str
    scope: str
    subject: str
    revoked_at: float
    source: str
    reason: str
    subject_alt: str | None = None
    user_id: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.event_type not in EVENT_TYPES:
            raise InputError(f"event_type {self.event_type!r} is not one of {', '.join(EVENT_TYPES)}")
        if self.scope not in SCOPES:
            raise InputError(f"scope {self.scope!r} is not one of {', '.join(SCOPES)}")
        if not self.subject:
            raise InputError("subject is empty")
        if not math.isfinite(self.revoked_at) or self.revoked_at <= 0:
            raise InputError(f"revoked_at {self.revoked_at!r} is not a positive epoch time")

    @property
    def challenge_nbf(self) -> int:
        """The ``nbf`` a new token must carry to satisfy this revocation (claims challenge)."""
        return math.ceil(self.revoked_at)

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_key": self.event_key, "event_type": self.event_type, "scope": self.scope,
            "subject": self.subject, "subject_alt": self.subject_alt, "user_id": self.user_id,
            "revoked_at": self.revoked_at, "source": self.source, "reason": self.reason,
            "evidence": self.evidence,
        }


def norm_subject(value: str) -> str:
    """Subjects compare case-insensitively (UPNs and GUIDs arrive in either case)."""
    return value.strip().lower()


def new_event(event_type: str, *, scope: str = "user", subject: str, source: str,
              reason: str | None = None, revoked_at: float | None = None, subject_alt: str | None = None,
              user_id: str | None = None, evidence: dict[str, Any] | None = None,
              event_key: str | None = None) -> CriticalEvent:
    return CriticalEvent(
        event_key=event_key or f"{source}:{uuid.uuid4().hex}",
        event_type=event_type, scope=scope, subject=norm_subject(subject),
        revoked_at=time.time() if revoked_at is None else float(revoked_at), source=source,
        reason=reason or EVENT_TYPES.get(event_type, event_type),
        subject_alt=norm_subject(subject_alt) if subject_alt else None,
        user_id=norm_subject(user_id) if user_id else None, evidence=evidence or {},
    )


def event_from_json(obj: Any, *, source: str, where: str = "body") -> CriticalEvent:
    """A critical event from a JSON object (API body, CLI file); errors name the JSON path."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    allowed = {"event_type", "scope", "subject", "user", "session", "device", "upn", "user_id",
               "revoked_at", "reason", "event_key", "evidence"}
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise InputError(f"{where}.{unknown[0]}: unknown field (allowed: {', '.join(sorted(allowed))})")
    etype = obj.get("event_type")
    if not isinstance(etype, str) or etype not in EVENT_TYPES:
        raise InputError(f"{where}.event_type: must be one of {', '.join(EVENT_TYPES)}")
    given = [(k, obj[k]) for k in ("user", "session", "device") if obj.get(k)]
    if "subject" in obj:
        scope = obj.get("scope", "user")
        given = [(scope, obj["subject"])] + given
    if len(given) != 1:
        raise InputError(f"{where}: give exactly one of user, session, device (or subject + scope)")
    scope, subject = given[0]
    if not isinstance(subject, str) or not subject.strip():
        raise InputError(f"{where}.{scope}: must be a non-empty string")
    revoked_at = obj.get("revoked_at")
    if revoked_at is not None and (isinstance(revoked_at, bool) or not isinstance(revoked_at, (int, float))):
        raise InputError(f"{where}.revoked_at: must be epoch seconds (number)")
    for k in ("reason", "upn", "user_id", "event_key"):
        if obj.get(k) is not None and not isinstance(obj[k], str):
            raise InputError(f"{where}.{k}: must be a string")
    evidence = obj.get("evidence") or {}
    if not isinstance(evidence, dict):
        raise InputError(f"{where}.evidence: must be an object")
    key = obj.get("event_key")
    return new_event(etype, scope=scope, subject=subject, source=source, reason=obj.get("reason"),
                     revoked_at=revoked_at, subject_alt=obj.get("upn"), user_id=obj.get("user_id"),
                     evidence=evidence, event_key=f"{source}:{key}" if key else None)
