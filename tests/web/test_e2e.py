"""The analyst's walk in a real headless Chromium against a real `vigil serve` on a simulated tenant.

One browser run (tests/web/e2e.mjs, playwright-core driving /usr/bin/chromium) signs in, opens
the top incident, checks the map, expands the session tree, changes status and comments,
follows the seed's VPN egress case, runs the reference hunt and a what-if; the tests below
assert on its report. Screenshots land in test-output/screenshots/.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import REPO
from tests.web.conftest import CHROMIUM, SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def walk(server: dict[str, Any], tenant: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    seed = tenant["seed"]
    day = seed["time"][:10]
    env = {**os.environ, "VIGIL_URL": server["url"], "VIGIL_TOKEN": server["token"],
           "VIGIL_SCREENSHOTS": str(SCREENSHOTS), "VIGIL_CHROMIUM": str(CHROMIUM),
           "VIGIL_USER_DATA_DIR": str(tmp_path_factory.mktemp("chromium-profile")),
           "VIGIL_SEED_PATH": f"/users/{quote(seed['user'])}?start={day}T00:00:00&end={day}T23:59:59",
           "VIGIL_WHATIF": json.dumps({"user_principal_name": seed["user"], "sign_in_risk": "medium",
                                       "country": "NG", "client_app_type": "browser"})}
    done = subprocess.run(["node", str(REPO / "tests" / "web" / "e2e.mjs")], check=False, env=env, capture_output=True,
                          text=True, timeout=240, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    (SCREENSHOTS / "report.json").write_text(json.dumps(report, indent=2))
    return report


def _step(walk: dict[str, Any], name: str) -> dict[str, Any]:
    step = walk["steps"][name]
    assert "failure" not in step, step.get("failure")
    return step


def test_sign_in(walk: dict[str, Any]) -> None:
    s = _step(walk, "signin")
    assert s["redirectedTo"] == "/signin" and s["landed"] == "/incidents"
    assert s["cookie"] == {"httpOnly": True, "sameSite": "Strict", "secure": False}


def test_incident_queue(walk: dict[str, Any], tenant: dict[str, Any]) -> None:
    assert _step(walk, "incidents")["count"] == tenant["expected"]["incidents"]


def test_top_incident_map(walk: dict[str, Any], tenant: dict[str, Any]) -> None:
    s, exp = _step(walk, "incident"), tenant["expected"]
    opened = s["url"].rsplit("/", 1)[1]
    assert opened in exp["top"]  # the highest-priority incident is first in the queue
    want = exp["maps"][opened]
    assert s["drawnPoints"] == s["expectedPoints"] == want["points"] > 0
    assert s["drawnLines"] == s["expectedLines"] == sum(want["lines"].values())
    assert {k: v for k, v in s["linesByVerdict"].items() if v} == want["lines"]
    assert int(s["countries"]) > 200  # the world-atlas shapes were drawn, from this server
    # the simulated logs carry their own locations: DB-IP is credited only where its database answered
    assert "Location: vendor" in " ".join(s["locationSources"].split()) and s["dbipCredits"] == 0


def test_session_tree_expands(walk: dict[str, Any]) -> None:
    s = _step(walk, "sessionTree")
    assert s["sessions"] >= 1 and s["open"] is True and s["children"] >= 1
    assert s["visibleBefore"] is False and s["visibleAfter"] is True


def test_status_change_and_comment(walk: dict[str, Any]) -> None:
    s = _step(walk, "status")
    assert s["status"] == "active"
    assert any("Revoking sessions" in c for c in s["comments"])


def test_seed_case_egress_changes_are_benign(walk: dict[str, Any]) -> None:
    s = _step(walk, "seedCase")
    assert s["linesByVerdict"]["egress_change"] >= 2
    reasons = " ".join(s["legReasons"])
    assert "BG" in reasons and "BR" in reasons and "egress_change" in reasons


def test_reference_hunt_and_csv(walk: dict[str, Any], tenant: dict[str, Any]) -> None:
    s = _step(walk, "hunt")
    assert s["error"] is None
    assert s["headers"] == ["TimeGenerated", "User", "UserPrincipalName", "SourceIPAddress", "SourceIPLocation",
                            "InvestigationPriority"]
    assert s["rows"] == tenant["expected"]["hunt_rows"]
    csv_lines = Path(s["csv"]).read_text().splitlines()
    assert csv_lines[0].split(",") == s["headers"] and len(csv_lines) == s["rows"] + 1


def test_what_if(walk: dict[str, Any], tenant: dict[str, Any]) -> None:
    s = _step(walk, "policy")
    assert s["error"] is None and s["policies"] == tenant["expected"]["policies"]
    assert s["decision"].split()[0] in {"allow", "challenge", "block"} and s["applied"] == s["policies"]
    assert s["replayError"] is None and s["replayRows"] == s["policies"] + 1  # one per policy + total
    assert int(s["replaySummary"].split()[0]) == tenant["expected"]["signins"]


def test_no_console_errors_no_external_requests(walk: dict[str, Any]) -> None:
    assert walk["pageErrors"] == []
    assert walk["console"] == []  # a CSP violation or a failed asset would show here
    assert walk["external"] == []  # nothing but 127.0.0.1: no CDN, no map tiles


def test_screenshots_saved(walk: dict[str, Any]) -> None:
    names = {p.name for p in SCREENSHOTS.glob("*.png")}
    assert {"01-signin.png", "02-incidents.png", "03-incident.png", "03b-incident-map.png", "04-session-tree.png",
            "05-user.png", "06-hunt.png", "07-policy-whatif.png", "08-seed-egress-change.png", "09-policy-replay.png"} <= names


def test_server_log_has_no_token(walk: dict[str, Any], server: dict[str, Any]) -> None:
    log = server["log"].read_text()
    assert "GET /incidents" in log  # the access log was captured ...
    assert server["token"] not in log and server["token"][-16:] not in log  # ... without the token
