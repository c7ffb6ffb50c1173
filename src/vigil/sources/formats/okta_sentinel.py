"""Okta System Log as the Sentinel ``Okta_CL`` custom table (the Okta Single Sign-On data connector):
LogEvent paths flattened with underscores and Log Analytics type suffixes (``_s`` string, ``_d``
number, ``_b`` boolean, ``_g`` GUID, ``_t`` time), e.g. ``actor_alternateId_s``, ``client_ipAddress_s``,
``outcome_result_s``, ``authenticationContext_externalSessionId_s``, ``published_t``, ``uuid_g``.
Some exports drop the ``_s`` suffix of string columns; both spellings are read. Nested arrays
(``target``, ``request_ipChain``) arrive as JSON text; absent values as "" or "null".

Same field meanings and event selection as :mod:`vigil.sources.formats.okta_system`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec
from vigil.sources.formats._okta import is_signin_sql, okta_activity_columns, okta_signin_columns

# LogEvent path -> Log Analytics type suffix (strings: "_s", also read without a suffix)
_TYPED = {
    "published": "_t", "uuid": "_g", "securityContext.asNumber": "_d", "securityContext.isProxy": "_b",
    "securityContext.isTor": "_b",
    "client.geographicalContext.geolocation.lat": "_d", "client.geographicalContext.geolocation.lon": "_d",
    "authenticationContext.authenticationStep": "_d", "debugContext.debugData.deviceFingerprint": "_g",
    "debugContext.debugData.transactionId": "_g",
}


def _f(path: str) -> str:
    flat = path.replace(".", "_")
    names = [flat + _TYPED[path]] if path in _TYPED else []
    names += [flat + "_s", flat]
    # kept small on purpose: macros (vigil_ip, vigil_lat, ...) repeat their argument when expanded
    cells = ", ".join(f"nullif({{$.{n}}}, '')" for n in names)
    return f"nullif(coalesce({cells}), 'null')"


def detect(r: Mapping[str, Any]) -> bool:
    if r.get("Type") == "Okta_CL":
        return True
    return ("eventType_s" in r or "eventType" in r) and ("uuid_g" in r or "uuid_s" in r) and (
        "actor_alternateId_s" in r or "actor_alternateId" in r)


_EVENT = _f("eventType")
_TABLE = "coalesce(nullif({$.Type}, ''), 'Okta_CL')"
_ACCEPT = f"{_EVENT} IS NOT NULL AND {_f('uuid')} IS NOT NULL"

SOURCES = [
    SourceSpec(
        name="okta_sentinel",
        title="Okta System Log, Sentinel Okta_CL table export (sign-ins, authentication steps, MFA)",
        target="signins",
        detect=detect,
        columns=okta_signin_columns(_f),
        record_id=_f("uuid"),
        time=_f("published"),
        source_table=_TABLE,
        # other event types are stored in activities by the twin format
        accept_when=f"{_ACCEPT} AND {is_signin_sql(_EVENT)}",
        accept_reason="not an Okta_CL sign-in",
        fallback="okta_sentinel_activity",
    ),
    SourceSpec(
        name="okta_sentinel_activity",
        title="Okta System Log, Sentinel Okta_CL table, every event type into activities"
              " (non-sign-ins of okta_sentinel land here)",
        target="activities",
        detect=lambda r: False,
        columns=okta_activity_columns(_f, _TABLE),
        record_id=_f("uuid"),
        time=_f("published"),
        source_table=_TABLE,
        accept_when=_ACCEPT,
        accept_reason="not an Okta_CL row: no eventType_s / uuid_g",
    ),
]
