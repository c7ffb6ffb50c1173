from __future__ import annotations

import json
from pathlib import Path

import orjson
from typer.testing import CliRunner

from tests.builders import insert, row
from tests.conftest import sample
from tests.policy.conftest import HOME_IP, HQ_IP, LOCATIONS, POLICIES
from vigil.cli import app
from vigil.settings import Settings
from vigil.store import open_store

runner = CliRunner()
P = ["--policies", str(POLICIES), "--locations", str(LOCATIONS)]


def test_check_lists_policies() -> None:
    r = runner.invoke(app, ["policy", "check", *P, "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)) == 22


def test_check_rejects_with_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"displayName": "x", "state": "on", "conditions": {}}))
    r = runner.invoke(app, ["policy", "check", "--policies", str(bad)])
    assert r.exit_code != 0 and "$.state" in str(r.exception)


def test_whatif_json_and_table() -> None:
    args = ["policy", "whatif", *P, "--user", "alice@contoso.com", "--app", "00000002-0000-0ff1-ce00-000000000000",
            "--ip", HOME_IP, "--country", "DE", "--platform", "windows", "--signin-risk", "medium"]
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["decision"]["decision"] == "challenge"
    by = {v["displayName"]: v for v in out["value"]}
    assert by["MFA for medium and high sign-in risk"]["policyApplies"] is True
    assert by["Block legacy authentication"]["analysisReasons"] == "clientApps"
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "CHALLENGE" in r.output


def test_whatif_graph_samples_and_device_attr() -> None:
    s = "ca-policies/"
    r = runner.invoke(app, [
        "policy", "whatif", "--policies", str(sample(s + "ca-policy-graph-v1-example1-exo-mfa-outside-trusted-response.json")),
        "--locations", str(sample(s + "graph-v1_conditionalaccessroot-list-namedlocations_example1-response.json")),
        "--user", "4628e7df-dff3-407c-a08f-75f08c0806dc", "--group", "ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba",
        "--app", "00000002-0000-0ff1-ce00-000000000000", "--ip", "6.5.4.3", "--client-app", "browser",
        "--device-id", "d1", "--device-managed", "--device-attr", "extensionAttribute1=SAW", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["decision"]["requiredControls"] == ["mfa"]
    r = runner.invoke(app, ["policy", "whatif", *P, "--user", "a", "--app", "x", "--device-id", "d",
                            "--device-attr", "color=red"])
    assert r.exit_code != 0 and "color" in str(r.exception)


def test_replay_and_compare(settings: Settings, tmp_path: Path) -> None:
    with open_store(settings.store.path) as store:
        insert(store, "signins", [
            row("signins", user_id="u1", user_principal_name="a@x.com", ip=HOME_IP, country="DE",
                client_app_type="Browser", resource_id="r", source_record_id="bad-1"),
            row("signins", user_id="u2", user_principal_name="b@x.com", ip=HQ_IP, country="DE",
                client_app_type="IMAP4", resource_id="r"),
        ])
    labels = tmp_path / "labels.jsonl"
    labels.write_bytes(orjson.dumps({"kind": "event", "record_id": "bad-1", "malicious": True}) + b"\n")
    mfa_only = tmp_path / "mfa_only.json"
    doc = json.loads(POLICIES.read_text())
    doc["value"] = [p for p in doc["value"] if p["displayName"] == "MFA outside trusted locations"]
    mfa_only.write_text(json.dumps(doc))
    db = ["--db", settings.store.path]
    r = runner.invoke(app, ["policy", "replay", "--policies", str(mfa_only), "--locations", str(LOCATIONS),
                            "--compare", str(POLICIES), "--labels", str(labels), *db, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    rows = {c["key"]: c for c in out["comparison"]}
    assert rows["mfa_signins"]["a"] == 1 and rows["blocked_signins"]["a"] == 0
    assert rows["blocked_signins"]["b"] == 1 and rows["blocked_signins"]["delta"] == 1
    assert rows["attack_events_stopped"]["a"] == 1
    r = runner.invoke(app, ["policy", "replay", *P, *db, "--labels", str(labels)])
    assert r.exit_code == 0 and "What-if over 2 sign-ins" in r.output and "all policies" in r.output
    assert "Side by side" not in r.output


def test_device_options_need_a_device_id() -> None:
    r = runner.invoke(app, ["policy", "whatif", *P, "--user", "a", "--app", "x", "--device-compliant"])
    assert r.exit_code != 0 and "--device-id" in str(r.exception)


def test_load_then_use_stored_policies(settings: Settings) -> None:
    db = ["--db", settings.store.path]
    r = runner.invoke(app, ["policy", "load", *P, *db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"policies": 22, "named_locations": 4}
    with open_store(settings.store.path) as store:
        assert store.count("ca_policies") == 22 and store.count("named_locations") == 4
        trusted = store.query("select \"isTrusted\", \"ipRanges\" from named_locations where kind = 'ip' "
                              "order by \"displayName\"").to_pylist()
    assert trusted[0]["isTrusted"] is True and "2001:db8:1:2::99/48" in trusted[0]["ipRanges"]  # as published
    r = runner.invoke(app, ["policy", "check", *db, "--json"])  # no --policies: the stored set
    assert r.exit_code == 0 and len(json.loads(r.output)) == 22
    r = runner.invoke(app, ["policy", "load", *P, *db, "--json"])  # idempotent: replaces
    with open_store(settings.store.path) as store:
        assert store.count("ca_policies") == 22
