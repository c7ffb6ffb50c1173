"""The real-time scorer over history: every stored sign-in scored as it would have been live.

Events (sign-ins and activities, :data:`vigil.sessions.events.EVENTS_SQL`) stream in
``(event_time, event_id)`` order — the batch windows' order — through one
:class:`~vigil.risk.profiles.Knowledge` that starts empty: each successful sign-in is scored
against what came before it, then folded in (:meth:`Knowledge.observe`). Tenant-wide facts that do
not build up event by event (IP enrichment, user agents, session roots, campaigns, the leaked
list) are read once; the scorer only uses a session or a hijack finding from before the event.

What-if over history (:mod:`vigil.policy.replay`) uses this for vigil's real-time sign-in risk, and
the agreement test compares it with the batch detections.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from vigil.risk.profiles import ONCE_PER_ACCOUNT, IpFacts, Knowledge, UaFacts
from vigil.risk.realtime import Observation, Rules, Score, score
from vigil.sessions.events import EVENTS_SQL
from vigil.settings import Settings
from vigil.store import Store

_BATCH = 50_000


@dataclass
class HistoryScores:
    """Per scored sign-in: its event id, level and signals."""

    scores: dict[str, Score]
    events: int
    seconds: float
    knowledge: Knowledge  # the profiles after the last event
    def table(self) -> pa.Table:
        """``(event_id, realtime_level, riskEventTypes)`` for the sign-ins with a signal."""
        rows = [(eid, s.level, ",".join(sorted({x.risk_event_type for x in s.signals})))
                for eid, s in self.scores.items() if s.signals]
        return pa.table({"event_id": pa.array([r[0] for r in rows], pa.string()),
                         "realtime_level": pa.array([r[1] for r in rows], pa.string()),
                         "risk_event_types": pa.array([r[2] for r in rows], pa.string())})


def _events_sql(store: Store) -> str:
    ep = store.dialect.epoch_seconds
    return f"""
select e.event_id, e.event_table, e.pid as u, e.user_id, e.user_principal_name, {ep('e.event_time')} as t,
  e.ok, coalesce(e.stale, false) as stale, e.is_interactive, e.ip, e.country, e.city, e.lat, e.lon, e.acc,
  e.ip_class, e.corp, e.device_id, e.session_id, e.session_key, e.user_agent,
  s.result, coalesce(s.mfa_satisfied, false) as mfa, s.geo_accuracy_km, s.asn_number, s.as_org, s.egress_name,
  s.threat_intel,
  s.ua_family, s.ua_os_family, s.ua_device_family, s.ua_class
from ({EVENTS_SQL}) e
left join signins_enriched s on e.event_table = 'signins' and s.event_id = e.event_id
where e.pid is not null
order by e.event_time, e.event_id"""


def replay_scores(store: Store, settings: Settings, *, progress: Callable[[int], None] | None = None
                  ) -> HistoryScores:
    """Score every successful sign-in of the store against the history before it."""
    started = time.perf_counter()
    k = Knowledge.build(store, settings, users=False)
    # the tenant's countries (and where people live, and since when it is known) build up event by event too
    k.countries, k.homes, k.located_since = {}, {}, None
    rules = Rules.from_settings(settings)
    out: dict[str, Score] = {}
    n = 0
    reader = store.con.sql(_events_sql(store)).to_arrow_reader(_BATCH)
    for batch in reader:
        for e in batch.to_pylist():
            n += 1
            facts, ua = _facts(e), _ua(e)
            if e["event_table"] == "signins" and e["result"] == "success" and e["ok"]:
                obs = Observation(float(e["t"]), e["user_principal_name"], e["user_id"], e["ip"], e["country"],
                                  e["user_agent"], e["device_id"] or None, e["session_id"],
                                  bool(e["is_interactive"]), bool(e["mfa"]), facts, ua, bool(e["stale"]))
                sc = out[e["event_id"]] = score(k, obs, rules)
                for sig in sc.signals:
                    if sig.risk_event_type in ONCE_PER_ACCOUNT and (p := k.users.get(e["u"])) is not None:
                        p.raised.add(sig.risk_event_type)
            k.observe(e, ua, facts)
        if progress is not None:
            progress(n)
    return HistoryScores(out, n, round(time.perf_counter() - started, 3), k)


def _facts(e: dict[str, Any]) -> IpFacts:
    return IpFacts(e["country"], e["city"], e["lat"], e["lon"], float(e["acc"] or 0.0), e["asn_number"], e["as_org"],
                   e["ip_class"] or "unknown", bool(e["corp"]), e["egress_name"], e["threat_intel"], "ip")


def _ua(e: dict[str, Any]) -> UaFacts:
    return UaFacts(e["ua_family"], e["ua_os_family"], e["ua_device_family"], e["ua_class"] or "unknown")
