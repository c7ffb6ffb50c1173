from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.builders import insert, row
from tests.policy.conftest import HOME_IP, HQ_IP, SALES
from vigil.errors import InputError
from vigil.policy.replay import load_labels, replay
from vigil.store import Store

SET = ("MFA outside trusted locations", "Block legacy authentication", "MFA for medium and high sign-in risk",
       "Password change for high user risk", "Report-only: MFA for Sales")
T0 = datetime(2026, 1, 5, 9, 0)


def _signins(store: Store) -> None:
    s = dict(source_format="test", app_id="app", resource_id="00000002-0000-0ff1-ce00-000000000000",
             client_app_type="Browser", device_os="Windows10", country="DE")
    rows = [
        # alice: 3 identical home sign-ins (one combination), one from HQ, one legacy IMAP from HQ
        *[row("signins", user_id="u-alice", user_principal_name="alice@contoso.com", ip=HOME_IP,
              event_time=T0.replace(hour=9 + i), **s) for i in range(3)],
        row("signins", user_id="u-alice", user_principal_name="alice@contoso.com", ip=HQ_IP, **s),
        row("signins", user_id="u-alice", user_principal_name="alice@contoso.com", ip=HQ_IP,
            **{**s, "client_app_type": "IMAP4"}),
        # bob: home, MFA claim already in the token -> not prompted
        row("signins", user_id="u-bob", user_principal_name="bob@contoso.com", ip=HOME_IP, mfa_satisfied=True,
            auth_methods=["Previously satisfied"], **s),
        # carol: high user risk from 10:00 on (riskyUsers); one sign-in before, one after
        row("signins", user_id="u-carol", user_principal_name="carol@contoso.com", ip=HQ_IP,
            event_time=T0.replace(hour=8), **s),
        row("signins", user_id="u-carol", user_principal_name="carol@contoso.com", ip=HQ_IP,
            event_time=T0.replace(hour=11), **s),
        # dave: vigil says medium sign-in risk (vendor says none), from HQ
        row("signins", user_id="u-dave", user_principal_name="dave@contoso.com", ip=HQ_IP,
            risk_level_during_signin="none", source_record_id="dave-1", **s),
        # mallory: the attacker, labelled by vendor record id
        row("signins", user_id="u-mallory", user_principal_name="mallory@contoso.com", ip="192.0.2.99",
            source_record_id="attack-1", **s),
    ]
    insert(store, "signins", rows)


def _risk_and_directory(store: Store) -> None:
    from vigil.risk.tables import RISKY_USERS, SIGNIN_RISK
    from vigil.ueba.tables import DIRECTORY_GROUPS, IDENTITY_INFO

    store.ensure([RISKY_USERS, SIGNIN_RISK, IDENTITY_INFO, DIRECTORY_GROUPS])
    store.con.execute("""insert into "riskyUsers" (id, "userPrincipalName", "riskLevel", "riskState",
                         "riskLastUpdatedDateTime", source) values
                         ('u-carol', 'carol@contoso.com', 'high', 'atRisk', '2026-01-05 10:00:00', 'vigil'),
                         ('u-alice', 'alice@contoso.com', 'high', 'remediated', '2026-01-01 00:00:00', 'vigil')""")
    dave = store.con.execute("select event_id from signins where source_record_id = 'dave-1'").fetchone()[0]
    store.con.execute("""insert into "signinRisk" (event_id, "riskLevelDuringSignIn", source) values
                         (?, 'medium', 'vigil'), (?, 'high', 'IdentityProtection')""", [dave, dave])
    store.con.execute("""insert into "IdentityInfo" ("AccountObjectId", "AccountUPN", "GroupMembership",
                         "AssignedRoles", "UserType") values ('u-alice', 'alice@contoso.com', '["Sales"]', '[]',
                         'Member')""")
    store.con.execute(f"""insert into directory_groups (group_id, group_name, kind, source_file)
                          values ('{SALES}', 'Sales', 'group', 'groups.json')""")


def _by_name(report: Any) -> dict[str, dict[str, Any]]:
    return {p["displayName"]: p for p in report.policies}


