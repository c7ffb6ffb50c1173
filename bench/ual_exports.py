"""Unified audit log exports: the same records as Management API NDJSON (baseline) and as the
Purview current CSV and the Search-UnifiedAuditLog Export-Csv layouts, ingested in the same run.

    .venv/bin/python bench/ual_exports.py [--records 100000] [--out bench/out]

The CSV layouts hold each record as a JSON string in the ``AuditData`` cell: the reader turns every row into
a JSON object, the engine parses the row and then the record in it and cross-checks the outer columns.
Each ingest runs in its own subprocess into a fresh store; prints seconds, records/s and the ratio to the
NDJSON baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sources.formats.ual_layouts import write_csv  # noqa: E402  (the layouts the tests use)

OPS = [(2, "Exchange", "MailItemsAccessed"), (1, "Exchange", "New-InboxRule"), (6, "SharePoint", "FileDownloaded"),
       (15, "AzureActiveDirectory", "UserLoggedIn"), (50, "Exchange", "MailItemsAccessed")]


def make_record(rng: random.Random, i: int) -> dict:
    rt, workload, op = rng.choice(OPS)
    ts = 1772442000 + i * 2
    user = f"user{rng.randrange(5000)}@contoso.com"
    rec = {"CreationTime": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)),
           "Id": str(uuid.UUID(int=rng.getrandbits(128))), "Operation": op,
           "OrganizationId": "11111111-2222-3333-4444-555555555555", "RecordType": rt, "ResultStatus": "Succeeded",
           "UserKey": str(uuid.UUID(int=rng.getrandbits(128))), "UserType": 0, "Version": 1, "Workload": workload,
           "UserId": user, "ClientIP": f"198.51.100.{rng.randrange(255)}",
           "AppAccessContext": {"AADSessionId": str(uuid.UUID(int=rng.getrandbits(128))),
                                "UniqueTokenId": f"uti-{rng.getrandbits(64):016x}",
                                "ClientAppId": "1fec8e78-bce4-4aaf-ab1b-5451cc387264"}}
    if op == "MailItemsAccessed":
        rec["Folders"] = [{"Path": "\\Inbox", "FolderItems": [{"InternetMessageId": f"<m{i}@contoso.com>"}] * 3}]
        rec["OperationProperties"] = [{"Name": "MailAccessType", "Value": "Bind"}]
    return rec


def run(path: Path, out: Path) -> float:
    db = out / f"{path.stem}.duckdb"
    for f in (db, db.with_suffix(".duckdb.wal")):
        f.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vigil", "ingest", str(path), "--db", str(db), "--json"], check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    records = [make_record(rng, i) for i in range(args.records)]
    api = args.out / "ual_api.ndjson"
    api.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records), encoding="utf-8")
    files = {"Management API NDJSON (baseline)": api,
             "Purview current CSV": write_csv(args.out / "ual_purview.csv", "purview_current", records),
             "Search-UnifiedAuditLog Export-Csv": write_csv(args.out / "ual_cmdlet.csv", "export_csv", records)}
    print(f"{args.records:,} records; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    base = None
    for name, path in files.items():
        secs = run(path, args.out)
        base = base or secs
        print(f"{name:36s} {path.stat().st_size / 1e6:7.1f} MB  {secs:6.1f} s  {args.records / secs:9,.0f} rec/s  "
              f"x{secs / base:.2f}")


if __name__ == "__main__":
    main()
