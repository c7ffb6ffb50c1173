"""The CLI beside a running ``vigil serve``: the state file and forwarding (the service's side is in
``_serving.py``, so a command that is not handed over never loads the store or the web framework).

DuckDB lets one process open a store file for writing, and no other process may even read it
meanwhile. ``vigil serve`` is that process, so while it runs every other ``vigil`` command on the
same store is handed to it: the service runs the command in its own process, on its own database
(reads in a transaction that is rolled back, so a read can never write; writes serialised with the
connectors and the API's writers), and the CLI prints what it printed and exits with its code.

The CLI finds the service through ``<store>.service.json`` (URL, pid and a local admin token; mode
0600, so only the user running the service can use it). The service writes it when it starts and
removes it (and revokes the token) at a clean shutdown; after a crash the file is stale: its pid is
gone or nothing answers at its URL, and the CLI removes it and opens the store itself.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import orjson

from vigil.store.runtime import ensure_parent, runtime_file

#: commands that never touch the store, or that must run here (serve itself)
LOCAL_COMMANDS = {"serve", "simulate", "formats", "restore", "--help", "-h", "--version"}
#: commands whose first argument is a path that need not exist yet (made absolute before handing over)
NEW_PATH_ARGUMENT = {"backup"}
FORWARD_PATH = "/api/v1/cli"


def state_path(store_path: str | Path) -> Path:
    return runtime_file(store_path, f"{Path(store_path).name}.service.json")


def write_state(path: Path, url: str, token: str, token_id: str) -> None:
    """Atomically, created 0600 (never readable by others, not even for an instant)."""
    ensure_parent(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps({"url": url, "token": token, "token_id": token_id, "pid": os.getpid()}))
    os.replace(tmp, path)


def read_state(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("url") and data.get("token") else None


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(path: Path, why: str) -> None:
    print(f"vigil: note: {path} is stale ({why}); removed it, opening the store directly", file=sys.stderr)
    try:
        path.unlink()
    except OSError:
        pass


_OPT_VALUE = re.compile(r"^--(db|config)(?:=(.*))?$")


def _store_of(argv: list[str]) -> str | None:
    """The store a command line names (--db, --config, $VIGIL_DB, ./vigil.yaml, default)."""
    from vigil.errors import VigilError
    from vigil.settings import load_settings

    opts: dict[str, str] = {}
    for i, a in enumerate(argv):
        m = _OPT_VALUE.match(a)
        if m:
            value = m.group(2) if m.group(2) is not None else (argv[i + 1] if i + 1 < len(argv) else None)
            if value is not None:
                opts[m.group(1)] = value
    try:
        return load_settings(opts.get("config"), overrides={"store.path": opts.get("db")}).store.path
    except VigilError:
        return None


def _absolute_paths(argv: list[str]) -> list[str]:
    """Arguments naming existing files or folders, made absolute (the service has another working folder)."""
    out = []
    for a in argv:
        if not a.startswith("-") and a and os.path.exists(a):
            a = os.path.abspath(a)
        elif a.startswith("--") and "=" in a:
            key, _, value = a.partition("=")
            if value and os.path.exists(value):
                a = f"{key}={os.path.abspath(value)}"
        out.append(a)
    return out


def _new_path_absolute(argv: list[str]) -> list[str]:
    """`vigil backup DEST`: DEST is relative to the caller's folder, not the service's."""
    if argv[0] in NEW_PATH_ARGUMENT and len(argv) > 1 and not argv[1].startswith("-"):
        return [argv[0], os.path.abspath(argv[1]), *argv[2:]]
    return argv


def forward_if_running(argv: list[str]) -> int | None:
    """Run ``argv`` in the running service of its store and return the exit code; None: run it here."""
    if not argv or argv[0] in LOCAL_COMMANDS or "--help" in argv:
        return None
    store_path = _store_of(argv)
    if store_path is None or store_path == ":memory:":
        return None
    path = state_path(store_path)
    if not path.exists():
        return None
    info = read_state(path)
    if info is None:
        _remove_stale(path, "unreadable")
        return None
    if not _pid_alive(info.get("pid")):
        _remove_stale(path, f"process {info.get('pid')} is gone")
        return None
    import httpx

    try:
        resp = httpx.post(f"{info['url']}{FORWARD_PATH}", headers={"Authorization": f"Bearer {info['token']}"},
                          json={"argv": _absolute_paths(_new_path_absolute(argv)),
                                "columns": shutil.get_terminal_size().columns},
                          timeout=httpx.Timeout(10.0, read=None))
    except httpx.ConnectError:
        _remove_stale(path, f"nothing answers at {info['url']}")
        return None
    if resp.status_code != 200:
        print(f"vigil: error: the running service at {info['url']} refused the command "
              f"(HTTP {resp.status_code}: {resp.text[:200]})", file=sys.stderr)
        return 1
    out = resp.json()
    sys.stdout.write(out["stdout"])
    sys.stderr.write(out["stderr"])
    sys.stdout.flush()
    return int(out["exit_code"])
