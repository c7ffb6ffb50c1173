"""Benchmark: enrichment + session stitching + travel + hijack findings over N canonical sign-ins.

Rows are generated vectorised inside DuckDB (no simulator): 100k users, each with a home
network, a managed device, ~8-hour sessions (interactive root, non-interactive refreshes), 5% of
events through corporate VPN gateways in other countries, 1% from a distant city, 0.1% from a
script. Locations come from the range table (no vendor coordinates). The geo range
table (1M IPv4 ranges, as if dumped from a City .mmdb) and the ASN range table (400k ranges) are
synthesised directly, since dumping a real mmdb is a one-time cost measured elsewhere (DB-IP Lite
City: 86 s, stack-evaluation §2). Prints each step's time, events/s, peak RSS, and a same-run
baseline (one ``lag()`` window over the same table) to compare machines.

    .venv/bin/python bench/sessions_throughput.py --rows 10000000 --db /tmp/vigil-bench.duckdb
"""
from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigil.enrich import iptable
from vigil.enrich import stage as enrich_stage
from vigil.enrich.tables import ENRICH_TABLES
from vigil.sessions import events, hijack, stitch, travel
from vigil.sessions.tables import SESSION_TABLES
from vigil.settings import load_settings
from vigil.store import Store, open_store

UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 "
    "Edg/120.0.0.0",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Mobile/15E148 Safari/604.1",
    "Outlook-iOS/709.2226530.prod.iphone (4.2350.0)",
    "python-requests/2.31.0",
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(store: Store, rows: int, users: int) -> None:
    con = store.con
    ua_list = "[" + ", ".join("'" + u.replace("'", "''") + "'" for u in UAS) + "]"
    # synthetic geo ranges: IPv4 1.0.0.0-223.255.255.255 cut in 1M ranges over 500 "cities"
    con.execute("DELETE FROM geo_ranges")
    con.execute("""
INSERT INTO geo_ranges
SELECT 4, 16777216 + r * 3741, 16777216 + r * 3741 + 3740, 'C' || (c % 90)::VARCHAR, NULL, 'city-' || c::VARCHAR,
       -50 + (c * 37 % 110)::DOUBLE, -170 + (c * 71 % 340)::DOUBLE, 20.0
FROM (SELECT range AS r, hash(range) % 500 AS c FROM range(1000000))""")
    con.execute("DELETE FROM asn_ranges")
    con.execute("""
INSERT INTO asn_ranges SELECT 4, 16777216 + r * 9352, 16777216 + r * 9352 + 9351, 1000 + (r % 60000)::INTEGER,
       'AS org ' || (r % 60000)::VARCHAR FROM range(400000) t(r)""")
    con.execute("DELETE FROM asn_names")
    con.execute("INSERT INTO asn_names SELECT asn, min(as_org) FROM asn_ranges GROUP BY asn")
    for name in ("geo_ranges", "asn_ranges"):
        con.execute("INSERT OR REPLACE INTO enrich_sources VALUES (?, 'none', 0, now())", [name])
    # sign-ins: user u, event n of the user; ~8 h sessions, first event of each interactive
    con.execute(f"""
INSERT INTO signins (event_id, event_time, source_format, source_table, source_record_id, tenant_id, user_id,
  user_principal_name, app_name, resource_name, is_interactive, result, mfa_satisfied, ip, country, city, latitude,
  longitude, device_id, device_os, device_managed, user_agent, session_id, unique_token_id, correlation_id,
  client_credential_type)
WITH g AS (
  SELECT i, i % {users} AS u, i // {users} AS n, hash(i) AS h FROM range({rows}) t(i)
), e AS (
  SELECT *, TIMESTAMP '2026-01-01' + to_seconds(n * 1800 + (hash(u) % 1800)::BIGINT) AS t,
         (h % 100) AS roll, 16777216 + (hash(u * 7) % 3700000000)::BIGINT AS home
  FROM g
)
SELECT substr(md5(i::VARCHAR), 1, 16), t, 'bench', 'AADNonInteractiveUserSignInLogs', i::VARCHAR, 't1',
  'u' || u::VARCHAR, 'user' || u::VARCHAR || '@contoso.com', 'Office', 'Exchange Online',
  n % 16 = 0, CASE WHEN roll < 97 THEN 'success' ELSE 'failure' END, roll < 90,
  CASE WHEN roll BETWEEN 90 AND 94 THEN '212.39.70.' || (64 + h % 30)::VARCHAR
       WHEN roll = 95 THEN ((home + 900000000) % 3700000000 // 16777216 + 1)::VARCHAR || '.'
                           || (home // 65536 % 256)::VARCHAR || '.' || (home // 256 % 256)::VARCHAR || '.9'
       ELSE (home // 16777216)::VARCHAR || '.' || (home // 65536 % 256)::VARCHAR || '.'
            || (home // 256 % 256)::VARCHAR || '.' || (1 + u % 200)::VARCHAR END,
  NULL, NULL, NULL, NULL,
  'dev-' || u::VARCHAR, 'Windows 10', u % 10 < 6,
  CASE WHEN h % 1000 = 0 THEN {ua_list}[7]
       WHEN u % 10 < 7 THEN {ua_list}[1 + (n % 3)]
       WHEN u % 10 < 9 THEN {ua_list}[4] ELSE {ua_list}[5 + n % 2] END,
  md5('s' || u::VARCHAR || '-' || (n // 16)::VARCHAR), md5('t' || i::VARCHAR), md5('c' || i::VARCHAR), 'none'
FROM e""")


