"""Writing a backup: store snapshot, journal snapshot, keys, settings, then the manifest."""
from __future__ import annotations

import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from vigil.backup.manifest import FORMAT, JOURNAL, KEYS, SETTINGS, STORE, describe, write_manifest
from vigil.cae.service import keys_path, state_path
from vigil.errors import InputError, StoreError
from vigil.settings import Settings
from vigil.store import connect
from vigil.store.snapshot import snapshot_file, table_counts
from vigil.version import version


def backup_dir(settings: Settings) -> Path:
    """Where the service writes backups (an API caller names a folder in it, never a path)."""
    return Path(settings.service.backup_dir or Path(settings.store.path).resolve().parent / "backups")


def snapshot_staging(store_path: str | Path) -> Path:
    """The one folder `vigil serve`'s DuckDB instance may write files in (hunting relies on it reaching no
    other, docs/hunting.md): a backup's store copy is made there, then moved into the backup folder."""
    return Path(f"{Path(store_path).resolve()}.snapshot")


def staged(store_path: str | Path, copy: Callable[[Path], None]) -> Callable[[Path], None]:
    """A ``snapshot_store`` for :func:`write_backup` that runs ``copy(file)`` in the staging folder of the
    service holding ``store_path``, then moves the file to the backup's target."""
    def snapshot(target: Path) -> None:
        staging = snapshot_staging(store_path)
        staging.mkdir(mode=0o700, parents=True, exist_ok=True)
        made = staging / f"{uuid.uuid4().hex}.duckdb"
        try:
            copy(made)
            shutil.move(made, target)
        finally:
            made.unlink(missing_ok=True)
            made.with_name(made.name + ".wal").unlink(missing_ok=True)

    return snapshot


def _new_folder(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputError("backup target exists and is not an empty folder", path=str(dest))
    if not dest.parent.is_dir():
        raise InputError("folder does not exist", path=str(dest.parent))
    dest.mkdir(mode=0o700, exist_ok=True)  # keys and settings inside: owner only


def _snapshot_journal(src: Path, dest: Path) -> dict[str, int]:
    """SQLite's online backup: a consistent copy while other processes keep appending revocations."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30.0)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
            counts = {t: int(target.execute(f"select count(*) from {t}").fetchone()[0])
                      for t in ("revocations", "ssf_receivers", "ssf_outbox", "ssf_transmitters", "ssf_received")}
            counts["last_seq"] = int(target.execute("select coalesce(max(seq), 0) from revocations").fetchone()[0])
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot back up the CAE journal ({exc})", path=str(src)) from None
    finally:
        source.close()
    return counts


def write_backup(settings: Settings, dest: str | Path, *,
                 snapshot_store: Callable[[Path], None] | None = None) -> dict[str, Any]:
    """Back up into the new folder ``dest``; returns the manifest.

    ``snapshot_store(target)``: how the process holding the store (``vigil serve``) copies it;
    without it the store file is read directly (StoreBusy when another process holds it). The
    store is copied first, then the journal, so the journal is never older than the store.
    """
    dest = Path(dest)
    _new_folder(dest)
    t0 = time.perf_counter()
    files: dict[str, Any] = {}
    try:
        if snapshot_store is not None:
            snapshot_store(dest / STORE)
        else:
            snapshot_file(settings.store.path, dest / STORE)
        t_store = time.perf_counter() - t0
        tables = table_counts(dest / STORE)
        with connect(str(dest / STORE), read_only=True) as snap:
            rows = snap.execute("select value from vigil_meta where key = 'schema_version'").fetchall()
        cae: dict[str, int] | None = None
        journal, keys = Path(state_path(settings)), Path(keys_path(settings))
        if journal.is_file():
            cae = _snapshot_journal(journal, dest / JOURNAL)
        if keys.is_file():
            shutil.copyfile(keys, dest / KEYS)
            os.chmod(dest / KEYS, 0o600)
        (dest / SETTINGS).write_text(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False),
                                     encoding="utf-8")
        os.chmod(dest / SETTINGS, 0o600)  # may hold the webhook secret
        for name in (STORE, JOURNAL, KEYS, SETTINGS):
            if (dest / name).is_file():
                os.chmod(dest / name, 0o600)  # tokens' hashes, revocations, keys: owner only
                files[name] = describe(dest / name)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)  # never leave something that looks like a backup
        raise
    manifest = {
        "format": FORMAT, "vigil_version": version(), "schema_version": int(rows[0][0]) if rows else None,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": {"store": str(Path(settings.store.path).resolve()), "cae_state": str(journal.resolve()),
                   "cae_keys": str(keys.resolve())},
        "files": files, "tables": tables, "cae": cae,
        "seconds": {"store": round(t_store, 3), "total": round(time.perf_counter() - t0, 3)},
    }
    write_manifest(dest, manifest)
    return manifest
