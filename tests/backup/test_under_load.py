"""`vigil backup` against a real `vigil serve` while uploads are ingested and CAE events posted; the
restore into a new folder has the snapshot's rows (a consistent cut: no half batch), the same
revocations enforced and the same SET signatures verifying."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from vigil.api.launch import free_port, wait_until_serving
from vigil.cae.service import CaeService
from vigil.settings import load_settings
from vigil.simulate import simulate_tenant

pytestmark = pytest.mark.slow
VIGIL = [sys.executable, "-m", "vigil"]
LOGS = ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "OfficeActivity_ManagementAPI.json")


def _chunks(sim: Path, out: Path, lines_per_chunk: int = 400) -> list[Path]:
    """The tenant's logs cut into many small uploads (NDJSON lines), interleaved across formats."""
    out.mkdir()
    per_log = []
    for name in LOGS:
        lines = (sim / name).read_text(encoding="utf-8").splitlines(keepends=True)
        parts = []
        for i in range(0, len(lines), lines_per_chunk):
            p = out / f"{i // lines_per_chunk:03d}-{name}"
            p.write_text("".join(lines[i:i + lines_per_chunk]), encoding="utf-8")
            parts.append(p)
        per_log.append(parts)
    return [p for group in zip(*per_log, strict=False) for p in group] + \
        [p for parts in per_log for p in parts[min(map(len, per_log)):]]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("load")
    simulate_tenant(root / "sim", users=20, days=4, seed=5)
    chunks = _chunks(root / "sim", root / "chunks")
    config = root / "vigil.yaml"
    port = free_port()  # in the settings: `vigil backup` finds the service there
    config.write_text(f"store:\n  path: {root / 'live' / 'vigil.duckdb'}\n"
                      f"service:\n  port: {port}\n  backup_dir: {root / 'backups'}\n", encoding="utf-8")
    (root / "live").mkdir()
    (root / "backups").mkdir()
    made = subprocess.run([*VIGIL, "token", "create", "--name", "ops", "--role", "admin", "--json",
                           "--config", str(config)], capture_output=True, text=True, check=True)
    token = json.loads(made.stdout)["token"]
    log = root / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([*VIGIL, "serve", "--config", str(config)], stdout=fh,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, log.read_text)
        yield {"root": root, "config": config, "url": url, "token": token, "chunks": chunks, "proc": proc,
               "log": log}
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)


