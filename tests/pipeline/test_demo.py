"""The main job end to end: `vigil demo` on a simulated tenant, and the Python API over its store."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import vigil


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    cwd = tmp_path_factory.mktemp("demo")
    proc = subprocess.run([sys.executable, "-m", "vigil", "demo", "--no-serve", "--json"], cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return cwd, json.loads(proc.stdout)


def test_demo_runs_the_whole_pipeline(demo_run: tuple[Path, dict]) -> None:
    cwd, out = demo_run
    assert (cwd / "vigil.duckdb").exists() and (cwd / "demo" / "vigil.yaml").exists()
    for r in out["ingest"]:
        assert r["error"] is None and r["quarantined"] == 0 and r["read"] == r["stored"] + r["duplicate"]
    assert list(out["stages"]) == ["identity", "enrich", "sessions", "ueba", "detections", "risk", "incidents", "cae"]
    s = out["summary"]
    assert s["signins"] > 1000 and s["activities"] > 1000 and s["sessions"] > 0
    # the seed case: corporate VPN failover is an egress change, and no incident is raised for it
    assert s["travel_verdicts"].get("egress_change", 0) > 0
    assert "0 incidents on VPN egress failovers" in out["evaluation"]
    # every labelled campaign type raises an incident (the demo's coverage line)
    assert "100% of 15 labelled campaigns covered" in out["evaluation"] and "missed" not in out["evaluation"]
    assert s["incident_count"] > 0 and s["session_hijacks"] > 0


def test_demo_is_idempotent(demo_run: tuple[Path, dict]) -> None:
    cwd, first = demo_run
    proc = subprocess.run([sys.executable, "-m", "vigil", "demo", "--no-serve", "--json"], cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    again = json.loads(proc.stdout)
    assert all(r["stored"] == 0 for r in again["ingest"])  # same seed, same records: all duplicates
    assert again["summary"]["signins"] == first["summary"]["signins"]
    assert again["summary"]["incident_count"] == first["summary"]["incident_count"]


def test_python_api_over_the_demo_store(demo_run: tuple[Path, dict]) -> None:
    cwd, out = demo_run
    store = vigil.open_store(cwd / "vigil.duckdb", read_only=True)
    try:
        verdicts = vigil.sql(store, "select verdict, count(*) n from travel group by 1").to_pylist()
        assert {v["verdict"]: v["n"] for v in verdicts} == out["summary"]["travel_verdicts"]
        by_country = vigil.kql(store, "SigninLogs | summarize n = count() by Location")
        assert by_country.num_rows > 1 and set(by_country.column_names) == {"Location", "n"}
        assert vigil.table(store, "incidents").num_rows == out["summary"]["incident_count"]
    finally:
        store.close()
