"""Group detections and high-priority behaviour into incidents, set-based.

1. **Signals**: vigil's riskDetections still meaningful (not dismissed or confirmed safe; a
   remediated compromise is still an incident to review; an admin's "confirmed compromised" is a
   verdict on an incident, not a new signal) and BehaviorAnalytics rows with
   ``InvestigationPriority >= incidents.behavior_min_priority``.
2. **Subject**: the user; except a multi-account attack's *unsuccessful* attempts (password spray,
   credential stuffing, brute force from unfamiliar IPs: findings below high, i.e. tried, or password
   accepted but stopped by MFA), which group by attack source (``campaign_key``) so a spray against
   60 accounts is one incident, not 60. A successful sign-in (high) joins the user's own incident.
3. **Campaigns**: a subject's signals ordered by time and id; a gap longer than
   ``incidents.merge_gap_hours`` starts a new campaign (window functions, no per-row Python).
4. **Score**: per detection kind its strongest level (low 1, medium 3, high 6), summed, plus 1 per
   distinct ActionType of high-priority behaviour (at most 2), plus 1 when several kinds agree. A campaign becomes
   an incident at ``incidents.min_score``; multi-account campaigns always do (they are attacks by
   construction) at low severity unless something succeeded, and so does a campaign with an alert of an
   imported Sentinel analytic rule (Sentinel raises an incident per alert), at the rule's severity.
5. **Stable ids**: a new campaign sharing detections with an existing incident keeps its id, status,
   classification and creation time, so analysts' work survives re-analysis.
"""
from __future__ import annotations

from typing import Any

from vigil.identity.tables import EVENT_IDENTITIES
from vigil.incidents.tables import INCIDENTS, TABLES
from vigil.incidents.titles import build_titles
from vigil.settings import IncidentSettings
from vigil.store import Store

WEIGHT = "(case {0} when 'high' then 6 when 'medium' then 3 when 'low' then 1 else 0 end)"

#: detection kinds -> the action an analyst should take, most urgent first
ACTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("attackerinTheMiddle", "anomalousToken", "riskyIPAddress", "adminConfirmedUserCompromised"),
     "revoke all sessions and refresh tokens now, then require a password change"),
    (("suspiciousInboxForwarding", "mcasSuspiciousInboxManipulationRules"),
     "remove the inbox rules and forwarding the attacker added; check what mail left the tenant"),
    (("massDownload",), "review the downloaded files and who they belong to; consider data-breach procedure"),
    (("passwordSpray", "credentialStuffing", "bruteForce", "leakedCredentials", "maliciousIPAddress"),
     "reset the password (it was accepted from attacker infrastructure) and check MFA methods"),
    (("mfaFatigue",), "reset the password, revoke sessions, and switch the user to number matching / FIDO2"),
    (("legacyAuthentication",), "block legacy authentication and ROPC with conditional access"),
    (("unlikelyTravel", "mcasImpossibleTravel", "newCountry", "unfamiliarFeatures", "anonymizedIPAddress"),
     "confirm with the user; if it was not them, revoke sessions and require a password change"),
)
CAMPAIGN_ACTION = ("block the source at the identity provider (named location / IP block), confirm smart "
                   "lockout held, and watch the targeted accounts for a success")


def _action_sql() -> str:
    """The actions for the kinds present; the confirm-with-the-user advice only when nothing stronger applies."""
    parts = []
    for kinds, text in ACTIONS:
        cond = " or ".join(f"list_contains(n.types, '{k}')" for k in kinds)
        parts.append(f"case when {cond} then '{text}' end")
    strong = "concat_ws('; ', " + ", ".join(parts[:-1]) + ")"
    return f"case when {strong} = '' then coalesce({parts[-1]}, 'review the evidence') else {strong} end"


