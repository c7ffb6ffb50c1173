"""Shared mapping of Okta System Log events (the API's nested JSON and Sentinel's flattened ``Okta_CL``).

Both carry the same LogEvent fields: the API nests them (``client.geographicalContext.city``),
Sentinel flattens the path with underscores and a type suffix (``client_geographicalContext_city_s``).
Adapters pass a function turning an API path into SQL for the value, so one column map serves both.

Which events are sign-ins: the System Log records everything an org does. Sign-in attempts and their
steps (``user.session.start``, ``user.authentication.*``, sign-on policy evaluation, MFA challenges and
Okta Verify push responses, OAuth authorisation and token grants) go to ``signins``; every other event
(admin changes, provisioning, imports, sign-outs) is quarantined with its event type named, and can be
kept in ``activities`` instead with the ``*_activity`` twin adapters (``--format okta_system_activity``).
"""
from __future__ import annotations

from collections.abc import Callable

from vigil.sources._base import first, nz

Field = Callable[[str], str]

# Okta eventType patterns that are a sign-in or a step of one (SQL LIKE patterns).
SIGNIN_EVENTS = (
    "user.session.start", "user.session.access_admin_app", "user.authentication.%", "policy.evaluate_sign_on",
    "user.mfa.okta_verify%", "user.mfa.attempt_bypass", "system.push.send_factor_verify_push",
    "system.sms.send_factor_verify_message", "system.voice.send_mfa_challenge_call",
    "system.email.mfa_challenge.sent_message", "app.oauth2.as.authorize%", "app.oauth2.as.token.grant%",
    "app.oauth2.authorize%", "app.oauth2.token.grant%", "user.authentication.slo",
)
# steps that ask the user for more (MFA challenge sent): 'interrupted' in canonical terms
CHALLENGE_EVENTS = ("system.push.send_factor_verify_push", "system.sms.send_factor_verify_message",
                    "system.voice.send_mfa_challenge_call", "system.email.mfa_challenge.sent_message")


def is_signin_sql(event_type: str) -> str:
    return "(" + " OR ".join(f"{event_type} LIKE '{p}'" for p in SIGNIN_EVENTS) + ")"


def okta_common(f: Field) -> dict[str, str]:
    """Columns shared by the sign-in and activity mappings."""
    return {
        "user_id": nz(f("actor.id")),
        "user_principal_name": f"lower({nz(f('actor.alternateId'))})",
        "user_display_name": nz(f("actor.displayName")),
        "user_type": nz(f("actor.type")),
        "ip": f"vigil_ip({f('client.ipAddress')})",
        "user_agent": nz(f("client.userAgent.rawUserAgent")),
        "app_name": first(f"json_extract_string(vigil_json_find({f('target')}, 'type', 'AppInstance'), "
                          "'$.displayName')", f("debugContext.debugData.appname")),
        # rootSessionId (newer System Log) names the Okta session across re-authentications; older events
        # only carry externalSessionId (the session cookie id), which is the same value for a fresh session
        "session_id": first(f"nullif({f('authenticationContext.rootSessionId')}, 'unknown')",
                            f"nullif({f('authenticationContext.externalSessionId')}, 'unknown')"),
        "correlation_id": f"nullif({nz(f('transaction.id'))}, 'unknown')",
        "country": f"vigil_country({f('client.geographicalContext.country')})",
        "city": nz(f("client.geographicalContext.city")),
    }


