"""`vigil serve --log-format json`: every log line of the service is one JSON object."""
from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from vigil.api.launch import free_port, wait_until_serving
from vigil.api.logs import JsonFormatter


def _record(name: str, msg: str, args: tuple[object, ...]) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)


def test_access_lines_are_fields_without_the_query() -> None:
    line = JsonFormatter().format(_record("uvicorn.access", '%s - "%s %s HTTP/%s" %d',
                                          ("127.0.0.1:5", "GET", "/api/v1/signins?user=alice", "1.1", 200)))
    obj = json.loads(line)
    assert obj["path"] == "/api/v1/signins" and obj["status"] == 200 and obj["method"] == "GET"
    assert "alice" not in line and obj["level"] == "info" and obj["logger"] == "uvicorn.access"


def test_exceptions_stay_on_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.LogRecord("vigil.api", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info())
    line = JsonFormatter().format(rec)
    assert "\n" not in line and json.loads(line)["exception"].endswith("ValueError: boom")


def test_serve_logs_json_lines_and_shuts_down_cleanly(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "vigil", "serve", "--db", str(tmp_path / "v.duckdb"), "--port",
                             str(port), "--log-format", "json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, lambda: "")
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    lines = [json.loads(line) for line in err.splitlines()]  # each line parses, or this fails
    assert any(x.get("path") == "/readyz" and x["status"] == 200 for x in lines)
    assert any(x["message"] == "Application shutdown complete." for x in lines)