def _signals(store: Store, s: IncidentSettings, have: set[str]) -> None:
    con = store.con
    con.execute("drop table if exists temp._inc_signals")
    behaviour = ""
    if "BehaviorAnalytics" in have:
        behaviour = f"""
        union all
        select 'ba:' || b.SourceRecordId, 'behavior', lower(b.UserPrincipalName), null,
          (select min(person_id) from event_identities ei where ei.event_id = b.SourceRecordId), b.TimeGenerated,
          coalesce(b.ActionType, b.ActivityType), 'low', b.SourceRecordId, es.session_key,
          'InvestigationPriority ' || b.InvestigationPriority || ' on ' || coalesce(b.ActionType, b.ActivityType),
          null, b.InvestigationPriority
        from "BehaviorAnalytics" b
        left join (select event_id, min(session_key) as session_key from event_sessions group by event_id) es
          on es.event_id = b.SourceRecordId
        where b.InvestigationPriority >= {int(s.behavior_min_priority)} and b.UserPrincipalName is not null"""
    if "event_sessions" not in have:
        behaviour = behaviour.replace(
            "left join (select event_id, min(session_key) as session_key from event_sessions group by event_id) es\n"
            "          on es.event_id = b.SourceRecordId", "left join (select null as event_id, null as session_key) es"
            " on false")
    con.execute(f"""
    create temp table _inc_signals as
    select d.id as signal_id, 'detection' as kind, d.userPrincipalName as upn, d.userId as uid,
      (select min(person_id) from event_identities ei where ei.event_id = d.event_id) as person,
      d.activityDateTime as t, d.riskEventType as type, d.riskLevel as level, d.event_id, d.session_key,
      d.reason,
      case when d.detection in ('passwordSpray', 'credentialStuffing', 'bruteForce') and d.riskLevel <> 'high'
           then json_extract_string(d.additionalInfo, '$.evidence.campaign_key') end as campaign_key,
      null::INTEGER as priority
    from "riskDetections" d
    where d.source = 'vigil' and d.riskState not in ('dismissed', 'confirmedSafe')
      and d.activityDateTime is not null
      and d.riskEventType <> 'adminConfirmedUserCompromised'  -- an analyst's verdict, not a new signal
    {behaviour}
    """)


def _campaigns(store: Store, s: IncidentSettings) -> None:
    gap = float(s.merge_gap_hours) * 3600
    elapsed = f"{store.dialect.epoch_seconds('t')} - {store.dialect.epoch_seconds('prev_t')}"
    w = WEIGHT.format("level")
    store.con.execute("drop table if exists temp._inc_campaigns")
    store.con.execute(f"""
    create temp table _inc_campaigns as
    with sig as (
      -- one subject per person (docs/identity.md): a renamed user's signals under both names are one story
      select *, coalesce(campaign_key, person, upn) as subject from _inc_signals
      where coalesce(campaign_key, person, upn) is not null
    ),
    lagged as (
      select sig.*, lag(t) over (partition by subject order by t, signal_id) as prev_t from sig
    ),
    numbered as (
      select lagged.*,
        sum(case when prev_t is null or {elapsed} > {gap} then 1 else 0 end)
          over (partition by subject order by t, signal_id rows between unbounded preceding and current row) as n
      from lagged
    ),
    per_type as (
      select subject, n, kind, type, max({w}) as wt from numbered group by subject, n, kind, type
    ),
    scores as (
      select subject, n,
        sum(case when kind = 'detection' then wt else 0 end) as det_score,
        least(count(case when kind = 'behavior' then 1 end), 2) as ba_score,
        count(case when kind = 'detection' then 1 end) as kinds
      from per_type group by subject, n
    )
    select c.subject, c.n, max(c.campaign_key) as campaign_key,
      case when count(distinct c.upn) = 1 then max(c.uid)
           when max(c.campaign_key) is null then {store.dialect.first_ordered('c.uid', 'c.t desc, c.signal_id desc')}
           end as uid,
      case when count(distinct c.upn) = 1 then max(c.upn)
           when max(c.campaign_key) is null then {store.dialect.first_ordered('c.upn', 'c.t desc, c.signal_id desc')}
           end as upn,
      min(c.t) as first_t, max(c.t) as last_t,
      list(c.signal_id order by c.t, c.signal_id) filter (where c.kind = 'detection') as detection_ids,
      list(distinct c.event_id order by c.event_id) filter (where c.kind = 'behavior') as behavior_ids,
      list(distinct c.event_id order by c.event_id) filter (where c.event_id is not null) as signal_events,
      list(distinct c.session_key order by c.session_key) filter (where c.session_key is not null)
        as session_keys,
      list(distinct c.type order by c.type) filter (where c.kind = 'detection') as types,
      list(distinct c.upn order by c.upn) as accounts,
      coalesce(array_to_string(list(distinct c.upn order by c.upn) filter (where c.level <> 'low'), ', '), '')
        as accepted,
      max({w}) filter (where c.kind = 'detection') as top,
      -- an imported Sentinel analytic rule's alert raises an incident on its own (Sentinel's createIncident)
      count(*) filter (where c.kind = 'detection' and c.type like 'sentinel:%') as alerts,
      sc.det_score + sc.ba_score + case when sc.kinds >= 2 then 1 else 0 end as score,
      sc.det_score, sc.ba_score, sc.kinds
    from numbered c join scores sc on sc.subject = c.subject and sc.n = c.n
    group by c.subject, c.n, sc.det_score, sc.ba_score, sc.kinds
    """)


