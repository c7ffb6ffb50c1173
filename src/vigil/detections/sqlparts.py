"""SQL fragments shared by detections (portable: plain SQL and window functions)."""
from __future__ import annotations

from vigil.store import DUCKDB, in_list

#: Entra result codes raised *after* the password was accepted (the MFA step):
#: 50074/50076/50079/50072 MFA required or registration, 500121 strong auth failed/denied, 50158 external challenge
MFA_STAGE_CODES = ("50074", "50076", "50079", "50072", "500121", "50158")
#: strong-authentication denied or not answered (push bombing leaves these)
MFA_DENIED_CODES = ("500121",)
#: the user does not exist in the tenant (lists of leaked addresses are full of them)
UNKNOWN_USER_CODES = ("50034", "E0000004_USER_NOT_FOUND", "USER_NOT_FOUND")


#: the password was accepted: success, or stopped at the MFA step
VALIDATED = f"(result = 'success' or coalesce(result_code, '') in {in_list(MFA_STAGE_CODES)})"
#: a first-factor failure (wrong password, locked, unknown user) - not an MFA-stage failure
PASSWORD_FAILURE = f"(result = 'failure' and coalesce(result_code, '') not in {in_list(MFA_STAGE_CODES)})"


def level_rank(col: str) -> str:
    return f"(case {col} when 'high' then 3 when 'medium' then 2 when 'low' then 1 else 0 end)"


def minutes(n: str) -> str:
    return f"(({n}) * interval '1 minute')"


def days(n: str) -> str:
    return f"(({n}) * interval '1 day')"


def hours(n: str) -> str:
    return f"(({n}) * interval '1 hour')"


def param(col: str, name: str) -> str:
    """Value of an operation parameter, whether stored as Office 365's ``[{"Name", "Value"}]`` or an object."""
    return (
        f"""coalesce(nullif(regexp_extract(cast({col} as varchar),"""
        f""" '"Name"\\s*:\\s*"{name}"\\s*,\\s*"Value"\\s*:\\s*"([^"]*)"', 1), ''),"""
        f""" nullif(regexp_extract(cast({col} as varchar), '"{name}"\\s*:\\s*"?([^",}}\\]]*)', 1), ''))"""
    )


def attempts(where: str = "true", extra: str = "") -> str:
    """Sign-in attempts classified once: first-factor failure, success, password accepted (validated)."""
    return f"""
  select event_id, user_id, user_principal_name, event_time, ip, user_agent, result, result_code,
    {DUCKDB.epoch_seconds('event_time')} as ep,
    case when {PASSWORD_FAILURE} then 1 else 0 end as pw_fail,
    case when result = 'success' then 1 else 0 end as ok,
    case when {VALIDATED} then 1 else 0 end as validated,
    case when coalesce(result_code, '') in {in_list(UNKNOWN_USER_CODES)} then 1 else 0 end as unknown_user{extra}
  from signins_enriched
  where user_principal_name is not null and ({where})"""


#: unfamiliarFeatures' feature name -> SQL expression over signins_enriched (the real-time profiles
#: in vigil.risk.profiles keep the same features, so both judge a sign-in alike)
UNFAMILIAR_FEATURES = {
    "ip": "ip",
    "asn": "cast(asn_number as varchar)",
    "location": "geo_country || '/' || coalesce(geo_city, '')",
    "device": "coalesce(nullif(device_id, ''), ua_os_family || '/' || ua_device_family)",
    "browser": "ua_family",
    # IPv4 /24 or the first three IPv6 groups (/48)
    "subnet": "case when ip like '%.%' then regexp_extract(ip, '^(\\d+\\.\\d+\\.\\d+)\\.', 1) "
              "else regexp_extract(ip, '^([0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F]*)', 1) end",
}
