"""One-line incident titles that say what happened and where, set-based.

The lead detection (strongest level, then earliest) gives the headline; the network class and
country of its IP say where; the earliest detection of another kind is placed in time against it
("12 minutes after an attacker-in-the-middle sign-in"); further kinds are counted:

    Session token replayed from a hosting network in RU 12 minutes after an attacker-in-the-middle sign-in

Campaigns against many accounts keep their own titles (incidents/build.py).
"""
from __future__ import annotations

from collections.abc import Mapping

from vigil.store import Store

#: riskEventType -> (headline, noun phrase for "after ...")
PHRASES: dict[str, tuple[str, str]] = {
    "anomalousToken": ("Session token replayed", "a session-token replay"),
    "attackerinTheMiddle": ("Attacker-in-the-middle sign-in", "an attacker-in-the-middle sign-in"),
    "mcasImpossibleTravel": ("Impossible travel", "impossible travel"),
    "impossibleTravel": ("Impossible travel", "impossible travel"),
    "unlikelyTravel": ("Unlikely travel", "unlikely travel"),
    "newCountry": ("Sign-in from a new country", "a sign-in from a new country"),
    "unfamiliarFeatures": ("Sign-in with unfamiliar properties", "a sign-in with unfamiliar properties"),
    "anonymizedIPAddress": ("Sign-in through an anonymising network", "a sign-in through an anonymising network"),
    "riskyIPAddress": ("Mailbox or files used through an anonymising network",
                      "activity through an anonymising network"),
    "maliciousIPAddress": ("Sign-in from a malicious IP", "a sign-in from a malicious IP"),
    "leakedCredentials": ("Leaked password used", "a leaked password in use"),
    "legacyAuthentication": ("Legacy-protocol sign-in", "a legacy-protocol sign-in"),
    "mfaFatigue": ("MFA push bombing", "repeated MFA prompts"),
    "passwordSpray": ("Password spray succeeded", "a password spray"),
    "credentialStuffing": ("Credential stuffing succeeded", "credential stuffing"),
    "bruteForce": ("Brute-forced password", "a brute-force attack"),
    "massDownload": ("Mass download", "a mass download"),
    "suspiciousInboxForwarding": ("Mail forwarded outside the tenant", "mail forwarding outside the tenant"),
    "mcasSuspiciousInboxManipulationRules": ("Suspicious inbox rules", "suspicious inbox rules"),
    "suspiciousInboxManipulationRules": ("Suspicious inbox rules", "suspicious inbox rules"),
    "identityProviderFlagged": ("Sign-in flagged by the identity provider", "a sign-in the identity provider flagged"),
}

#: ip_class -> "from ..." phrase
WHERE: dict[str, str] = {
    "hosting": "a hosting network", "vpn": "a VPN", "tor": "Tor", "residential": "a home ISP",
    "mobile": "a mobile network", "corporate_egress": "the corporate network", "proxy": "a proxy",
}


def _values(store: Store, rows: Mapping[str, tuple[str, ...]], alias: str, names: tuple[str, ...]) -> str:
    body = ", ".join("(" + ", ".join(store.literal(v) for v in (k, *vals)) + ")" for k, vals in rows.items())
    return f"(values {body}) as {alias}({', '.join(names)})"


def _gap(seconds: str) -> str:
    """``12 minutes`` / ``3 hours`` / ``2 days`` from a number of seconds (SQL)."""
    return (f"case when {seconds} < 60 then 'seconds' "
            f"when {seconds} < 7200 then greatest(1, round({seconds} / 60))::BIGINT || ' minutes' "
            f"when {seconds} < 172800 then round({seconds} / 3600)::BIGINT || ' hours' "
            f"else round({seconds} / 86400)::BIGINT || ' days' end")


def build_titles(store: Store, weight: str) -> None:
    """``temp._inc_titles(candidate_id, title)`` for the incidents in ``temp._inc_new``; ``weight`` is the
    SQL ranking a detection's level (``{0}``: the level column)."""
    have = store.relations()
    classes = " union all ".join(f"select event_id, ip_class from {t}" for t in
                                 ("signins_enriched", "activities_enriched") if t in have) \
        or "select null::VARCHAR as event_id, null::VARCHAR as ip_class"
    epoch = store.dialect.epoch_seconds
    secs = f"abs({epoch('o.t')} - {epoch('l.t')})"
    con = store.con
    con.execute("drop table if exists temp._inc_titles")
    con.execute(f"""
    create temp table _inc_titles as
    with dets as (
      select x.candidate_id, d.id, d.riskEventType as type, d.activityDateTime as t,
        json_extract_string(d.location, '$.countryOrRegion') as country, d.event_id,
        {weight.format('d.riskLevel')} as wt
      from (select candidate_id, unnest(detection_ids) as det_id from _inc_new where campaign_key is null) x
      join "riskDetections" d on d.id = x.det_id and d.source = 'vigil'
    ),
    cls as (select event_id, min(ip_class) as ip_class from ({classes}) c where event_id is not null group by 1),
    ranked as (
      select dets.*, row_number() over (partition by candidate_id order by wt desc, t, id) as r_lead from dets
    ),
    lead as (select * from ranked where r_lead = 1),
    others as (
      select o.*, row_number() over (partition by o.candidate_id order by o.t, o.id) as r_other
      from dets o join lead l on l.candidate_id = o.candidate_id and o.type <> l.type
    ),
    kinds as (select candidate_id, count(distinct type) as n from dets group by 1)
    select l.candidate_id,
      coalesce(p.headline, l.type)
      || case when w.phrase is not null and l.country is not null then ' from ' || w.phrase || ' in ' || l.country
              when w.phrase is not null then ' from ' || w.phrase
              when l.country is not null then ' in ' || l.country else '' end
      || case when o.type is null then ''
              when o.t <= l.t then ' ' || {_gap(secs)} || ' after ' || coalesce(op.noun, o.type)
              else ', then ' || coalesce(op.noun, o.type) || ' ' || {_gap(secs)} || ' later' end
      || case when k.n > 2 then ' (+' || (k.n - 2) || ' more)' else '' end as title
    from lead l
    join kinds k on k.candidate_id = l.candidate_id
    left join cls c on c.event_id = l.event_id
    left join {_values(store, {k: (v,) for k, v in WHERE.items()}, "w", ("ip_class", "phrase"))}
      on w.ip_class = c.ip_class
    left join {_values(store, PHRASES, "p", ("type", "headline", "noun"))} on p.type = l.type
    left join others o on o.candidate_id = l.candidate_id and o.r_other = 1
    left join {_values(store, PHRASES, "op", ("type", "headline", "noun"))} on op.type = o.type
    """)
