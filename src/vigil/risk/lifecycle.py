"""Risk states from detections, remediation events and admin actions (Entra ID Protection's lifecycle).

Re-computed from scratch on every run, so it is idempotent and admin actions (kept in
``riskActions``, never replaced) survive re-analysis:

1. every vigil detection starts ``atRisk``; each admin "confirm compromised" adds an
   ``adminConfirmedUserCompromised`` detection (high, ``confirmedCompromised``);
2. *closures* end earlier risk of a user: a successful password change or reset in
   ``directory_events`` (remediated), an admin dismiss (dismissed) or confirm safe (confirmedSafe).
   Each detection takes the first closure at or after its activity time;
3. a real-time sign-in detection is remediated when the user then completes MFA interactively
   from the same IP within ``risk.mfa_remediation_minutes`` (risk-based MFA);
4. low detections still at risk age out after ``risk.low_risk_age_days`` before the latest event
   in the store (riskDetail ``lowRiskAgedOut``); medium and high persist;
5. ``signinRisk`` and ``riskyUsers`` are derived from what is left; an account merely *tried* by a
   password spray, credential stuffing or brute force (low finding with a ``campaign_key``) gets no
   user risk, as Entra raises none for wrong passwords (the attack is the attack-source incident's).
"""
from __future__ import annotations

from typing import Any

from vigil.detections.tables import RISK_DETECTIONS
from vigil.identity.tables import TABLES as IDENTITY_TABLES
from vigil.risk.tables import TABLES
from vigil.settings import RiskSettings
from vigil.store import Store, in_list

ADMIN_CONFIRMED = "adminConfirmedUserCompromised"
DECISION_POINT = "decisionPoint"  # riskDetections.detection of the decision point's real-time rows
DECISION_WINDOW_MINUTES = 10  # a decision and its sign-in's log record are this close in time
RANK = "(case {0} when 'high' then 3 when 'medium' then 2 when 'low' then 1 else 0 end)"
#: who wrote a sign-in's own risk fields: Entra ID Protection, Okta, Google (signinRisk.source)
VENDOR_SOURCES = ("IdentityProtection", "Okta", "Google")
UNRANK = "(case {0} when 3 then 'high' when 2 then 'medium' when 1 then 'low' else 'none' end)"


def _admin_detections(store: Store) -> None:
    store.con.execute(f"""delete from "riskDetections" where source = 'vigil' and detection = '{ADMIN_CONFIRMED}'""")
    store.con.execute(f"""
    insert into "riskDetections" (id, riskEventType, riskLevel, riskState, riskDetail, detectionTimingType, activity,
      activityDateTime, detectedDateTime, userId, userPrincipalName, source, additionalInfo, detection, mitre, reason)
    select substr(md5('{ADMIN_CONFIRMED}|' || action_id), 1, 16), '{ADMIN_CONFIRMED}', 'high',
      'confirmedCompromised', '{ADMIN_CONFIRMED}', 'offline', 'user', created_at, created_at, userId,
      lower(userPrincipalName), 'vigil',
      json_object('detection', '{ADMIN_CONFIRMED}', 'reason', 'confirmed compromised by ' || actor
                  || coalesce(': ' || reason, ''), 'evidence', json_object('action_id', action_id, 'actor', actor)),
      '{ADMIN_CONFIRMED}', '[]'::JSON, 'confirmed compromised by ' || actor || coalesce(': ' || reason, '')
    from "riskActions" where action = 'confirmCompromised'
    """)


