"""Connectors against the local fake tenant: records/s per connector, and poll-to-visible latency.

    PYTHONPATH=src:. .venv/bin/python bench/connectors.py [--records 20000] [--latency-samples 5]

1. Throughput: the fake tenant (tests/connectors/fakes.py, HTTPS on 127.0.0.1) holds --records
   records per API; each connector does one poll into a fresh store with the documented maximum
   page sizes (Graph $top 1000, Okta limit 1000; O365 blobs of 100 records). Same-run baseline:
   `vigil ingest` of the very same records from a JSON-lines file (the adapters without HTTP).
2. Latency: `vigil serve` runs with Graph sign-ins and Okta polling every --interval seconds; a
   sign-in is added to the fake at t0 and `vigil query` (handed to the running service) is asked
   until the row is there. Expected: about half an interval plus one poll; the figure is measured.
The fake answers in microseconds; real APIs take 0.2-2 s per page, so real throughput is bound by
the vendor, and these figures are vigil's own cost.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

import orjson
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.connectors.fakes import FakeServer, seed, signin  # noqa: E402
from tests.connectors.conftest import SECRETS  # noqa: E402
from vigil.api.launch import free_port, wait_until_serving  # noqa: E402
from vigil.connectors import get  # noqa: E402
from vigil.settings import load_settings  # noqa: E402
from vigil.store import Store, open_store  # noqa: E402


def settings_for(fake: FakeServer, folder: Path, store: Path, **extra: object) -> tuple[Path, object]:
    data = fake.settings(store, graph={"page_size": 1000, "streams": ["signins", "directoryAudits"],
                                       "timeout_s": 60}, okta={"limit": 1000, "timeout_s": 60},
                         o365={"content_types": ["Audit.SharePoint"], "timeout_s": 60})
    for k, v in extra.items():
        data["connectors"][k].update(v)  # type: ignore[union-attr]
    cfg = folder / f"{store.stem}.yaml"
    cfg.write_text(yaml.safe_dump(data), encoding="utf-8")
    return cfg, load_settings(cfg, environ=SECRETS)


def throughput(fake: FakeServer, folder: Path, n: int) -> list[dict[str, object]]:
    rows = []
    for name, table, only in (("graph", "signins", ["signins"]), ("graph", "directory_events", ["directoryAudits"]),
                              ("okta", "signins", None), ("o365", "activities", None)):
        store_path = folder / f"{name}-{only[0] if only else 'all'}.duckdb"
        _, settings = settings_for(fake, folder, store_path)
        store = open_store(store_path)

        @contextmanager
        def writer(s: Store = store) -> Iterator[Store]:
            yield s

        conn = get(name, settings)
        t0 = time.perf_counter()
        results = conn.poll(writer, only=only, since=dt.datetime.utcnow() - dt.timedelta(days=2))
        secs = time.perf_counter() - t0
        stored = store.count(table)
        store.close()
        err = [r.error for r in results if r.error]
        rows.append({"connector": f"{name} {only[0] if only else 'logs/blobs'}", "records": stored,
                     "pages": sum(r.pages for r in results), "seconds": round(secs, 2),
                     "records_s": round(stored / secs), "error": err[0] if err else None})
    # baseline: the same sign-ins from a file
    path = folder / "signins.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in fake.tenant.signins))
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vigil", "ingest", "--db", str(folder / "file.duckdb"), str(path)],
                   env=env, check=True, capture_output=True)
    secs = time.perf_counter() - t0
    rows.append({"connector": "baseline: vigil ingest signins.jsonl (same records, process start included)",
                 "records": n, "pages": 0, "seconds": round(secs, 2), "records_s": round(n / secs), "error": None})
    return rows


def latency(fake: FakeServer, folder: Path, samples: int, interval: float, analyze: bool) -> list[float]:
    store = folder / f"live-{analyze}.duckdb"
    cfg, _ = settings_for(fake, folder, store, graph={"enabled": True, "interval_s": interval, "streams": ["signins"]},
                          okta={"enabled": True, "interval_s": interval})
    data = yaml.safe_load(cfg.read_text())
    data["connectors"]["analyze_after_batch"] = analyze
    cfg.write_text(yaml.safe_dump(data))
    env = {**os.environ, **SECRETS, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    env.pop("VIGIL_DB", None)
    port = free_port()
    log = folder / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "vigil", "serve", "--config", str(cfg), "--port", str(port),
                                 "--log-level", "warning"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", proc, log.read_text)
        time.sleep(interval * 2)  # the first polls (the seeded records) are done
        out_ = []
        for i in range(samples):
            rec = signin(100_000 + i, dt.datetime.utcnow())
            t0 = time.perf_counter()
            fake.tenant.signins.append(rec)
            while True:
                q = subprocess.run([sys.executable, "-m", "vigil", "query", "--config", str(cfg), "--json",
                                    f"select count(*) n from signins where source_record_id = '{rec['id']}'"],
                                   env=env, capture_output=True, text=True)
                if q.returncode == 0 and orjson.loads(q.stdout)[0]["n"] == 1:
                    break
                time.sleep(0.05)
            out_.append(time.perf_counter() - t0)
            time.sleep(interval * 0.37)  # land at different points of the interval
        return out_
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--latency-samples", type=int, default=5)
    ap.add_argument("--latency-records", type=int, default=300, help="records the latency tenant starts with")
    ap.add_argument("--interval", type=float, default=5.0, help="poll interval of the latency run (s)")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vigil-bench-connectors-"))
    (folder / "lat").mkdir()
    print(f"machine: {platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}; "
          f"load {os.getloadavg()[0]:.2f}")
    with FakeServer(folder) as fake:
        seed(fake.tenant, args.records)
        fake.tenant.okta.sort(key=lambda r: r["published"])
        for r in throughput(fake, folder, args.records):
            print(f"{r['connector']:<80} {r['records']:>7} records {r['pages']:>4} pages {r['seconds']:>7} s "
                  f"{r['records_s']:>7} records/s{'  ERROR ' + str(r['error']) if r['error'] else ''}")
    # latency on a tenant of --latency-records recent records (the throughput tenant would make every poll
    # re-read thousands of overlap records, which is a throughput figure, not a latency one)
    with FakeServer(folder / "lat") as fake:
        seed(fake.tenant, args.latency_records)
        for analyze in (False, True):
            lat = latency(fake, folder, args.latency_samples, args.interval, analyze)
            print(f"poll-to-visible in signins (interval {args.interval:g} s, analysis after batches "
                  f"{'on' if analyze else 'off'}, {len(lat)} sign-ins): median {statistics.median(lat):.2f} s, "
                  f"min {min(lat):.2f} s, max {max(lat):.2f} s")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
