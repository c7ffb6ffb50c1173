"""hijack.py: scripted clients, the AiTM shape, and no finding for the legitimate device."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.builders import row
from tests.sessions.helpers import analyze, rows

T = datetime(2026, 1, 5, 9, 0)
U = "dave@contoso.com"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36")


def _s(minutes: int, ip: str, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"result": "success", "session_id": "SX", "user_agent": CHROME, "device_id": "D1",
                              **kw}
    return row("signins", event_time=T + timedelta(minutes=minutes), user_principal_name=U, ip=ip, **values)


def _findings(store: Any) -> dict[str, dict[str, Any]]:
    return {r["kind"]: r for r in rows(store, "SELECT * FROM session_hijacks")}


def test_legitimate_use_from_root_device_gives_nothing(tmp_path: Path) -> None:
    signins = [_s(0, "86.128.0.10", is_interactive=True, mfa_satisfied=True),
               _s(30, "31.94.0.20", is_interactive=False),  # same device on the mobile hotspot
               _s(60, "82.2.0.30", is_interactive=False)]
    activities = [row("activities", event_time=T + timedelta(minutes=61), user_principal_name=U, session_id="SX",
                      ip="82.2.0.30", user_agent=CHROME)]
    with analyze(tmp_path, signins, activities) as store:
        assert _findings(store) == {}


def test_scripted_client_reusing_the_session(tmp_path: Path) -> None:
    signins = [_s(0, "86.128.0.10", is_interactive=True, mfa_satisfied=True),
               _s(240, "86.128.0.10", is_interactive=False, user_agent="python-requests/2.31.0")]
    with analyze(tmp_path, signins) as store:
        found = _findings(store)
        assert set(found) == {"scripted_client"}
        f = found["scripted_client"]
        assert f["severity"] == "medium"  # same IP and device: a script on the user's machine, still worth a look
        assert "by a scripted client (python-requests/2.31.0)" in f["reason"]
        assert f["evidence_event_ids"] == f'["{signins[1]["event_id"]}"]'


def test_aitm_root_on_hosting_then_replayed(tmp_path: Path) -> None:
    signins = [_s(0, "46.101.5.5", is_interactive=True, mfa_satisfied=True, device_id=None),  # DigitalOcean DE
               _s(20, "87.126.0.9", is_interactive=False, device_id=None)]  # replayed from a BG ISP
    with analyze(tmp_path, signins) as store:
        found = _findings(store)
        assert found["aitm"]["severity"] == "high"
        assert found["aitm"]["reason"].startswith("Session SX… (MFA sign-in from DE on no registered device at 09:00) "
                                                  "began on hosting AS14061 (46.101.5.5), the adversary-in-the-middle")
        assert found["aitm"]["country"] == "BG"


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_cookie_replayed_through_a_residential_proxy_labelled_corporate(tmp_path: Path) -> None:
    # the victim signs in at home (BT) on D1; the cookie is replayed through a residential proxy in the same
    # country on another ISP, which egress learning wrongly labelled corporate, with another browser and no
    # device id, while the victim keeps working on D1: high, whatever the egress label says
    signins = [_s(0, "86.128.0.10", is_interactive=True, mfa_satisfied=True),
               _s(90, "82.2.0.30", is_interactive=False, device_id=None, user_agent=FIREFOX),
               _s(100, "86.128.0.10", is_interactive=False, session_id="SY")]
    with analyze(tmp_path, signins, corporate_cidrs=["82.2.0.0/24"]) as store:
        assert rows(store, "SELECT ip_class FROM signins_enriched WHERE ip = '82.2.0.30'")[0]["ip_class"] == \
            "corporate_egress"
        f = _findings(store)["token_replay"]
        assert f["severity"] == "high"
        assert "while its owner kept working from the root device" in f["reason"]


def test_the_same_replay_without_the_owner_nearby_is_medium(tmp_path: Path) -> None:
    signins = [_s(0, "86.128.0.10", is_interactive=True, mfa_satisfied=True),
               _s(300, "82.2.0.30", is_interactive=False, device_id=None, user_agent=FIREFOX)]
    with analyze(tmp_path, signins, corporate_cidrs=["82.2.0.0/24"]) as store:
        f = _findings(store)["token_replay"]
        assert f["severity"] == "medium" and "owner" not in f["reason"]


def test_vpn_failover_on_the_same_device_is_not_a_replay(tmp_path: Path) -> None:
    signins = [_s(0, "82.2.0.10", is_interactive=True, mfa_satisfied=True),
               _s(30, "87.126.0.9", is_interactive=False)]  # same device and browser, another corporate gateway
    with analyze(tmp_path, signins, corporate_cidrs=["82.2.0.0/24", "87.126.0.0/24"]) as store:
        assert _findings(store) == {}


def test_okta_root_session_from_another_network_and_client(tmp_path: Path) -> None:
    # Okta: one rootSessionId, no device id; started in a browser in GB, then used from a hosting network abroad
    # by a script, and from another country and ISP by another browser: both are the session replayed
    okta = {"token_issuer_type": "Okta", "device_id": None, "session_id": "102RootSession"}
    signins = [_s(0, "86.128.0.10", is_interactive=True, **okta),
               _s(40, "46.101.5.5", is_interactive=False, user_agent="python-requests/2.31.0", **okta),
               _s(80, "87.126.0.9", is_interactive=False, user_agent=FIREFOX, **okta)]
    with analyze(tmp_path, signins) as store:
        found = _findings(store)
        assert {"scripted_client", "token_replay"} <= set(found)
        assert found["scripted_client"]["severity"] == "high"
        assert found["token_replay"]["country"] in ("DE", "BG")


def test_okta_root_session_on_the_same_browser_elsewhere_in_the_country(tmp_path: Path) -> None:
    okta = {"token_issuer_type": "Okta", "device_id": None, "session_id": "102RootSession"}
    signins = [_s(0, "86.128.0.10", is_interactive=True, **okta),
               _s(40, "86.160.0.7", is_interactive=False, **okta)]  # same browser, another GB address
    with analyze(tmp_path, signins) as store:
        assert _findings(store) == {}
