"""The decision point with vigil's own risk, from the user's side (issue 20), on a simulated month:
user risk from riskyUsers, real-time sign-in risk, the answer explaining itself, detections recorded."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.risk.month import Month
from vigil.policy.decision import DecisionPoint, load_policy_set
from vigil.policy.riskinput import RiskInputs
from vigil.risk import actions as risk_actions
from vigil.risk import lifecycle
from vigil.store import Store, open_store

EXO = "00000002-0000-0ff1-ce00-000000000000"
MOBILE_UA = ("Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
             "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36")


def _policy(pid: str, name: str, conditions: dict[str, Any], controls: list[str], operator: str = "OR"
            ) -> dict[str, Any]:
    return {"id": pid, "displayName": name, "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                           "clientAppTypes": ["all"], **conditions},
            "grantControls": {"operator": operator, "builtInControls": controls}}


BLOCK_USER_RISK = _policy("11111111-0000-0000-0000-000000000001", "Block medium and high user risk",
                          {"userRiskLevels": ["medium", "high"]}, ["block"])
MFA_SIGNIN_RISK = _policy("11111111-0000-0000-0000-000000000002", "MFA for medium and high sign-in risk",
                          {"signInRiskLevels": ["medium", "high"]}, ["mfa"])
PASSWORD_USER_RISK = _policy("11111111-0000-0000-0000-000000000003", "Secure password change for high user risk",
                             {"userRiskLevels": ["high"]}, ["mfa", "passwordChange"], "AND")
BLOCK_HIGH_SIGNIN = _policy("11111111-0000-0000-0000-000000000004", "Block high sign-in risk",
                            {"signInRiskLevels": ["high"]}, ["block"])


def point(tmp: Path, store: Store, month: Month, *policies: dict[str, Any]) -> DecisionPoint:
    path = tmp / f"policies-{len(list(tmp.glob('policies-*')))}.json"
    path.write_text(json.dumps({"value": list(policies)}))
    return DecisionPoint(load_policy_set(path), RiskInputs.from_store(store, month.settings()))


def latest_success(store: Store, upn: str) -> dict[str, Any]:
    return store.query("""select user_id, user_principal_name, ip, geo_country as country from signins_enriched
                          where user_principal_name = ? and result = 'success' and is_interactive
                          order by event_time desc, event_id desc limit 1""", [upn]).to_pylist()[0]


def test_medium_user_risk_in_risky_users_is_applied(month: Month, tmp_path: Path) -> None:
    """The issue's report: a medium-risk user under "block medium and high user risk" was allowed."""
    with month.open() as store:
        upn = store.scalar("""select userPrincipalName from "riskyUsers" where source = 'vigil'
                              and riskState = 'atRisk' and riskLevel = 'medium' order by 1 limit 1""")
        assert upn, "the simulated month has a medium-risk user"
        last = latest_success(store, upn)
        dp = point(tmp_path, store, month, BLOCK_USER_RISK)
    ctx = {**last, "application_id": EXO, "platform": "windows"}
    d = dp.decide(ctx, record=False)
    assert d.decision == "block", d.reason
    assert d.risk is not None and d.risk["userRisk"]["level"] == "medium"
    assert d.risk["userRisk"]["source"] == "riskyUsers (vigil)" and d.risk["userRisk"]["state"] == "atRisk"
    assert "user risk medium (riskyUsers (vigil))" in d.reason
    # an explicit risk in the request wins and is reported as given
    given = dp.decide({**ctx, "user_risk": "none"}, record=False)
    assert given.decision == "allow" and given.risk is not None
    assert given.risk["userRisk"] == {"level": "none", "source": "request"}


