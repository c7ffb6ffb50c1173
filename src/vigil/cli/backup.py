"""``vigil backup DEST`` and ``vigil restore SRC --into DIR``."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, print_json, settings_from
from vigil.errors import AuthError, ConfigError, InputError, VigilError
from vigil.settings import Settings
from vigil.store.snapshot import StoreBusy


def _service_url(settings: Settings) -> str:
    host = settings.service.host
    host = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    return f"http://[{host}]:{settings.service.port}" if ":" in host else f"http://{host}:{settings.service.port}"


def _through_service(settings: Settings, dest: Path, url: str | None, token_file: Path | None) -> dict[str, Any]:
    import httpx

    from vigil.backup import backup_dir

    folder = backup_dir(settings)
    if dest.parent.resolve() != folder.resolve() and dest.parent != Path("."):
        raise InputError(f"a running `vigil serve` holds the store, so it writes the backup, into service.backup_dir "
                         f"({folder}): give a folder name, or a path inside it", path=str(dest))
    if token_file is None:
        raise ConfigError("a running `vigil serve` holds the store: pass --token-file with an admin API token so "
                          "the backup goes through it")
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the token ({exc.strerror})", path=str(token_file)) from None
    base = url or _service_url(settings)
    try:
        resp = httpx.post(f"{base}/api/v1/backup", json={"name": dest.name},
                          headers={"Authorization": f"Bearer {token}"}, timeout=3600)
    except httpx.HTTPError as exc:
        raise VigilError(f"{base}: cannot reach vigil serve ({exc})") from None
    if resp.status_code in (401, 403):
        raise AuthError(f"{base}: the service refused the token ({resp.status_code})")
    if resp.status_code != 201:
        raise VigilError(f"{base}/api/v1/backup answered {resp.status_code}: {resp.text[:300]}")
    answer: dict[str, Any] = resp.json()
    return answer


def backup(
    dest: Annotated[Path, typer.Argument(help="new folder for the backup")],
    db: DbOpt = None, config: ConfigOpt = None,
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="file holding an admin API token: used when `vigil serve` holds the store")] = None,
    url: Annotated[str | None, typer.Option("--url", help="the service's URL (default from service.host/port)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Back up the store, the CAE journal, the signing keys and the settings (consistent while serving)."""
    from vigil.backup import write_backup

    settings = settings_from(db, config)
    answer: dict[str, Any]
    try:
        answer = {"path": str(dest), "manifest": write_backup(settings, dest)}
    except StoreBusy:
        answer = _through_service(settings, dest, url, token_file)
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
