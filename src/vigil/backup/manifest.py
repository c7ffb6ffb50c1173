"""The backup's manifest: what is in it, with sizes and SHA-256, and the counts to check a restore by."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson

from vigil.errors import InputError

FORMAT = 1
MANIFEST = "manifest.json"
STORE = "store.duckdb"
JOURNAL = "cae.sqlite"
KEYS = "cae-keys.json"
SETTINGS = "settings.yaml"
#: every file a backup may hold; the store and the settings always
KNOWN = (STORE, JOURNAL, KEYS, SETTINGS)
REQUIRED = (STORE, SETTINGS)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def describe(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": sha256(path)}


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Last step of a backup: until this file exists the backup is partial."""
    tmp = folder / (MANIFEST + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        fh.flush()
        os.fsync(fh.fileno())
    tmp.rename(folder / MANIFEST)


def verify_backup(folder: str | Path) -> dict[str, Any]:
    """The manifest of a complete, intact backup; InputError naming the first problem otherwise."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError("backup folder not found", path=str(root))
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise InputError(f"no {MANIFEST}: a partial backup (interrupted before it finished), not restorable",
                         path=str(root))
    try:
        manifest = orjson.loads(mpath.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", path=str(mpath)) from None
    if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT
            or not isinstance(manifest.get("files"), dict)):
        raise InputError(f"not a vigil backup manifest (format {FORMAT})", path=str(mpath))
    files: dict[str, Any] = manifest["files"]
    for name in REQUIRED:
        if name not in files:
            raise InputError(f"manifest lists no {name}", path=str(mpath))
    for name, want in files.items():
        if name not in KNOWN:
            raise InputError(f"manifest names an unknown file {name!r}", path=str(mpath))
        path = root / name
        if not path.is_file():
            raise InputError("missing: the backup is partial", path=str(path))
        if path.stat().st_size != want.get("bytes"):
            raise InputError(f"size {path.stat().st_size} bytes, manifest says {want.get('bytes')}: corrupt or "
                             "truncated", path=str(path))
        if sha256(path) != want.get("sha256"):
            raise InputError("SHA-256 differs from the manifest: corrupt", path=str(path))
    return dict(manifest)
