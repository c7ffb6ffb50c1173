"""`vigil --version` and `vigil upgrade` as a user runs them (a child process)."""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES
from vigil.store.schema import SCHEMA_VERSION
from vigil.version import version

VIGIL = [sys.executable, "-m", "vigil"]


def test_version() -> None:
    done = subprocess.run([*VIGIL, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout == f"vigil {version()}\n"


def test_upgrade_migrates_the_previous_release_once(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with gzip.open(FIXTURES / "store" / "v1-store.duckdb.gz") as src, db.open("wb") as out:
        shutil.copyfileobj(src, out)
    refused = subprocess.run([*VIGIL, "incidents", "--db", str(db)], capture_output=True, text=True)
    assert refused.returncode == 6 and "vigil upgrade --db" in refused.stderr
    first = subprocess.run([*VIGIL, "upgrade", "--db", str(db), "--json"], capture_output=True, text=True, check=True)
    assert json.loads(first.stdout) == {"store": str(db), "from_schema": 1, "to_schema": SCHEMA_VERSION,
                                        "vigil": version()}
    again = subprocess.run([*VIGIL, "upgrade", "--db", str(db)], capture_output=True, text=True, check=True)
    assert "already at schema" in again.stdout
    assert subprocess.run([*VIGIL, "incidents", "--db", str(db)], capture_output=True).returncode == 0
