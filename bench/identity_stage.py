"""Benchmark: the identity stage (accounts, aliases, links, persons, event identities) over N events.

Rows are generated vectorised inside DuckDB: U Entra users signing in (object id + UPN), 2% of them
renamed half-way through (a new UPN from then on), Office 365 records carrying only the UPN (a third
of the events, resolved by alias at their time), and 10% of the users also at Okta under the same
login (linked). Prints the stage's time, events/s, what it found, and a same-run baseline (one
``lag()`` window over the sign-ins) to compare machines.

    .venv/bin/python bench/identity_stage.py --rows 3000000 --users 20000 --db /tmp/vigil-identity.duckdb
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from vigil.identity import stage
from vigil.store import Store, open_store


def generate(store: Store, rows: int, users: int) -> None:
    con = store.con
    oid = "lpad(to_hex(u), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(u), 12, '0')"
    upn = ("CASE WHEN u % 50 = 0 AND n > {half} THEN 'user' || u || '.new@contoso.com' "
           "ELSE 'user' || u || '@contoso.com' END").format(half=rows // users // 2)
    base = f"""
WITH g AS (SELECT i, i % {users} AS u, i // {users} AS n FROM range({rows}) t(i))
SELECT i, u, n, TIMESTAMP '2026-01-01' + to_seconds(n * 900 + (hash(u) % 900)::BIGINT) AS t, {oid} AS oid,
  {upn} AS upn FROM g"""
    con.execute(f"""
INSERT INTO signins (event_id, event_time, source_format, source_record_id, user_id, user_principal_name,
  user_display_name, result)
SELECT substr(md5(i::VARCHAR), 1, 16), t,
  CASE WHEN u % 10 = 0 AND i % 7 = 0 THEN 'okta_system' ELSE 'entra_signin_la' END, i::VARCHAR,
  CASE WHEN u % 10 = 0 AND i % 7 = 0 THEN '00u' || u ELSE oid END, upn, 'User ' || u, 'success'
FROM ({base}) x WHERE hash(i) % 3 <> 0""")
    con.execute(f"""
INSERT INTO activities (event_id, event_time, source_format, source_record_id, user_id, user_principal_name,
  operation)
SELECT substr(md5('a' || i::VARCHAR), 1, 16), t, 'o365_management_api', i::VARCHAR, '10032000' || u, upn,
  'FileAccessed'
FROM ({base}) x WHERE hash(i) % 3 = 0""")


def baseline(store: Store) -> float:
    started = time.perf_counter()
    store.con.execute("""CREATE OR REPLACE TEMP TABLE _b AS SELECT event_id, lag(event_time) OVER (
        PARTITION BY user_principal_name ORDER BY event_time, event_id) AS prev FROM signins""")
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--db", default="/tmp/vigil-identity-bench.duckdb")
    args = ap.parse_args()
    for suffix in ("", ".wal"):
        Path(args.db + suffix).unlink(missing_ok=True)
    store = open_store(args.db)
    try:
        generate(store, args.rows, args.users)
        base = baseline(store)
        started = time.perf_counter()
        out = stage.rebuild(store)
        took = time.perf_counter() - started
        again = time.perf_counter()
        stage.rebuild(store)
        took2 = time.perf_counter() - again
        print(f"events: {args.rows:,} ({args.users:,} users), load: {os.getloadavg()[0]:.2f}")
        print(f"identity stage: {took:.2f} s ({args.rows / took:,.0f} events/s); again: {took2:.2f} s")
        print(f"found: {out['identities']:,} identities, {out['persons']:,} persons, {out['renamed']:,} renamed, "
              f"links {out['links']}, events resolved by {out['events_resolved_by']}")
        print(f"baseline (one lag() window over the sign-ins): {base:.2f} s; stage / baseline: {took / base:.1f}x")
    finally:
        store.close()


if __name__ == "__main__":
    main()