def timed(label: str, fn: Callable[[], Any], results: list[tuple[str, float, Any]]) -> Any:
    started = time.perf_counter()
    out = fn()
    results.append((label, time.perf_counter() - started, out))
    print(f"  {label:<38} {results[-1][1]:8.2f} s   rss {rss_mb():7.0f} MB", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--db", default="/tmp/vigil-bench-sessions.duckdb")
    ap.add_argument("--memory-limit", default="3GB")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    for suffix in ("", ".wal"):
        Path(args.db + suffix).unlink(missing_ok=True)
    settings = load_settings(overrides={"store.path": args.db, "enrich.data_dir": str(Path(args.db).parent / "vd"),
                                        "enrich.named_locations": None}, environ={})
    settings.enrich.corporate_cidrs = ["212.39.70.64/27"]
    store = open_store(args.db, threads=args.threads, memory_limit=args.memory_limit)
    store.con.execute("SET enable_progress_bar = false")
    store.ensure(ENRICH_TABLES)
    store.ensure(SESSION_TABLES)
    print(f"load {os.getloadavg()[0]:.2f}; {args.rows:,} sign-ins, {args.users:,} users, threads={args.threads}, "
          f"memory_limit={args.memory_limit}", flush=True)
    res: list[tuple[str, float, Any]] = []
    timed("generate sign-ins (not timed below)", lambda: generate(store, args.rows, args.users), res)
    timed("baseline: lag() window over signins", lambda: store.con.execute(
        "SELECT count(*) FROM (SELECT lag(ip) OVER (PARTITION BY user_id ORDER BY event_time, event_id) AS p, ip "
        "FROM signins) WHERE p <> ip").fetchall(), res)
    es = settings.enrich
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("enrich: feeds", lambda: enrich_stage.load_feeds(store, es)),
        ("enrich: distinct IPs -> keys", lambda: iptable.distinct_ips(store, "_ips")),
        ("enrich: ASOF geo + ASN + feeds", lambda: iptable.ip_geo(store, "_ips", "_ipgeo")),
        ("enrich: egress learn + mark", lambda: enrich_stage.egress_step(store, es)),
        ("enrich: user agents (distinct)", lambda: enrich_stage.enrich_user_agents(store)),
        ("sessions: enriched event stream", lambda: events.build_events(store, "_ev")),
        ("sessions: stitch (links + inferred)", lambda: stitch.link(store, settings.sessions, "_ev")),
        ("sessions: hops", lambda: stitch.hops(store, "_ev")),
        ("sessions: sessions + roots", lambda: stitch.sessions(store, "_ev")),
        ("sessions: travel", lambda: travel.travel(store, settings.travel, "_ev")),
        ("sessions: hijack findings", lambda: hijack.hijacks(store, settings.sessions, "_ev")),
    ]
    for label, fn in steps:
        timed(label, fn, res)
    total = sum(t for label, t, _ in res if label.startswith(("enrich", "sessions")))
    print(f"\nenrich + sessions total: {total:.1f} s = {args.rows / total:,.0f} sign-ins/s end to end; "
          f"peak RSS {rss_mb():,.0f} MB; load now {os.getloadavg()[0]:.2f}")
    for label, t, out in res:
        print(f"  {label:<38} {args.rows / t:>12,.0f} events/s   {out if not isinstance(out, int) else f'{out:,}'}"
              if not label.startswith("generate") else f"  {label:<38} {t:.1f} s")
    counts = store.con.execute("SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM travel), "
                               "(SELECT count(*) FROM session_hops), (SELECT count(*) FROM session_hijacks)").fetchall()
    print("sessions, travel, hops, hijacks:", counts[0])
    store.close()


if __name__ == "__main__":
    main()
