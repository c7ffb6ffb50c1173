"""Every page at 1400x900 and on a 390x844 phone, in a real headless Chromium (tests/web/pages.mjs):
each renders, a phone never scrolls the page sideways, and the screenshots are taken.

``VIGIL_DOCS_SCREENSHOTS=1`` writes the screenshots into docs/ui/ (the ones docs/ui.md shows), shrunk
with pngquant when it is installed; otherwise they go to test-output/screenshots/ui/.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import REPO
from tests.web.conftest import CHROMIUM, SCREENSHOTS

pytestmark = pytest.mark.browser

DOCS = REPO / "docs" / "ui"
VIEWS = ("desktop", "mobile")


def _pages(tenant: dict[str, Any]) -> list[dict[str, Any]]:
    top, campaign = tenant["expected"]["top_user_incident"], tenant["expected"]["campaign"]["id"]
    seed = tenant["seed"]
    whatif = {"user_principal_name": seed["user"], "sign_in_risk": "medium", "country": "NG",
              "client_app_type": "browser"}
    return [
        {"name": "signin", "path": "/signin", "wait": "#token"},
        {"name": "incidents", "path": "/incidents", "wait": "#incidents tbody tr"},
        {"name": "incident", "path": f"/incidents/{quote(top[0])}", "wait": "#map[data-drawn-points]"},
        {"name": "incident-sessions", "path": f"/incidents/{quote(top[0])}", "wait": "#session-tree",
         "scrollTo": "#session-tree"},
        {"name": "campaign", "path": f"/incidents/{quote(campaign)}", "wait": "#campaign",
         "read": {k: f"#campaign-{k}" for k in ("accounts", "attempts", "ips", "networks", "accepted")}
         | {"account_rows": "#campaign-account-list tbody tr", "network_rows": "#campaign-network-list tbody tr",
            "bars": "#campaign-timeline rect.bar", "map": "#map"}},
        {"name": "user", "path": f"/users/{quote(top[1])}", "wait": "#map[data-drawn-points]"},
        {"name": "hunt", "path": "/hunt", "submit": "#hunt-run", "wait": "#hunt-result", "scrollTo": "#hunt-result"},
        {"name": "policy", "path": "/policy", "wait": "#whatif-form"},
        {"name": "policy-whatif", "path": "/policy", "fill": whatif, "submit": "#whatif-run",
         "wait": "#whatif-decision", "scrollTo": "#whatif-decision"},
        {"name": "policy-replay", "path": "/policy", "submit": "#replay-run", "wait": "#replay-impact",
         "scrollTo": "#replay-summary"},
        {"name": "connectors", "path": "/connectors", "wait": "#connectors"},
        {"name": "watchlists", "path": "/watchlists", "wait": "#watchlists tbody tr",
         "read": {"lists": "#watchlists tbody tr", "form": "#watchlist-form"}},
        {"name": "watchlist", "path": "/watchlists/VIPUsers", "wait": "#watchlist-rows",
         "read": {"rows": "#watchlist-rows tbody tr", "usage": "#watchlist-usage"}},
        {"name": "not-found", "path": "/incidents/INC-does-not-exist", "wait": "p.error"},
    ]


@pytest.fixture(scope="module")
def layout(server: dict[str, Any], tenant: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    docs = os.environ.get("VIGIL_DOCS_SCREENSHOTS") == "1"
    out = DOCS if docs else SCREENSHOTS / "ui"
    pages = _pages(tenant)
    env = {**os.environ, "VIGIL_URL": server["url"], "VIGIL_TOKEN": server["token"], "VIGIL_SCREENSHOTS": str(out),
           "VIGIL_CHROMIUM": str(CHROMIUM), "VIGIL_USER_DATA_DIR": str(tmp_path_factory.mktemp("chromium-pages")),
           "VIGIL_PAGES": json.dumps(pages)}
    done = subprocess.run(["node", str(REPO / "tests" / "web" / "pages.mjs")], check=False, env=env,
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    if docs and shutil.which("pngquant"):
        pngs = [str(p) for p in out.glob("*.png")]
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--ext", ".png", "--quality", "70-95", *pngs],
                       check=False, timeout=120)
    report["names"] = [p["name"] for p in pages]
    return report


def _each(layout: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for name in layout["names"]:
        for view in VIEWS:
            shot = layout["pages"][name][view]
            assert "failure" not in shot, f"{name} at {view}: {shot['failure']}"
            out.append((name, view, shot))
    return out


def test_every_page_renders_at_both_sizes(layout: dict[str, Any]) -> None:
    for name, view, shot in _each(layout):
        expected = 404 if name == "not-found" else 200
        assert shot["status"] == expected, (name, view, shot["status"])
        assert Path(shot["file"]).stat().st_size > 5_000, (name, view)  # a real picture, not a blank page
        assert shot["h1Top"] is not None, (name, view)  # every page, error pages too, has its heading


def test_phone_never_scrolls_sideways(layout: dict[str, Any]) -> None:
    for name, view, shot in _each(layout):
        assert shot["scrollWidth"] <= shot["viewport"], (name, view, shot["scrollWidth"], shot["wide"])
        assert shot["wide"] == [], (name, view, shot["wide"])  # wide tables scroll inside their own box


def test_phone_header_and_heading_fit_the_first_screen(layout: dict[str, Any]) -> None:
    for name, view, shot in _each(layout):
        if view != "mobile":
            continue
        assert shot["navBottom"] <= 140, (name, shot["navBottom"])  # the header wraps, it does not fill the screen
        assert shot["h1Top"] < 844 / 2, (name, shot["h1Top"])
        assert shot["fontSize"] >= 14 and shot["smallTargets"] == [], (name, shot["smallTargets"])


def test_campaign_page_shows_accounts_networks_and_timeline(layout: dict[str, Any], tenant: dict[str, Any]) -> None:
    read = layout["pages"]["campaign"]["desktop"]["read"]
    accounts, ips = tenant["expected"]["campaign"]["accounts"], tenant["expected"]["campaign"]["ips"]
    assert int(read["accounts"]["text"]) == read["account_rows"]["count"] == accounts > 1
    assert int(read["ips"]["text"]) >= ips  # every IP its detections name, and the campaign's other attempts
    assert int(read["networks"]["text"]) == read["network_rows"]["count"] >= 1
    assert int(read["attempts"]["text"]) >= accounts and read["bars"]["count"] >= 1
    assert read["map"]["count"] == 0  # a campaign has no one user's itinerary to draw


def test_watchlists_pages_list_the_imported_lists_and_show_their_rows(layout: dict[str, Any],
                                                                      tenant: dict[str, Any]) -> None:
    lists = layout["pages"]["watchlists"]["desktop"]["read"]
    assert lists["lists"]["count"] == len(tenant["expected"]["watchlists"]) == 4
    assert lists["form"]["visible"]  # an admin may import
    one = layout["pages"]["watchlist"]["desktop"]["read"]
    assert one["rows"]["count"] == tenant["expected"]["watchlists"]["VIPUsers"] > 0
    assert one["usage"]["text"] == "_GetWatchlist('VIPUsers')"


def test_no_console_errors_no_external_requests(layout: dict[str, Any]) -> None:
    # the one expected message: the browser's note that the not-found page came with a 404
    console = [c for c in layout["console"] if not (c["page"] == "not-found" and "404" in c["text"])]
    assert layout["pageErrors"] == [] and console == [] and layout["external"] == []
