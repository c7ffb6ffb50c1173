"""contrib/systemd/vigil.service: systemd accepts it, and it keeps its hardening."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from vigil.settings import load_settings

UNIT = REPO / "contrib" / "systemd" / "vigil.service"


def _directives() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_the_unit_is_hardened() -> None:
    d = _directives()
    assert d["User"] == ["vigil"] and d["NoNewPrivileges"] == ["yes"] and d["ProtectSystem"] == ["strict"]
    assert d["ReadWritePaths"] == ["/var/lib/vigil"] and d["StateDirectory"] == ["vigil"]
    assert d["CapabilityBoundingSet"] == [""] and d["ProtectHome"] == ["yes"] and d["PrivateTmp"] == ["yes"]
    assert d["KillSignal"] == ["SIGTERM"]


def test_the_sample_settings_load_and_stay_in_the_state_folder() -> None:
    path = UNIT.with_name("vigil.yaml")
    settings = load_settings(path, environ={})
    for value in (settings.store.path, settings.service.backup_dir, settings.enrich.data_dir):
        assert str(value).startswith("/var/lib/vigil/")
    assert yaml.safe_load(path.read_text())["service"]["log_format"] == "json"


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    unit = tmp_path / "vigil.service"  # pointed at this interpreter's vigil, which exists here
    unit.write_text(UNIT.read_text().replace("/opt/vigil/bin/vigil", str(Path(sys.executable).parent / "vigil")))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    problems = [line for line in done.stderr.splitlines() if "vigil.service" in line]
    assert problems == [], problems