def test_seed_egress_failover_is_allowed(month: Month, tmp_path: Path) -> None:
    """The seed user's session moving to the BR egress (VPN failover) scores none: allowed."""
    seed = next(f for f in month.scenarios("vpn_egress_failover")
                if [e["country"] for e in f["egress"]] == ["GB", "BG", "BR"])
    with month.open() as store:
        dp = point(tmp_path, store, month, MFA_SIGNIN_RISK)
    assert dp.risk is not None
    k = dp.risk.knowledge
    profile = k.user(seed["user"], None)
    assert profile is not None
    last = profile.last_located
    assert last is not None and last.session_key
    sid = last.session_key[2:]
    root = k.sessions.get(sid)
    device = {"deviceId": root.root_device_id} if root is not None and root.root_device_id else None
    br = next(e for e in seed["egress"] if e["country"] == "BR")
    assert k.ip_facts(br["ip"]).corporate, "the BR gateway is corporate egress"
    d = dp.decide({"user_principal_name": profile.name, "application_id": EXO, "ip": br["ip"], "session_id": sid,
                   "interactive": False, **({"device": device} if device else {})},
                  now=(k.newest or 0.0) + 120, record=False)
    assert d.decision == "allow", d.reason
    assert d.risk is not None and d.risk["signInRisk"] == {"level": "none", "source": "vigil real-time scoring",
                                                           "scored": "none"}
    assert d.risk["signals"] == []


def test_anonymiser_new_country_new_device_is_asked_for_mfa(month: Month, tmp_path: Path) -> None:
    with month.open() as store:
        dp = point(tmp_path, store, month, MFA_SIGNIN_RISK)
        anon = store.query("""select distinct ip, geo_country, ip_class from signins_enriched
                              where ip_class in ('vpn', 'tor') and geo_country is not null order by ip""").to_pylist()
    assert anon, "the simulated month has sign-ins from anonymisers"
    assert dp.risk is not None
    k = dp.risk.knowledge
    now = (k.newest or 0.0) + 3600
    user, net = next((p, a) for p in sorted(k.users.values(), key=lambda p: p.key) for a in anon
                     if p.name and p.ok_count >= 20 and p.ok_first is not None and p.ok_first < now - 10 * 86400
                     and a["geo_country"] not in p.seen.get("country", {})
                     and str(k.ip_facts(a["ip"]).asn) not in p.seen.get("asn_any", {}))
    d = dp.decide({"user_principal_name": user.name, "application_id": EXO, "ip": net["ip"], "user_agent": MOBILE_UA,
                   "platform": "android"}, now=now, record=False)
    assert d.risk is not None
    assert d.risk["signInRisk"]["level"] in ("medium", "high") and d.risk["signInRisk"]["source"] == \
        "vigil real-time scoring"
    types = {s["riskEventType"] for s in d.risk["signals"]}
    # the anonymiser's exit is classified (a network and a device new for the user: medium), never a new country or
    # an unfamiliar place: where the relay is says nothing of where the user is
    assert "anonymizedIPAddress" in types and not types & {"unfamiliarFeatures", "newCountry"}, d.risk["signals"]
    assert all(s["detectionTimingType"] == "realtime" and s["reason"] for s in d.risk["signals"])
    assert d.decision == "challenge" and d.required_controls == ("mfa",), d.reason
    # the same sign-in with MFA done is allowed
    assert dp.decide({"user_principal_name": user.name, "application_id": EXO, "ip": net["ip"],
                      "user_agent": MOBILE_UA, "mfa_satisfied": True}, now=now, record=False).decision == "allow"


