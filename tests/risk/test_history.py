"""The real-time scorer agrees with the batch detections over a simulated month: every successful
sign-in, scored live against the history before it, raises the same signals at the same levels as
the analysis of the whole month (issue 20)."""
from __future__ import annotations

from collections import Counter

from tests.risk.month import Month
from vigil.risk.history import replay_scores
from vigil.store import in_list

#: the rules that are the batch detections' own, signal for signal
SAME_RULES = ("anonymizedIPAddress", "unfamiliarFeatures", "newCountry", "mcasImpossibleTravel",
              "maliciousIPAddress", "leakedCredentials")


def test_scorer_agrees_with_batch_detections(month: Month) -> None:
    with month.open() as store:
        h = replay_scores(store, month.settings())
        realtime = {(eid, s.risk_event_type, s.level) for eid, sc in h.scores.items() for s in sc.signals}
        batch = set(store.rows(f"""
            select d.event_id, d.riskEventType, d.riskLevel from "riskDetections" d join signins s using (event_id)
            where s.result = 'success' and d.detection <> 'decisionPoint' and d.riskEventType in {in_list(SAME_RULES)}
            """))
        # concurrent_use names the owner's own event (the legitimate side of the pair) as the finding's event:
        # the owner signing in from the root device and network is rightly left alone when scored live
        flagged = set(store.rows("""
            select d.event_id, d.riskEventType, d.riskLevel from "riskDetections" d join signins s using (event_id)
            where s.result = 'success' and d.riskEventType in ('anomalousToken', 'passwordSpray')
              and coalesce(json_extract_string(d.additionalInfo, '$.evidence.kind'), '') <> 'concurrent_use'"""))
    same = {x for x in realtime if x[1] in SAME_RULES}
    assert batch, "the simulated month raises batch detections to compare with"
    assert Counter(x[1] for x in batch).keys() >= {"anonymizedIPAddress", "unfamiliarFeatures", "newCountry"}
    assert same == batch, (sorted(same - batch)[:5], sorted(batch - same)[:5])
    # A hijacked session or a spray source: everything the batch finds on a successful sign-in is seen live
    # too (live, later uses of an already flagged session score as well: the batch finding names one event).
    assert flagged and flagged <= realtime, sorted(flagged - realtime)[:5]
    assert h.events > len(h.scores) > 1000


def test_seed_vpn_failover_scores_none(month: Month) -> None:
    """The seed's GB -> BG -> BR egress failover: every sign-in of it, scored live, has no signal."""
    with month.open() as store:
        h = replay_scores(store, month.settings())
        ids = dict(store.rows("select source_record_id, event_id from signins"))
    failovers = month.scenarios("vpn_egress_failover")
    seed = [f for f in failovers if [e["country"] for e in f["egress"]] == ["GB", "BG", "BR"]]
    assert seed, "the simulator plants the seed's failover"
    events = [ids[r] for f in failovers for r in f["record_ids"] if r in ids]
    scored = [h.scores[e] for e in events if e in h.scores]
    assert len(scored) >= 4
    assert all(s.level == "none" and not s.signals for s in scored), [s.to_dict() for s in scored if s.signals]
