"""travel.py: accuracy-aware distances, verdict thresholds, failed and stale events, tie-breaking."""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import row
from tests.sessions.helpers import analyze, rows

T = datetime(2026, 1, 5, 9, 0)
U = "carol@contoso.com"


def _s(minutes: float, ip: str, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"result": "success", "is_interactive": True, **kw}
    return row("signins", event_time=T + timedelta(minutes=minutes), user_principal_name=U, ip=ip, **values)


def _verdicts(store: Any) -> list[tuple[str, str]]:
    return [(r["verdict"], r["reason"]) for r in rows(store, "SELECT * FROM travel ORDER BY to_time, to_event_id")]


def test_same_city_and_neighbours_within_accuracy_never_fire(tmp_path: Path) -> None:
    signins = [
        _s(0, "86.128.0.10"),  # BT London (mmdb, 20 km)
        _s(2, "82.2.0.10"),  # Virgin London: same city, other ISP
        # vendor says Strasbourg FR then Kehl DE (3 km across the Rhine) with the default 25 km radius
        _s(4, "1.1.1.1", country="FR", city="Strasbourg", latitude=48.5734, longitude=7.7521),
        _s(5, "1.1.1.2", country="DE", city="Kehl", latitude=48.5726, longitude=7.8156),
    ]
    with analyze(tmp_path, signins) as store:
        got = _verdicts(store)
        assert got[0][0] == "same_location" and got[2][0] == "same_location"
        assert got[2][1].startswith("Strasbourg, FR and Kehl, DE are within the location accuracy (5 km apart")
        assert got[1][0] == "impossible"  # London -> Strasbourg in 2 minutes is not


def test_speed_thresholds_and_reasons(tmp_path: Path) -> None:
    signins = [
        _s(0, "86.128.0.10"),  # London
        _s(3 * 60, "193.159.40.5"),  # Frankfurt (Contoso office, not declared here): ~640 km in 3 h
        _s(3 * 60 + 30, "177.32.0.9"),  # Sao Paulo 30 minutes later
        _s(30 * 60, "3.80.0.5"),  # Ashburn (AWS) a day later: plausible, hosting
        _s(30 * 60 + 6 * 60, "86.128.0.11"),  # London 6 h after Ashburn: 5,900 km / 6 h ~ 980 km/h
    ]
    with analyze(tmp_path, signins) as store:
        got = _verdicts(store)
        assert [v for v, _ in got] == ["plausible", "impossible", "plausible", "improbable"]
        assert got[1][1].startswith("Frankfurt am Main, DE to Sao Paulo, BR: ")
        assert "in 30 min" in got[1][1] and "is impossible travel; same inferred session " in got[1][1]
        assert "faster than a commercial flight" in got[3][1]
        t = rows(store, "SELECT * FROM travel ORDER BY to_time")[0]
        assert 600 < t["distance_km"] < 660 and t["adjusted_distance_km"] == t["distance_km"] - 40
        assert t["elapsed_s"] == 3 * 3600 and t["from_ip_class"] == "residential"


def test_failed_attempts_are_marked_and_never_a_starting_point(tmp_path: Path) -> None:
    signins = [_s(0, "86.128.0.10"), _s(5, "177.32.0.9", result="failure"), _s(10, "86.128.0.11")]
    with analyze(tmp_path, signins) as store:
        t = rows(store, "SELECT * FROM travel ORDER BY to_time")
        assert [(r["from_event_id"], r["to_failed"], r["verdict"]) for r in t] == [
            (signins[0]["event_id"], True, "impossible"), (signins[0]["event_id"], False, "same_location")]
        assert t[0]["reason"].endswith("; the later attempt failed")


def test_stale_confidential_client_ip_is_not_a_location(tmp_path: Path) -> None:
    signins = [_s(0, "86.128.0.10"),
               _s(5, "177.32.0.9", is_interactive=False, client_credential_type="clientAssertion"),
               _s(10, "86.128.0.11")]
    with analyze(tmp_path, signins) as store:
        assert [r["to_event_id"] for r in rows(store, "SELECT * FROM travel")] == [signins[2]["event_id"]]


@settings(max_examples=4, deadline=None)
@given(st.permutations(list(range(4))))
def test_ties_are_broken_by_event_id(order: list[int]) -> None:
    """Same timestamps in any insertion order give the same pairs (window order: time, event_id)."""
    import tempfile

    ips = ["86.128.0.10", "177.32.0.9", "87.126.0.5", "3.80.0.5"]
    base = [_s(0, ip, source_record_id=f"tie-{i}") for i, ip in enumerate(ips)]
    with tempfile.TemporaryDirectory() as tmp, analyze(Path(tmp), [base[i] for i in order]) as store:
        got = [(r["from_event_id"], r["to_event_id"]) for r in
               rows(store, "SELECT * FROM travel ORDER BY to_event_id")]
    ids = sorted(r["event_id"] for r in base)
    assert got == list(pairwise(ids))