def test_high_risk_user_changes_password_then_is_allowed(month: Month, tmp_path: Path) -> None:
    db = month.copy(tmp_path)
    settings = month.settings(db)
    with open_store(str(db)) as store:
        upn = store.scalar("""select user_principal_name from signins where result = 'success'
                              and user_principal_name not in (select userPrincipalName from "riskyUsers")
                              group by 1 order by count(*) desc, 1 limit 1""")
        risk_actions.confirm_compromised(store, [upn], actor="soc@contoso.com", reason="test", settings=settings.risk)
        dp = point(tmp_path, store, month, PASSWORD_USER_RISK)
        ctx = {"user_principal_name": upn, "application_id": EXO, "ip": latest_success(store, upn)["ip"]}
        d = dp.decide(ctx, record=False)
        assert d.decision == "challenge" and set(d.required_controls) == {"mfa", "passwordChange"}, d.reason
        assert d.risk is not None and d.risk["userRisk"]["level"] == "high"
        assert d.risk["userRisk"]["state"] == "confirmedCompromised"
        # in the sign-in itself: MFA, then the secure password change
        assert dp.decide({**ctx, "mfa_satisfied": True, "password_changed": True}, record=False).decision == "allow"
        # remediated: the password change reaches the logs, the risk stage closes the risk, profiles refresh
        store.execute("""insert into directory_events (event_id, event_time, source_format, source_record_id,
                           event_type, result, target_upn, actor_upn) values (?, ?, 'test', ?, 'password_changed',
                           'success', ?, ?)""",
                      ["pw-1", datetime.now(UTC).replace(tzinfo=None), "pw-1", upn, upn])
        lifecycle.apply(store, settings.risk)
        assert dp.risk is not None
        dp.risk.refresh(store, settings, [upn])
    after = dp.decide(ctx, record=False)
    assert after.decision == "allow", after.reason
    assert after.risk is not None and after.risk["userRisk"]["level"] == "none"
    assert after.risk["userRisk"]["state"] == "remediated"


def test_replayed_session_token_is_blocked(month: Month, tmp_path: Path) -> None:
    with month.open() as store:
        dp = point(tmp_path, store, month, BLOCK_HIGH_SIGNIN)
        hosting = store.query("""select ip, geo_country from signins_enriched where ip_class = 'hosting'
                                 and geo_country is not null order by ip limit 20""").to_pylist()
    assert dp.risk is not None and hosting
    k = dp.risk.knowledge
    sid, root = next((s, r) for s, r in sorted(k.sessions.items()) if r.root_device_id and not r.findings
                     and r.root_ip_class not in ("hosting", "vpn", "tor"))
    net = next(h for h in hosting if h["geo_country"] != root.root_country)
    ctx = {"user_principal_name": root.user_name, "application_id": EXO, "session_id": sid, "ip": net["ip"],
           "user_agent": "python-requests/2.32.3"}
    d = dp.decide(ctx, now=(k.newest or 0.0) + 60, record=False)
    assert d.decision == "block", d.reason
    assert d.risk is not None
    token = [s for s in d.risk["signals"] if s["riskEventType"] == "anomalousToken"]
    assert token and token[0]["riskLevel"] == "high" and token[0]["evidence"]["session_id"] == sid
    # the same session on its own device and network is fine
    same = dp.decide({**ctx, "ip": root.root_ip, "device": {"deviceId": root.root_device_id}, "user_agent": None},
                     now=(k.newest or 0.0) + 60, record=False)
    assert not [s for s in (same.risk or {}).get("signals", []) if s["riskEventType"] == "anomalousToken"]


