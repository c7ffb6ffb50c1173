"""Ground truth: labels point at records that exist; every campaign and scenario shows up."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vigil.simulate.attacks import CAMPAIGNS


def test_labels_reference_existing_records(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    ids = {name: {r.get("Id") or r["uuid"] for r in rows} for name, rows in demo_rows.items() if name.endswith(".json")}
    events = [x for x in demo_rows["labels.jsonl"] if x["kind"] == "event"]
    assert events
    for x in events:
        assert x["record_id"] in ids[x["source_file"]], x
        assert x["campaign_type"] in CAMPAIGNS
        assert x["technique"] is None or re.match(r"^T\d{4}(\.\d{3})?$", x["technique"])
        assert isinstance(x["malicious"], bool)
    assert len({(x["source_file"], x["record_id"]) for x in events}) == len(events)


def test_record_ids_are_unique(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    for name in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "OfficeActivity_ManagementAPI.json",
                 "AuditLogs.json"):
        ids = [r["Id"] for r in demo_rows[name]]
        assert len(ids) == len(set(ids)), name


def test_every_campaign_has_malicious_events_and_compromises_close(
        demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    labels = demo_rows["labels.jsonl"]
    malicious = {x["campaign_type"] for x in labels if x["kind"] == "event" and x["malicious"]}
    assert malicious == set(CAMPAIGNS)
    windows = [x for x in labels if x["kind"] == "compromise"]
    assert {w["campaign_type"] for w in windows} >= {"aitm_phishing", "mfa_fatigue", "token_replay",
                                                     "impossible_travel_compromise", "mass_download"}
    for w in windows:
        assert w["start"] < w["end"]


def test_malicious_events_fall_inside_windows_after_compromise(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    labels = demo_rows["labels.jsonl"]
    inter = {r["Id"]: r for r in demo_rows["SigninLogs.json"]}
    windows = {(w["campaign_id"], w["user"]): w for w in labels if w["kind"] == "compromise"}
    for x in labels:
        if x["kind"] != "event" or x["source_file"] != "SigninLogs.json" or not x["malicious"]:
            continue
        row = inter[x["record_id"]]
        w = windows.get((x["campaign_id"], x["user"]))
        if row["ResultType"] == "0" and w is not None:
            assert w["start"] <= row["TimeGenerated"] <= w["end"]


def test_leaked_credentials_are_hashes_only(demo: tuple[Path, Any]) -> None:
    out, summary = demo
    lines = (out / "leaked_credentials.txt").read_text().splitlines()
    # "upn,sha256(upn:password)" lines: addresses and hashes, never a password in clear
    assert lines and all(re.fullmatch(r"[^,\s]+@[^,\s]+,[0-9a-f]{64}", h) for h in lines)
    leaked = next(c for c in summary.campaigns if c["type"] == "leaked_credentials")
    assert len(lines) == len(leaked["stale"]) + 1
    assert {h.split(",")[0] for h in lines} == {u.lower() for u in [*leaked["stale"], leaked["victim"]]}
    assert not any(w in (out / "leaked_credentials.txt").read_text() for w in ("Summer20", "Winter20", "Welcome20"))


def test_every_benign_scenario_is_noted(demo_rows: dict[str, list[dict[str, Any]]]) -> None:
    names = {s["scenario"] for s in demo_rows["scenarios.jsonl"]}
    assert names >= {"vpn_egress_failover", "split_tunnel", "mobile_cgnat", "travel", "confidential_client_stale_ip",
                     "new_joiner", "dormant_return", "shared_account", "several_devices", "leaver",
                     "benign_inbox_rule", "role_assignment"}