def test_backup_under_load_restores_consistently(deployment: dict[str, Any]) -> None:
    d = deployment
    auth = {"Authorization": f"Bearer {d['token']}"}
    client = httpx.Client(base_url=d["url"], headers=auth, timeout=120)
    stream = client.post("/api/v1/ssf/streams", json={"delivery": {"method": "urn:ietf:rfc:8936"}})
    assert stream.status_code == 201, stream.text
    stop, errors = threading.Event(), []
    progress = {"uploads": 0, "events": 0}

    def ingest() -> None:
        with httpx.Client(base_url=d["url"], headers=auth, timeout=120) as c:
            for chunk in d["chunks"]:
                if stop.is_set():
                    return
                r = c.post("/api/v1/ingest", files=[("files", (chunk.name, chunk.read_bytes()))])
                if r.status_code != 200:
                    errors.append(f"ingest {chunk.name}: {r.status_code} {r.text[:200]}")
                progress["uploads"] += 1

    def cae() -> None:
        with httpx.Client(base_url=d["url"], headers=auth, timeout=60) as c:
            i = 0
            while not stop.is_set():
                events = [{"event_type": "user_disabled", "user": f"load{i + k}@example.com", "event_key": f"k{i + k}"}
                          for k in range(5)]
                r = c.post("/api/v1/cae/events", json={"events": events})
                if r.status_code != 200:
                    errors.append(f"cae: {r.status_code} {r.text[:200]}")
                i += 5
                progress["events"] = i
                time.sleep(0.02)

    workers = [threading.Thread(target=ingest), threading.Thread(target=cae)]
    for w in workers:
        w.start()
    try:
        while progress["uploads"] < 3 and not errors:
            time.sleep(0.1)
        at_start = dict(progress)
        t0 = time.perf_counter()
        # handed to the running service through its state file (cli/_service.py), which copies the store
        done = subprocess.run([*VIGIL, "backup", "under-load", "--config", str(d["config"]), "--json"],
                              capture_output=True, text=True, timeout=600, cwd=d["root"] / "backups")
        backup_s = time.perf_counter() - t0
        assert done.returncode == 0, done.stderr
        at_end = dict(progress)
        while progress["uploads"] <= at_end["uploads"] and progress["uploads"] < len(d["chunks"]) and not errors:
            time.sleep(0.1)  # the load goes on after the backup: the live store moves past it
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert not errors, (errors, d["log"].read_text()[-4000:])
    assert at_start["uploads"] < len(d["chunks"]), "the load ended before the backup began"
    answer = json.loads(done.stdout)
    bk = Path(answer["path"])
    m = answer["manifest"]
    assert bk == d["root"] / "backups" / "under-load"
    jwks = client.get("/api/v1/ssf/jwks.json").json()
    live_counts = {t: client.get("/api/v1/cae/status").json() for t in ("cae",)}
    client.close()
    d["proc"].terminate()  # graceful: the running batch commits, the store is checkpointed
    # uvicorn re-raises the SIGTERM it handled once shutdown is complete
    assert d["proc"].wait(timeout=60) in (0, -15)
    assert "Application shutdown complete" in d["log"].read_text()

    t1 = time.perf_counter()
    restored = subprocess.run([*VIGIL, "restore", str(bk), "--into", str(d["root"] / "restored"), "--json"],
                              capture_output=True, text=True, timeout=600)
    restore_s = time.perf_counter() - t1
    assert restored.returncode == 0, restored.stderr
    settings = load_settings(json.loads(restored.stdout)["config"], environ={})

    # the same rows as the snapshot, and the snapshot is a consistent cut of the running ingest
    with duckdb.connect(settings.store.path, read_only=True) as con:
        for table, n in m["tables"].items():
            if table != "vigil_meta":
                assert con.execute(f'select count(*) from "{table}"').fetchall()[0][0] == n, table
        events = sum(con.execute(f"select count(*) from {t}").fetchall()[0][0]
                     for t in ("signins", "activities", "directory_events"))
        stored = con.execute("select coalesce(sum(records_stored), 0) from ingest_runs").fetchall()[0][0]
        raw = con.execute("select count(*) from raw_records").fetchall()[0][0]
    assert 0 < events == stored == raw
    with duckdb.connect(str(d["root"] / "live" / "vigil.duckdb"), read_only=True) as con:
        live_events = sum(con.execute(f"select count(*) from {t}").fetchall()[0][0]
                          for t in ("signins", "activities", "directory_events"))
    assert live_events > events, "the backup was taken under load, before the last uploads"

    # the same revocations, enforced by a CAE service built from the restored settings
    with sqlite3.connect(bk / "cae.sqlite") as con:
        backed_up = con.execute("select event_key, subject, revoked_at from revocations order by seq").fetchall()
    assert 0 < len(backed_up) == m["cae"]["revocations"] <= live_counts["cae"]["revocations"]
    svc = CaeService(settings)
    try:
        assert [(r["event_key"], r["subject"], r["revoked_at"]) for r in reversed(svc.journal.revocation_rows())] \
            == backed_up
        for _, subject, revoked_at in backed_up:
            assert svc.state.check(issued_at=revoked_at - 1, users=[subject]) is not None, subject
            assert svc.state.check(issued_at=revoked_at + 1, users=[subject]) is None
        # the same SET signatures verify, with the restored keys and with the keys the live service served
        sets = [r["set_jwt"] for r in svc.journal.rows("select set_jwt from ssf_outbox order by seq")]
        assert len(sets) == m["cae"]["ssf_outbox"] > 0
        assert svc.jwks() == jwks
        for keys in (KeySet.import_key_set(jwks), svc.keys):  # type: ignore[arg-type]
            for token in sets:
                jwt.decode(token, keys, algorithms=["ES256"])
    finally:
        svc.close()
    print(f"\nbackup under load: {backup_s:.2f} s (manifest {m['seconds']}), restore {restore_s:.2f} s, "
          f"{sum(m['tables'].values()):,} rows, {m['cae']['revocations']} revocations")
