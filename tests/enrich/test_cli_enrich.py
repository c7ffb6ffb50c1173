"""vigil geo / feeds / egress commands (JSON output)."""
from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from tests.builders import insert, row
from tests.conftest import FIXTURES
from tests.enrich.geoenv import geo_settings
from vigil.cli import app
from vigil.store import open_store

runner = CliRunner()


def _config(tmp: Path) -> str:
    s = geo_settings(tmp)
    cfg = tmp / "vigil.yaml"
    cfg.write_text(orjson.dumps({"store": {"path": s.store.path}, "enrich": {
        "mmdb_path": s.enrich.mmdb_path, "feeds_dir": s.enrich.feeds_dir, "data_dir": s.enrich.data_dir,
        "learn_min_users_prefix": 2}}).decode())
    return str(cfg)


def test_geo_lookup_json(tmp_path: Path) -> None:
    res = runner.invoke(app, ["geo", "lookup", "185.220.101.7", "--config", _config(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    out = orjson.loads(res.output)
    assert out["location"]["geo_city"] == "Berlin" and out["asn"] == 60729
    assert out["feed_matches"] == [{"kind": "tor", "label": "Tor exit", "feed": "tor-exits.txt"}]


def test_feeds_update_rejects_bad_folder(tmp_path: Path) -> None:
    res = runner.invoke(app, ["feeds", "update", "--from", str(FIXTURES / "enrich" / "bad-feeds"),
                              "--config", _config(tmp_path), "--json"])
    assert res.exit_code != 0 and "line 2" in str(res.exception)


def test_enrich_then_egress_accept_and_list(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    store = open_store(str(tmp_path / "vigil.duckdb"))
    insert(store, "signins", [row("signins", user_principal_name=f"u{i}@x.com", ip=f"212.39.70.{70 + i}",
                                  result="success", mfa_satisfied=True, device_managed=True) for i in range(2)])
    store.close()
    assert runner.invoke(app, ["enrich", "--config", cfg, "--json"]).exit_code == 0
    res = runner.invoke(app, ["egress", "accept", "cidr", "212.39.70.0/24", "--name", "Sofia VPN",
                              "--config", cfg, "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["egress", "list", "--config", cfg, "--json"])
    points = orjson.loads(res.output)
    assert [(p["value"], p["status"], p["name"]) for p in points] == [("212.39.70.0/24", "accepted", "Sofia VPN")]