def _covered_decisions(store: Store) -> None:
    """A real-time detection of the decision point is dropped once the logs' sign-in raised the same
    riskEventType in the batch detections (same user and IP, within the decision window): one
    detection per risky sign-in, the one with the sign-in's event id. A sign-in decided twice (asked
    again after the MFA step up) keeps its first decision's detection."""
    store.con.execute(f"""
    delete from "riskDetections" as d
    where d.source = 'vigil' and d.detection = '{DECISION_POINT}'
      and exists (select 1 from "riskDetections" e
                  where e.source = 'vigil' and e.detection = '{DECISION_POINT}' and e.id <> d.id
                    and e.riskEventType = d.riskEventType and e.userPrincipalName = d.userPrincipalName
                    and e.ipAddress is not distinct from d.ipAddress
                    and (e.activityDateTime, e.id) < (d.activityDateTime, d.id)
                    and e.activityDateTime >= d.activityDateTime - interval '{DECISION_WINDOW_MINUTES} minutes')
    """)
    store.con.execute(f"""
    delete from "riskDetections" as d
    where d.source = 'vigil' and d.detection = '{DECISION_POINT}'
      and exists (select 1 from "riskDetections" b
                  where b.source = 'vigil' and coalesce(b.detection, '') <> '{DECISION_POINT}'
                    and b.riskEventType = d.riskEventType and b.userPrincipalName = d.userPrincipalName
                    and b.ipAddress is not distinct from d.ipAddress
                    and b.activityDateTime between d.activityDateTime - interval '{DECISION_WINDOW_MINUTES} minutes'
                                               and d.activityDateTime + interval '{DECISION_WINDOW_MINUTES} minutes')
    """)


def _keys(store: Store) -> None:
    """``_risk_keys``: each vigil detection's user key, the person (docs/identity.md).

    The person of the detection's event when the identity stage resolved it, else the person of the
    account it names, else of the identity currently named so, else the object id, else the UPN: a
    rename keeps one key, and one person's Okta and Entra findings add up to one user risk."""
    store.con.execute("""
    create or replace temp table _risk_keys as
    select d.id, coalesce(ev.person_id, acct.person_id, nm.person_id, d.userId, d.userPrincipalName) as k
    from "riskDetections" d
    left join (select event_id, min(person_id) as person_id from event_identities group by event_id) ev
      on ev.event_id = d.event_id
    left join (select lower(account_id) as account_id, min(person_id) as person_id from identities
               where account_id is not null group by 1) acct on acct.account_id = lower(d.userId)
    left join (select name, min(person_id) as person_id from identities where name is not null group by 1) nm
      on nm.name = d.userPrincipalName
    where d.source = 'vigil'
    """)


def _closures(store: Store) -> None:
    """Events that end earlier risk, each with the user key of the detections it closes.

    A closure names the user by object id when the event carries one, else by UPN; the id is turned into
    the key of the detections that carry it (or of the account's person), a UPN into the key of the
    user whose detections last carried it (so a reset after a rename still closes)."""
    store.con.execute("drop table if exists temp._risk_closures")
    store.con.execute(f"""
    create temp table _risk_closures as
    with c as (
      select case when target_user_id is not null or target_upn is not null then target_user_id
                  else actor_id end as uid,
        lower(coalesce(target_upn, actor_upn)) as upn, event_time as t, 'remediated' as state,
        case when actor_upn is not null and target_upn is not null and lower(actor_upn) <> lower(target_upn)
             then 'adminGeneratedTemporaryPassword'
             when event_type = 'password_reset' then 'userPerformedSecuredPasswordReset'
             else 'userPerformedSecuredPasswordChange' end as detail,
        event_id as cause
      from directory_events
      where event_type in ('password_changed', 'password_reset') and coalesce(result, 'success') = 'success'
        and coalesce(target_upn, actor_upn) is not null
      union all
      select userId, lower(userPrincipalName), created_at,
        case action when 'dismiss' then 'dismissed' else 'confirmedSafe' end,
        case action when 'dismiss' then 'adminDismissedAllRiskForUser' else 'adminConfirmedAccountSafe' end,
        action_id
      from "riskActions" where action in ('dismiss', 'confirmSafe') and userPrincipalName is not null
    ),
    d as (select r.*, k.k from "riskDetections" r join _risk_keys k on k.id = r.id),
    ids as (select userId, min(k) as k from d where userId is not null group by userId),
    acct as (select lower(account_id) as account_id, min(person_id) as k from identities
             where account_id is not null group by 1),
    names as (
      select userPrincipalName as upn, {store.dialect.first_ordered('k', 'activityDateTime desc, id desc')} as k
      from d where userPrincipalName is not null group by userPrincipalName
    )
    select coalesce(ids.k, acct.k, names.k, c.uid, c.upn) as k, c.upn, c.t, c.state, c.detail, c.cause
    from c left join ids on ids.userId = c.uid left join acct on acct.account_id = lower(c.uid)
    left join names on names.upn = c.upn
    """)