@pytest.mark.parametrize("endpoint", ["decision", "whatif"])
def test_service_answers_with_vigil_risk_and_records_on_shutdown(month: Month, tmp_path: Path,
                                                                  endpoint: str) -> None:
    """Over HTTP: the answer explains the risk used; the decision's real-time detections are in riskDetections
    once the service has shut down (what-if records nothing), and survive the next detections run."""
    from vigil.api.tokens import create_token
    from vigil.detections import engine
    from vigil.web.app import create_app

    db = month.copy(tmp_path)
    policies = tmp_path / "p.json"
    policies.write_text(json.dumps({"value": [MFA_SIGNIN_RISK, BLOCK_USER_RISK]}))
    with open_store(str(db)) as store:
        _, token = create_token(store.con, "app", "reader")
        before = store.scalar("""select count(*) from "riskDetections" where detection = 'decisionPoint'""")
        # an account with history, from an anonymiser's network it never used
        upn, ip = store.rows("""
            select u.user_principal_name, a.ip from
              (select user_principal_name, count(*) n from signins where result = 'success' group by 1) u,
              (select distinct ip, asn_number from signins_enriched where ip_class in ('vpn', 'tor')) a
            where u.n >= 20 and not exists (select 1 from signins_enriched s where s.result = 'success'
              and s.user_principal_name = u.user_principal_name and s.asn_number = a.asn_number)
            order by u.n desc, a.ip limit 1""")[0]
    settings = month.settings(db, **{"policy.policies": str(policies)})
    body = {"user_principal_name": upn, "application_id": EXO, "ip": ip, "user_agent": MOBILE_UA}
    with TestClient(create_app(settings)) as c:
        r = c.post(f"/api/v1/policy/{endpoint}", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        stranger = c.post("/api/v1/policy/decision", json={"user_principal_name": "nobody@contoso.com",
                                                           "application_id": EXO},
                          headers={"Authorization": f"Bearer {token}"}).json()["risk"]
        risk = r.json()["risk"]
    assert risk["signInRisk"]["source"] == "vigil real-time scoring" and risk["signals"]
    assert any(s["riskEventType"] == "anonymizedIPAddress" for s in risk["signals"])
    assert stranger["userRisk"]["source"] == "riskyUsers (no row for this user)"
    assert "user not in vigil's profiles (no sign-ins analysed for them)" in stranger["notes"]
    with open_store(str(db)) as store:
        rows = store.query("""select riskEventType, detectionTimingType, requestId, userPrincipalName
                              from "riskDetections" where detection = 'decisionPoint'""").to_pylist()
        if endpoint == "whatif":
            assert len(rows) == before
            return
        assert {r["riskEventType"] for r in rows} == {s["riskEventType"] for s in risk["signals"]}
        assert all(r["requestId"] == risk["correlationId"] and r["detectionTimingType"] == "realtime"
                   and r["userPrincipalName"] == upn for r in rows)
        engine.run(store, settings)
        assert store.scalar("""select count(*) from "riskDetections" where detection = 'decisionPoint'""") \
            == len(rows)


def test_whatif_over_history_uses_the_real_time_scorer(month: Month, tmp_path: Path) -> None:
    """Replay with vigil's real-time risk: the sign-ins the policy applies to are exactly those the scorer,
    replayed over history, rates medium or high; beside it the vendor's risk."""
    from vigil.policy.replay import replay
    from vigil.risk.history import replay_scores

    path = tmp_path / "mfa.json"
    path.write_text(json.dumps({"value": [MFA_SIGNIN_RISK]}))
    ps = load_policy_set(path)
    settings = month.settings()
    with month.open() as store:
        realtime = replay(store, ps, sign_in_risk="realtime", settings=settings)
        vendor = replay(store, ps, sign_in_risk="vendor")
        scores = replay_scores(store, settings)
    risky = sum(1 for s in scores.scores.values() if s.level in ("medium", "high"))
    assert risky > 0
    assert realtime.policies[0]["applies_signins"] == risky
    assert "real-time scorer" in realtime.inputs["sign_in_risk"]
    assert "vendor" in vendor.inputs["sign_in_risk"]
    assert realtime.total["signins"] == vendor.total["signins"]


def test_cli_whatif_reads_vigils_risk_from_the_store(month: Month, tmp_path: Path) -> None:
    """`vigil policy whatif` said "userRisk condition configured but not supplied" for an at-risk user."""
    from typer.testing import CliRunner

    from vigil.cli import app

    path = tmp_path / "block.json"
    path.write_text(json.dumps({"value": [BLOCK_USER_RISK]}))
    with month.open() as store:
        upn = store.scalar("""select userPrincipalName from "riskyUsers" where source = 'vigil'
                              and riskState = 'atRisk' and riskLevel in ('medium', 'high') order by 1 limit 1""")
    args = ["policy", "whatif", "--db", str(month.db), "--policies", str(path), "--user", upn, "--app", EXO,
            "--json"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["value"][0]["policyApplies"] is True and out["decision"]["decision"] == "block"
    assert out["risk"]["userRisk"]["source"] == "riskyUsers (vigil)"
    off = json.loads(CliRunner().invoke(app, [*args, "--no-vigil-risk"]).output)
    assert off["value"][0]["policyApplies"] is False and "not supplied" in off["value"][0]["reason"]
