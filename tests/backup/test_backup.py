"""Backup and restore of a quiet deployment; refusal of partial, corrupt and misplaced backups."""
from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES
from vigil.backup import restore_backup, verify_backup, write_backup
from vigil.backup.manifest import MANIFEST
from vigil.cae.events import new_event
from vigil.cae.service import CaeService
from vigil.errors import InputError
from vigil.settings import Settings, load_settings
from vigil.store import open_store
from vigil.store.snapshot import StoreBusy, table_counts


@pytest.fixture
def deployment(tmp_path: Path) -> Settings:
    """The previous release's store (migrated), a journal with revocations and SETs, keys, settings."""
    db = tmp_path / "live" / "vigil.duckdb"
    db.parent.mkdir()
    with gzip.open(FIXTURES / "store" / "v1-store.duckdb.gz") as src, db.open("wb") as out:
        shutil.copyfileobj(src, out)
    settings = load_settings(overrides={"store.path": str(db)}, environ={})
    open_store(db).close()
    svc = CaeService(settings)
    svc.transmitter.create_stream({"delivery": {"method": "urn:ietf:rfc:8936"}}, base_url="http://x")
    svc.record([new_event("user_disabled", subject=f"user{i}@example.com", source="cli") for i in range(5)])
    svc.close()
    return settings


def test_backup_then_restore_gives_the_same_deployment(deployment: Settings, tmp_path: Path) -> None:
    m = write_backup(deployment, tmp_path / "bk")
    assert set(m["files"]) == {"store.duckdb", "cae.sqlite", "cae-keys.json", "settings.yaml"}
    assert m["cae"]["revocations"] == 5 and m["cae"]["ssf_outbox"] == 5
    assert all((tmp_path / "bk" / f).stat().st_mode & 0o077 == 0 for f in m["files"])
    assert verify_backup(tmp_path / "bk") == m
    result = restore_backup(tmp_path / "bk", tmp_path / "restored")
    restored = load_settings(result["config"], environ={})
    assert table_counts(Path(restored.store.path)) == table_counts(Path(deployment.store.path))
    before, after = CaeService(deployment), CaeService(restored)
    try:
        assert after.journal.revocation_rows() == before.journal.revocation_rows()
        assert after.state.check(issued_at=0, users=["user3@example.com"]) is not None
        assert after.jwks() == before.jwks()
    finally:
        before.close()
        after.close()


def test_a_partial_backup_is_refused(deployment: Settings, tmp_path: Path) -> None:
    write_backup(deployment, tmp_path / "bk")
    (tmp_path / "bk" / MANIFEST).unlink()  # interrupted before its last step
    with pytest.raises(InputError, match="partial"):
        restore_backup(tmp_path / "bk", tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove"])
def test_a_corrupt_backup_is_refused(deployment: Settings, tmp_path: Path, damage: str) -> None:
    write_backup(deployment, tmp_path / "bk")
    victim = tmp_path / "bk" / ("cae.sqlite" if damage == "remove" else "store.duckdb")
    if damage == "flip":
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    elif damage == "truncate":
        with victim.open("r+b") as fh:
            fh.truncate(victim.stat().st_size - 4096)
    else:
        victim.unlink()
    want = {"flip": "SHA-256 differs", "truncate": "truncated", "remove": "partial"}[damage]
    with pytest.raises(InputError, match=want) as err:
        restore_backup(tmp_path / "bk", tmp_path / "restored")
    assert victim.name in str(err.value)
    assert not (tmp_path / "restored").exists()


def test_a_manifest_naming_a_stranger_is_refused(deployment: Settings, tmp_path: Path) -> None:
    write_backup(deployment, tmp_path / "bk")
    m: dict[str, Any] = orjson.loads((tmp_path / "bk" / MANIFEST).read_bytes())
    m["files"]["../../etc/passwd"] = {"bytes": 1, "sha256": "0"}
    (tmp_path / "bk" / MANIFEST).write_bytes(orjson.dumps(m))
    with pytest.raises(InputError, match="unknown file"):
        verify_backup(tmp_path / "bk")


def test_targets_are_new_folders(deployment: Settings, tmp_path: Path) -> None:
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "something").write_text("x")
    with pytest.raises(InputError, match="not an empty folder"):
        write_backup(deployment, tmp_path / "bk")
    write_backup(deployment, tmp_path / "bk2")
    (tmp_path / "restored").mkdir()
    with pytest.raises(InputError, match="restore target exists"):
        restore_backup(tmp_path / "bk2", tmp_path / "restored")


def test_a_held_store_says_to_go_through_the_service(deployment: Settings, tmp_path: Path) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(60)", deployment.store.path],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusy):
            write_backup(deployment, tmp_path / "bk")
        assert not (tmp_path / "bk").exists()
    finally:
        holder.kill()
        holder.wait()


def test_journal_snapshot_is_a_sqlite_database(deployment: Settings, tmp_path: Path) -> None:
    write_backup(deployment, tmp_path / "bk")
    con = sqlite3.connect(tmp_path / "bk" / "cae.sqlite")
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_a_backup_from_before_schema_4_counts_behavior_analytics_in_ueba_behavior(deployment: Settings,
                                                                                  tmp_path: Path) -> None:
    from vigil.backup.restore import RESTORED, _check_counts
    from vigil.backup.manifest import STORE
    from vigil.errors import StoreError

    folder = tmp_path / "restored"
    folder.mkdir()
    shutil.copyfile(deployment.store.path, folder / RESTORED[STORE])
    counts = table_counts(folder / RESTORED[STORE])
    # as a schema-3 vigil listed it: BehaviorAnalytics was the table
    old = {k: v for k, v in counts.items() if k != "ueba_behavior"} | {"BehaviorAnalytics": counts["ueba_behavior"]}
    assert counts["ueba_behavior"] > 0
    _check_counts({"schema_version": 3, "tables": old}, folder)
    with pytest.raises(StoreError, match="ueba_behavior has"):
        _check_counts({"schema_version": 3, "tables": old | {"BehaviorAnalytics": 1}}, folder)
