"""The store's DuckDB connection: nothing DuckDB draws may reach stdout (it would break --json)."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

# progress_bar_time = 0 makes DuckDB draw its bar at once, as a query slower than 2 s would
_QUERY = ("con.execute('SET progress_bar_time = 0'); "
          "con.execute('select count(*) from range(5000000) t(i) where i % 7 = 3').fetchall()")


def _stdout(open_con: str) -> str:
    code = f"import duckdb\nfrom vigil.store import open_store\ncon = {open_con}\n{_QUERY}"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO / "src"), "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_no_progress_bar_on_stdout() -> None:
    assert "%" in _stdout("duckdb.connect()")  # DuckDB alone draws it here
    assert _stdout("open_store(':memory:').con") == ""