def _close_detections(store: Store, rs: RiskSettings) -> None:
    con = store.con
    con.execute(f"""update "riskDetections" set riskState = 'atRisk', riskDetail = 'none'
                    where source = 'vigil' and detection <> '{ADMIN_CONFIRMED}'""")
    con.execute("""
    update "riskDetections" as d set riskState = c.state, riskDetail = c.detail
    from (
      select d.id, c.state, c.detail,
        row_number() over (partition by d.id order by c.t, c.cause) as rn
      from "riskDetections" d join _risk_keys k on k.id = d.id
      join _risk_closures c on c.k = k.k and c.t >= d.activityDateTime
      where d.source = 'vigil'
    ) c
    where c.rn = 1 and d.id = c.id and d.source = 'vigil'
    """)
    # Risk-based MFA: the user proved themselves right after a real-time risky sign-in.
    con.execute(f"""
    update "riskDetections" as d set riskState = 'remediated', riskDetail = 'userPassedMFADrivenByRiskBasedPolicy'
    from (
      select distinct d.id
      from "riskDetections" d join signins s
        on s.user_principal_name = d.userPrincipalName and s.ip = d.ipAddress
       and s.event_time >= d.activityDateTime
       and s.event_time <= d.activityDateTime + ({int(rs.mfa_remediation_minutes)} * interval '1 minute')
      where d.source = 'vigil' and d.riskState = 'atRisk' and d.detectionTimingType = 'realtime'
        and d.activity = 'signin' and s.result = 'success' and coalesce(s.is_interactive, false)
        and coalesce(s.mfa_satisfied, false) and s.auth_requirement = 'multiFactorAuthentication'
    ) m
    where m.id = d.id and d.source = 'vigil'
    """)
    con.execute(f"""
    update "riskDetections" set riskState = 'dismissed', riskDetail = 'lowRiskAgedOut'
    where source = 'vigil' and riskState = 'atRisk' and riskLevel = 'low'
      and activityDateTime < (select coalesce(max(event_time), current_timestamp::TIMESTAMP) from signins)
                             - ({int(rs.low_risk_age_days)} * interval '1 day')
    """)


def _signin_risk(store: Store) -> None:
    rank = RANK.format("d.riskLevel")
    store.con.execute("""delete from "signinRisk" where source = 'vigil'""")
    store.con.execute(f"""
    insert into "signinRisk"
    select d.event_id,
      {UNRANK.format(f"max(case when d.detectionTimingType = 'realtime' then {rank} else 0 end)")},
      {UNRANK.format(f"greatest(max({rank}), case when count(distinct case when {rank} >= 2 then d.riskEventType end)"
                     " >= 2 then 3 else 0 end)")},
      case when bool_or(d.riskState = 'confirmedCompromised') then 'confirmedCompromised'
           when bool_or(d.riskState = 'atRisk') then 'atRisk' else min(d.riskState) end,
      case when bool_or(d.riskState in ('atRisk', 'confirmedCompromised')) then 'none' else min(d.riskDetail) end,
      'vigil', max(d.userId), max(d.userPrincipalName), max(d.activityDateTime),
      to_json(list(distinct d.riskEventType order by d.riskEventType)), to_json(list(d.id order by d.id))
    from "riskDetections" d join signins s on s.event_id = d.event_id
    where d.source = 'vigil'
    group by d.event_id
    """)
    # The identity provider's own verdict on the sign-in, shown beside vigil's, under its own name: Entra ID
    # Protection writes a state; Okta's risk (debugContext risk {level=...}, logOnlySecurityData) is a level
    # only, so it is at risk only when Okta rated it medium or high (a LOW rating is Okta saying "fine").
    store.con.execute(f"""delete from "signinRisk" where source in {in_list(VENDOR_SOURCES)}""")
    store.con.execute("""
    insert into "signinRisk"
    select event_id, coalesce(risk_level_during_signin, 'none'), coalesce(risk_level_aggregated, 'none'),
      coalesce(risk_state, case when token_issuer_type = 'Okta'
                                 and coalesce(risk_level_during_signin, 'none') not in ('medium', 'high')
                                then 'none' else 'atRisk' end),
      coalesce(risk_detail, 'none'),
      case token_issuer_type when 'Okta' then 'Okta' when 'Google' then 'Google' else 'IdentityProtection' end,
      user_id, user_principal_name, event_time, risk_event_types, null
    from signins
    where coalesce(risk_level_aggregated, 'none') not in ('none', 'hidden', '')
       or coalesce(risk_level_during_signin, 'none') not in ('none', 'hidden', '')
    """)


