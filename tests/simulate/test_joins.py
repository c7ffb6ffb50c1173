"""Join keys join: sessions, tokens, and the VPN failover seed case."""
from __future__ import annotations

from datetime import datetime
from typing import Any


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def test_non_interactive_sign_ins_have_a_root_interactive_sign_in(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    roots: dict[str, str] = {}
    for r in demo_rows["SigninLogs.json"]:
        if r["ResultType"] in ("0", "50074", "50140") and r["SessionId"]:
            roots.setdefault(r["SessionId"], r["TimeGenerated"])
    for r in demo_rows["AADNonInteractiveUserSignInLogs.json"]:
        assert r["SessionId"] in roots, r["Id"]
        assert roots[r["SessionId"]] <= r["TimeGenerated"]


def test_audit_records_join_to_sign_ins(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    signins = demo_rows["SigninLogs.json"] + demo_rows["AADNonInteractiveUserSignInLogs.json"]
    sessions = {r["SessionId"] for r in signins}
    tokens = {r["UniqueTokenIdentifier"]: r for r in signins}
    for a in demo_rows["OfficeActivity_ManagementAPI.json"]:
        ctx = a["AppAccessContext"]
        assert ctx["AADSessionId"] in sessions
        token = tokens[ctx["UniqueTokenId"]]
        assert token["SessionId"] == ctx["AADSessionId"]
        assert token["UserId"] is not None and token["UserPrincipalName"] == a["UserId"]
        assert token["AppId"] == ctx["ClientAppId"]


def test_vpn_failover_seed_case_same_session_gb_bg_br_within_minutes(
        demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    failovers = [s for s in demo_rows["scenarios.jsonl"] if s["scenario"] == "vpn_egress_failover"]
    seed = next(s for s in failovers if [e["country"] for e in s["egress"]] == ["GB", "BG", "BR"])
    by_id = {r["Id"]: r for r in demo_rows["AADNonInteractiveUserSignInLogs.json"]}
    rows = sorted((by_id[i] for i in seed["record_ids"]), key=lambda r: r["TimeGenerated"])
    assert {r["SessionId"] for r in rows} == {seed["session_id"]}
    assert {r["DeviceDetail"].split('"deviceId":"')[1][:36] for r in rows} == {seed["device_id"]}
    countries = [r["Location"] for r in rows]
    assert countries[0] == "BG" and countries[-1] == "BR"
    assert (_t(rows[-1]["TimeGenerated"]) - _t(rows[0]["TimeGenerated"])).total_seconds() < 30 * 60
    gb = [r for r in demo_rows["AADNonInteractiveUserSignInLogs.json"]
          if r["SessionId"] == seed["session_id"] and r["Location"] == "GB" and r["TimeGenerated"] < rows[0]["TimeGenerated"]]
    assert gb and (_t(rows[0]["TimeGenerated"]) - _t(gb[-1]["TimeGenerated"])).total_seconds() < 3 * 3600


def test_aitm_replay_shares_the_proxy_session_from_another_country(
        demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    labels = [x for x in demo_rows["labels.jsonl"] if x.get("campaign_type") == "aitm_phishing" and x["kind"] == "event"]
    by_id = {r["Id"]: r for r in demo_rows["SigninLogs.json"]}
    rows = [by_id[x["record_id"]] for x in labels if x["record_id"] in by_id]
    assert len({r["SessionId"] for r in rows}) == 1
    assert len({r["Location"] for r in rows}) == 2
    assert len({r["UserAgent"] for r in rows}) == 2
    assert all(r["DeviceDetail"]["deviceId"] == "" for r in rows)
    assert any(r["AutonomousSystemNumber"] in (16509, 8075, 14061, 16276, 24940, 20473) for r in rows)
