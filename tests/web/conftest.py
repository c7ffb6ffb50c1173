"""A simulated tenant, analysed, served by a real `vigil serve` process on 127.0.0.1.

The tenant comes from the simulator (``vigil.simulate.simulate_tenant``), is ingested with
the sources' ``ingest_paths`` and analysed with the pipeline's stages, exactly as the CLI does.
Browser tests need Debian's Chromium (scripts/install-browser.sh) and the npm packages
(scripts/build-web.sh); without them they skip, saying which is missing.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from vigil.api.launch import free_port, stop, wait_until_serving
from vigil.web import STATIC_DIR

CHROMIUM = Path(os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium"))
VIGIL = Path(sys.executable).parent / "vigil"
SCREENSHOTS = REPO / "test-output" / "screenshots"
#: the simulated tenant: small, but past the UEBA learning period so insights exist
SIM = {"users": 20, "days": 6, "seed": 7}


def _need_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing: run scripts/install-browser.sh")
    if shutil.which("node") is None:
        pytest.skip("node missing: install nodejs")
    if not (REPO / "node_modules" / "playwright-core").exists():
        pytest.skip("node_modules/playwright-core missing: run scripts/build-web.sh")
    if not (STATIC_DIR / "vendor" / "leaflet" / "leaflet.js").exists():
        pytest.skip("web vendor assets missing: run scripts/build-web.sh")


@pytest.fixture(scope="session")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Simulate, ingest and analyse a tenant; returns paths and the config file."""
    _need_browser()
    from vigil.pipeline import run_stages
    from vigil.settings import load_settings
    from vigil.simulate import simulate_tenant
    from vigil.sources.ingest import ingest_paths
    from vigil.store import open_store

    root = tmp_path_factory.mktemp("tenant")
    sim = root / "sim"
    simulate_tenant(sim, **SIM)
    config = root / "vigil.yaml"
    config.write_text(
        f"store:\n  path: {root / 'vigil.duckdb'}\n"
        f"enrich:\n  named_locations: {sim / 'namedLocations.json'}\n"
        f"policy:\n  policies: {sim / 'conditionalAccessPolicies.json'}\n"
        "ueba:\n  learning_days: 2\n", encoding="utf-8")
    settings = load_settings(config, environ={})
    logs = [sim / n for n in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "AuditLogs.json",
                              "OfficeActivity_ManagementAPI.json")]
    with open_store(settings.store.path) as store:
        results = ingest_paths(store, list(logs), settings)
        assert all(r.error is None and r.stored > 0 for r in results), [r.as_dict() for r in results]
        run_stages(store, settings)
        expected = _expectations(store)
        expected["watchlists"] = _watchlists(store)
    scenarios = [json.loads(line) for line in (sim / "scenarios.jsonl").read_text().splitlines()]
    seed = next(s for s in scenarios if s["scenario"] == "vpn_egress_failover")
    return {"root": root, "sim": sim, "config": config, "db": settings.store.path, "settings": settings,
            "seed": seed, "expected": expected}


def _watchlists(store: Any) -> dict[str, int]:
    """The example watchlists (docs/examples/watchlists), imported as `vigil watchlist import` does: alias -> rows."""
    from vigil.hunt.watchlist import import_csv

    return {csv.stem: import_csv(store, csv.stem, csv.read_text(encoding="utf-8"), source=csv.name).item_count
            for csv in sorted((REPO / "docs" / "examples" / "watchlists").glob("*.csv"))}


def _expectations(store: Any) -> dict[str, Any]:
    """What the UI must show, computed here with plain SQL (the server holds the file later)."""
    from vigil.hunt import run_hunt
    from vigil.web.routes import REFERENCE_HUNT

    con = store.con
    incidents = con.execute("select count(*) from incidents").fetchall()[0][0]
    # Every user incident's map, so the test holds whichever of the top-priority ones the UI ranks first.
    rows = con.execute("select incident_id, user_id, user_principal_name, first_activity - interval 12 hour, "
                       "last_activity + interval 12 hour, priority from incidents "
                       "where user_id is not null or user_principal_name is not null").fetchall()
    best = max(r[5] for r in rows)
    maps = {}
    for inc, uid, upn, start, end, _ in rows:
        points = con.execute(
            "select count(*) from signins_enriched where (user_id = ? or user_principal_name = ?) "
            "and event_time between ? and ? and geo_latitude is not null "
            "and geo_longitude is not null and not coalesce(location_is_stale, false)",
            [uid, upn, start, end]).fetchall()[0][0]
        lines = con.execute(
            "select verdict, count(*) from travel where (user_id = ? or user_principal_name = ?) "
            "and from_time >= ? and to_time <= ? and verdict <> 'same_location' "
            "and from_latitude is not null and to_latitude is not null group by verdict",
            [uid, upn, start, end]).fetchall()
        maps[inc] = {"points": points, "lines": dict(lines)}
    latest = con.execute("select max(event_time) from signins").fetchall()[0][0]
    hunt_rows = run_hunt(store, REFERENCE_HUNT, now=latest).num_rows
    policies = len(json.loads((Path(store.path).parent / "sim" / "conditionalAccessPolicies.json")
                              .read_text())["value"])
    signins = con.execute("select count(*) from signins").fetchall()[0][0]
    top = con.execute("select incident_id, user_id from incidents where campaign_key is null "
                      "order by priority desc, incident_id limit 1").fetchall()[0]
    campaign = con.execute(
        "select incident_id, json_array_length(accounts), (select count(distinct ipAddress) from \"riskDetections\" d "
        "where list_contains(json_extract_string(i.detection_ids, '$[*]'), d.id)) from incidents i "
        "where campaign_key is not null and json_array_length(accounts) > 1 "
        "order by json_array_length(accounts) desc, incident_id limit 1").fetchall()[0]
    return {"incidents": incidents, "signins": signins, "maps": maps, "top_user_incident": top,
            "campaign": {"id": campaign[0], "accounts": campaign[1], "ips": campaign[2]},
            "top": {r[0] for r in rows if r[5] == best}, "hunt_rows": hunt_rows, "policies": policies}


@pytest.fixture(scope="session")
def server(tenant: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`vigil token create` then `vigil serve` on a free loopback port; stopped at the end."""
    made = subprocess.run([str(VIGIL), "token", "create", "--name", "e2e-admin", "--role", "admin", "--json",
                           "--config", str(tenant["config"])], capture_output=True, text=True, check=True)
    token = json.loads(made.stdout)["token"]
    port = free_port()
    log_path = tenant["root"] / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(VIGIL), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--config", str(tenant["config"])], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, log_path.read_text)
        yield {"url": url, "token": token, "log": log_path, "proc": proc}
    finally:
        stop(proc)
