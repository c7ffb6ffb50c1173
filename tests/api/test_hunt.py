"""POST /api/v1/hunt and the UI's hunt form against a real `vigil serve` child process: every attack of issue 12
refused with a 4xx and the store unchanged; the time limit, the per-token cap and cancellation on disconnect."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import REPO
from tests.hunt.attacks import FORGED, attack_template, fingerprint_of, kql_attacks, make_stores  # noqa: F401
from vigil.web.app import create_app
from vigil.api.launch import free_port, stop, wait_until_serving
from vigil.settings import load_settings

#: a KQL hunt that runs for minutes (a 4·10^10-row join) unless interrupted
LONG_KQL = ("range x from 1 to 200000 step 1 | extend k = 1 "
            "| join kind=inner (range y from 1 to 200000 step 1 | extend k = 1) on k | count")


@contextmanager
def serving(tmp: Path, store: Path, hunt: str) -> Iterator[dict[str, Any]]:
    """`vigil serve` on a free loopback port over ``store`` with the given ``hunt:`` settings."""
    config = tmp / "vigil.yaml"
    config.write_text(f"store:\n  path: {store}\nhunt:\n{hunt}", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    port = free_port()
    log_path = tmp / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "vigil", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--config", str(config)], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, log_path.read_text)
        yield {"url": url, "log": log_path, "proc": proc}
    finally:
        stop(proc, timeout_s=20)


def _hunt(url: str, token: str, query: str, timeout: float = 120) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/hunt", json={"query": query}, timeout=timeout,
                      headers={"Authorization": f"Bearer {token}"})


def _ui(url: str, token: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=120)
    pre = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text)
    assert pre is not None
    assert client.post("/signin", data={"token": token, "csrf_token": pre.group(1)}).status_code in (200, 303)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/hunt").text)
    assert csrf is not None
    return client, csrf.group(1)


def test_every_attack_is_refused_by_a_running_service_and_the_store_is_unchanged(
        tmp_path: Path, attack_template: tuple[Path, Path, str]) -> None:  # noqa: F811
    path, other, reader = make_stores(tmp_path, attack_template)
    before = fingerprint_of(path)
    attacks = kql_attacks(tmp_path, other)
    with serving(tmp_path, path, "  timeout_s: 30\n") as srv:
        url = srv["url"]
        assert _hunt(url, reader, "incidents | count").json()["rows"] == [[2]]
        for attack in attacks:
            r = _hunt(url, reader, attack.text)
            assert r.status_code == 400, (attack.name, r.status_code, r.text)
            assert "read-only" in r.json()["detail"] or "cannot read" in r.json()["detail"], r.text
        ui, csrf = _ui(url, reader)
        try:
            for attack in attacks:
                page = ui.post("/hunt", data={"query": attack.text, "now": "", "csrf_token": csrf})
                assert page.status_code == 400, (attack.name, page.status_code)
                assert 'id="hunt-error"' in page.text, page.text
                assert "read-only" in page.text or "cannot read" in page.text
                assert ui.post("/hunt.csv", data={"query": attack.text, "now": "", "csrf_token": csrf}
                               ).status_code == 400
        finally:
            ui.close()
        # the forged admin token of the escalation never works, before or after a write of the service
        assert httpx.get(f"{url}/api/v1/incidents", headers={"Authorization": f"Bearer {FORGED}"}).status_code == 401
        assert _hunt(url, reader, "incidents | count").json()["rows"] == [[2]]
    assert fingerprint_of(path) == before
    assert not any(p.exists() for a in attacks for p in a.creates)


def test_the_time_limit_interrupts_a_hunt(tmp_path: Path, attack_template: tuple[Path, Path, str]  # noqa: F811
                                         ) -> None:
    path, _, reader = make_stores(tmp_path, attack_template)
    app = create_app(load_settings(overrides={"store.path": str(path), "hunt.timeout_s": 1}, environ={}),
                     host="127.0.0.1")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        r = client.post("/api/v1/hunt", json={"query": LONG_KQL}, headers={"Authorization": f"Bearer {reader}"})
        assert r.status_code == 400 and "longer than the 1 s limit (hunt.timeout_s)" in r.json()["detail"]
        r = client.post("/api/v1/hunt", json={"query": "incidents | count"},
                        headers={"Authorization": f"Bearer {reader}"})
        assert r.json()["rows"] == [[2]]


def test_per_token_cap_and_cancellation_on_disconnect(tmp_path: Path, attack_template: tuple[Path, Path, str]  # noqa: F811
                                                      ) -> None:
    path, _, reader = make_stores(tmp_path, attack_template)
    with serving(tmp_path, path, "  timeout_s: 600\n  max_concurrent_per_token: 1\n") as srv:
        url = srv["url"]
        # one long hunt whose client gives up after 15 s; while it runs, the same token's next hunt gets 429
        gave_up: list[bool] = []

        def first() -> None:
            try:
                while _hunt(url, reader, LONG_KQL, timeout=15).status_code == 429:  # a probe below held the slot
                    time.sleep(0.2)
            except httpx.TimeoutException:
                gave_up.append(True)

        running = threading.Thread(target=first)
        running.start()
        while True:
            second = _hunt(url, reader, "incidents | count")
            if second.status_code == 429 or not running.is_alive():
                break
            time.sleep(0.05)
        assert second.status_code == 429, second.text
        assert int(second.headers["Retry-After"]) >= 1 and "max_concurrent_per_token = 1" in second.json()["detail"]
        running.join()
        assert gave_up == [True]
        # the client went away: the hunt is interrupted then, not after its 600 s limit, and its slot freed
        deadline = time.monotonic() + 120
        while "cancelled" not in srv["log"].read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = srv["log"].read_text()
        assert "hunt by token 'reader' cancelled" in log and "the client disconnected" in log, log
        assert _hunt(url, reader, "incidents | count").status_code == 200
