"""Leaked credentials: an account on the leaked-credential list whose password is seen to work."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import VALIDATED


def _sql(p: Params) -> str:
    return f"""
with leaked as (
  select upn_sha256, max(upn) as upn, max(credential_sha256) as credential_sha256, min(leaked_at) as leaked_at,
         min(line) as line
  from leaked_credentials group by upn_sha256
),
s as (
  select event_id, user_id, user_principal_name, event_time, ip, asn_number, ip_class, is_corporate_egress,
    result, result_code,
    case when {VALIDATED} then 1 else 0 end as validated,
    -- has this account succeeded from this network before?
    coalesce(sum(case when result = 'success' then 1 else 0 end) over (
      partition by user_principal_name, asn_number order by event_time, event_id
      rows between unbounded preceding and 1 preceding), 0) as prior_ok_network,
    coalesce(sum(case when result = 'success' then 1 else 0 end) over (
      partition by user_principal_name order by event_time, event_id
      rows between unbounded preceding and 1 preceding), 0) as prior_ok
  from signins_enriched where user_principal_name is not null
),
listed as (
  select s.*, l.credential_sha256, l.leaked_at, l.line
  from s join leaked l on l.upn_sha256 = sha256(lower(s.user_principal_name))
),
shared_source as (  -- IPs that tried more than one listed account: someone working through the list
  select ip, count(distinct user_principal_name) as listed_accounts from listed
  where ip is not null group by ip having count(distinct user_principal_name) >= 2
),
hits as (
  select x.*, ss.listed_accounts,
    row_number() over (partition by x.user_principal_name order by x.event_time, x.event_id) as rn
  from listed x left join shared_source ss on ss.ip = x.ip
  where x.validated = 1 and x.prior_ok_network = 0 and x.prior_ok > 0 and x.asn_number is not null
    and not coalesce(x.is_corporate_egress, false)
    and (x.leaked_at is null or x.event_time >= x.leaked_at)
    and (x.ip_class in ('hosting', 'vpn', 'tor') or ss.ip is not null)
)
select event_id, user_id, user_principal_name, event_time as activity_time, 'high' as risk_level,
  'account is on the leaked-credential list (line ' || line || ') and its password was accepted from '
    || coalesce(ip_class, 'unclassified') || ' network AS' || asn_number || ', which it never used before'
    || case when listed_accounts is not null then ', by an IP that tried ' || listed_accounts
            || ' listed accounts' else '' end as reason,
  json_object('list_line', line, 'credential_sha256', credential_sha256, 'leaked_at', leaked_at, 'ip', ip,
              'asn', asn_number, 'ip_class', ip_class, 'listed_accounts_tried_from_ip', listed_accounts,
              'result', result, 'result_code', result_code,
              'note', 'vigil cannot compare the leaked hash with the current password; the accepted password '
                      || 'from a new network is the evidence it still works') as evidence
from hits where rn = 1
"""


DETECTION = Detection(
    id="leakedCredentials",
    title="Leaked credentials",
    description=(
        "An account on the configured leaked-credential list (hashes only: sha256 of 'upn:password', or of the "
        "UPN) whose password is then accepted (success, or stopped at the MFA step) from a network (ASN) the "
        "account, which has a history, never signed in from successfully, when that network is attacker-shaped "
        "(hosting, VPN, Tor) or the same IP tried other listed accounts (someone working through the list); "
        "corporate egress never counts. Logs never carry passwords, so vigil cannot prove the "
        "leaked password is the current one as Entra does against the synchronised hash; the accepted password "
        "from new infrastructure is the evidence. Always high, as in Entra. Skipped when no list is configured."
    ),
    entra_risk_event_type="leakedCredentials",
    mitre=("T1078.004", "T1589.001"),
    levels=("high",),
    level_rules="always high",
    timing="offline",
    activity="user",
    requires=("signins_enriched", "leaked_credentials"),
    params={},
    sql=_sql,
)
