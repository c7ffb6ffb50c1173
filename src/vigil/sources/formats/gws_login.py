"""Google Workspace login activities (Admin SDK Reports API ``activities.list`` for
``applicationName=login``): API pages (``{"items": [...]}``), NDJSON of activities, the Sentinel
``GWorkspace_ReportsAPI_login_CL`` export, and collectors (Elastic) that flatten ``events`` to a
single object.

One activity maps to one row: its first event (login activities carry one event each).
Event parameters are ``{name, value | boolValue | intValue | multiValue}`` entries, looked up by
name in SQL. Record id ``id.uniqueQualifier:id.time:event name:hash of the event`` because Google
re-uses ``uniqueQualifier`` across the events of one activity (and published samples re-use it
across activities).

Sign-ins are the events ``login_success``, ``login_failure``, ``login_challenge`` and
``login_verification``; account warnings (``suspicious_login``, ``account_disabled_*``,
``gov_attack_warning``), ``logout`` and ``risky_sensitive_action_*`` are not sign-ins: they are
quarantined with the event named, or kept in ``activities`` with ``--format gws_login_activity``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec, first, lower, nz

SIGNIN_EVENTS = ("login_success", "login_failure", "login_challenge", "login_verification")
# challenge methods that are a second factor (anything but the password itself)
_ONE_FACTOR = ("password", "none", "")

# `events` is the API's array (one event per login activity) or a collector's single object: read both
NAME = "coalesce({$.events[0].name}, {$.events.name})"
TYPE = "coalesce({$.events[0].type}, {$.events.type})"
PARAMS = "coalesce({$.events[0].parameters}, {$.events.parameters})"


def param(name: str) -> str:
    """SQL text value of event parameter ``name`` (multiValue as a JSON array text)."""
    # one lookup, all value kinds extracted at once (the entry is looked up once, not once per kind)
    return (f"list_filter(json_extract_string(vigil_json_find({PARAMS}, 'name', '{name}'), "
            f"['$.value', '$.boolValue', '$.intValue', '$.multiValue', '$.multiIntValue']), "
            f"lambda v: v IS NOT NULL)[1]")


def _methods() -> str:
    # multiValue arrives as a JSON array text, value as a bare string: wrap the latter
    m = param("login_challenge_method")
    return (f"vigil_json(CASE WHEN left(ltrim({m}), 1) = '[' THEN {m} WHEN {m} IS NOT NULL "
            f"THEN to_json([{m}])::VARCHAR END)")


def detect(r: Mapping[str, Any]) -> bool:
    ident = r.get("id")
    app = ident.get("applicationName") if isinstance(ident, dict) else None
    return "events" in r and (app == "login" or (r.get("kind") == "admin#reports#activity" and app is None))


_STATUS = f"lower(coalesce({param('login_challenge_status')}, ''))"
_RESULT = (f"CASE {NAME} WHEN 'login_success' THEN 'success' WHEN 'login_failure' THEN 'failure' "
           f"ELSE CASE WHEN {_STATUS} LIKE '%pass%' THEN 'success' WHEN {_STATUS} LIKE '%fail%' THEN 'failure' "
           f"ELSE 'interrupted' END END")
_METHODS = _methods()
_SECOND = (f"len(list_filter(CAST(json_extract({_METHODS}, '$[*]') AS VARCHAR[]), lambda m: trim(m, '\"') NOT IN "
           f"({', '.join(repr(x) for x in _ONE_FACTOR)})))")
_SUSPICIOUS = f"vigil_bool({param('is_suspicious')})"

_COMMON = {
    "tenant_id": nz("{$.id.customerId}"),
    "user_id": nz("{$.actor.profileId}"),
    "user_principal_name": lower("{$.actor.email}"),
    "user_type": nz("{$.actor.callerType}"),
    "ip": "vigil_ip({$.ipAddress})",
}

SIGNIN_COLUMNS = {
    **_COMMON,
    "resource_name": "'Google Workspace'",
    "result": _RESULT,
    # login_failure_type: login_failure_invalid_password, login_failure_account_disabled, ...
    "result_code": first(param("login_failure_type"), NAME),
    "result_reason": (f"concat_ws('; ', {NAME}, {nz(param('login_failure_type'))}, "
                      f"{nz(param('login_challenge_status'))})"),
    "auth_methods": _METHODS,
    # a second factor in the challenge methods, on a sign-in or 2-step verification that passed
    "mfa_satisfied": (f"CASE WHEN {_METHODS} IS NULL THEN NULL WHEN ({_RESULT}) <> 'success' THEN "
                      f"CASE WHEN {NAME} = 'login_verification' THEN FALSE END "
                      f"ELSE {_SECOND} > 0 END"),
    "auth_protocol": nz(param("login_type")),
    "token_issuer_type": "'Google'",
    "risk_detail": f"CASE WHEN {_SUSPICIOUS} THEN 'Google flagged this login as suspicious (is_suspicious)' END",
    "risk_event_types": f"CASE WHEN {_SUSPICIOUS} THEN to_json(['suspiciousLogin']) END",
}

ACTIVITY_COLUMNS = {
    **_COMMON,
    "workload": "'Google Workspace'",
    "record_type": TYPE,
    "operation": NAME,
    "object_id": first(param("affected_email_address"), "{$.actor.email}"),
    "parameters": f"vigil_json({PARAMS})",
    "details": "json_merge_patch('{}', json_object('etag', {$.etag}, 'ownerDomain', {$.ownerDomain}))",
}

_ID = (f"concat_ws(':', {nz('{$.id.uniqueQualifier}')}, {nz('{$.id.time}')}, {NAME}, "
       f"left(md5(coalesce(CAST(json(vigil_jtext({PARAMS})) AS VARCHAR), '')), 8))")
_TABLE = "coalesce(nullif({$.Type}, ''), 'GoogleWorkspaceReports.login')"
_ACCEPT = f"{NAME} IS NOT NULL"
_ACCEPT_REASON = "no event in `events` (a Google Workspace activity needs events[0].name)"

SOURCES = [
    SourceSpec(
        name="gws_login",
        title="Google Workspace login activities, Reports API (API pages, NDJSON, Sentinel, Elastic)",
        target="signins",
        detect=detect,
        columns=SIGNIN_COLUMNS,
        record_id=_ID,
        time="{$.id.time}",
        source_table=_TABLE,
        # account warnings, logouts, sensitive actions ... are stored in activities by the twin format
        accept_when=f"{_ACCEPT} AND {NAME} IN ({', '.join(repr(e) for e in SIGNIN_EVENTS)})",
        accept_reason="not a Google Workspace sign-in event",
        fallback="gws_login_activity",
    ),
    SourceSpec(
        name="gws_login_activity",
        title="Google Workspace login activities, every event into activities (non-sign-ins of gws_login land here)",
        target="activities",
        detect=lambda r: False,
        columns=ACTIVITY_COLUMNS,
        record_id=_ID,
        time="{$.id.time}",
        source_table=_TABLE,
        accept_when=_ACCEPT,
        accept_reason=_ACCEPT_REASON,
    ),
]
