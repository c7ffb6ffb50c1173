from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from vigil.cli import app

runner = CliRunner()


def _run(*args: str) -> str:
    r = runner.invoke(app, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


def test_token_revoke_check_status_events(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "v.duckdb")]
    token = _run("cae", "token", "--user", "U-1", "--session", "s-1", *db).strip()
    claims = orjson.loads(_run("cae", "token", "--user", "u", "--no-cp1", "--json", *db))["claims"]
    assert claims["exp"] - claims["iat"] == 3600 and "xms_cc" not in claims
    assert orjson.loads(_run("cae", "check", token, "--json", *db))["allowed"] is True
    out = orjson.loads(_run("cae", "revoke", "--session", "S-1", "--reason", "stolen cookie", "--json", *db))
    assert out["recorded"] == 1 and out["revocation"]["scope"] == "session"
    verdict = orjson.loads(_run("cae", "check", token, "--json", *db))
    assert verdict["allowed"] is False and "stolen cookie" in verdict["reason"]
    assert "insufficient_claims" in verdict["www_authenticate"]
    rec = orjson.loads(_run("cae", "record", str(FIXTURES / "cae" / "events.json"), "--json", *db))
    assert rec == {"received": 3, "recorded": 3, "duplicates": 0, "sets_queued": 0}
    assert orjson.loads(_run("cae", "status", "--json", *db))["revocations"] == 4
    rows = orjson.loads(_run("cae", "events", "--subject", "adele@contoso.com", "--json", *db))
    assert [r["event_type"] for r in rows] == ["password_reset"]


def test_ssf_receivers_and_transmitters(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "v.duckdb")]
    s = orjson.loads(_run("ssf", "receivers", "add", "--push", "http://127.0.0.1:9/rx", "--event", "session-revoked",
                          "--json", *db))
    assert s["events_delivered"] == ["https://schemas.openid.net/secevent/caep/event-type/session-revoked"]
    _run("cae", "revoke", "--user", "u1", *db)
    listed = orjson.loads(_run("ssf", "receivers", "list", "--json", *db))
    assert listed[0]["outbox"]["pending"] == 1
    delivered = orjson.loads(_run("ssf", "deliver", "--json", *db))
    assert delivered["attempted"] == 1 and delivered["retrying"] == 1  # nothing listens on port 9
    jwks = tmp_path / "peer.json"
    jwks.write_text(_run("cae", "jwks", "--db", str(tmp_path / "peer.duckdb")))
    reg = orjson.loads(_run("ssf", "transmitters", "add", "--issuer", "https://peer", "--jwks", str(jwks),
                            "--audience", "urn:me", "--json", *db))
    assert reg["authorization_header"].startswith("Bearer ssfr_")
    assert orjson.loads(_run("ssf", "transmitters", "list", "--json", *db))[0]["issuer"] == "https://peer"
    _run("ssf", "transmitters", "remove", reg["transmitter_id"], *db)
    _run("ssf", "receivers", "remove", s["stream_id"], *db)
    bad = runner.invoke(app, ["ssf", "receivers", "remove", "nope", *db])
    assert bad.exit_code != 0
