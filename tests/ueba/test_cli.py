from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tests.ueba import tenant
from vigil.cli import app
from vigil.store import open_store


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_directory_ingest_show_ueba_run_top_peers(tmp_path: Path) -> None:
    db = str(tmp_path / "v.duckdb")
    csv = tmp_path / "dir.csv"
    csv.write_text(tenant.directory_csv())
    code, out = _invoke("directory", "ingest", str(csv), str(FIXTURES / "ueba" / "plain_directory.csv"),
                        "--db", db, "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["identities"] == 32 and summary["quarantined"] == 2
    assert [f["format"] for f in summary["files"]] == ["directory_csv", "directory_csv"]
    code, out = _invoke("directory", "show", "victim@contoso.com", "--db", db, "--json")
    assert code == 0 and json.loads(out)[0]["BlastRadius"] == "High"
    store = open_store(db)
    tenant.build(store, days=9)
    store.close()
    code, out = _invoke("ueba", "run", "--db", db, "--json")
    assert code == 0, out
    assert json.loads(out)["behavior_mode"] == "full"
    code, out = _invoke("ueba", "top", "--min", "7", "--db", db, "--json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["InvestigationPriority"] == 8
    assert rows[0]["InvestigationPriorityReason"].startswith("8: first time from country")
    code, out = _invoke("ueba", "peers", "victim@contoso.com", "--db", db, "--json")
    assert code == 0 and json.loads(out)[0]["PeerUserPrincipalName"] == "sales1@contoso.com"
    code, out = _invoke("ueba", "peers", "nobody@x.com", "--db", db)
    assert code != 0


def test_directory_ingest_unreadable_only_file_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    code, out = _invoke("directory", "ingest", str(bad), "--db", str(tmp_path / "v.duckdb"), "--json")
    assert code != 0