def _raise(store: Store, s: IncidentSettings, have: set[str]) -> None:
    """Incidents from campaigns over the threshold, ids kept from the previous run where they overlap."""
    con = store.con
    session_events = "list_value()"
    join_sessions = ""
    if "event_sessions" in have:
        join_sessions = """left join (
          select k.subject, k.n, list(distinct es.event_id order by es.event_id) as evs
          from (select subject, n, unnest(session_keys) as sk from _inc_campaigns) k
          join event_sessions es on es.session_key = k.sk
          group by k.subject, k.n) se on se.subject = c.subject and se.n = c.n"""
        session_events = "coalesce(se.evs, list_value())"
    con.execute("drop table if exists temp._inc_new")
    con.execute(f"""
    create temp table _inc_new as
    select c.*,
      'INC-' || substr(md5(c.subject || '|' || c.detection_ids[1]), 1, 10) as candidate_id,
      list_sort(list_distinct(list_concat(c.signal_events, {session_events}))) as event_ids,
      case when c.campaign_key is not null and c.top <= 1 then 'low'
           when c.top = 6 or c.score >= 9 then 'high'
           when c.top = 3 or c.score >= {float(s.min_score)} then 'medium' else 'low' end as severity
    from _inc_campaigns c {join_sessions}
    where c.detection_ids is not null and len(c.detection_ids) > 0
      and (c.score >= {float(s.min_score)} or c.campaign_key is not null or c.alerts > 0)
    """)
    # Which previous incident does each new one continue? Most shared detections, then oldest.
    con.execute("drop table if exists temp._inc_map")
    con.execute("""
    create temp table _inc_map as
    with old as (
      select incident_id, created_at, unnest(from_json(detection_ids, '["VARCHAR"]')) as det from incidents
    ),
    overlap as (
      select n.candidate_id, o.incident_id, min(o.created_at) as created_at, count(*) as shared
      from (select candidate_id, unnest(detection_ids) as det from _inc_new) n join old o on o.det = n.det
      group by n.candidate_id, o.incident_id
    ),
    best as (
      select *, row_number() over (partition by candidate_id order by shared desc, created_at, incident_id) as r1
      from overlap
    ),
    unique_old as (
      select *, row_number() over (partition by incident_id order by shared desc, candidate_id) as r2
      from best where r1 = 1
    )
    select candidate_id, incident_id from unique_old where r2 = 1
    """)


