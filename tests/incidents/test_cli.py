"""The commands end to end on a small store: detections list, risk, incidents, incident, evaluate."""
from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from tests.detections.upstream import create_upstream
from tests.risk.helpers import add_detections, detection
from vigil.cli import app
from vigil.detections import registry
from vigil.store import open_store

runner = CliRunner()


def _run(*args: str) -> object:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout) if "--json" in args else result.stdout


def test_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "v.duckdb")
    cat = _run("detections", "list", "--json")
    assert {d["id"] for d in cat} == {d.id for d in registry.all_detections()}  # type: ignore[union-attr]
    with open_store(db) as store:
        create_upstream(store)
        add_detections(store, [detection(riskEventType="attackerinTheMiddle", riskLevel="high", event_id="e1")])
    out = _run("detections", "run", "--db", db, "--json")  # replaces the hand-made row: no events to detect
    assert out["riskDetections"] == 0  # type: ignore[index]
    with open_store(db) as store:
        add_detections(store, [detection(riskEventType="attackerinTheMiddle", riskLevel="high", event_id="e1")])
    from vigil.pipeline import run_stages
    from vigil.settings import load_settings

    with open_store(db) as store:
        run_stages(store, load_settings(overrides={"store.path": db}, environ={}), only=["risk", "incidents"])
    users = _run("risk", "users", "--db", db, "--json")
    assert users[0]["riskLevel"] == "high"  # type: ignore[index]
    _run("risk", "dismiss", "ada@contoso.com", "--by", "ann", "--db", db, "--json")
    assert _run("risk", "users", "--db", db, "--json") == []
    incs = _run("incidents", "--db", db, "--json")
    inc_id = incs[0]["incident_id"]  # type: ignore[index]
    _run("incident", "set-status", inc_id, "active", "--by", "ann", "--db", db)
    _run("incident", "comment", inc_id, "looking", "--by", "ann", "--db", db)
    shown = _run("incident", "show", inc_id, "--db", db, "--json")
    assert [c["text"] for c in shown["comments"]] == ["status -> active", "looking"]  # type: ignore[index]
    assert "Recommended action" in str(_run("incident", "show", inc_id, "--db", db))
    lines = _run("incidents", "export", "--jsonl", "--db", db)
    assert orjson.loads(str(lines).splitlines()[0])["incident_id"] == inc_id
    bad = runner.invoke(app, ["incident", "set-status", inc_id, "done", "--db", db])
    assert bad.exit_code != 0
