"""Backup and restore times of an analysed store, with a same-run baseline.

    .venv/bin/python bench/backup_restore.py --config demo/vigil.yaml [--repeat 3]

The store named by the settings must not be held by a running `vigil serve` (the backup reads
the file directly; through the service the store copy is the same statement). Each run writes a
backup and restores it into a new folder under a temporary directory. Printed per step: median
and max wall seconds over the runs, beside the baseline, a plain file copy of the store (what
copying a stopped store costs on this disk), and the sizes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from vigil.backup import restore_backup, verify_backup, write_backup
from vigil.settings import load_settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="settings of an analysed store (e.g. demo/vigil.yaml)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    settings = load_settings(args.config)
    store = Path(settings.store.path)
    times: dict[str, list[float]] = {"baseline: copy the store file": [], "backup (vigil backup)": [],
                                     "  of which the store snapshot": [], "verify (vigil restore --check)": [],
                                     "restore (vigil restore --into)": []}
    with tempfile.TemporaryDirectory(prefix="vigil-bench-backup-", dir=store.parent) as tmp:
        for i in range(args.repeat):
            t = time.perf_counter()
            shutil.copyfile(store, Path(tmp) / f"copy-{i}.duckdb")
            times["baseline: copy the store file"].append(time.perf_counter() - t)
            t = time.perf_counter()
            m = write_backup(settings, Path(tmp) / f"bk-{i}")
            times["backup (vigil backup)"].append(time.perf_counter() - t)
            times["  of which the store snapshot"].append(m["seconds"]["store"])
            t = time.perf_counter()
            verify_backup(Path(tmp) / f"bk-{i}")
            times["verify (vigil restore --check)"].append(time.perf_counter() - t)
            t = time.perf_counter()
            restore_backup(Path(tmp) / f"bk-{i}", Path(tmp) / f"restored-{i}")
            times["restore (vigil restore --into)"].append(time.perf_counter() - t)
    rows = sum(m["tables"].values())
    size = sum(f["bytes"] for f in m["files"].values())
    print(f"store {store} ({store.stat().st_size / 1e6:.1f} MB, {rows:,} rows in {len(m['tables'])} tables, "
          f"{(m.get('cae') or {}).get('revocations', 0)} revocations); backup {size / 1e6:.1f} MB; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'step':34} {'median s':>9} {'max s':>7}  (n={args.repeat})")
    for step, values in times.items():
        print(f"{step:34} {statistics.median(values):9.3f} {max(values):7.3f}")


if __name__ == "__main__":
    main()