def _write(store: Store) -> None:
    con = store.con
    rank_sev = "case severity when 'high' then 3 when 'medium' then 2 when 'low' then 1 else 0 end"
    con.execute("drop table if exists temp._inc_old")
    con.execute("create temp table _inc_old as select * from incidents")
    con.execute("delete from incidents")
    con.execute(f"""
    insert into incidents
    with n as (
      select _inc_new.*, coalesce(m.incident_id, _inc_new.candidate_id) as incident_id,
        substr(_inc_new.campaign_key, length(split_part(_inc_new.campaign_key, ':', 1))
               + length(split_part(_inc_new.campaign_key, ':', 2)) + 3) as src
      from _inc_new left join _inc_map m on m.candidate_id = _inc_new.candidate_id
    ),
    shaped as (
      select n.*,
        case when n.campaign_key is not null then
               case split_part(n.campaign_key, ':', 1) when 'spray' then 'Password spray'
                    when 'stuffing' then 'Credential stuffing' else 'Brute force' end
               || case when split_part(n.campaign_key, ':', 1) = 'brute' then ' against ' || n.accounts[1]
                       when split_part(n.campaign_key, ':', 2) = 'ip' then ' from ' || n.src || ' against '
                            || len(n.accounts) || ' accounts'
                       else ' from rotating IPs sharing user agent ' || n.src || ' against ' || len(n.accounts)
                            || ' accounts' end
             else coalesce(t.title, array_to_string(n.types, ', ')) end as title,
        case when n.campaign_key is not null and n.top <= 1 then '{CAMPAIGN_ACTION}'
             when n.campaign_key is not null then '{CAMPAIGN_ACTION}; reset the password of every account whose '
                  || 'password was accepted (' || n.accepted || ')'
             else {_action_sql()} end as recommended_action,
        'score ' || n.score || ': ' || array_to_string(n.types, ' + ')
          || case when n.ba_score > 0 then ' + ' || len(n.behavior_ids) || ' BehaviorAnalytics row(s) with '
                  || 'high InvestigationPriority' else '' end
          || case when n.kinds >= 2 then ' (' || n.kinds || ' kinds of detection agree)' else '' end as reason,
        md5(to_json(n.detection_ids)::varchar || '|' || coalesce(to_json(n.behavior_ids)::varchar, '[]') || '|'
            || n.severity)
          as content_hash
      from n left join _inc_titles t on t.candidate_id = n.candidate_id
    )
    select sh.incident_id, sh.title, sh.severity, coalesce(o.status, 'new'), o.classification, sh.uid, sh.upn,
      sh.first_t, sh.last_t, to_json(coalesce(sh.session_keys, [])), to_json(sh.detection_ids),
      to_json(coalesce(sh.event_ids, [])),
      sh.recommended_action, sh.reason, sh.score, coalesce(o.created_at, current_timestamp::TIMESTAMP),
      case when o.content_hash = sh.content_hash then o.updated_at else current_timestamp::TIMESTAMP end,
      sh.campaign_key, to_json(coalesce(sh.types, [])), to_json(coalesce(sh.behavior_ids, [])),
      to_json(coalesce(sh.accounts, [])), sh.content_hash
    from shaped sh left join _inc_old o on o.incident_id = sh.incident_id
    order by sh.score desc, {rank_sev.replace("severity", "sh.severity")} desc, sh.incident_id
    """)


def build(store: Store, s: IncidentSettings) -> dict[str, Any]:
    store.ensure((*TABLES, EVENT_IDENTITIES))
    have = store.relations()
    if "riskDetections" not in have:
        return {"incidents": 0, "skipped": "no riskDetections (run the detections stage first)"}
    con = store.con
    with store.transaction():
        _signals(store, s, have)
        _campaigns(store, s)
        _raise(store, s, have)
        build_titles(store, WEIGHT)
        _write(store)
    campaigns = store.count("_inc_campaigns")
    by_sev = dict(con.execute("select severity, count(*) from incidents group by 1").fetchall())
    return {"incidents": store.count(INCIDENTS.name), "by_severity": by_sev, "campaigns_considered": campaigns,
            "signals": store.count("_inc_signals")}
