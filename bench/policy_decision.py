"""Decision-point benchmark: p50/p99 per decision at a fixed request rate over loopback.

    .venv/bin/python bench/policy_decision.py [--rate 1000] [--seconds 10] [--conns 16] [--policies FILE ...]

1. in-process: ``DecisionPoint.decide`` on varied sign-in contexts (dicts, validated like the
   API does) and ``PolicySet.evaluate`` on prepared contexts — per-decision latency.
2. over HTTP: a real ``vigil serve`` (uvicorn, separate process) on 127.0.0.1 with a reader
   token; an asyncio client with a bounded number of keep-alive connections sends
   ``POST /api/v1/policy/decision`` on a fixed schedule (open loop: request i is due at
   t0 + i/rate). Latency is measured from the *scheduled* time to the full response, so a
   client or server falling behind shows up (no coordinated omission); service time (send to
   response) is printed beside it. Same-run baseline: ``GET /api/v1/whoami`` at the same rate
   (same auth and stack, no policy work).

``--server bare`` (also run by default) serves the policy router alone on uvicorn without the
token check: the decision point's own cost, without the service's per-request token lookup (a
DuckDB cursor and query). Server CPU per request is printed for each run, a figure
that does not depend on how busy the shared machine is.

Default policy set: tests/fixtures/policy (22 policies covering every condition and control).

3. real-time scoring (issue 20): the same decisions with vigil's own risk — a decision point whose
   profiles hold ``--users`` synthetic users (a month of sign-ins each, folded in with
   ``Knowledge.observe``, the path the set-based build is tested equal to), requests carrying no risk
   so every one is scored and the user's riskyUsers level applied; a fifth of them from an
   anonymiser with an unknown browser, so signals fire and detections are queued for recording.
   Printed beside plain evaluation of the same requests, with profile memory per user
   (resident-set growth). ``--server bare`` serves with scoring on (``--users`` profiles) as well.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIX = REPO / "tests" / "fixtures" / "policy"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def fmt(values: list[float]) -> str:
    return (f"p50 {pct(values, 50) * 1e3:7.3f} ms  p99 {pct(values, 99) * 1e3:7.3f} ms  "
            f"max {max(values) * 1e3:7.3f} ms  (n={len(values)})")


def contexts(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Varied sign-ins: users, groups, IPs (trusted, partner, home, IPv6), risk, devices, client apps."""
    rng = random.Random(seed)
    ips = ["203.0.113.7", "198.51.100.9", "192.0.2.44", "2001:db8:1:5::1", "2001:db8:9::1", "6.5.4.3"]
    out = []
    for i in range(n):
        device = rng.choice([None, {"deviceId": f"d{i % 50}", "isCompliant": rng.random() < 0.7,
                                    "trustType": rng.choice(["AzureAD", "ServerAD", "Workplace"]),
                                    "isManaged": True, "extensionAttributes": {"extensionAttribute1": "SAW"}}])
        ctx: dict[str, Any] = {
            "user_id": f"00000000-0000-0000-0000-{i % 500:012d}",
            "groups": rng.sample(["22222222-0000-0000-0000-000000000002", "g-a", "g-b"], k=rng.randint(0, 2)),
            "roles": ["Global Administrator"] if i % 40 == 0 else [],
            "application_id": rng.choice(["00000002-0000-0ff1-ce00-000000000000",
                                          "797f4846-ba00-4fd7-ba43-dac1f8f63013", "app-x"]),
            "ip": rng.choice(ips), "country": rng.choice(["DE", "US", "FR", "KP"]),
            "platform": rng.choice(["windows", "iOS", "android", "macOS"]),
            "client_app_type": rng.choice(["browser", "browser", "mobileAppsAndDesktopClients", "other"]),
            "sign_in_risk": rng.choice(["none", "none", "none", "low", "medium", "high"]),
            "user_risk": rng.choice(["none", "none", "medium", "high"]),
            "mfa_satisfied": rng.random() < 0.5,
        }
        if device is not None:
            ctx["device"] = device
        out.append(ctx)
    return out


