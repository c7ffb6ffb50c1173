"""Ingest throughput: vigil's ingest vs DuckDB's own read_json on the same file, same run.

    .venv/bin/python bench/ingest_throughput.py [--records 1000000] [--files 1] [--workers 2] [--out bench/out]

Writes (once, reused when present) an NDJSON file of Entra ``SigninLogs`` records exported
from Log Analytics (about 5 KB each, varied users, IPs, devices, 6 conditional-access
policy results), or ``--files N`` files sharing the records between them, then, each in its own
subprocess so peak RSS and CPU time are its own:

1. baseline: ``CREATE TABLE AS SELECT * FROM read_json(files)`` in DuckDB (parse + materialise);
2. vigil: ``ingest_paths`` of the files into a fresh store file (parse, map, validate, de-duplicate,
   store raw), once per ``--workers`` value (``ingest.map_workers``: 0 maps inside each batch's
   transaction, one file at a time; N maps up to N files ahead in worker threads; e.g. ``--workers 0,2``).

Prints wall seconds, CPU seconds (user + system), MB/s, records/s, peak RSS and each run's ratio to
read_json, with the load average before and after.
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

import orjson

ROOT = Path(__file__).resolve().parents[1]

APPS = [("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
        ("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online"),
        ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
        ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal"),
        ("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome")]
UAS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{v} Safari/605.1.15",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
       "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.{v}; Pro)"]
CITIES = [("GB", "England", "London", 51.5072, -0.1276), ("BG", "Sofia City", "Sofia", 42.6977, 23.3219),
          ("BR", "Sao Paulo", "Sao Paulo", -23.5505, -46.6333), ("US", "Washington", "Seattle", 47.6062, -122.3321),
          ("DE", "Hessen", "Frankfurt", 50.1109, 8.6821), ("IN", "Telangana", "Hyderabad", 17.385, 78.4867)]


def make_record(rng: random.Random, i: int) -> dict:
    ts = 1767600000 + i * 3 + rng.randrange(3)
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{rng.randrange(10**7):07d}Z"
    user = rng.randrange(10000)
    app_id, app = rng.choice(APPS)
    cc, st, city, lat, lon = rng.choice(CITIES)
    ok = rng.random() < 0.93
    rid = str(uuid.UUID(int=rng.getrandbits(128)))
    sid = str(uuid.UUID(int=(user << 64) | (ts // 28800)))
    return {
        "TenantId": "4bbb79f7-5724-4c9e-95f3-de075f6ec090", "SourceSystem": "Azure AD", "TimeGenerated": t,
        "ResourceId": "/tenants/4bbb79f7-5724-4c9e-95f3-de075f6ec090/providers/Microsoft.aadiam",
        "OperationName": "Sign-in activity", "OperationVersion": "1.0", "Category": "SignInLogs",
        "ResultType": "0" if ok else rng.choice(["50126", "50074", "500121", "50140"]), "ResultSignature": "None",
        "ResultDescription": "" if ok else "Invalid username or password or Invalid on-premise username or password.",
        "DurationMs": 0, "CorrelationId": str(uuid.UUID(int=rng.getrandbits(128))), "Resource": "Microsoft.aadiam",
        "ResourceGroup": "Microsoft.aadiam", "Identity": f"User {user}", "Level": "4", "Location": cc,
        "AlternateSignInName": f"user{user}@contoso.com", "AppDisplayName": app, "AppId": app_id,
        "AuthenticationDetails": [
            {"authenticationStepDateTime": t, "authenticationMethod": "Password",
             "authenticationMethodDetail": "Password in the cloud", "succeeded": ok,
             "authenticationStepResultDetail": "Correct password" if ok else "Invalid username or password",
             "authenticationStepRequirement": "Primary authentication", "StatusSequence": 0, "RequestSequence": 1},
            {"authenticationStepDateTime": t, "authenticationMethod": "Mobile app notification",
             "authenticationMethodDetail": "Microsoft Authenticator", "succeeded": ok,
             "authenticationStepResultDetail": "MFA successfully completed", "StatusSequence": 0,
             "authenticationStepRequirement": "Secondary authentication", "RequestSequence": 2}],
        "AuthenticationMethodsUsed": "", "AuthenticationProcessingDetails": [
            {"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"}, {"key": "Is CAE Token", "value": "False"},
            {"key": "Oauth Scope Info", "value": "[\"openid\",\"profile\",\"email\",\"offline_access\"]"}],
        "AuthenticationRequirement": rng.choice(["multiFactorAuthentication", "singleFactorAuthentication"]),
        "AuthenticationRequirementPolicies": [{"requirementProvider": "multiConditionalAccess",
                                               "detail": "Conditional Access"}],
        "ClientAppUsed": rng.choice(["Browser", "Mobile Apps and Desktop clients"]),
        "ConditionalAccessPolicies": [
            {"id": str(uuid.UUID(int=k + 1)), "displayName": f"CA{k:03d} - Require MFA for admins and risky sign-ins",
             "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": ["SignInFrequency"],
             "result": rng.choice(["success", "notApplied", "reportOnlyNotApplied"]),
             "conditionsSatisfied": 3, "conditionsNotSatisfied": 0,
             "includeRulesSatisfied": [{"conditionalAccessCondition": "application", "ruleSatisfied": "allApps"}],
             "excludeRulesSatisfied": []} for k in range(6)],
        "ConditionalAccessStatus": "success", "CreatedDateTime": t,
        "DeviceDetail": {"deviceId": str(uuid.UUID(int=user)) if user % 3 else "", "displayName": f"LAPTOP-{user:05d}",
                         "operatingSystem": rng.choice(["Windows 10", "MacOs", "Ios"]), "browser": "Chrome 120.0.0",
                         "isCompliant": user % 3 != 0, "isManaged": user % 3 != 0, "trustType": "Azure AD joined"},
        "IsInteractive": True, "Id": rid, "IPAddress": f"{81 + user % 50}.{user % 250}.{rng.randrange(250)}.{rng.randrange(250)}",
        "IsRisky": False,
        "LocationDetails": {"city": city, "state": st, "countryOrRegion": cc,
                            "geoCoordinates": {"latitude": lat + rng.random() / 10, "longitude": lon + rng.random() / 10}},
        "MfaDetail": {"authMethod": "Mobile app notification", "authDetail": "Notification approved"},
        "NetworkLocationDetails": [], "OriginalRequestId": rid, "ProcessingTimeInMilliseconds": str(rng.randrange(400)),
        "RiskDetail": "none", "RiskEventTypes": "[]", "RiskEventTypes_V2": "[]", "RiskLevelAggregated": "none",
        "RiskLevelDuringSignIn": "none", "RiskState": "none", "ResourceDisplayName": app, "ResourceIdentity": app_id,
        "ServicePrincipalId": "", "Status": {"errorCode": 0} if ok else {"errorCode": 50126,
                                                                         "failureReason": "Invalid username or password"},
        "TokenIssuerName": "", "TokenIssuerType": "AzureAD",
        "UserAgent": rng.choice(UAS).format(v=rng.randrange(100, 130)), "UserDisplayName": f"User {user}",
        "UserId": str(uuid.UUID(int=user)), "UserPrincipalName": f"User{user}@contoso.com", "UserType": "Member",
        "AutonomousSystemNumber": 5089 + user % 40, "SessionId": sid,
        "UniqueTokenIdentifier": uuid.UUID(int=rng.getrandbits(128)).hex[:22], "IncomingTokenType": "none",
        "AuthenticationProtocol": "none", "Type": "SigninLogs",
    }


def generate(path: Path, n: int) -> None:
    rng = random.Random(7)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb", buffering=16 << 20) as f:
        for i in range(n):
            f.write(orjson.dumps(make_record(rng, i)) + b"\n")
    tmp.rename(path)


def run_child(code: str) -> tuple[float, float, int, str]:
    """Run python code in a child; return (seconds, CPU seconds, the child's own peak RSS in bytes, stdout).

    The child prints its own peak RSS (VmHWM) and CPU time last. Not ru_maxrss: Linux carries the forked copy
    of this process's memory into it at exec, so a child would report at least the generator's size; and
    RUSAGE_CHILDREN would be a running max over all children."""
    t0 = time.perf_counter()
    wrapped = code + ("; import resource; u = resource.getrusage(resource.RUSAGE_SELF); "
                      "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]; "
                      "print('RSS', hwm, u.ru_utime + u.ru_stime)")
    out = subprocess.run([sys.executable, "-c", wrapped], check=True, capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    secs = time.perf_counter() - t0
    lines = out.stdout.strip().splitlines()
    _, rss, cpu = lines[-1].split()
    return secs, float(cpu), int(rss) * 1024, "\n".join(lines[:-1])


def split(data: Path, n: int) -> list[Path]:
    """``data``'s records dealt into ``n`` files (whole lines, in order), made once."""
    if n == 1:
        return [data]
    parts = [data.with_name(f"{data.stem}.part{k + 1}of{n}.json") for k in range(n)]
    if not all(p.exists() for p in parts):
        lines = data.read_bytes().splitlines(keepends=True)
        per = -(-len(lines) // n)
        for k, p in enumerate(parts):
            p.write_bytes(b"".join(lines[k * per:(k + 1) * per]))
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=1, help="share the records between this many files")
    ap.add_argument("--workers", default="2", help="ingest.map_workers values to run, comma-separated (e.g. 0,2)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / f"SigninLogs-{args.records}.json"
    if not data.exists():
        t0 = time.perf_counter()
        generate(data, args.records)
        print(f"generated {data} in {time.perf_counter() - t0:.1f} s")
    files = split(data, args.files)
    size = sum(f.stat().st_size for f in files)
    print(f"{len(files)} file(s) of {data.name}: {args.records:,} records  {size / 1e9:.2f} GB  "
          f"({size / args.records / 1e3:.1f} KB/record)")
    load_before = os.getloadavg()

    names = [str(f) for f in files]
    base_sql = f"CREATE TABLE t AS SELECT * FROM read_json({names!r}, format='newline_delimited')"
    base_code = (
        "import duckdb; c = duckdb.connect(); c.execute('SET enable_progress_bar = false'); "
        f"c.execute({base_sql!r}); print(c.execute('select count(*) from t').fetchall()[0][0])"
    )
    db = args.out / "bench-ingest.duckdb"
    b_secs, b_cpu, b_rss, b_out = run_child(base_code)
    rows = [("DuckDB read_json (baseline)", b_secs, b_cpu, b_rss, int(b_out.strip()))]
    for workers in (int(w) for w in args.workers.split(",")):
        for p in (db, Path(str(db) + ".wal")):
            if p.exists():
                p.unlink()
        vigil_code = (
            "from vigil.settings import load_settings; from vigil.store import open_store; "
            "from vigil.sources.ingest import ingest_paths; import json; "
            f"s = load_settings(overrides={{'store.path': '{db}', 'ingest.map_workers': {workers}}}, environ={{}}); "
            f"st = open_store(s.store.path); r = ingest_paths(st, {names!r}, s); st.close(); "
            "print(json.dumps([x.as_dict() for x in r]))"
        )
        v_secs, v_cpu, v_rss, v_out = run_child(vigil_code)
        result = json.loads(v_out.strip().splitlines()[-1])
        assert all(r["read"] == r["stored"] + r["duplicate"] + r["quarantined"] and not r["error"] for r in result)
        rows.append((f"vigil ingest, map_workers={workers}", v_secs, v_cpu, v_rss, sum(r["stored"] for r in result)))
    for p in (db, Path(str(db) + ".wal")):
        if p.exists():
            p.unlink()
    load_after = os.getloadavg()
    ram = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {ram:.0f} GiB, Python {platform.python_version()}; "
          f"load average {load_before[0]:.1f} -> {load_after[0]:.1f}")
    print(f"{'':32} {'seconds':>8} {'CPU s':>7} {'MB/s':>7} {'records/s':>10} {'peak RSS':>9} {'rows':>9} "
          f"{'x read_json (wall, CPU)':>24}")
    for name, secs, cpu, rss, n in rows:
        print(f"{name:32} {secs:8.1f} {cpu:7.1f} {size / 1e6 / secs:7.1f} {args.records / secs:10,.0f} "
              f"{rss / 2**30:7.2f} GB {n:9,} {b_secs / secs:11.2f} {b_cpu / cpu:11.2f}")


if __name__ == "__main__":
    main()
