"""Restoring a backup into a new folder, checked against its manifest."""
from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import yaml

from vigil.backup.manifest import JOURNAL, KEYS, SETTINGS, STORE, verify_backup
from vigil.errors import InputError, StoreError
from vigil.store import open_store
from vigil.store.migrate import MOVED
from vigil.store.schema import SCHEMA_VERSION
from vigil.store.snapshot import table_counts

#: names inside the restored folder (the store's stem is "vigil": CAE defaults sit beside it)
RESTORED = {STORE: "vigil.duckdb", JOURNAL: "vigil.cae.sqlite", KEYS: "vigil.cae-keys.json",
            SETTINGS: "vigil.yaml"}


def _check_counts(manifest: dict[str, Any], folder: Path) -> None:
    got = table_counts(folder / RESTORED[STORE])
    # a backup from an older schema was migrated on open: its raw tables changed shape, the rest must not
    skip = {"vigil_meta"}
    if manifest.get("schema_version") != SCHEMA_VERSION:
        skip |= {"raw_records", "raw_blocks"}
    for table, n in manifest.get("tables", {}).items():
        since, moved_to = MOVED.get(table, (0, table))
        if int(manifest.get("schema_version") or 0) < since:  # a step moved its rows to another table
            table = moved_to
        if table not in skip and got.get(table) != n:
            raise StoreError(f"restored table {table} has {got.get(table)} rows, the backup had {n}",
                             path=str(folder))
    cae = manifest.get("cae")
    if cae:
        con = sqlite3.connect(folder / RESTORED[JOURNAL])
        try:
            n = con.execute("select count(*) from revocations").fetchone()[0]
        finally:
            con.close()
        if n != cae["revocations"]:
            raise StoreError(f"restored journal has {n} revocations, the backup had {cae['revocations']}",
                             path=str(folder))


def restore_backup(src: str | Path, into: str | Path) -> dict[str, Any]:
    """Verify the backup at ``src`` and restore it into the new folder ``into``; returns a summary."""
    t0 = time.perf_counter()
    manifest = verify_backup(src)
    into = Path(into).resolve()
    if into.exists():
        raise InputError("restore target exists: restore into a new folder, then point vigil at it", path=str(into))
    if not into.parent.is_dir():
        raise InputError("folder does not exist", path=str(into.parent))
    tmp = into.with_name(f".{into.name}.restoring-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(mode=0o700)
    try:
        for name in manifest["files"]:
            if name != SETTINGS:
                shutil.copyfile(Path(src) / name, tmp / RESTORED[name])
        if (tmp / RESTORED[KEYS]).exists():
            os.chmod(tmp / RESTORED[KEYS], 0o600)
        settings = yaml.safe_load((Path(src) / SETTINGS).read_text(encoding="utf-8")) or {}
        settings.setdefault("store", {})["path"] = str(into / RESTORED[STORE])
        cae = settings.setdefault("cae", {})
        cae["state_path"], cae["keys_path"] = str(into / RESTORED[JOURNAL]), str(into / RESTORED[KEYS])
        settings.setdefault("service", {})["backup_dir"] = None
        (tmp / RESTORED[SETTINGS]).write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        os.chmod(tmp / RESTORED[SETTINGS], 0o600)
        with open_store(tmp / RESTORED[STORE]):  # migrates a backup taken by an older vigil
            pass
        _check_counts(manifest, tmp)
        tmp.rename(into)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"restored": str(into), "config": str(into / RESTORED[SETTINGS]), "from": str(src),
            "vigil_version": manifest["vigil_version"], "schema_version": manifest["schema_version"],
            "tables": len(manifest.get("tables", {})), "rows": sum(manifest.get("tables", {}).values()),
            "revocations": (manifest.get("cae") or {}).get("revocations", 0),
            "seconds": round(time.perf_counter() - t0, 3)}
