from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from tests.builders import insert, row
from vigil.cli import app
from vigil.store import open_store


def _store(tmp_path: Path) -> str:
    db = str(tmp_path / "v.duckdb")
    store = open_store(db)
    insert(store, "signins", [row("signins", user_principal_name=u, country=c, result="success", ip="10.0.0.1")
                              for u, c in (("a@x.com", "FR"), ("b@x.com", "DE"), ("a@x.com", "FR"))])
    store.close()
    return db


def test_hunt_formats(tmp_path: Path) -> None:
    db = _store(tmp_path)
    q = "SigninLogs | summarize n = count() by UserPrincipalName | order by UserPrincipalName asc"
    res = CliRunner().invoke(app, ["hunt", q, "--db", db, "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == [{"UserPrincipalName": "a@x.com", "n": 2}, {"UserPrincipalName": "b@x.com", "n": 1}]
    res = CliRunner().invoke(app, ["hunt", q, "--db", db, "--format", "csv"])
    assert list(csv.reader(io.StringIO(res.output))) == [["UserPrincipalName", "n"], ["a@x.com", "2"], ["b@x.com", "1"]]
    res = CliRunner().invoke(app, ["hunt", q, "--db", db])
    assert res.exit_code == 0 and "a@x.com" in res.output
    f = tmp_path / "q.kql"
    f.write_text("SigninLogs | where ipv4_is_private(IPAddress) | count")
    res = CliRunner().invoke(app, ["hunt", "--file", str(f), "--db", db, "--json"])
    assert json.loads(res.output) == [{"Count": 3}]


def test_hunt_errors_exit_with_query_error_code(tmp_path: Path) -> None:
    db = _store(tmp_path)
    res = CliRunner().invoke(app, ["hunt", "SigninLogs | evaluate pivot(AppDisplayName)", "--db", db])
    assert res.exit_code != 0
    assert "unsupported KQL construct" in str(res.exception) or "unsupported KQL construct" in res.output
    res = CliRunner().invoke(app, ["hunt", "SigninLogs", "--db", db, "--format", "xml"])
    assert res.exit_code != 0


def test_explain_prints_sql() -> None:
    res = CliRunner().invoke(app, ["hunt", "--explain", "SigninLogs | take 1"])
    assert res.exit_code == 0 and "SELECT" in res.output
