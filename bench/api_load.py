"""Load on `vigil serve` over loopback: sustained requests/s and latency percentiles.

    .venv/bin/python bench/api_load.py [--db STORE --config CONFIG] [--seconds 10] [--concurrency 8]

Without --db it simulates a tenant (--users/--days), ingests and analyses it under
bench/out/. It then creates a reader token, starts `vigil serve` on a free 127.0.0.1 port
(access log off: --log-level warning) and, for each endpoint in turn, keeps --concurrency
requests in flight for --seconds (at most --max-requests). Every request goes to 127.0.0.1 only.
The same-run baseline is GET /api/v1/whoami: authentication and framework cost alone. The server's
CPU time per request (user + system from /proc, over each endpoint's run) is printed beside the
latencies, with the request rate it implies on one idle core: it moves far less with the machine's
load than the latencies do. The load average before and after is printed too.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from vigil.api.launch import free_port, wait_until_serving

REPO = Path(__file__).resolve().parents[1]
VIGIL = Path(sys.executable).parent / "vigil"


def build_tenant(out: Path, users: int, days: int) -> tuple[Path, Path]:
    from vigil.pipeline import run_stages
    from vigil.settings import load_settings
    from vigil.simulate import simulate_tenant
    from vigil.sources.ingest import ingest_paths
    from vigil.store import open_store

    sim = out / "sim"
    db = out / "vigil.duckdb"
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    simulate_tenant(sim, users=users, days=days, seed=7)
    config = out / "vigil.yaml"
    config.write_text(f"store:\n  path: {db}\nenrich:\n  named_locations: {sim / 'namedLocations.json'}\n"
                      f"policy:\n  policies: {sim / 'conditionalAccessPolicies.json'}\n", encoding="utf-8")
    settings = load_settings(config, environ={})
    logs = [sim / n for n in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "AuditLogs.json",
                              "OfficeActivity_ManagementAPI.json")]
    with open_store(db) as store:
        ingest_paths(store, list(logs), settings)
        run_stages(store, settings)
    return db, config


async def _drive(client: httpx.AsyncClient, method: str, path: str, body: Any, seconds: float,
                 concurrency: int, max_requests: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    sent = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal sent
        while time.perf_counter() < deadline and sent < max_requests:
            sent += 1
            t0 = time.perf_counter()
            r = await client.request(method, path, json=body)
            latencies.append(time.perf_counter() - t0)
            if r.status_code >= 400:
                errors[r.status_code] = errors.get(r.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {"requests": len(latencies), "seconds": round(elapsed, 2), "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": round(latencies[-1] * 1000, 2),
            "errors": errors}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_load(url: str, token: str, user: str, seconds: float, concurrency: int,
                   max_requests: int, server_pid: int) -> dict[str, Any]:
    decision = {"user_principal_name": user, "application_name": "Office 365 Exchange Online",
                "ip": "81.2.69.160", "country": "GB", "client_app_type": "browser", "sign_in_risk": "low"}
    cases = [
        ("baseline: GET /api/v1/whoami", "GET", "/api/v1/whoami", None),
        ("GET /api/v1/incidents", "GET", "/api/v1/incidents?limit=100", None),
        ("GET /api/v1/users/{user} (user page data)", "GET", f"/api/v1/users/{user}", None),
        ("POST /api/v1/policy/decision", "POST", "/api/v1/policy/decision", decision),
    ]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    out = {}
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=30) as client:
        for name, method, path, body in cases:
            r = await client.request(method, path, json=body)  # warm-up, and fail fast on a broken endpoint
            if r.status_code != 200:
                raise SystemExit(f"{name}: HTTP {r.status_code}: {r.text[:300]}")
            cpu0 = _cpu_seconds(server_pid)
            out[name] = await _drive(client, method, path, body, seconds, concurrency, max_requests)
            cpu_ms = (_cpu_seconds(server_pid) - cpu0) * 1000 / max(1, out[name]["requests"])
            out[name]["server_cpu_ms"] = round(cpu_ms, 3)
            out[name]["rps_per_idle_core"] = round(1000 / cpu_ms) if cpu_ms else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="an analysed store (else a tenant is simulated)")
    ap.add_argument("--config", help="settings file for --db (policy.policies for the decision call)")
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=10.0, help="sustained load per endpoint")
    ap.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    ap.add_argument("--max-requests", type=int, default=50_000, help="cap per endpoint")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.seconds > 120 or args.max_requests > 500_000:
        raise SystemExit("bounded on purpose: --seconds <= 120 and --max-requests <= 500000")
    if args.db:
        db, config = Path(args.db), Path(args.config) if args.config else None
    else:
        out = REPO / "bench" / "out" / "api"
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        db, config = build_tenant(out, args.users, args.days)
        print(f"tenant: {args.users} users x {args.days} days built in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    user = con.execute("select user_principal_name from incidents where user_principal_name is not null "
                       "order by priority desc limit 1").fetchall()[0][0]
    n_inc = con.execute("select count(*) from incidents").fetchall()[0][0]
    con.close()
    cfg = ["--config", str(config)] if config else []
    made = subprocess.run([str(VIGIL), "token", "create", "--name", f"bench-{os.getpid()}", "--role", "reader",
                           "--json", "--db", str(db), *cfg], capture_output=True, text=True, check=True)
    token = json.loads(made.stdout)["token"]
    port = free_port()
    proc = subprocess.Popen([str(VIGIL), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
                             "--log-level", "warning", *cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, lambda: proc.stderr.read().decode() if proc.stderr else "")
        load_before = os.getloadavg()[0]
        results = asyncio.run(run_load(url, token, user, args.seconds, args.concurrency, args.max_requests, proc.pid))
        load_after = os.getloadavg()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    meta = {"machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
            "incidents": n_inc, "user": user, "concurrency": args.concurrency, "seconds": args.seconds,
            "load": [load_before, load_after]}
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return
    print(f"{meta['machine']}; {n_inc} incidents; user page of {user}; {args.concurrency} in flight, "
          f"{args.seconds:g} s per endpoint (client and server share the machine); "
          f"load average {load_before:.1f} -> {load_after:.1f}")
    print(f"{'endpoint':46} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'server CPU ms':>13} {'req/s/core':>10}")
    for name, r in results.items():
        print(f"{name:46} {r['requests']:8d} {r['rps']:8.1f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} "
              f"{r['p99_ms']:8.2f} {sum(r['errors'].values()):7d} {r['server_cpu_ms']:13.3f} "
              f"{r['rps_per_idle_core'] or 0:10d}")


if __name__ == "__main__":
    main()