def test_replay_counts_with_every_input(store: Store, only: Any, tmp_path: Path) -> None:
    _signins(store)
    _risk_and_directory(store)
    labels = tmp_path / "labels.jsonl"
    labels.write_bytes(b"\n".join(orjson.dumps(x) for x in (
        {"kind": "event", "record_id": "attack-1", "malicious": True},
        {"kind": "event", "record_id": "not-a-signin", "malicious": True},
        {"kind": "compromise", "user": "mallory@contoso.com"})))
    rep = replay(store, only(*SET), labels=labels)
    assert rep.signins == 10 and rep.users == 5
    assert rep.combinations == 8  # alice's three home sign-ins are one combination
    t = rep.total
    # alice: 3 home + 1 HQ (Sales, report-only enforced in a replay); mallory; dave (risk); carol (with password
    # change); bob is not prompted: his token already carries MFA
    assert (t["mfa_signins"], t["mfa_users"]) == (7, 4)
    assert (t["blocked_signins"], t["blocked_users"]) == (1, 1)  # alice's IMAP sign-in
    assert (t["password_change_signins"], t["password_change_users"]) == (1, 1)  # carol after 10:00
    assert t["attack_events"] == 1 and t["attack_events_stopped"] == 1 and t["mfa_attack_events"] == 1
    p = _by_name(rep)
    assert p["MFA outside trusted locations"]["applies_signins"] == 5
    assert p["MFA outside trusted locations"]["mfa_signins"] == 4  # bob applies but is already satisfied
    assert p["MFA for medium and high sign-in risk"]["mfa_users"] == 1  # dave, from vigil's signinRisk
    assert p["Block legacy authentication"]["blocked_signins"] == 1
    # report-only counts as enforced in a replay; alice is in Sales through IdentityInfo + directory_groups
    assert p["Report-only: MFA for Sales"]["applies_users"] == 1
    assert p["Report-only: MFA for Sales"]["mfa_signins"] == 5  # every alice sign-in, per policy on its own
    assert rep.labels is not None and rep.labels["malicious_signins_in_store"] == 1
    assert "IdentityInfo" in rep.inputs["groups_and_roles"] and "signinRisk" in rep.inputs["sign_in_risk"]
    assert rep.inputs["user_risk"].startswith("riskyUsers")


def test_respect_report_only(store: Store, only: Any) -> None:
    _signins(store)
    _risk_and_directory(store)
    enforced = replay(store, only("Report-only: MFA for Sales"))
    respected = replay(store, only("Report-only: MFA for Sales"), respect_report_only=True)
    assert enforced.total["mfa_signins"] == 5 and respected.total["mfa_signins"] == 0
    assert _by_name(respected)["Report-only: MFA for Sales"]["applies_signins"] == 5


def test_missing_inputs_are_said(store: Store, only: Any) -> None:
    _signins(store)
    rep = replay(store, only(*SET))
    assert rep.inputs["groups_and_roles"].startswith("none:")
    assert rep.inputs["user_risk"].startswith("unavailable")
    assert "vendor" in rep.inputs["sign_in_risk"]
    assert rep.total["password_change_signins"] == 0 and rep.labels is None
    assert _by_name(rep)["Report-only: MFA for Sales"]["applies_signins"] == 0


def test_only_relevant_attributes_split_combinations(store: Store, only: Any) -> None:
    _signins(store)
    rep = replay(store, only("Block legacy authentication"))
    # neither IP nor time splits: alice browser (4 rows), alice IMAP, bob, carol (2 rows), dave, mallory
    assert rep.inputs["ip"].startswith("not needed") and rep.combinations == 6


def test_empty_store_and_bad_labels(store: Store, only: Any, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no sign-ins in the store"):
        replay(store, only(*SET))
    bad = tmp_path / "l.jsonl"
    bad.write_text('{"kind": "event", "record_id": "x"}\n')
    with pytest.raises(InputError, match="line 1: an event label needs"):
        load_labels(bad)
    bad.write_text("nope\n")
    with pytest.raises(InputError, match="line 1: not JSON"):
        load_labels(bad)


def test_first_factor_failures_never_reach_conditional_access(store: Store, only: Any) -> None:
    s = dict(user_id="u-x", user_principal_name="x@contoso.com", ip=HOME_IP, client_app_type="Browser",
             resource_id="r")
    insert(store, "signins", [row("signins", result="failure", result_code="50126", **s),
                              row("signins", result="failure", result_code="53003", **s),  # blocked by CA
                              row("signins", result="success", result_code="0", **s)])
    rep = replay(store, only("MFA outside trusted locations"))
    assert rep.total["failed_first_factor_signins"] == 1 and rep.total["mfa_signins"] == 2
    assert "first factor" in rep.inputs["first_factor"]


def test_strict_location_replays_the_resource_ip(store: Store, locations: Any) -> None:
    from vigil.policy.evaluate import PolicySet
    from vigil.policy.parse import parse_policies

    doc = {"id": "s", "displayName": "Block outside trusted, strictly", "state": "enabled",
           "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                          "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}},
           "grantControls": {"operator": "OR", "builtInControls": ["block"]},
           "sessionControls": {"continuousAccessEvaluation": {"mode": "strictLocation"}}}
    s = dict(user_id="u", user_principal_name="u@x.com", ip=HQ_IP, client_app_type="Browser", resource_id="r")
    insert(store, "signins", [row("signins", **s), row("signins", resource_ip=HOME_IP, **s)])
    rep = replay(store, PolicySet(parse_policies(doc), locations))
    assert rep.total["blocked_signins"] == 1 and "resource_ip" in rep.inputs
