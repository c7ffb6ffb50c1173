"""What-if-over-history benchmark: replay time of a month of sign-ins, set-based vs per row.

    .venv/bin/python bench/policy_replay.py --db STORE --policies conditionalAccessPolicies.json \
        [--locations namedLocations.json] [--labels labels.jsonl]

The store is a simulated (or real) tenant with ``signins`` (and, when present, the enriched
view, IdentityInfo and vigil's risk tables), e.g.::

    vigil simulate --out sim --preset small --days 30
    vigil ingest sim/SigninLogs.json sim/AADNonInteractiveUserSignInLogs.json --db month.duckdb
    vigil directory ingest sim/users.json sim/groups.json --db month.duckdb

Printed: sign-ins, distinct combinations, replay wall time (median of --repeat runs), and the
same-run baseline: evaluating once per sign-in instead of once per combination (each
combination evaluated as many times as the sign-ins it stands for), which is what a per-row
engine does after the same SQL.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from vigil.policy.decision import load_policy_set
from vigil.policy.replay import _context, replay
from vigil.policy.replay_sql import combos_sql, inputs_available, users_directory
from vigil.store import open_store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--policies", nargs="+", required=True)
    ap.add_argument("--locations")
    ap.add_argument("--labels")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ps = load_policy_set(args.policies, args.locations)
    with open_store(args.db, read_only=True) as store:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            rep = replay(store, ps, labels=args.labels)
            times.append(time.perf_counter() - t)
        print(f"replay: {rep.signins} sign-ins of {rep.users} users, {rep.combinations} combinations, "
              f"{len(ps)} policies: median {statistics.median(times):.2f} s over {args.repeat} runs "
              f"({rep.signins / statistics.median(times):,.0f} sign-ins/s)")
        # baseline: the same grouped rows, evaluated once per sign-in they stand for
        avail = inputs_available(store)
        users_t, _ = users_directory(store, avail)
        if users_t is not None:
            store.con.register("_ca_users", users_t)
        ip_loc = None
        if any(p.conditions.locations is not None for p in ps.policies):
            from vigil.policy.replay import _ip_locations

            ip_loc = _ip_locations(store, ps)
            store.con.register("_ca_ip_loc", ip_loc)
        sql, _ = combos_sql(ps, avail, with_labels=False, with_ip_locations=ip_loc is not None,
                            with_users=users_t is not None)
        import orjson

        rows = store.con.sql(sql).to_arrow_table().to_pylist()
        for row in rows:
            for key in ("groups", "roles"):
                row[key] = orjson.loads(row[key]) if isinstance(row[key], str) else row[key]
        t = time.perf_counter()
        n = 0
        for row in rows:
            if not row["reached_ca"]:
                continue
            ctx = _context(row, ps)
            for _ in range(int(row["n"])):
                ps.evaluate(ctx, enforce_report_only=True)
                n += 1
        base = time.perf_counter() - t
        print(f"baseline, one evaluation per sign-in: {n} evaluations in {base:.2f} s "
              f"(evaluation alone, without the SQL); set-based replay is {base / statistics.median(times):.1f}x faster")


if __name__ == "__main__":
    main()
