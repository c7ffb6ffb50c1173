"""User and sign-in risk: aggregation, remediation, ageing, admin actions surviving re-analysis."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.builders import insert as insert_canonical
from tests.builders import row
from tests.detections.upstream import create_upstream
from tests.risk.helpers import add_detections, detection
from vigil.detections import engine
from vigil.errors import InputError
from vigil.risk import actions, lifecycle
from vigil.settings import RiskSettings, Settings
from vigil.store import Store

T0 = datetime(2026, 1, 5, 9)
RS = RiskSettings.model_validate({})


def _signin(event_id: str, t: datetime, **kw: object) -> dict[str, object]:
    values: dict[str, object] = {"event_id": event_id, "event_time": t, "user_principal_name": "ada@contoso.com",
                                     "user_id": "ada", "result": "success", "ip": "81.2.69.10"}
    values.update(kw)
    return row("signins", **values)


def _user(store: Store) -> dict[str, object]:
    rows = store.query("""select * from "riskyUsers" where source = 'vigil'""").to_pylist()
    assert len(rows) == 1
    return rows[0]


def test_levels_aggregate_and_password_reset_remediates(store: Store) -> None:
    insert_canonical(store, "signins", [_signin("s1", T0), _signin("s2", T0 + timedelta(days=3))])
    add_detections(store, [
        detection(event_id="s1", riskEventType="newCountry", riskLevel="medium"),
        detection(event_id="s1", riskEventType="unlikelyTravel", riskLevel="medium"),
    ])
    lifecycle.apply(store, RS)
    u = _user(store)
    assert (u["riskLevel"], u["riskState"]) == ("high", "atRisk")  # two medium kinds -> high
    assert "newCountry (medium)" in u["reason"]
    sr = store.query("""select * from "signinRisk" where source = 'vigil'""").to_pylist()
    assert [(r["event_id"], r["riskLevelDuringSignIn"], r["riskLevelAggregated"]) for r in sr] == \
        [("s1", "none", "high")]

    insert_canonical(store, "directory_events", [row(
        "directory_events", event_id="pw", event_time=T0 + timedelta(days=1), event_type="password_reset",
        result="success", target_upn="ada@contoso.com", actor_upn="ada@contoso.com")])
    lifecycle.apply(store, RS)
    u = _user(store)
    assert (u["riskLevel"], u["riskState"], u["riskDetail"]) == ("none", "remediated",
                                                                 "userPerformedSecuredPasswordReset")
    # risk after the reset is new risk
    add_detections(store, [detection(event_id="s2", riskEventType="anonymizedIPAddress", riskLevel="low",
                                     activityDateTime=T0 + timedelta(days=3))])
    lifecycle.apply(store, RS)
    u = _user(store)
    assert (u["riskLevel"], u["riskState"]) == ("low", "atRisk")


def test_mfa_after_realtime_risk_remediates_the_signin_only(store: Store) -> None:
    insert_canonical(store, "signins", [
        _signin("risky", T0),
        _signin("mfa", T0 + timedelta(minutes=2), is_interactive=True, mfa_satisfied=True,
                auth_requirement="multiFactorAuthentication"),
    ])
    add_detections(store, [
        detection(event_id="risky", riskEventType="unfamiliarFeatures", detectionTimingType="realtime",
                  ipAddress="81.2.69.10"),
        detection(event_id="risky", riskEventType="mcasImpossibleTravel", detectionTimingType="offline",
                  ipAddress="81.2.69.10", riskLevel="low"),
    ])
    lifecycle.apply(store, RS)
    states = {r["riskEventType"]: (r["riskState"], r["riskDetail"]) for r in store.query(
        """select riskEventType, riskState, riskDetail from "riskDetections" """).to_pylist()}
    assert states["unfamiliarFeatures"] == ("remediated", "userPassedMFADrivenByRiskBasedPolicy")
    assert states["mcasImpossibleTravel"] == ("atRisk", "none")  # offline: MFA at sign-in never saw it
    u = _user(store)
    assert (u["riskLevel"], u["activeDetections"]) == ("low", 1)


def test_low_risk_ages_out_medium_persists(store: Store) -> None:
    insert_canonical(store, "signins", [_signin("now", T0 + timedelta(days=200))])
    add_detections(store, [detection(riskLevel="low", riskEventType="newCountry")])
    lifecycle.apply(store, RS)
    u = _user(store)
    assert (u["riskLevel"], u["riskState"], u["riskDetail"]) == ("none", "dismissed", "lowRiskAgedOut")
    add_detections(store, [detection(riskLevel="medium", riskEventType="unlikelyTravel")])
    lifecycle.apply(store, RS)
    assert _user(store)["riskLevel"] == "medium"
    lifecycle.apply(store, RiskSettings.model_validate({"low_risk_age_days": 365}))
    u = _user(store)  # with a longer age-out the low one counts again: one medium + one low kind
    assert (u["riskLevel"], u["activeDetections"]) == ("medium", 2)


def test_admin_actions_are_recorded_and_survive_reanalysis(store: Store, settings: Settings) -> None:
    create_upstream(store)
    insert_canonical(store, "signins", [_signin("s1", T0)])
    add_detections(store, [detection(event_id="s1", riskLevel="low")])
    out = actions.confirm_compromised(store, ["ADA@contoso.com"], actor="soc@contoso.com", reason="phished")
    assert out["users"][0]["riskState"] == "confirmedCompromised" and out["users"][0]["riskLevel"] == "high"
    act = store.query('select * from "riskActions"').to_pylist()
    assert act[0]["actor"] == "soc@contoso.com" and act[0]["userId"] == "ada" and act[0]["created_at"]

    engine.run(store, settings)  # re-analysis replaces vigil's detections ...
    lifecycle.apply(store, settings.risk)  # ... and the action is applied again
    u = _user(store)
    assert (u["riskLevel"], u["riskState"], u["riskDetail"]) == ("high", "confirmedCompromised",
                                                                 "adminConfirmedUserCompromised")
    actions.dismiss(store, ["ada"], actor="lead@contoso.com")
    u = _user(store)
    assert (u["riskLevel"], u["riskState"], u["riskDetail"]) == ("none", "dismissed", "adminDismissedAllRiskForUser")
    actions.confirm_safe(store, ["ada"], actor="lead@contoso.com")
    assert _user(store)["riskState"] == "confirmedSafe"
    assert store.count("riskActions") == 3
    with pytest.raises(InputError, match="no user"):
        actions.dismiss(store, ["mallory@contoso.com"], actor="x")
    with pytest.raises(InputError, match="--by"):
        actions.dismiss(store, ["ada"], actor=" ")


def test_vendor_signin_risk_is_shown_beside(store: Store) -> None:
    insert_canonical(store, "signins", [_signin("v1", T0, risk_level_during_signin="medium",
                                                risk_level_aggregated="high", risk_state="atRisk",
                                                risk_event_types=["unfamiliarFeatures"])])
    lifecycle.apply(store, RS)
    rows = store.query('select * from "signinRisk"').to_pylist()
    assert [(r["source"], r["riskLevelDuringSignIn"], r["riskLevelAggregated"]) for r in rows] == \
        [("IdentityProtection", "medium", "high")]


def test_okta_risk_is_okta_s_and_low_is_not_at_risk(store: Store) -> None:
    # Okta's debugContext risk {level=LOW} / logOnlySecurityData: Okta's verdict, not Entra ID Protection's,
    # and a level without a state: LOW is not "at risk", HIGH is
    insert_canonical(store, "signins", [
        _signin("o1", T0, risk_level_during_signin="low", token_issuer_type="Okta"),
        _signin("o2", T0 + timedelta(minutes=5), risk_level_during_signin="high", token_issuer_type="Okta")])
    lifecycle.apply(store, RS)
    rows = store.query('select event_id, source, "riskState" from "signinRisk" order by event_id').to_pylist()
    assert [(r["event_id"], r["source"], r["riskState"]) for r in rows] == [
        ("o1", "Okta", "none"), ("o2", "Okta", "atRisk")]


def test_accounts_merely_tried_by_a_spray_get_no_user_risk(store: Store) -> None:
    insert_canonical(store, "signins", [_signin("s1", T0)])
    tried = {"reason": "spray", "evidence": {"campaign_key": "spray:ip:203.0.113.5"}}
    add_detections(store, [
        detection(userPrincipalName="tried@contoso.com", riskEventType="passwordSpray", riskLevel="low",
                  additionalInfo=tried),
        detection(userPrincipalName="hit@contoso.com", riskEventType="passwordSpray", riskLevel="medium",
                  additionalInfo=tried),
    ])
    lifecycle.apply(store, RS)
    rows = store.query("""select userPrincipalName, riskLevel from "riskyUsers" """).to_pylist()
    assert rows == [{"userPrincipalName": "hit@contoso.com", "riskLevel": "medium"}]


def test_a_renamed_user_is_one_risky_user_under_the_latest_name(store: Store) -> None:
    # issue 21: same object id, UPN changed between two sign-ins with detections -> duplicate key crash
    insert_canonical(store, "signins", [
        _signin("old", T0, user_principal_name="jane.doe@contoso.com", user_id="jane-oid"),
        _signin("new", T0 + timedelta(days=40), user_principal_name="jane.smith@contoso.com", user_id="jane-oid"),
    ])
    add_detections(store, [
        detection(event_id="old", userId="jane-oid", userPrincipalName="jane.doe@contoso.com",
                  userDisplayName="Jane Doe", riskEventType="legacyAuthentication"),
        detection(event_id="new", userId="jane-oid", userPrincipalName="jane.smith@contoso.com",
                  userDisplayName="Jane Smith", riskEventType="newCountry", activityDateTime=T0 + timedelta(days=40)),
    ])
    lifecycle.apply(store, RS)
    u = _user(store)
    assert (u["id"], u["userPrincipalName"], u["userDisplayName"]) == ("jane-oid", "jane.smith@contoso.com",
                                                                       "Jane Smith")
    assert (u["riskLevel"], u["activeDetections"]) == ("high", 2)  # both names' detections count
    # a reset naming only the *old* UPN still closes the user's risk from before it
    insert_canonical(store, "directory_events", [row(
        "directory_events", event_id="pw", event_time=T0 + timedelta(days=41), event_type="password_reset",
        result="success", target_upn="jane.doe@contoso.com", actor_upn="jane.doe@contoso.com")])
    lifecycle.apply(store, RS)
    u = _user(store)
    assert (u["riskState"], u["riskDetail"]) == ("remediated", "userPerformedSecuredPasswordReset")
