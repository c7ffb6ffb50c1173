"""AWS CloudTrail sign-ins: ``ConsoleLogin`` and the other ``signin.amazonaws.com`` events (``CheckMfa``,
``SwitchRole``, ``ExitRole``, ``RenewRole``, ``GetSigninToken``, IAM Identity Center ``UserAuthentication``,
``CredentialChallenge``, ``CredentialVerification``).

Two shapes: raw CloudTrail JSON (delivery files ``{"Records": [...]}``, often .gz, NDJSON from a
collector, arrays) and the Sentinel ``AWSCloudTrail`` table (JSON or portal CSV, PascalCase columns
with ``ResponseElements`` / ``AdditionalEventData`` as JSON text). Sentinel CSVs from some portal
locales write ``TimeGenerated`` as ``DD/MM/YYYY, HH:MM:SS.fff`` (24-hour, no AM/PM); this adapter reads
that form day-first, and leaves ``M/D/YYYY, h:mm:ss AM`` (US, with AM/PM) and ISO to the common parser.

CloudTrail events from other services are API activity, not sign-ins: quarantined with the event named,
or kept in ``activities`` with ``--format cloudtrail_activity`` / ``cloudtrail_sentinel_activity``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vigil.sources._base import SourceSpec, first, nz

SIGNIN_SOURCES = ("signin.amazonaws.com",)

# canonical meaning -> (raw CloudTrail path, Sentinel AWSCloudTrail column)
NAMES = {
    "id": ("eventID", "AwsEventId"),
    "time": ("eventTime", "TimeGenerated"),
    "source": ("eventSource", "EventSource"),
    "name": ("eventName", "EventName"),
    "event_type": ("eventType", "EventTypeName"),
    "type": ("userIdentity.type", "UserIdentityType"),
    "principal": ("userIdentity.principalId", "UserIdentityPrincipalid"),
    "arn": ("userIdentity.arn", "UserIdentityArn"),
    "account": ("userIdentity.accountId", "UserIdentityAccountId"),
    "user": ("userIdentity.userName", "UserIdentityUserName"),
    "key": ("userIdentity.accessKeyId", "UserIdentityAccessKeyId"),
    "session_mfa": ("userIdentity.sessionContext.attributes.mfaAuthenticated", "SessionMfaAuthenticated"),
    "issuer_user": ("userIdentity.sessionContext.sessionIssuer.userName", "SessionIssuerUserName"),
    "region": ("awsRegion", "AWSRegion"),
    "ip": ("sourceIPAddress", "SourceIpAddress"),
    "ua": ("userAgent", "UserAgent"),
    "error_code": ("errorCode", "ErrorCode"),
    "error": ("errorMessage", "ErrorMessage"),
    "request": ("requestParameters", "RequestParameters"),
    "response": ("responseElements", "ResponseElements"),
    "additional": ("additionalEventData", "AdditionalEventData"),
    "service_details": ("serviceEventDetails", "ServiceEventDetails"),
    "request_id": ("requestID", "AwsRequestId"),
    "recipient": ("recipientAccountId", "RecipientAccountId"),
    "resources": ("resources", "Resources"),
}

# Sentinel day-first export form; tried before the common parser, which reads slashes month-first
DAY_FIRST = ["%d/%m/%Y, %H:%M:%S.%g", "%d/%m/%Y, %H:%M:%S", "%d/%m/%Y %H:%M:%S.%g", "%d/%m/%Y %H:%M:%S"]


def _field(style: str) -> Callable[[str], str]:
    idx = 0 if style == "raw" else 1

    def f(key: str) -> str:
        return "{$." + NAMES[key][idx] + "}"

    return f


def _j(expr: str, path: str) -> str:
    return f"json_extract_string(vigil_jtext({expr}), '{path}')"


def _user_columns(f: Callable[[str], str]) -> dict[str, str]:
    hidden = f"coalesce({f('user')}, '') = 'HIDDEN_DUE_TO_SECURITY_REASONS'"
    # AssumedRole / federated: the role session name (often the person's e-mail) identifies the person
    session_name = f"nullif(regexp_extract(coalesce({f('arn')}, ''), 'assumed-role/[^/]+/(.+)$', 1), '')"
    return {
        "tenant_id": first(f("recipient"), f("account")),
        "user_id": nz(f("principal")),
        "user_principal_name": (f"CASE WHEN {hidden} THEN NULL ELSE lower(coalesce({nz(f('user'))}, "
                                f"{session_name}, CASE WHEN {f('type')} = 'Root' THEN {nz(f('arn'))} END, "
                                f"{nz(f('arn'))})) END"),
        "user_display_name": f"CASE WHEN {hidden} THEN NULL ELSE coalesce({nz(f('user'))}, {session_name}, "
                             f"{nz(f('issuer_user'))}) END",
        "user_type": nz(f("type")),
        "ip": f"vigil_ip({f('ip')})",
        "user_agent": nz(f("ua")),
        # temporary credentials (ASIA...) tie the API calls of one console / role session together
        "session_id": nz(f("key")),
    }


def signin_columns(f: Callable[[str], str]) -> dict[str, str]:
    name = f("name")
    # the outcome sits under the event's own name: {"ConsoleLogin": "Success"}, {"SwitchRole": "Failure"}
    key = f"'$.\"' || replace({name}, '\"', '') || '\"'"  # quoted: event names are data, not path syntax
    outcome = first(f"json_extract_string(vigil_jtext({f('response')}), {key})",
                    f"json_extract_string(vigil_jtext({f('service_details')}), {key})")
    failed = f"({nz(f('error'))} IS NOT NULL OR {nz(f('error_code'))} IS NOT NULL OR lower({outcome}) = 'failure')"
    result = (f"CASE WHEN {failed} THEN 'failure' WHEN {name} = 'CheckMfa' OR {name} = 'CredentialChallenge' "
              f"THEN 'interrupted' WHEN lower({outcome}) = 'success' OR {outcome} IS NULL THEN 'success' "
              f"ELSE 'failure' END")
    # MFAUsed is about this console password step; a federated or role session that authenticated with MFA
    # (at the IdP, or before assuming the role) says so in sessionContext.attributes.mfaAuthenticated and writes
    # MFAUsed=No: either one true is MFA
    flag, session_flag = f"vigil_bool({_j(f('additional'), '$.MFAUsed')})", f"vigil_bool({f('session_mfa')})"
    mfa_used = (f"CASE WHEN {flag} OR {session_flag} THEN TRUE "
                f"WHEN {flag} IS NULL AND {session_flag} IS NULL THEN NULL ELSE FALSE END")
    password = f"{f('type')} IN ('IAMUser', 'Root')"
    return {
        **_user_columns(f),
        "app_name": f"CASE WHEN {name} = 'ConsoleLogin' THEN 'AWS Management Console' ELSE {name} END",
        "resource_id": nz(_j(f("additional"), "$.LoginTo")),
        "client_app_type": (f"CASE WHEN vigil_bool({_j(f('additional'), '$.MobileVersion')}) "
                            f"THEN 'Mobile Apps and Desktop clients' WHEN {name} = 'ConsoleLogin' THEN 'Browser' END"),
        "is_interactive": f"{name} IN ('ConsoleLogin', 'CheckMfa', 'UserAuthentication', 'CredentialChallenge', "
                          f"'CredentialVerification', 'SwitchRole')",
        "result": result,
        "result_code": first(f("error_code"), outcome),
        "result_reason": nz(f("error")),
        "auth_methods": (f"CASE WHEN {password} OR {mfa_used} THEN to_json(list_filter(["
                         f"CASE WHEN {password} THEN 'password' END, CASE WHEN {mfa_used} THEN 'mfa' END], "
                         f"lambda x: x IS NOT NULL)) END"),
        "auth_requirement": (f"CASE WHEN {mfa_used} THEN 'multiFactorAuthentication' "
                             f"WHEN {mfa_used} = FALSE THEN 'singleFactorAuthentication' END"),
        "mfa_satisfied": (f"CASE WHEN ({result}) = 'failure' THEN FALSE WHEN ({result}) = 'success' THEN "
                          f"{mfa_used} END"),
        "token_issuer_type": "'AWS'",
        "request_id": first(f("request_id"), f("id")),
    }


def activity_columns(f: Callable[[str], str]) -> dict[str, str]:
    return {
        **_user_columns(f),
        "workload": nz(f("source")),
        "record_type": first(f("event_type"), "'AwsApiCall'"),
        "operation": nz(f("name")),
        "result_status": f"coalesce({nz(f('error_code'))}, CASE WHEN {nz(f('error'))} IS NOT NULL THEN 'Failure' "
                         f"ELSE 'Success' END)",
        "object_id": first(_j(f("resources"), "$[0].ARN"), _j(f("resources"), "$[0].arn")),
        "client_app_id": nz(f("key")),
        "parameters": f"vigil_json({f('request')})",
        "details": (f"json_merge_patch('{{}}', json_object('awsRegion', {nz(f('region'))}, "
                    f"'errorMessage', {nz(f('error'))}, 'responseElements', vigil_json({f('response')}), "
                    f"'additionalEventData', vigil_json({f('additional')})))"),
    }


def detect_raw(r: Mapping[str, Any]) -> bool:
    return "eventSource" in r and "eventName" in r and "eventTime" in r and "userIdentity" in r


def detect_sentinel(r: Mapping[str, Any]) -> bool:
    return r.get("Type") == "AWSCloudTrail" or ("AwsEventId" in r and "EventSource" in r and "EventName" in r)


def _is_signin(f: Callable[[str], str]) -> str:
    sources = ", ".join(f"'{s}'" for s in SIGNIN_SOURCES)
    return f"({f('source')} IN ({sources}) OR {f('name')} = 'ConsoleLogin')"


def _time(style: str) -> str:
    t = _field(style)("time")
    if style == "raw":
        return t
    formats = "[" + ", ".join(f"'{x}'" for x in DAY_FIRST) + "]"
    return f"coalesce(strftime(try_strptime(trim({t}), {formats}), '%Y-%m-%dT%H:%M:%S.%fZ'), {t})"


def _specs(style: str, name: str, twin: str, title: str, detect: Callable[[Mapping[str, Any]], bool],
           table: str) -> list[SourceSpec]:
    f = _field(style)
    accept = f"{nz(f('name'))} IS NOT NULL AND {nz(f('source'))} IS NOT NULL"
    accept_reason = f"not a CloudTrail record: no {NAMES['name'][style == 'sentinel']} / " \
                    f"{NAMES['source'][style == 'sentinel']}"
    return [
        SourceSpec(
            name=name, title=title, target="signins", detect=detect, columns=signin_columns(f),
            record_id=f("id"), time=_time(style), source_table=table,
            # other API calls are stored in activities by the twin format
            accept_when=f"{accept} AND {_is_signin(f)}", accept_reason="not a CloudTrail sign-in event",
            fallback=twin,
        ),
        SourceSpec(
            name=twin,
            title=title.split(":")[0] + f": every event into activities (non-sign-ins of {name} land here)",
            target="activities", detect=lambda r: False, columns=activity_columns(f),
            record_id=f("id"), time=_time(style), source_table=table, accept_when=accept,
            accept_reason=accept_reason,
        ),
    ]


SOURCES = [
    *_specs("raw", "cloudtrail_console", "cloudtrail_activity",
            "AWS CloudTrail records: ConsoleLogin and signin.amazonaws.com events",
            detect_raw, "'AWSCloudTrail'"),
    *_specs("sentinel", "cloudtrail_sentinel", "cloudtrail_sentinel_activity",
            "AWS CloudTrail, Sentinel AWSCloudTrail table: ConsoleLogin and signin.amazonaws.com events",
            detect_sentinel, "coalesce(nullif({$.Type}, ''), 'AWSCloudTrail')"),
]