def synthetic_knowledge(users: int, seed: int = 11) -> Any:
    """``users`` profiles, each a month of sign-ins (home and office networks, a VPN egress, one or two
    devices and browsers), 10 peers each, one live session each, a tenth with a riskyUsers row."""
    from vigil.risk.profiles import IpFacts, Knowledge, SessionRoot, UaFacts, UserRisk

    rng = random.Random(seed)
    k = Knowledge()
    countries = ["DE", "GB", "US", "FR", "IN", "BR", "NL", "ES"]
    uas = [UaFacts("Edge", "Windows", None, "browser"), UaFacts("Chrome", "Mac OS X", None, "browser"),
           UaFacts("Mobile Safari", "iOS", "iPhone", "browser"), UaFacts("Outlook", "Windows", None, "desktop_app")]
    corp = IpFacts("GB", "London", 51.5, -0.12, 25.0, 64500, "Contoso", "corporate_egress", True, "vpn-gb", None, "ip")
    k.ips["203.0.113.1"] = corp
    t0 = 1_767_225_600.0
    for u in range(users):
        key, upn, cc = f"person-{u}", f"user{u}@contoso.com", countries[u % len(countries)]
        lat, lon = 40 + rng.random() * 15, -5 + rng.random() * 20
        ips = [f"10.{u // 250 % 250}.{u % 250}.{i}" for i in range(3)]
        for i, ip in enumerate(ips):
            k.ips[ip] = IpFacts(cc, f"City{u % 50}", lat, lon, 25.0, 3000 + u % 400 + i, "ISP", "residential",
                                known_by="ip")
        devices = [f"dev-{u}-{d}" for d in range(rng.randint(1, 2))]
        browsers = rng.sample(uas, rng.randint(1, 2))
        t = t0
        for day in range(30):
            for _ in range(10):
                t = t0 + day * 86400 + rng.random() * 86400
                ip = rng.choice(ips + ["203.0.113.1"])
                f = k.ips[ip]
                e = {"u": key, "event_id": f"e{u}-{day}", "ok": True, "t": t, "stale": False, "user_id": f"oid-{u}", "user_principal_name": upn,
                     "event_table": "signins", "result": "success", "ip": ip, "device_id": rng.choice(devices),
                     "lat": f.latitude, "lon": f.longitude, "acc": 25.0, "is_interactive": True, "country": f.country,
                     "city": f.city, "ip_class": f.ip_class, "corp": f.corporate, "session_key": f"s:sess-{u}"}
                k.observe(e, rng.choice(browsers), f)
        p = k.users[key]
        p.peers = tuple(f"user{(u + j) % users}@contoso.com" for j in range(1, 11))
        if u % 10 == 0:
            p.risk.append(UserRisk(rng.choice(["low", "medium", "high"]), "atRisk", "none", t, "vigil", "bench"))
        k.sessions[f"sess-{u}"] = SessionRoot(key, upn, ips[0], cc, 3000 + u % 400, "residential", devices[0],
                                              browsers[0].family, browsers[0].os_family, t0)
    k.ips["185.220.101.7"] = IpFacts("NL", "Amsterdam", 52.37, 4.9, 25.0, 9009, "M247", "vpn", known_by="ip")
    k.newest = t0 + 30 * 86400
    return k