def okta_signin_columns(f: Field) -> dict[str, str]:
    et = f("eventType")
    res = f"upper({nz(f('outcome.result'))})"
    factor = first(f("debugContext.debugData.factor"), f("authenticationContext.credentialType"))
    challenge = " OR ".join(f"{et} = '{e}'" for e in CHALLENGE_EVENTS)
    result = (f"CASE WHEN {challenge} THEN 'interrupted' "
              f"WHEN {res} IN ('SUCCESS', 'ALLOW') THEN 'success' "
              f"WHEN {res} IN ('FAILURE', 'DENY') THEN 'failure' "
              f"WHEN {res} = 'CHALLENGE' THEN 'interrupted' END")
    mfa_step = (f"({et} IN ('user.authentication.auth_via_mfa', 'user.authentication.verify') "
                f"AND {factor} IS NOT NULL AND {factor} NOT ILIKE 'PASSWORD%')")
    risk = f("debugContext.debugData.risk")
    behaviors = f("debugContext.debugData.behaviors")
    threat = f("debugContext.debugData.threatSuspected")
    proxy, tor = f("securityContext.isProxy"), f("securityContext.isTor")
    lat, lon = f("client.geographicalContext.geolocation.lat"), f("client.geographicalContext.geolocation.lon")
    reason = nz(f("outcome.reason"))
    cols = okta_common(f)
    cols.update({
        "app_id": nz(f"json_extract_string(vigil_json_find({f('target')}, 'type', 'AppInstance'), '$.id')"),
        "is_interactive": (f"CASE WHEN {et} LIKE '%token.grant%' THEN FALSE "
                           f"WHEN upper({nz(f('transaction.type'))}) = 'WEB' THEN TRUE "
                           f"WHEN upper({nz(f('transaction.type'))}) = 'JOB' THEN FALSE END"),
        "result": result,
        # outcome.reason is Okta's code (INVALID_CREDENTIALS, VERIFICATION_ERROR, ...); else the outcome itself
        "result_code": f"coalesce({reason}, {res})",
        "result_reason": (f"concat_ws(': ', {nz(f('displayMessage'))}, "
                          f"concat_ws(' ', {res}, '(' || {reason} || ')'))"),
        "auth_methods": (f"vigil_json(nullif(to_json(list_distinct(list_filter("
                         f"[{nz(f('debugContext.debugData.factor'))}, "
                         f"{nz(f('authenticationContext.credentialType'))}], lambda x: x IS NOT NULL)))::VARCHAR, "
                         f"'[]'))"),
        "mfa_satisfied": (f"CASE WHEN {mfa_step} AND ({result}) = 'success' THEN TRUE "
                          f"WHEN {mfa_step} AND ({result}) = 'failure' THEN FALSE "
                          f"WHEN {et} = 'user.mfa.okta_verify.deny_push' THEN FALSE END"),
        "auth_protocol": nz(f("debugContext.debugData.signOnMode")),
        "token_issuer_type": "'Okta'",
        "country": f"vigil_country({f('client.geographicalContext.country')})",
        "state": nz(f("client.geographicalContext.state")),
        "latitude": f"vigil_lat({lat}, {lon})",
        "longitude": f"vigil_lon({lat}, {lon})",
        "asn": f"TRY_CAST(TRY_CAST({nz(f('securityContext.asNumber'))} AS DOUBLE) AS INTEGER)",
        "device_id": nz(f("device.id")),
        "device_name": nz(f("device.name")),
        "device_os": first(f("client.userAgent.os"), f("device.os_platform")),
        "device_browser": nz(f"nullif({f('client.userAgent.browser')}, 'UNKNOWN')"),
        "device_managed": f"vigil_bool({f('device.managed')})",
        "request_id": nz(f("debugContext.debugData.requestId")),
        # Okta risk arrives as "{reasons=..., level=HIGH}" text or inside logOnlySecurityData JSON
        "risk_level_during_signin": (
            f"lower(coalesce(nullif(regexp_extract(coalesce({risk}, ''), 'level=(\\w+)', 1), ''), "
            f"{nz(sub_json(f('debugContext.debugData.logOnlySecurityData'), '$.risk.level'))}))"),
        "risk_detail": nz(risk),
        # behaviors Okta rated POSITIVE (New Device, New Geo-Location, ...) plus its threatSuspected flag
        # (ThreatInsight) and its network verdicts: securityContext.isProxy / isTor are Entra's
        # anonymizedIPAddress (enrichment classes the IP vpn / tor from them, see enrich/views.py);
        # [] when Okta evaluated them and none fired (as Entra writes an empty RiskEventTypes_V2)
        "risk_event_types": (
            f"CASE WHEN {behaviors} IS NOT NULL OR {threat} IS NOT NULL OR {proxy} IS NOT NULL OR {tor} IS NOT NULL "
            f"THEN to_json(list_concat("
            f"list_transform(list_filter(string_split(trim(coalesce({behaviors}, ''), '{{}}'), ', '), "
            f"lambda b: b LIKE '%=POSITIVE'), lambda b: split_part(b, '=', 1)), "
            f"CASE WHEN lower({threat}) = 'true' THEN ['threatSuspected'] ELSE [] END, "
            f"CASE WHEN vigil_bool({proxy}) OR vigil_bool({tor}) THEN ['anonymizedIPAddress'] ELSE [] END, "
            f"CASE WHEN vigil_bool({tor}) THEN ['torExitNode'] ELSE [] END)) END"),
    })
    return cols


def okta_activity_columns(f: Field, record_type: str) -> dict[str, str]:
    cols = okta_common(f)
    target = f("target")
    cols.update({
        "workload": "'Okta'",
        "record_type": record_type,
        "operation": nz(f("eventType")),
        "result_status": nz(f"concat_ws(' ', upper({nz(f('outcome.result'))}), "
                            f"'(' || {nz(f('outcome.reason'))} || ')')"),
        "object_id": first(f"json_extract_string(vigil_jtext({target}), '$[0].alternateId')",
                           f"json_extract_string(vigil_jtext({target}), '$[0].displayName')"),
        "client_app_id": nz(f"json_extract_string(vigil_json_find({target}, 'type', 'AppInstance'), '$.id')"),
        "isp": nz(f("securityContext.isp")),
        "parameters": f"vigil_json({target})",
        "details": (f"json_merge_patch('{{}}', json_object('displayMessage', {nz(f('displayMessage'))}, "
                    f"'legacyEventType', {nz(f('legacyEventType'))}, 'transactionType', {nz(f('transaction.type'))}, "
                    f"'requestId', {nz(f('debugContext.debugData.requestId'))}))"),
    })
    return cols


def sub_json(expr: str, path: str) -> str:
    return f"json_extract_string(vigil_jtext({expr}), '{path}')"