def test_mobile_carrier_ips_are_country_level(tmp_path: Path) -> None:
    signins = [
        _s(-3 * 24 * 60, "46.10.0.8", session_id="H", device_id="phone"),  # at home in Bulgaria days before
        _s(0, "86.128.0.10", session_id="A", device_id="laptop"),  # BT London
        _s(3, "31.94.128.20", session_id="B", device_id="phone"),  # EE mobile, geolocated to Manchester
        _s(6, "46.10.0.9", session_id="B", device_id="phone"),  # A1 Bulgaria mobile: roaming home carrier
        _s(9, "86.128.0.11", session_id="A", device_id="laptop"),
    ]
    with analyze(tmp_path, signins) as store:
        got = _verdicts(store)[1:]
        assert got[0] == ("same_location", "London, GB and Manchester, GB are in one country and the later IP is a "
                                           "mobile carrier's, which geolocates only to the country (carrier gateway)")
        assert got[1][0] == "impossible"  # same session (the phone): GB mobile -> BG mobile in 3 minutes
        assert got[2][0] == "improbable" and got[2][1].endswith("may be roaming through its home network")


def test_a_carrier_in_a_country_never_visited_is_presence_not_roaming(tmp_path: Path) -> None:
    # home-routed roaming shows the home carrier's country; a Bulgarian carrier IP for a user never in Bulgaria
    # is a phone (or an attacker) in Bulgaria
    signins = [_s(0, "86.128.0.10", session_id="A", device_id="laptop"),
               _s(6, "46.10.0.9", session_id="B", device_id=None)]
    with analyze(tmp_path, signins) as store:
        ((verdict, reason),) = _verdicts(store)
        assert verdict == "impossible" and reason.endswith("presence there, not roaming")


def test_split_tunnel_activity_without_device_is_egress_change(tmp_path: Path) -> None:
    signins = [_s(0, "194.60.88.70", session_id="ST", device_id="laptop", is_interactive=True)]  # VPN GB
    activities = [row("activities", event_time=T + timedelta(minutes=5), user_principal_name=U, session_id="ST",
                      ip="86.160.0.7", workload="SharePoint")]  # direct, Edinburgh, no device id
    with analyze(tmp_path, signins, activities, corporate_cidrs=["194.60.88.64/27"]) as store:
        ((verdict, reason),) = _verdicts(store)
        assert verdict == "egress_change"
        assert reason == "GB is a corporate egress point (configured 194.60.88.64/27); same session ST… since the sign-in in GB at 09:00"


def test_travel_across_okta_google_and_aws_sign_ins(tmp_path: Path) -> None:
    # one person signing in to Okta in London, Google Workspace and the AWS console from Sao Paulo minutes
    # later: the itinerary spans identity providers (no vendor coordinates for Google / AWS: the mmdb places them)
    signins = [
        _s(0, "86.128.0.10", token_issuer_type="Okta", source_format="okta_system", session_id="102okta"),
        _s(20, "177.32.0.9", token_issuer_type="Google", source_format="gws_login"),
        _s(25, "177.32.0.10", token_issuer_type="AWS", source_format="cloudtrail_console"),
        _s(300, "86.128.0.11", token_issuer_type="Okta", source_format="okta_system", session_id="102okta2"),
    ]
    with analyze(tmp_path, signins) as store:
        got = rows(store, "SELECT t.verdict, s.source_format FROM travel t JOIN signins s ON s.event_id = t.to_event_id "
                          "ORDER BY t.to_time")
        assert [(g["verdict"], g["source_format"]) for g in got][:2] == [
            ("impossible", "gws_login"), ("same_location", "cloudtrail_console")]


def test_a_home_carrier_after_the_corporate_vpn_is_not_presence_abroad(tmp_path: Path) -> None:
    # a VPN user appears only through the corporate egress; their phone's home carrier is the first sight of
    # their own country: not "never there"
    signins = [_s(0, "194.60.88.70", session_id="A", device_id="laptop"),
               _s(6, "46.10.0.9", session_id="B", device_id=None)]
    with analyze(tmp_path, signins, corporate_cidrs=["194.60.88.64/27"]) as store:
        ((verdict, _),) = _verdicts(store)
        assert verdict == "improbable"