def scoring_contexts(n: int, users: int, seed: int = 7) -> list[dict[str, Any]]:
    """``contexts(n)`` without risk and with a known user; a fifth from an anonymiser on an unknown browser."""
    rng = random.Random(seed)
    out = []
    for ctx in contexts(n, seed):
        u = rng.randrange(users)
        ctx = {k: v for k, v in ctx.items() if k not in ("sign_in_risk", "user_risk")}
        ctx["user_principal_name"] = f"user{u}@contoso.com"
        ctx["session_id"] = f"sess-{u}"
        if rng.random() < 0.2:
            ctx["ip"] = "185.220.101.7"
            ctx["user_agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        else:
            ctx["ip"] = f"10.{u // 250 % 250}.{u % 250}.{rng.randrange(3)}"
        out.append(ctx)
    return out


def scoring_point(policies: list[str], locations: str, users: int) -> tuple[Any, float, int]:
    """A decision point with ``users`` synthetic profiles and a recorder whose writer drops rows; the
    profiles' memory (growth of the resident set over the build, bytes per user) and the IPs known."""
    import gc

    from vigil.policy.decision import DecisionPoint, load_policy_set
    from vigil.policy.riskinput import RiskInputs
    from vigil.risk.realtime import Rules
    from vigil.risk.recorder import DetectionRecorder

    def rss() -> int:  # resident set size (tracemalloc would slow the build tenfold)
        gc.collect()
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    before = rss()
    knowledge = synthetic_knowledge(users)
    after = rss()
    recorder = DetectionRecorder(lambda rows: None).start()
    point = DecisionPoint(load_policy_set(policies, locations), RiskInputs(knowledge, Rules(), recorder))
    return point, (after - before) / users, len(knowledge.ips)


def in_process_scoring(policies: list[str], locations: str, n: int, users: int) -> None:
    from vigil.api.policy import SignInContextIn

    started = time.perf_counter()
    point, per_user, ips = scoring_point(policies, locations, users)
    print(f"scoring: {users} synthetic profiles (a month of sign-ins each) built in "
          f"{time.perf_counter() - started:.1f} s; profile memory {per_user / 1024:.1f} KiB per user "
          f"(resident-set growth over the build: users, features, last locations, peers, sessions and {ips} IPs' facts)")
    bodies = scoring_contexts(n, users)
    now = point.risk.knowledge.newest + 3600
    models = [SignInContextIn.model_validate(b) for b in bodies]
    for m in models[:200]:
        point.decide(m.to_context(), supplied=m.model_fields_set, now=now)
    plain, scored, full = [], [], []
    levels: dict[str, int] = {}
    for m in models:
        ctx = m.to_context()
        t = time.perf_counter()
        point.policies.evaluate(ctx)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        d = point.decide(ctx, supplied=m.model_fields_set, now=now)
        scored.append(time.perf_counter() - t)
        assert d.risk is not None
        level = d.risk["signInRisk"]["level"]
        levels[level] = levels.get(level, 0) + 1
    for b in bodies:
        t = time.perf_counter()
        m = SignInContextIn.model_validate(b)
        point.decide(m.to_context(), supplied=m.model_fields_set, now=now).to_dict(policies=False)
        full.append(time.perf_counter() - t)
    stats = point.risk.recorder.close()
    print(f"scored sign-in risk levels over the sample: {levels}; detections queued and recorded: {stats['written']}")
    print(f"in-process PolicySet.evaluate (same requests, no scoring):  {fmt(plain)}")
    print(f"in-process decide with real-time scoring + user risk:      {fmt(scored)}")
    print(f"in-process validate + decide (scoring) + to_dict:          {fmt(full)}")
    p = pct(scored, 50) - pct(plain, 50)
    print(f"scoring cost: +{p * 1e3:.3f} ms at p50, +{(pct(scored, 99) - pct(plain, 99)) * 1e3:.3f} ms at p99")


def in_process(policies: list[str], locations: str, n: int) -> None:
    from vigil.api.policy import SignInContextIn
    from vigil.policy.decision import DecisionPoint, load_policy_set

    point = DecisionPoint(load_policy_set(policies, locations))
    bodies = contexts(n)
    prepared = [SignInContextIn.model_validate(b).to_context() for b in bodies]
    for c in prepared[:200]:
        point.policies.evaluate(c)
    evals, full = [], []
    for c in prepared:
        t = time.perf_counter()
        point.policies.evaluate(c)
        evals.append(time.perf_counter() - t)
    for b in bodies:
        t = time.perf_counter()
        point.decide(SignInContextIn.model_validate(b).to_context()).to_dict(policies=False)
        full.append(time.perf_counter() - t)
    decisions: dict[str, int] = {}
    for c in prepared:
        d = point.policies.evaluate(c).decision
        decisions[d] = decisions.get(d, 0) + 1
    print(f"policies: {len(point.policies)}; decisions over the sample: {decisions}")
    print(f"in-process PolicySet.evaluate:                       {fmt(evals)}")
    print(f"in-process validate + decide + to_dict (API work):   {fmt(full)}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_bare(port: int, policies: list[str], locations: str, users: int = 0) -> None:
    """The policy router alone in a minimal FastAPI app on uvicorn, without the token check: the
    decision point's own cost. ``require_reader`` is replaced before the router module binds it
    (a FastAPI dependency override would add its own per-request cost)."""
    import uvicorn
    from fastapi import FastAPI

    import vigil.api.auth as auth

    async def no_auth() -> None:
        return None

    auth.require_reader = no_auth  # type: ignore[assignment]
    from vigil.api.policy import router
    from vigil.policy.decision import DecisionPoint, load_policy_set

    app = FastAPI()
    app.include_router(router, prefix="/api/v1")

    @app.get("/api/v1/whoami")
    async def whoami() -> dict[str, str]:
        return {"name": "bench"}

    app.state.vigil_policy = (scoring_point(policies, locations, users)[0] if users
                              else DecisionPoint(load_policy_set(policies, locations)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def wait_port(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start in {timeout:.0f} s")


def start_bare(policies: list[str], locations: str, users: int = 0) -> tuple[subprocess.Popen[bytes], int, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port), "--policies", *policies,
                             "--locations", locations, "--scoring-users", str(users)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_port(proc, port, 30.0 + users / 20)  # profiles are built before the server listens
    return proc, port, "unused"


def start_server(folder: Path, policies: list[str], locations: str) -> tuple[subprocess.Popen[bytes], int, str]:
    from vigil.api.tokens import create_token
    from vigil.store import open_store

    db = folder / "bench.duckdb"
    with open_store(db) as store:
        _, token = create_token(store.con, "bench-reader", "reader")
    cfg = folder / "vigil.yaml"
    cfg.write_text(json.dumps({"policy": {"policies": policies[0], "named_locations": locations}}))
    port = free_port()
    # this interpreter and this checkout's code (a worktree has no .venv of its own)
    proc = subprocess.Popen([sys.executable, "-m", "vigil", "serve", "--db", str(db), "--config", str(cfg),
                             "--port", str(port), "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    wait_port(proc, port)
    return proc, port, token


def request_bytes(method: str, path: str, token: str, body: dict[str, Any] | None) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    return status, await reader.readexactly(length)


async def load(port: int, requests: list[bytes], rate: float, seconds: float, conns: int
               ) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    lat: list[float] = []
    svc: list[float] = []
    errors: list[str] = []
    done_times: list[float] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                i, due = item
                sent = loop.time()
                writer.write(requests[i % len(requests)])
                status, body = await read_response(reader)
                now = loop.time()
                if status != 200:
                    errors.append(f"{status} {body[:200]!r}")
                lat.append(now - due)
                svc.append(now - sent)
                done_times.append(now)
        finally:
            writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(conns)]
    await asyncio.sleep(0.3)  # connections open
    t0 = loop.time() + 0.05
    for i in range(total):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        queue.put_nowait((i, due))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    span = max(done_times) - t0
    return {"latency": lat, "service": svc, "errors": errors, "achieved_rps": len(lat) / span, "n": len(lat)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to state the server's cost per request
    independently of how busy the shared machine is."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def over_http(policies: list[str], locations: str, rate: float, seconds: float, conns: int, *, bare: bool,
              users: int = 0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, token = (start_bare(policies, locations, users) if bare
                             else start_server(Path(tmp), policies, locations))
        print("server: " + ("the policy router alone on uvicorn (no token check)" if bare
                            else "vigil serve (full service: middleware, reader-token check per request)")
              + (f", real-time scoring over {users} profiles" if users else ""))
        try:
            bodies = scoring_contexts(512, users) if users else contexts(512)
            decide = [request_bytes("POST", "/api/v1/policy/decision", token, b) for b in bodies]
            whoami = [request_bytes("GET", "/api/v1/whoami", token, None)]
            asyncio.run(load(port, decide, rate, 1.0, conns))  # warm-up (policy set loads on first use)
            for name, reqs in (("POST /api/v1/policy/decision", decide), ("GET /api/v1/whoami (baseline)", whoami)):
                cpu0, own0, t0 = cpu_seconds(proc.pid), cpu_seconds(os.getpid()), time.perf_counter()
                r = asyncio.run(load(port, reqs, rate, seconds, conns))
                cpu = (cpu_seconds(proc.pid) - cpu0) / r["n"]
                wall = time.perf_counter() - t0
                client_share = (cpu_seconds(os.getpid()) - own0) / wall
                server_share = cpu * r["n"] / wall
                print(f"{name}: target {rate:.0f}/s for {seconds:.0f} s over {conns} keep-alive connections; "
                      f"achieved {r['achieved_rps']:.0f}/s, errors {len(r['errors'])}")
                print(f"  latency from scheduled send: {fmt(r['latency'])}")
                print(f"  service time (send->reply):  {fmt(r['service'])}")
                print(f"  server CPU per request:      {cpu * 1e3:7.3f} ms (capacity ~{1 / cpu:.0f}/s on one idle core)")
                print(f"  CPU share of the run:        server {server_share:.0%} of a core, "
                      f"load generator (this process) {client_share:.0%} of a core")
                if r["errors"]:
                    print(f"  first error: {r['errors'][0]}")
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--n", type=int, default=20000, help="in-process decisions")
    ap.add_argument("--policies", nargs="*", default=[str(FIX / "policies.json")])
    ap.add_argument("--locations", default=str(FIX / "namedLocations.json"))
    ap.add_argument("--server", choices=("both", "service", "bare"), default="both",
                    help="vigil serve, the router alone, or both (default)")
    ap.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--scoring-users", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--users", type=int, default=10000, help="synthetic profiles for the scoring runs")
    ap.add_argument("--no-scoring", action="store_true", help="skip the real-time scoring runs")
    args = ap.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.policies, args.locations, args.scoring_users)
        return
    def load_avg() -> str:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())

    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; load average {load_avg()}")
    in_process(args.policies, args.locations, args.n)
    if not args.no_scoring:
        in_process_scoring(args.policies, args.locations, args.n, args.users)
    for kind in ("service", "bare"):
        if args.server in (kind, "both"):
            over_http(args.policies, args.locations, args.rate, args.seconds, args.conns, bare=kind == "bare")
    if args.server in ("bare", "both") and not args.no_scoring:
        over_http(args.policies, args.locations, args.rate, args.seconds, args.conns, bare=True, users=args.users)
    print(f"load average after: {load_avg()}")


if __name__ == "__main__":
    main()
