"""Okta System Log, as the API returns it (``GET /api/v1/logs``): a JSON array page, NDJSON from a
collector, or ``{"items": [...]}`` / ``{"value": [...]}`` wrappers.

Record id ``uuid``; time ``published`` (UTC ISO 8601). ``session_id`` is
``authenticationContext.rootSessionId`` when present (the session a chain of re-authentications
belongs to, in newer System Log events) else ``authenticationContext.externalSessionId``.
Only sign-in events are sign-ins (see :mod:`vigil.sources.formats._okta`); ``okta_system_activity`` keeps
every event in ``activities`` when forced with ``--format okta_system_activity``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec
from vigil.sources.formats._okta import is_signin_sql, okta_activity_columns, okta_signin_columns


def _f(path: str) -> str:
    return "{$." + path + "}"


def detect(r: Mapping[str, Any]) -> bool:
    return "eventType" in r and "uuid" in r and "published" in r and isinstance(r.get("actor"), dict)


SOURCES = [
    SourceSpec(
        name="okta_system",
        title="Okta System Log API events (sign-ins, authentication steps, MFA)",
        target="signins",
        detect=detect,
        columns=okta_signin_columns(_f),
        record_id="{$.uuid}",
        time="{$.published}",
        source_table="'OktaSystemLog'",
        # other event types (admin, lifecycle, policy) are stored in activities by the twin format
        accept_when="{$.eventType} IS NOT NULL AND {$.actor} IS NOT NULL AND " + is_signin_sql("{$.eventType}"),
        accept_reason="not an Okta System Log sign-in",
        fallback="okta_system_activity",
    ),
    SourceSpec(
        name="okta_system_activity",
        title="Okta System Log API events, every event type into activities (non-sign-ins of okta_system land here)",
        target="activities",
        detect=lambda r: False,
        columns=okta_activity_columns(_f, "'OktaSystemLog'"),
        record_id="{$.uuid}",
        time="{$.published}",
        source_table="'OktaSystemLog'",
        accept_when="{$.eventType} IS NOT NULL AND {$.actor} IS NOT NULL",
        accept_reason="not an Okta System Log event: no eventType or actor",
    ),
]
