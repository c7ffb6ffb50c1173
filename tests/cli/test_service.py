"""The CLI beside a running `vigil serve`: every writing command works with and without the service,
the state file is private and detected stale after a crash, and live connectors survive kill -9
with every record stored exactly once."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.conftest import FIXTURES, REPO
from tests.connectors.conftest import SECRETS
from tests.connectors.fakes import FakeServer, okta_event, seed, signin
from vigil.api.launch import free_port, wait_until_serving
from vigil.cli._service import read_state, state_path

ENV = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}", "COLUMNS": "200", **SECRETS}
ENV.pop("VIGIL_DB", None)
ENV.pop("VIGIL_CONFIG", None)


def vigil(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "vigil", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"vigil {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


class Service:
    def __init__(self, folder: Path, config: Path) -> None:
        self.folder, self.config = folder, config
        self.port = free_port()
        self.log = folder / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "vigil", "serve", "--config", str(self.config), "--port", str(self.port)],
                cwd=self.folder, env=ENV, stdout=out, stderr=subprocess.STDOUT)
        wait_until_serving(f"http://127.0.0.1:{self.port}", self.proc, lambda: self.log.read_text())
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Service] = []

    def make(config: Path) -> Service:
        s = Service(tmp_path, config)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop(signal.SIGKILL)


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    cfg = tmp_path / "vigil.yaml"
    cfg.write_text(yaml.safe_dump(data), encoding="utf-8")
    return cfg


WRITES = [
    ("ingest", ["ingest", str(FIXTURES / "sources/okta/system_log_page.json")]),
    ("directory", ["directory", "ingest", str(FIXTURES / "ueba/graph_users_expand.json")]),
    ("policy load", ["policy", "load", "--policies", str(FIXTURES / "policy/policies.json"),
                     "--locations", str(FIXTURES / "policy/namedLocations.json")]),
    ("egress accept", ["egress", "accept", "cidr", "198.51.100.0/24", "--name", "branch office"]),
    ("risk dismiss", ["risk", "dismiss", "alice.smith@contoso.com", "--by", "tester", "--reason", "test"]),
    ("token create", ["token", "create", "--name", "t-cli", "--role", "reader", "--json"]),
    ("cae revoke", ["cae", "revoke", "--user", "alice.smith@contoso.com", "--reason", "test"]),
]
EFFECTS = {
    "ingest": "select count(*) from ingest_runs",
    "directory": "select count(*) from IdentityInfo",
    "policy load": "select count(*) from ca_policies",
    "egress accept": "select count(*) from egress_decisions where status = 'accepted'",
    "risk dismiss": "select count(*) from riskActions",
}


def _tokens(cwd: Path, *args: str) -> list[dict[str, Any]]:
    # hunting refuses api_tokens (credential hashes): tokens are read the way an operator reads them
    rows: list[dict[str, Any]] = orjson.loads(vigil("token", "list", "--json", *args, cwd=cwd).stdout)
    return rows


def _effects(cwd: Path) -> dict[str, Any]:
    out = {}
    for name, sql in EFFECTS.items():
        out[name] = orjson.loads(vigil("query", sql, "--json", cwd=cwd).stdout)[0]
    out["token create"] = sum(1 for t in _tokens(cwd) if t["name"] == "t-cli")
    return out


def _run_writes(cwd: Path) -> dict[str, tuple[int, str]]:
    results = {}
    for name, args in WRITES:
        p = vigil(*args, cwd=cwd, check=False)
        assert p.returncode == 0, f"{name}: {p.stdout}\n{p.stderr}"
        results[name] = (p.returncode, p.stdout)
    return results


@pytest.mark.slow
def test_every_writing_command_with_and_without_a_running_service(tmp_path: Path, service_factory: Any) -> None:
    results = {}
    for mode in ("local", "service"):
        folder = tmp_path / mode
        folder.mkdir()
        cfg = write_config(folder, {"store": {"path": str(folder / "vigil.duckdb")}})
        vigil("ingest", str(FIXTURES / "sources/entra/SigninLogs.ndjson"), "--config", str(cfg), cwd=folder)
        (folder / "vigil.yaml").write_text(cfg.read_text())  # ./vigil.yaml: commands find the store without flags
        svc = service_factory(cfg).start() if mode == "service" else None
        if svc is not None:
            assert state_path(folder / "vigil.duckdb").exists()
        results[mode] = (_run_writes(folder), _effects(folder))
        if svc is not None:
            # the service really did the writes: its log shows the forwarded requests
            assert svc.log.read_text().count("POST /api/v1/cli") >= len(WRITES)
            svc.stop()
            assert not state_path(folder / "vigil.duckdb").exists()
    local, served = results["local"], results["service"]
    assert served[1] == local[1]
    assert all(v != {"count_star()": 0} for v in served[1].values()), served[1]
    for name, _ in WRITES:
        if name != "token create":  # the token differs, by design
            assert _masked(served[0][name][1]) == _masked(local[0][name][1]), name


def _masked(text: str) -> list[str]:
    """Output words with times, dates, durations, ids and the run's folder masked (they differ between the
    runs; counts stay compared)."""
    import re

    text = re.sub(r"\d{4}-\d{2}-\d{2}[ T]?|\d{2}:\d{2}:\d{2}(\.\d+)?|[0-9a-f]{8,}|/tmp/\S+|\b\d+\.\d+\b", "#", text)
    if "MB/s" in text:  # ingest's last column is a rate: a whole 0.0 MB/s prints as "0", which the float mask misses
        text = re.sub(r"\b\d+(?=\s+│\s*$)", "#", text, flags=re.M)
    return text.split()


def test_state_file_is_private_and_stale_after_a_crash(tmp_path: Path, service_factory: Any) -> None:
    cfg = write_config(tmp_path, {"store": {"path": str(tmp_path / "vigil.duckdb")}})
    svc = service_factory(cfg).start()
    path = state_path(tmp_path / "vigil.duckdb")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = read_state(path)
    assert info is not None and info["pid"] == svc.proc.pid and info["url"].endswith(str(svc.port))
    # while it runs, the store is the service's: a direct open would fail, the CLI is handed over
    p = vigil("status", "--config", str(cfg), "--json", cwd=tmp_path)
    assert orjson.loads(p.stdout)["tables"]["api_tokens"] == 1  # the local credential (no terminal: no initial admin)
    svc.stop(signal.SIGKILL)
    p = vigil("status", "--config", str(cfg), "--json", cwd=tmp_path)
    assert "stale" in p.stderr and not path.exists()
    # a restarted service writes a new file; a clean stop removes it and revokes its credential
    svc2 = service_factory(cfg).start()
    token = read_state(path)["token"]
    svc2.stop()
    assert not path.exists()
    rows = [t for t in _tokens(tmp_path, "--config", str(cfg)) if t["name"].startswith("local-cli-")]
    assert len(rows) == 2 and all(r["revoked_at"] for r in rows)
    assert token not in (tmp_path / "vigil.duckdb").read_bytes().decode("latin-1")


def _count(cfg: Path, cwd: Path, sql: str) -> int:
    p = vigil("query", sql, "--json", "--config", str(cfg), cwd=cwd, check=False)
    if p.returncode != 0:
        return -1
    return int(next(iter(orjson.loads(p.stdout)[0].values())))


@pytest.mark.slow
def test_kill_9_mid_poll_then_restart_stores_every_record_once(tmp_path: Path, service_factory: Any) -> None:
    with FakeServer(tmp_path) as fake:
        seed(fake.tenant, 1500)
        fake.tenant.delay_s = 0.15  # slow pages, so the kill lands in the middle of a poll
        data = fake.settings(tmp_path / "vigil.duckdb", graph={"streams": ["signins"], "page_size": 100,
                                                               "enabled": True, "interval_s": 1},
                             okta={"limit": 100, "enabled": True, "interval_s": 1})
        data["connectors"]["analyze_after_batch"] = False
        cfg = write_config(tmp_path, data)
        svc = service_factory(cfg).start()
        deadline = time.monotonic() + 120
        while _count(cfg, tmp_path, "select count(*) from signins") < 400:
            assert time.monotonic() < deadline, svc.log.read_text()[-3000:]
            time.sleep(0.3)
        svc.stop(signal.SIGKILL)
        midway = _count(cfg, tmp_path, "select count(*) from signins")
        assert 0 < midway < 3000
        # new records arrive while it is down
        now = __import__("datetime").datetime.utcnow()
        fake.tenant.signins += [signin(9000 + i, now) for i in range(5)]
        fake.tenant.okta += [okta_event(9000 + i, now) for i in range(5)]
        fake.tenant.delay_s = 0.0
        service_factory(cfg).start()
        deadline = time.monotonic() + 180
        while _count(cfg, tmp_path, "select count(*) from signins") < 3010:
            assert time.monotonic() < deadline, "records missing after the restart"
            time.sleep(0.5)
        time.sleep(2)  # one more poll: nothing may arrive twice
        rows = orjson.loads(vigil("query", "select source_format, count(*) n, count(distinct source_record_id) d "
                                  "from signins group by 1 order by 1", "--json", "--config", str(cfg),
                                  cwd=tmp_path).stdout)
        assert rows == [{"source_format": "entra_signin_graph", "n": 1505, "d": 1505},
                        {"source_format": "okta_system", "n": 1505, "d": 1505}]
        status = orjson.loads(vigil("connect", "all", "status", "--json", "--config", str(cfg), cwd=tmp_path).stdout)
        assert {(r["connector"], r["stream"]) for r in status} == {("graph", "signins"), ("okta", "logs")}
        assert all(r["last_error"] is None for r in status)
