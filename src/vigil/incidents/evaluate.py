"""The noise figure: vigil's incidents against naive rules, recall over labelled campaigns.

Naive rules (what floods a SOC):

* every country change within one session faster than 900 km/h (from ``travel``: same session,
  different countries, ``speed_kmh`` > 900) — one alert per change;
* every first-time country of a user (the first successful sign-in from each country after the
  user's first country) — one alert per (user, country).

A labelled campaign is *covered* by vigil when an incident's ``event_ids`` contain one of the
campaign's malicious events, and by the naive rules when an alert is raised on one of them.
Labels name vendor record ids; they are resolved to events through ``source_record_id``, and a
campaign whose events are not in the store is reported as unresolved (and counted as missed).
Benign scenarios (``scenarios.jsonl``: travel, CGNAT phones, VPN failover, Private Relay ...) are
reported with the incidents on their users that hold no labelled malicious event: false alarms.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from vigil.errors import InputError
from vigil.store import Store

NAIVE_SPEED_KMH = 900
#: scenario lines that describe every user (who works how), not a benign event that could fool a rule
DESCRIPTIONS = ("user_profile", "okta_account")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise InputError(f"line {n} is not valid JSON ({exc})", path=str(path)) from None
    return rows


def _register(store: Store, name: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    store.con.execute(f"drop table if exists temp.{name}")
    table = pa.Table.from_pylist(rows, schema=schema)
    store.con.register(f"_{name}_arrow", table)
    try:
        store.con.execute(f"create temp table {name} as select * from _{name}_arrow")
    finally:
        store.con.unregister(f"_{name}_arrow")


def load_labels(store: Store, labels: Path, scenarios: Path | None) -> None:
    if not labels.is_file():
        raise InputError("labels file not found", path=str(labels))
    events = []
    for r in _read_jsonl(labels):
        if r.get("kind", "event") != "event":
            continue
        for key in ("record_id", "campaign_id", "campaign_type"):
            if not r.get(key):
                raise InputError(f"event label without {key}: {str(r)[:120]}", path=str(labels))
        events.append({"record_id": str(r["record_id"]), "campaign_id": str(r["campaign_id"]),
                       "campaign_type": str(r["campaign_type"]), "technique": r.get("technique"),
                       "malicious": bool(r.get("malicious", True)), "user": r.get("user")})
    if not events:
        raise InputError("no event labels (kind 'event' with record_id, campaign_id, campaign_type)",
                         path=str(labels))
    _register(store, "_eval_labels", events, pa.schema([
        ("record_id", pa.string()), ("campaign_id", pa.string()), ("campaign_type", pa.string()),
        ("technique", pa.string()), ("malicious", pa.bool_()), ("user", pa.string())]))
    scen = []
    people: set[tuple[str, str]] = set()
    if scenarios is not None and scenarios.is_file():
        for r in _read_jsonl(scenarios):
            name, user = str(r.get("scenario") or ""), (r.get("user") or "").lower()
            if user and name not in DESCRIPTIONS:
                people.add((name, user))
            for rid in r.get("record_ids") or []:
                scen.append({"scenario": name, "user": user, "record_id": str(rid)})
    _register(store, "_eval_scenarios", scen, pa.schema([
        ("scenario", pa.string()), ("user", pa.string()), ("record_id", pa.string())]))
    _register(store, "_eval_scenario_users", [{"scenario": n, "user": u} for n, u in sorted(people)],
              pa.schema([("scenario", pa.string()), ("user", pa.string())]))


def _resolve(store: Store) -> None:
    """Label record ids -> event ids (signins, activities, directory_events)."""
    store.con.execute("drop table if exists temp._eval_events")
    store.con.execute("""
    create temp table _eval_events as
    with ev as (
      select event_id, source_record_id from signins
      union all select event_id, source_record_id from activities
      union all select event_id, source_record_id from directory_events
    )
    select l.*, ev.event_id from _eval_labels l left join ev on ev.source_record_id = l.record_id
    where l.malicious
    """)
    store.con.execute("drop table if exists temp._eval_scenario_events")
    store.con.execute("""
    create temp table _eval_scenario_events as
    with ev as (select event_id, event_time, source_record_id from signins
                union all select event_id, event_time, source_record_id from activities)
    select s.*, ev.event_id, ev.event_time from _eval_scenarios s join ev on ev.source_record_id = s.record_id
    """)


def _naive(store: Store) -> None:
    have = store.relations()
    if "travel" not in have or "signins_enriched" not in have:
        raise InputError("the naive baseline needs `travel` and `signins_enriched`: run `vigil analyze` first")
    store.con.execute("drop table if exists temp._eval_naive")
    store.con.execute(f"""
    create temp table _eval_naive as
    select 'country change in session > {NAIVE_SPEED_KMH} km/h' as rule, lower(user_principal_name) as upn,
      to_event_id as event_id
    from travel
    where same_session and from_country is not null and to_country is not null and from_country <> to_country
      and speed_kmh > {NAIVE_SPEED_KMH}
    union all
    select 'first-time country', upn, event_id from (
      select lower(user_principal_name) as upn, event_id, geo_country,
        row_number() over (partition by user_principal_name, geo_country order by event_time, event_id) as k,
        dense_rank() over (partition by user_principal_name order by first_t, geo_country) as c
      from (select *, min(event_time) over (partition by user_principal_name, geo_country) as first_t
            from signins_enriched where result = 'success' and geo_country is not null) x
    ) y where k = 1 and c > 1
    """)


def evaluate(store: Store, labels: Path, scenarios: Path | None = None) -> dict[str, Any]:
    if "incidents" not in store.relations():
        raise InputError("no incidents table: run `vigil analyze` first")
    if scenarios is None:
        guess = labels.with_name("scenarios.jsonl")
        scenarios = guess if guess.is_file() else None
    load_labels(store, labels, scenarios)
    _resolve(store)
    _naive(store)
    con = store.con
    con.execute("drop table if exists temp._eval_incident_events")
    con.execute("""create temp table _eval_incident_events as
                   select incident_id, unnest(from_json(event_ids, '["VARCHAR"]')) as event_id from incidents""")
    ids = store.dialect.string_agg("incident_id", ", ", order_by="incident_id")
    per_campaign = store.query(f"""
    with c as (
      select campaign_id, min(campaign_type) as campaign_type, min(technique) as technique,
        count(*) as labelled_events, count(event_id) as resolved_events, min(user) as user
      from _eval_events group by campaign_id
    ),
    v as (select distinct e.campaign_id, i.incident_id from _eval_events e
          join _eval_incident_events i on i.event_id = e.event_id),
    n as (select distinct e.campaign_id from _eval_events e join _eval_naive a on a.event_id = e.event_id)
    select c.campaign_id, c.campaign_type, c.technique, c.user, c.labelled_events, c.resolved_events,
      (select count(*) from v where v.campaign_id = c.campaign_id) as vigil_incidents,
      (select {ids} from v where v.campaign_id = c.campaign_id)
        as incident_ids,
      exists (select 1 from n where n.campaign_id = c.campaign_id) as naive_covered
    from c order by c.campaign_type, c.campaign_id
    """).to_pylist()
    naive_alerts = int(con.execute("select count(*) from _eval_naive").fetchall()[0][0])
    unlabelled = [r[0] for r in con.execute("""
        select incident_id from incidents where incident_id not in (
          select i.incident_id from _eval_incident_events i join _eval_events e on e.event_id = i.event_id)
        order by incident_id""").fetchall()]
    # per benign scenario: its users, and the incidents on them that hold no labelled malicious event (false alarms)
    benign = store.query("""
    with unlabelled as (
      select incident_id, lower(user_principal_name) as upn from incidents where incident_id not in (
        select i.incident_id from _eval_incident_events i join _eval_events e on e.event_id = i.event_id)
    )
    select s.scenario, count(distinct s.user) as users,
      count(distinct u.incident_id) as incidents_on_no_labelled_campaign
    from _eval_scenario_users s left join unlabelled u on u.upn = s.user
    group by s.scenario order by s.scenario
    """).to_pylist()
    naive_by_rule = dict(con.execute("select rule, count(*) from _eval_naive group by 1 order by 1").fetchall())
    incidents = int(con.execute("select count(*) from incidents").fetchall()[0][0])
    # incidents on a failover user's events, or on that user while the failover happened (+-1 h)
    failover = con.execute("""
    with f as (
      select user, min(event_time) as t0, max(event_time) as t1 from _eval_scenario_events
      where scenario = 'vpn_egress_failover' group by user
    ),
    hit as (
      select distinct i.incident_id from incidents i join f on i.user_principal_name = f.user
        and i.first_activity <= f.t1 + interval '1 hour' and i.last_activity >= f.t0 - interval '1 hour'
      union
      select distinct ie.incident_id from _eval_incident_events ie join _eval_scenario_events e
        on e.event_id = ie.event_id where e.scenario = 'vpn_egress_failover'
    )
    select (select count(*) from f), (select count(*) from hit),
      (select count(*) from _eval_naive a join _eval_scenario_events e on e.event_id = a.event_id
       where e.scenario = 'vpn_egress_failover'),
      (select count(*) from _eval_naive a join f on a.upn = f.user)
    """).fetchall()[0]
    # how often each detection fired, and how often on a labelled malicious event (its precision here)
    per_detection = store.query("""
    select d.riskEventType, count(*) as findings,
      count(*) filter (where d.event_id in (select event_id from _eval_events)) as on_malicious_events,
      count(distinct d.userPrincipalName) as users
    from "riskDetections" d where d.source = 'vigil' group by 1 order by 2 desc, 1
    """).to_pylist() if "riskDetections" in store.relations() else []
    by_type: dict[str, dict[str, Any]] = {}
    for c in per_campaign:
        t = by_type.setdefault(c["campaign_type"], {"campaign_type": c["campaign_type"], "campaigns": 0,
                                                   "vigil_covered": 0, "naive_covered": 0})
        t["campaigns"] += 1
        t["vigil_covered"] += int(c["vigil_incidents"] > 0)
        t["naive_covered"] += int(bool(c["naive_covered"]))
    n_campaigns = len(per_campaign)
    vigil_cov = sum(int(c["vigil_incidents"] > 0) for c in per_campaign)
    naive_cov = sum(int(bool(c["naive_covered"])) for c in per_campaign)
    reduction = (1 - incidents / naive_alerts) if naive_alerts else None
    recall = vigil_cov / n_campaigns if n_campaigns else None
    return {
        "labels": str(labels),
        "naive_alerts": naive_alerts,
        "naive_by_rule": naive_by_rule,
        "vigil_incidents": incidents,
        "incidents_on_no_labelled_campaign": unlabelled,
        "reduction": reduction,
        "campaigns": n_campaigns,
        "vigil_recall": recall,
        "naive_recall": naive_cov / n_campaigns if n_campaigns else None,
        "by_type": sorted(by_type.values(), key=lambda t: t["campaign_type"]),
        "missed": [c for c in per_campaign if c["vigil_incidents"] == 0],
        "unresolved": [c for c in per_campaign if c["resolved_events"] == 0],
        "benign_scenarios": benign,
        "vpn_failover": {"users": int(failover[0]), "vigil_incidents": int(failover[1]),
                         "naive_alerts_on_failover_events": int(failover[2]),
                         "naive_alerts_on_those_users": int(failover[3])},
        "targets": {
            "reduction_at_least_95pct": reduction is not None and reduction >= 0.95,
            "recall_at_least_99pct": recall is not None and recall >= 0.99,
            "zero_vpn_failover_incidents": int(failover[1]) == 0,
        },
        "per_campaign": per_campaign,
        "per_detection": per_detection,
    }
