"""stitch.py: every link method, inferred sessions split by the gap, root choice, hops."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tests.builders import row
from tests.sessions.helpers import analyze, rows

T = datetime(2026, 1, 5, 9, 0)
U = "bob@contoso.com"


def _s(minutes: int, **kw: object) -> dict[str, object]:
    values: dict[str, object] = {"result": "success", **kw}
    return row("signins", event_time=T + timedelta(minutes=minutes), user_principal_name=U, **values)


def test_link_methods(tmp_path: Path) -> None:
    signins = [
        _s(0, session_id="S1", is_interactive=True, correlation_id="C1", original_request_id="R1",
           unique_token_id="UTI1", ip="86.128.0.10", device_id="D1"),
        _s(1, correlation_id="C1", ip="86.128.0.10"),  # no session id: same trail
        _s(2, original_request_id="R1", ip="86.128.0.10"),  # step of the multi-step sign-in
    ]
    activities = [
        row("activities", event_time=T + timedelta(minutes=3), user_principal_name=U, session_id="S1"),
        row("activities", event_time=T + timedelta(minutes=4), user_principal_name=U, unique_token_id="UTI1"),
        row("activities", event_time=T + timedelta(minutes=5), user_principal_name=U, correlation_id="C1"),
    ]
    with analyze(tmp_path, signins, activities) as store:
        links = rows(store, "SELECT event_id, session_key, link_method FROM event_sessions")
        by_id = {r["event_id"]: (r["session_key"], r["link_method"]) for r in links}
        ids = [r["event_id"] for r in signins + activities]
        assert [by_id[i] for i in ids] == [
            ("s:S1", "session_id"), ("s:S1", "correlation_id"), ("s:S1", "original_request_id"),
            ("s:S1", "aad_session_id"), ("s:S1", "unique_token_id"), ("s:S1", "correlation_id")]
        (session,) = rows(store, "SELECT * FROM sessions")
        assert (session["root_event_id"], session["event_count"], session["signin_count"], session["activity_count"],
                session["inferred"], session["root_interactive"]) == (ids[0], 6, 3, 3, False, True)


def test_inferred_sessions_split_on_gap_and_device(tmp_path: Path) -> None:
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    signins = [_s(0, device_id="D1", user_agent=ua), _s(60, device_id="D1", user_agent=ua),
               _s(60 + 8 * 60 + 1, device_id="D1", user_agent=ua),  # after the 8 h gap: new session
               _s(61, device_id="D2", user_agent=ua)]  # other device: its own session
    with analyze(tmp_path, signins) as store:
        keys = {r["event_id"]: r["session_key"] for r in rows(store, "SELECT * FROM event_sessions")}
        k = [keys[r["event_id"]] for r in signins]
        assert k[0] == k[1] and len({k[0], k[2], k[3]}) == 3
        assert all(x.startswith("i:") for x in k)
        methods = {r["stitch_method"] for r in rows(store, "SELECT stitch_method FROM sessions")}
        assert methods == {"inferred"}


def test_root_is_first_interactive_success_and_hops(tmp_path: Path) -> None:
    signins = [
        _s(0, session_id="S2", is_interactive=False, ip="86.128.0.10", device_id="D1"),  # refresh before
        _s(1, session_id="S2", is_interactive=True, result="failure", ip="86.128.0.11", device_id="D1"),
        _s(2, session_id="S2", is_interactive=True, ip="86.128.0.12", device_id="D1", mfa_satisfied=True),
        _s(3, session_id="S2", is_interactive=False, ip="87.126.0.5", device_id=None),
    ]
    with analyze(tmp_path, signins) as store:
        (s,) = rows(store, "SELECT * FROM sessions")
        assert (s["root_event_id"], s["root_ip"], s["root_mfa"], s["root_country"]) == (
            signins[2]["event_id"], "86.128.0.12", True, "GB")
        # .10 -> .11 -> .12 stay in one /24: address churn in one network is no hop
        assert s["countries"] == '["BG","GB"]' and s["hop_count"] == 4
        hops = {(r["hop_kind"], r["from_value"], r["to_value"]) for r in rows(store, "SELECT * FROM session_hops")}
        assert hops == {("ip", "86.128.0.12", "87.126.0.5"), ("asn", "2856", "8866"), ("country", "GB", "BG"),
                        ("device", "D1", "(none)")}


def test_flipping_between_two_networks_hops_once_each_way(tmp_path: Path) -> None:
    """A session alternating between the office egress and the home ISP (the demo's busiest benign session
    had 52 hops, 35 of them its IP flipping) hops when it first reaches each network, not on every switch."""
    office, home = "86.128.0.10", "87.126.0.5"
    signins = [_s(i, session_id="S4", ip=ip, device_id="D1") for i, ip in enumerate([office, home] * 5)]
    with analyze(tmp_path, signins) as store:
        hops = rows(store, "SELECT hop_kind, from_value, to_value FROM session_hops ORDER BY hop_time, hop_kind")
        assert [(h["hop_kind"], h["to_value"]) for h in hops] == [("asn", "8866"), ("country", "BG"), ("ip", home)]
        # a third network later in the session is a hop again
        more = [*signins, _s(20, session_id="S4", ip="52.208.1.1", device_id="D1")]
    (tmp_path / "more").mkdir()
    with analyze(tmp_path / "more", more) as store:
        assert {r["to_value"] for r in rows(store, "SELECT to_value FROM session_hops WHERE hop_kind = 'ip'")} \
            == {home, "52.208.1.1"}


def test_address_churn_inside_one_network_is_no_hop(tmp_path: Path) -> None:
    """A phone's carrier (here BT's 86.128.0.0/12, one ASN) hands out a new address every few hours."""
    ips = ["86.128.0.10", "86.131.7.9", "86.140.2.2", "86.129.200.1"]
    signins = [_s(60 * i, session_id="S5", ip=ip, device_id="D1") for i, ip in enumerate(ips)]
    with analyze(tmp_path, signins) as store:
        assert rows(store, "SELECT * FROM session_hops") == []


def test_user_agent_hops_on_family_and_class_once_each(tmp_path: Path) -> None:
    """A browser version bump is no hop; flipping between the browser and the Windows auth broker is one."""
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{} Safari/537.36"
    broker = "Windows-AzureAD-Authentication-Provider/1.0"
    agents = [chrome.format("120.0"), broker, chrome.format("121.0"), broker, chrome.format("121.0"), broker]
    signins = [_s(i, session_id="S3", ip="86.128.0.10", device_id="D1", user_agent=ua) for i, ua in enumerate(agents)]
    with analyze(tmp_path, signins) as store:
        ua_hops = rows(store, "SELECT from_value, to_value FROM session_hops WHERE hop_kind = 'user_agent'")
        assert len(ua_hops) == 1 and ua_hops[0]["from_value"].startswith("Chrome"), ua_hops
        (s,) = rows(store, "SELECT hop_count FROM sessions")
        assert s["hop_count"] == 1