def _risky_users(store: Store) -> None:
    rank = RANK.format("riskLevel")
    what = "riskEventType || ' (' || riskLevel || ')'"
    store.con.execute("""delete from "riskyUsers" where source = 'vigil'""")
    store.con.execute(f"""
    insert into "riskyUsers"
    with contrib as (  -- an account merely *tried* by a spray / stuffing / brute force is not at risk
      select r.*, k.k from "riskDetections" r join _risk_keys k on k.id = r.id
      where source = 'vigil' and userPrincipalName is not null
        and not (riskLevel = 'low' and json_extract_string(additionalInfo, '$.evidence.campaign_key') is not null)
    ),
    active as (select * from contrib where riskState in ('atRisk', 'confirmedCompromised')),
    u as (  -- one row per user: a renamed user keeps its object id and is shown by its latest name
      select k as k,
        {store.dialect.first_ordered('userPrincipalName', 'activityDateTime desc, id desc')} as upn,
        {store.dialect.first_ordered('userDisplayName', 'activityDateTime desc, id desc')} as disp,
        max(activityDateTime) as last_det
      from contrib group by k
    ),
    a as (
      select k as k, count(*) as n, max({rank}) as top,
        count(distinct case when {rank} >= 2 then riskEventType end) as med_types,
        count(distinct riskEventType) as types, bool_or(riskState = 'confirmedCompromised') as compromised,
        {store.dialect.string_agg(what, ', ', order_by=what, distinct=True)} as what
      from active group by k
    ),
    lc as (  -- when nothing is at risk: the latest closure (admin action, password change) or closed detection
      select k, state, detail, t,
        row_number() over (partition by k order by t desc, pri, cause) as rn
      from (
        select k, state, detail, t, 0 as pri, cause from _risk_closures
        union all
        select k, riskState, riskDetail, activityDateTime, 1, id from contrib
        where riskState not in ('atRisk', 'confirmedCompromised')
      ) x
    )
    select u.k, coalesce(i.name, u.upn), coalesce(i.display_name, u.disp),
      case when a.compromised then 'high' when a.n is null then 'none'
           when a.top = 3 or a.med_types >= 2 then 'high'
           when a.top = 2 or a.types >= 3 then 'medium' else 'low' end,
      case when a.compromised then 'confirmedCompromised' when a.n is not null then 'atRisk'
           else coalesce(lc.state, 'dismissed') end,
      case when a.compromised then '{ADMIN_CONFIRMED}' when a.n is not null then 'none'
           else coalesce(lc.detail, 'lowRiskAgedOut') end,
      greatest(u.last_det, coalesce(lc.t, u.last_det)), 'vigil', false, false, coalesce(a.n, 0),
      case when a.n is null then 'no detection still at risk'
           else a.n || ' detection(s) at risk: ' || a.what end
    from u left join a on a.k = u.k left join lc on lc.k = u.k and lc.rn = 1
    left join identities i on i.identity_id = u.k  -- the person's current name
    """)


def apply(store: Store, rs: RiskSettings) -> dict[str, Any]:
    """Recompute every vigil risk state; return counts for the stage summary."""
    store.ensure((RISK_DETECTIONS, *TABLES, *IDENTITY_TABLES))
    con = store.con
    with store.transaction():
        _admin_detections(store)
        _covered_decisions(store)
        _keys(store)
        _closures(store)
        _close_detections(store, rs)
        _signin_risk(store)
        _risky_users(store)
    rows = con.execute("""select riskState, count(*) from "riskyUsers" where source = 'vigil' group by 1""").fetchall()
    states = {k: int(v) for k, v in rows}
    levels = dict(con.execute("""select riskLevel, count(*) from "riskyUsers" where source = 'vigil'
                                 and riskState in ('atRisk', 'confirmedCompromised') group by 1""").fetchall())
    return {"riskyUsers": sum(states.values()), "by_state": states, "at_risk_by_level": levels,
            "signinRisk": store.count("signinRisk")}
