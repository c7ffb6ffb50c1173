"""CAE benchmark: event-to-enforcement latency, a 10,000-event burst, restart survival.

    .venv/bin/python bench/cae_latency.py [--n 2000] [--http-n 300] [--burst 10000]

Figures printed (all on this machine, with a same-run baseline):

1. in-process: record a critical event (SQLite commit + index) then decide a request of the
   revoked user -> 401; p50/p99 of that whole path, next to the decision alone (baseline).
2. over HTTP (uvicorn in a separate process): POST /api/v1/cae/events, then the next GET
   /resource/hello gets the claims challenge; latency from the POST to the 401. Baseline: a GET
   that is allowed. Also cross-process: another process appends to the journal (what `vigil cae
   revoke` does) while a client keeps calling; latency from the commit to the first 401.
3. burst: 10,000 single-event POSTs from 16 concurrent clients while another process appends
   2,000 more; every one must be in the journal and in the server's index.
4. restart: the server is stopped, a new process opens the same files and must deny every
   revoked user's token.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from vigil.cae.events import new_event
from vigil.cae.journal import Journal
from vigil.cae.service import CaeService
from vigil.cae.tokens import issue_token
from vigil.settings import Settings, load_settings


def settings_for(folder: Path) -> Settings:
    return load_settings(overrides={"store.path": str(folder / "bench.duckdb"), "cae.sync_interval_ms": 20},
                         environ={})


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def fmt(values: list[float], unit: str = "ms") -> str:
    k = 1000.0 if unit == "ms" else 1e6
    return (f"p50 {pct(values, 50) * k:8.3f} {unit}  p99 {pct(values, 99) * k:8.3f} {unit}  "
            f"max {max(values) * k:8.3f} {unit}  (n={len(values)})")


def token_for(svc: CaeService, user: str, *, now: float | None = None) -> str:
    c = svc.settings.cae
    return issue_token(svc.keys, issuer=c.issuer, audience=c.audience, user_id=user, cp1=True,
                       lifetime_s=c.cp1_token_lifetime_s, now=now)[0]


# -- 1. in-process ---------------------------------------------------------------------------------
def in_process(folder: Path, n: int) -> None:
    svc = CaeService(settings_for(folder))
    enf = svc.enforcer()
    t0 = time.time() - 5
    tokens = [f"Bearer {token_for(svc, f'inproc-{i}', now=t0)}" for i in range(n)]
    baseline, lookup, e2e = [], [], []
    for i, tok in enumerate(tokens):
        a = time.perf_counter()
        assert enf.decide(tok, "127.0.0.1").allowed
        baseline.append(time.perf_counter() - a)
        a = time.perf_counter()
        svc.state.check(issued_at=t0, users=[f"inproc-{i}"], session="x")
        lookup.append(time.perf_counter() - a)
        a = time.perf_counter()
        svc.record([new_event("password_reset", subject=f"inproc-{i}", source="bench")])
        d = enf.decide(tok, "127.0.0.1")
        e2e.append(time.perf_counter() - a)
        assert not d.allowed and d.check == "revoked"
    print("1. in-process (one CaeService, SQLite commit per event)")
    print(f"   baseline: decide, token allowed (JWT ES256 verify + lookup)  {fmt(baseline)}")
    print(f"   revocation-state lookup alone                              {fmt(lookup, 'us')}")
    print(f"   event -> enforcement (record + next decide -> 401)         {fmt(e2e)}")
    svc.close()


# -- server process ----------------------------------------------------------------------------------
def serve(folder: str, port: str) -> None:
    import uvicorn

    from vigil.api.tokens import create_token
    from vigil.api.cae_demo import create_demo_app

    settings = settings_for(Path(folder))
    app = create_demo_app(settings)
    _, admin = create_token(app.state.vigil.db.cursor(), "bench-admin", "admin")
    (Path(folder) / "admin.token").write_text(admin)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (folder / "admin.token").unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(folder), str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if (folder / "admin.token").exists() and httpx.get(f"{url}/.well-known/ssf-configuration").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("server did not start")
        time.sleep(0.1)
    return proc, url, (folder / "admin.token").read_text()


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


_APPENDER = """
import sys, time
from vigil.cae.journal import Journal
from vigil.cae.events import new_event
j = Journal(sys.argv[1])
for i in range(int(sys.argv[2])):
    j.append([new_event("user_disabled", subject=f"{sys.argv[3]}-{i}", source="cli")])
    time.sleep(float(sys.argv[4]))
