"""Benchmark: BehaviorAnalytics for N events and U users, then median hunting-query latency.

Canonical rows are generated vectorised inside DuckDB (hash-based pseudo-random columns), so
generation is not part of the timed path. Prints the figures and a same-run baseline (a
plain group-by scan of the same events), as docs/benchmarks.md records.

    .venv/bin/python bench/ueba_throughput.py --events 10000000 --users 10000 --days 30
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from vigil.hunt import run_hunt
from vigil.settings import load_settings
from vigil.store import open_store
from vigil.ueba import stage
from vigil.ueba.directory import build_identity_info
from vigil.ueba.tables import UEBA_TABLES

COUNTRIES = ["US", "GB", "DE", "FR", "NL", "JP", "BR", "IN", "CA", "AU"]
APPS = [f"App {i}" for i in range(20)]
OPS = ["MailItemsAccessed", "FileAccessed", "FileDownloaded", "Send", "SharingSet", "New-InboxRule"]

HUNTS = {
    "reference": """BehaviorAnalytics
| where TimeGenerated >= ago(24h)
| where ActivityInsights.FirstTimeUserConnectedFromDevice == true
| where ActivityInsights.FirstTimeUserConnectedFromCountry == true
| where ActivityInsights.CountryUncommonlyConnectedFromAmongPeers == true
| extend User = tostring(UsersInsights.AccountDisplayName)
| extend Application = tostring(ActivityInsights.App)
| extend DeviceInsights = extract(@'UserAgentFamily\\":\\"([^\\"]+)\\"', 1,tostring(DevicesInsights))
| summarize by User, UserName, UserPrincipalName, SourceIPLocation, Application, SourceDevice, ActionType, DeviceInsights""",
    "failures_by_hour": "SigninLogs | where ResultType != '0' | summarize n = count() by bin(TimeGenerated, 1h)",
    "top_priority_join": ("BehaviorAnalytics | where InvestigationPriority >= 7 | join kind=inner "
                          "(IdentityInfo | project AccountUPN, Department) on $left.UserPrincipalName == "
                          "$right.AccountUPN | summarize n = count() by Department"),
    "dcount_countries": "SigninLogs | summarize c = dcount(Location) by UserPrincipalName | where c > 2 | count",
}


def generate(con, events: int, users: int, days: int) -> None:  # type: ignore[no-untyped-def]
    n_sign = int(events * 0.8)
    countries = "[" + ", ".join(f"'{c}'" for c in COUNTRIES) + "]"
    apps = "[" + ", ".join(f"'{a}'" for a in APPS) + "]"
    ops = "[" + ", ".join(f"'{o}'" for o in OPS) + "]"
    # user u belongs to department u % 50 (home country, ISP); 1 % of events roam
    con.execute(f"""
    INSERT INTO signins (event_id, event_time, source_format, source_table, source_record_id, user_id,
        user_principal_name, user_display_name, app_name, resource_name, is_interactive, result, result_code,
        ip, country, asn, device_id, device_name, device_os, device_browser)
    SELECT lpad(to_hex(k), 16, '0'), TIMESTAMP '2026-01-01' + to_seconds((k % {days}) * 86400
               + (hash(k, 'sec') % 86400)::BIGINT),
           'bench', 'SigninLogs', k::VARCHAR, 'uid-' || u, 'user' || u || '@bench.com', 'User ' || u,
           {apps}[1 + (u + (hash(k, 'app') % 3)::BIGINT) % 20], 'Office 365 Exchange Online', true,
           CASE WHEN hash(k, 'fail') % 50 = 0 THEN 'failure' ELSE 'success' END,
           CASE WHEN hash(k, 'fail') % 50 = 0 THEN '50126' ELSE '0' END,
           '203.0.' || (u % 250) || '.' || (u % 200),
           CASE WHEN roam THEN {countries}[1 + (hash(k, 'c') % 10)::BIGINT] ELSE {countries}[1 + (u % 50) % 10] END,
           CASE WHEN roam THEN 64500 + (hash(k, 'a') % 30)::BIGINT ELSE 64000 + u % 50 END,
           CASE WHEN hash(k, 'dev') % 100 = 0 THEN 'dev-x' || (hash(k, 'd') % 1000) ELSE 'dev-' || u END,
           'HOST-' || u, 'Windows 10', 'Chrome 120.0'
    FROM (SELECT range AS k, (hash(range, 'user') % {users})::BIGINT AS u, hash(range, 'roam') % 100 = 0 AS roam
          FROM range({n_sign}))""")
    con.execute(f"""
    INSERT INTO activities (event_id, event_time, source_format, source_table, source_record_id, user_id,
        user_principal_name, workload, operation, ip, country)
    SELECT lpad(to_hex(k), 16, '0'), TIMESTAMP '2026-01-01' + to_seconds((k % {days}) * 86400
               + (hash(k, 'sec') % 86400)::BIGINT),
           'bench', 'OfficeActivity', k::VARCHAR, 'uid-' || u, 'user' || u || '@bench.com',
           CASE WHEN k % 2 = 0 THEN 'Exchange' ELSE 'SharePoint' END, {ops}[1 + (hash(k, 'op') % 6)::BIGINT],
           '203.0.' || (u % 250) || '.' || (u % 200), {countries}[1 + (u % 50) % 10]
    FROM (SELECT range + {n_sign} AS k, (hash(range + {n_sign}, 'user') % {users})::BIGINT AS u
          FROM range({events - n_sign}))""")
    # 20 compromised accounts: on the last day, one sign-in from a new country, ISP and device
    con.execute(f"""
    INSERT INTO signins (event_id, event_time, source_format, source_table, source_record_id, user_id,
        user_principal_name, user_display_name, app_name, resource_name, is_interactive, result, result_code,
        ip, country, asn, device_id, device_name, device_os, device_browser)
    SELECT 'attack' || u, TIMESTAMP '2026-01-01' + to_seconds(({days} - 1) * 86400 + 43200), 'bench', 'SigninLogs',
           'attack' || u, 'uid-' || u, 'user' || u || '@bench.com', 'User ' || u, {apps}[1 + u % 20],
           'Office 365 Exchange Online', true, 'success', '0', '198.51.100.' || u, 'KP', 4134,
           'dev-attacker-' || u, 'ATTACKER', 'Linux', 'Firefox 115.0'
    FROM range(20) t(u)""")
    # directory: 50 departments, project groups of 5, everyone (too big to weigh: skipped)
    con.execute(f"""
    INSERT INTO directory_users (user_key, object_id, upn, display_name, department, created, change_source,
        source_file, observed_at, account_enabled, manager)
    SELECT 'uid-' || u, 'uid-' || u, 'user' || u || '@bench.com', 'User ' || u, 'dept' || (u % 50),
           TIMESTAMP '2024-01-01', 'CSV', 'bench', now()::TIMESTAMP, true,
           CASE WHEN u >= 50 THEN 'uid-' || (u % 50) END
    FROM range({users}) t(u)""")
    con.execute(f"""
    INSERT INTO directory_memberships (group_id, group_name, kind, member_key, source_file)
    SELECT 'dept' || (u % 50), 'dept' || (u % 50), 'group', 'uid-' || u, 'bench' FROM range({users}) t(u)
    UNION ALL SELECT 'proj' || (u // 5), 'proj' || (u // 5), 'group', 'uid-' || u, 'bench' FROM range({users}) t(u)
    UNION ALL SELECT 'everyone', 'everyone', 'group', 'uid-' || u, 'bench' FROM range({users}) t(u)""")


class _Timed:
    """The store's connection with each statement's CPU seconds (all DuckDB threads) recorded (``--profile``)."""

    def __init__(self, con: Any) -> None:
        self._con, self.spent = con, []  # type: ignore[var-annotated]

    def execute(self, sql: str, *args: Any) -> Any:
        t0 = time.process_time()
        out = self._con.execute(sql, *args)
        self.spent.append((time.process_time() - t0, " ".join(sql.split())[:90]))
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def output_hash(store: Any) -> str:
    """md5 of every BehaviorAnalytics column as a hunt reads it (the JSON bags as text), but the run's clock."""
    cols = [r[0] for r in store.rows("SELECT column_name FROM duckdb_columns() WHERE table_name = 'BehaviorAnalytics' "
                                     "AND column_name <> 'TimeProcessed' ORDER BY column_index")]
    row = " || '|' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '~')" for c in cols)
    digest = hashlib.md5()
    for (text,) in store.con.execute(f"SELECT {row} FROM BehaviorAnalytics ORDER BY SourceRecordId").fetchall():
        digest.update(text.encode() + b"\n")
    return digest.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=5, help="runs per hunting query")
    ap.add_argument("--db", default=None, help="store path (default: a temporary file)")
    ap.add_argument("--profile", type=int, default=0, help="print the N costliest statements of the full stage")
    args = ap.parse_args()
    path = Path(args.db or tempfile.mkdtemp(prefix="vigil-bench-")) / "bench.duckdb" if not args.db else Path(args.db)
    settings = load_settings(overrides={"store.path": str(path)}, environ={})
    store = open_store(str(path), memory_limit=settings.store.memory_limit)
    store.ensure(UEBA_TABLES)
    t0 = time.perf_counter()
    generate(store.con, args.events, args.users, args.days)
    build_identity_info(store)
    gen_s = time.perf_counter() - t0
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"generated {args.events:,} events ({args.users:,} users, {args.days} days) in {gen_s:.1f} s")

    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    t0, c0 = time.perf_counter(), time.process_time()
    store.con.sql("SELECT user_principal_name, CAST(event_time AS DATE) AS d, count(*), count(DISTINCT country) "
                  "FROM (SELECT user_principal_name, event_time, country FROM signins UNION ALL "
                  "SELECT user_principal_name, event_time, country FROM activities) GROUP BY ALL").fetchall()
    base_s, base_c = time.perf_counter() - t0, time.process_time() - c0
    print(f"baseline: group-by scan of all events: {base_s:.2f} s ({args.events / base_s:,.0f} events/s), "
          f"{base_c:.2f} CPU s ({args.events / base_c:,.0f} events per CPU s)")

    timed = _Timed(store.con)
    if args.profile:
        store.con = timed  # type: ignore[assignment]
    t0, c0 = time.perf_counter(), time.process_time()
    summary = stage.run(store, settings, full=True)
    ueba_s, ueba_c = time.perf_counter() - t0, time.process_time() - c0
    store.con = timed._con
    print(f"ueba stage (IdentityInfo + peers + BehaviorAnalytics, full): {ueba_s:.1f} s "
          f"-> {args.events / ueba_s:,.0f} events/s; {ueba_c:.1f} CPU s -> {args.events / ueba_c:,.0f} events per "
          f"CPU s; rows={summary['behavior_rows']:,}, priority>=7: {summary['high_priority_rows']:,}, "
          f"peers={summary['peer_rows']:,}; load average now {os.getloadavg()[0]:.1f}")
    for cpu, sql in sorted(timed.spent, reverse=True)[:args.profile]:
        print(f"  {cpu:7.2f} CPU s  {sql}")
    print(f"BehaviorAnalytics as read: md5 {output_hash(store)}")

    # incremental: one more day of events (the last day's sign-ins and activities, a day later)
    last = store.con.sql("SELECT max(event_time) FROM signins").fetchall()[0][0]
    for table in ("signins", "activities"):
        store.con.execute(f"""
            INSERT INTO {table} SELECT * REPLACE (event_id || 'n' AS event_id,
                event_time + INTERVAL 1 DAY AS event_time, source_record_id || 'n' AS source_record_id)
            FROM {table} WHERE date_trunc('day', event_time) = date_trunc('day', ?::TIMESTAMP)""", [last])
    new = store.con.sql("SELECT (SELECT count(*) FROM signins WHERE event_id LIKE '%n') + "
                        "(SELECT count(*) FROM activities WHERE event_id LIKE '%n')").fetchall()[0][0]
    t0, c0 = time.perf_counter(), time.process_time()
    inc = stage.run(store, settings)
    inc_s, inc_c = time.perf_counter() - t0, time.process_time() - c0
    print(f"incremental day: {new:,} new events in {inc_s:.1f} s, {inc_c:.1f} CPU s ({inc['behavior_mode']}, "
          f"{inc['behavior_rows_written']:,} rows written)")

    # hunt as of the end of the original period, when the 20 injected sign-ins are within ago(24h)
    now = (last if isinstance(last, datetime) else datetime.fromisoformat(str(last))).replace(hour=23, minute=59)
    for name, kql in HUNTS.items():
        times, cpus = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            rows = run_hunt(store, kql, now=now).num_rows
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        print(f"hunt {name}: median {statistics.median(times) * 1000:.0f} ms, {statistics.median(cpus) * 1000:.0f} "
              f"CPU ms over {args.repeat} runs ({rows} rows)")
    store.close()


if __name__ == "__main__":
    main()
