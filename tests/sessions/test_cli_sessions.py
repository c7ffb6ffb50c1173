"""vigil sessions / session show / travel / hijacks (JSON output)."""
from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tests.sessions import seed
from tests.sessions.helpers import analyze
from vigil.cli import app

runner = CliRunner()


def test_commands_over_the_seed_case(tmp_path: Path) -> None:
    analyze(tmp_path, seed.hijacked(), named_locations=str(FIXTURES / "enrich" / "named-locations.json")).close()
    db = str(tmp_path / "vigil.duckdb")

    def run(*args: str) -> object:
        res = runner.invoke(app, [*args, "--db", db, "--json"])
        assert res.exit_code == 0, res.output
        return orjson.loads(res.output)

    sessions = run("sessions", "--user", seed.USER)
    assert [s["session_key"] for s in sessions] == [f"s:{seed.SESSION}"]  # type: ignore[index]
    shown = run("session", "show", seed.SESSION)
    assert len(shown["events"]) == 3 and shown["hijacks"]  # type: ignore[index]
    impossible = run("travel", "--verdict", "impossible")
    assert [t["to_country"] for t in impossible] == ["US"]  # type: ignore[union-attr, index]
    assert {h["kind"] for h in run("hijacks")} == {"token_replay", "concurrent_use"}  # type: ignore[union-attr, index]
    res = runner.invoke(app, ["travel", "--verdict", "nope", "--db", db])
    assert res.exit_code != 0