"""


# -- 2. over HTTP ----------------------------------------------------------------------------------
def over_http(folder: Path, n: int, cross_n: int) -> None:
    proc, url, admin = start_server(folder)
    svc = CaeService(settings_for(folder))  # same keys and journal as the server
    try:
        auth = {"Authorization": f"Bearer {admin}"}
        t0 = time.time() - 5
        baseline, e2e = [], []
        with httpx.Client(base_url=url) as http:
            for i in range(n):
                user = f"http-{i}"
                bearer = {"Authorization": f"Bearer {token_for(svc, user, now=t0)}"}
                a = time.perf_counter()
                assert http.get("/resource/hello", headers=bearer).status_code == 200
                baseline.append(time.perf_counter() - a)
                a = time.perf_counter()
                http.post("/api/v1/cae/events", headers=auth, json={"event_type": "password_reset", "user": user}
                          ).raise_for_status()
                r = http.get("/resource/hello", headers=bearer)
                e2e.append(time.perf_counter() - a)
                assert r.status_code == 401 and "insufficient_claims" in r.headers["www-authenticate"]
            # cross-process: another process commits to the journal while we keep calling
            cross = []
            tokens = {f"xproc-{i}": {"Authorization": f"Bearer {token_for(svc, f'xproc-{i}', now=t0)}"}
                      for i in range(cross_n)}
            writer = subprocess.Popen([sys.executable, "-c", _APPENDER, svc.journal.path, str(cross_n), "xproc", "0.2"])
            for i in range(cross_n):
                while True:
                    r = http.get("/resource/hello", headers=tokens[f"xproc-{i}"])
                    if r.status_code == 401:
                        ev = svc.journal.revocation_rows(subject=f"xproc-{i}")
                        cross.append(time.time() - ev[0]["recorded_at"])
                        break
                    time.sleep(0.002)
            writer.wait(timeout=60)
        print("2. over HTTP (uvicorn in another process, loopback)")
        print(f"   baseline: GET /resource/hello allowed                       {fmt(baseline)}")
        print(f"   POST /cae/events -> next GET gets 401 claims challenge       {fmt(e2e)}")
        print(f"   other process commits -> first 401 seen (sync 20 ms, polled) {fmt(cross)}")
    finally:
        svc.close()
        stop_server(proc)


# -- 3. burst and 4. restart -------------------------------------------------------------------------
def burst(folder: Path, total: int, extra: int) -> None:
    proc, url, admin = start_server(folder)
    j = Journal(CaeService(settings_for(folder)).journal.path)
    before = int(j.scalar("select count(*) from revocations"))
    errors: list[str] = []
    local = threading.local()

    def post(i: int) -> int:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"},
                                                 timeout=60)
        r = client.post("/api/v1/cae/events", json={"event_type": "user_disabled", "user": f"burst-{i}",
                                                    "event_key": f"burst-{i}"})
        if r.status_code != 200:
            errors.append(f"{i}: {r.status_code} {r.text[:100]}")
            return 0
        return int(r.json()["recorded"])

    writer = subprocess.Popen([sys.executable, "-c", _APPENDER, j.path, str(extra), "cli-burst", "0"])
    a = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        recorded = sum(pool.map(post, range(total)))
    elapsed = time.perf_counter() - a
    writer.wait(timeout=120)
    after = int(j.scalar("select count(*) from revocations")) - before
    distinct = int(j.scalar("select count(distinct subject) from revocations where subject like 'burst-%'"
                            " or subject like 'cli-burst-%'"))
    time.sleep(0.1)
    status = httpx.get(f"{url}/api/v1/cae/status", headers={"Authorization": f"Bearer {admin}"}).json()
    print(f"3. burst: {total} single-event POSTs, 16 concurrent clients, + {extra} from another process")
    print(f"   POSTs answered 200: {total - len(errors)}  recorded: {recorded}  errors: {len(errors)}"
          f"  ({total / elapsed:,.0f} events/s over HTTP, {elapsed:.2f} s)")
    print(f"   journal rows added: {after} (expected {total + extra}); distinct subjects: {distinct};"
          f" lost: {total + extra - after}")
    print(f"   server index after sync: {status['indexed_subjects']} subjects, journal {status['revocations']} rows")
    stop_server(proc)

    # 4. restart: a new process rebuilds the index from the journal and enforces every revocation
    a = time.perf_counter()
    svc = CaeService(settings_for(folder))
    rebuilt = time.perf_counter() - a
    enf = svc.enforcer()
    t_old = time.time() - 3600
    subjects = [f"burst-{i}" for i in range(total)] + [f"cli-burst-{i}" for i in range(extra)]
    denied = sum(1 for s in subjects if not enf.decide(f"Bearer {token_for(svc, s, now=t_old)}", None).allowed)
    print(f"4. restart: index rebuilt from the journal in {rebuilt * 1000:.0f} ms ({svc.state.size()} subjects);"
          f" tokens of revoked users denied: {denied}/{len(subjects)}")
    svc.close()
    if errors or after != total + extra or denied != len(subjects):
        raise SystemExit("FAILED: events lost or not enforced")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--http-n", type=int, default=300)
    ap.add_argument("--cross-n", type=int, default=50)
    ap.add_argument("--burst", type=int, default=10_000)
    ap.add_argument("--extra", type=int, default=2_000)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, sqlite journal (WAL, synchronous=NORMAL),"
          f" load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as d:
        for sub in ("1", "2", "3"):
            (Path(d) / sub).mkdir()
        in_process(Path(d) / "1", args.n)
        over_http(Path(d) / "2", args.http_n, args.cross_n)
        burst(Path(d) / "3", args.burst, args.extra)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other processes share these cores)")


if __name__ == "__main__":
    main()
