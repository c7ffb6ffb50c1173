from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from vigil.cli import app


def test_simulate_command_writes_files_and_json_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--users", "8", "--days", "2",
                                      "--seed", "4", "--rate", "vpn_failover=1", "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.output)
    assert data["users"] >= 8 and data["days"] == 2 and data["rates"]["vpn_failover"] == 1.0
    assert (tmp_path / "SigninLogs.json").stat().st_size > 0
    assert data["files"]["SigninLogs.json"] > 0


def test_simulate_rejects_bad_rate(tmp_path: Path) -> None:
    from vigil.errors import InputError

    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--rate", "bogus=1"])
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
