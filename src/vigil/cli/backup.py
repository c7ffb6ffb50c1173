"""``vigil backup DEST`` and ``vigil restore SRC --into DIR``."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli._common import SERVICE_STORES, ConfigOpt, DbOpt, JsonOpt, console, print_json, settings_from
from vigil.errors import InputError, StoreError

if TYPE_CHECKING:
    from vigil.store import Store


def _service_snapshot(opener: Callable[[bool], Store]) -> Callable[[Path], None]:
    from vigil.store.snapshot import snapshot_connection

    def snapshot(target: Path) -> None:
        # a writer store: the copy holds the service's write lock (its CHECKPOINTs need no other writer)
        store = opener(False)
        try:
            snapshot_connection(store.con, target)
        finally:
            store.close()

    return snapshot


def backup(
    dest: Annotated[Path, typer.Argument(help="new folder for the backup")],
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Back up the store, the CAE journal, the signing keys and the settings (consistent while serving).

    A running `vigil serve` of the store is handed the command and copies through its own database."""
    from vigil.backup import staged, write_backup
    from vigil.store.snapshot import StoreBusy

    settings = settings_from(db, config)
    answer: dict[str, Any]
    in_service = SERVICE_STORES.get()
    try:
        if in_service is not None:  # handed over to `vigil serve` (cli/_service.py): copy through its database
            snapshot = staged(settings.store.path, _service_snapshot(in_service))  # its one writable folder
            answer = {"path": str(dest), "manifest": write_backup(settings, dest, snapshot_store=snapshot)}
        else:
            answer = {"path": str(dest), "manifest": write_backup(settings, dest)}
    except StoreBusy as exc:
        raise StoreError(f"{exc}; if it is a `vigil serve` without its state file, back up through its API: "
                         "POST /api/v1/backup (admin token) into service.backup_dir") from None
    if as_json:
        print_json(answer)
        return
    m = answer["manifest"]
    size = sum(f["bytes"] for f in m["files"].values())
    console.print(f"backup [bold]{answer['path']}[/bold]: {len(m['files'])} files, {size / 1e6:.1f} MB, "
                  f"{sum(m['tables'].values()):,} rows in {len(m['tables'])} tables, "
                  f"{(m.get('cae') or {}).get('revocations', 0)} revocations, {m['seconds']['total']:.1f} s "
                  f"(vigil {m['vigil_version']}, schema {m['schema_version']})")


def restore(
    src: Annotated[Path, typer.Argument(help="backup folder (written by `vigil backup`)")],
    into: Annotated[Path | None, typer.Option("--into", help="new folder to restore into")] = None,
    check: Annotated[bool, typer.Option("--check", help="only verify the backup (manifest, sizes, SHA-256)")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Verify a backup and restore it into a new folder (store, journal, keys, and a vigil.yaml naming them)."""
    from vigil.backup import restore_backup, verify_backup

    if check:
        m = verify_backup(src)
        result: dict[str, Any] = {"backup": str(src), "ok": True, "files": len(m["files"]),
                                  "vigil_version": m["vigil_version"], "schema_version": m["schema_version"]}
    elif into is None:
        raise InputError("--into DIR is required (a new folder), or --check to only verify")
    else:
        result = restore_backup(src, into)
    if as_json:
        print_json(result)
    elif check:
        console.print(f"{src}: complete and intact ({result['files']} files, vigil {result['vigil_version']}, "
                      f"schema {result['schema_version']})")
    else:
        console.print(f"restored {src} into [bold]{result['restored']}[/bold]: {result['rows']:,} rows in "
                      f"{result['tables']} tables, {result['revocations']} revocations, {result['seconds']:.1f} s; "
                      f"run vigil with --config {result['config']}")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
