"""The CLI beside a running ``vigil serve``: the state file, forwarding, and the service's side.

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

import io
import logging
import os
import re
import shutil
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from vigil.store import Store

log = logging.getLogger("vigil.service")

#: commands that never touch the store, or that must run here (serve itself)
LOCAL_COMMANDS = {"serve", "simulate", "formats", "restore", "--help", "-h", "--version"}
#: commands whose first argument is a path that need not exist yet (made absolute before handing over)
NEW_PATH_ARGUMENT = {"backup"}
FORWARD_PATH = "/api/v1/cli"


def state_path(store_path: str | Path) -> Path:
    return Path(f"{store_path}.service.json")


def write_state(path: Path, url: str, token: str, token_id: str) -> None:
    """Atomically, created 0600 (never readable by others, not even for an instant)."""
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


# ------------------------------------------------------------------ the service's side


class _ServiceStore(Store):
    """A store over the service's database: writes hold its write lock; reads are rolled back."""

    def __init__(self, db: Any, read_only: bool) -> None:
        from vigil.errors import StoreError

        self._db = db
        self._read_only = read_only
        if not read_only and not db.write_lock.acquire(timeout=600):
            raise StoreError("the service's store stayed busy for 10 minutes", path=db.path)
        try:
            cur = db.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            if read_only:  # READ ONLY: DuckDB refuses a write, and hunts run inside it (store/readonly.py)
                cur.execute("BEGIN TRANSACTION READ ONLY")
        except BaseException:
            if not read_only:
                db.write_lock.release()
            raise
        super().__init__(cur, db.path)
        self.read_only_transaction = read_only

    def close(self) -> None:
        try:
            if self._read_only:
                try:
                    self.con.execute("ROLLBACK")
                except Exception:  # already ended by an error: nothing to undo
                    pass
            self.con.close()
        finally:
            if not self._read_only:
                self._db.generation += 1
                self._db.write_lock.release()


class Forwarded(BaseModel):
    model_config = ConfigDict(extra="forbid")
    argv: list[str] = Field(min_length=1, max_length=500)
    columns: int = Field(100, ge=20, le=1000)


_forward_lock = threading.Lock()  # stdout is process-wide: one handed-over command at a time


def run_forwarded(db: Any, argv: list[str], columns: int, main: Callable[[list[str] | None], None]) -> dict[str, Any]:
    """Run a CLI command line in this process on ``db`` through ``main`` (``vigil.cli.main``); its
    output and exit code."""
    from vigil.cli._common import SERVICE_STORES, console, err_console

    out, err = io.StringIO(), io.StringIO()
    with _forward_lock:
        token = SERVICE_STORES.set(lambda read_only: _ServiceStore(db, read_only))
        widths = (console._width, err_console._width)  # noqa: SLF001 -- the caller's terminal width
        console.width = err_console.width = max(40, min(columns, 400))
        code = 0
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    main(argv)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            console._width, err_console._width = widths  # noqa: SLF001
            SERVICE_STORES.reset(token)
    return {"exit_code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def install(app: Any, settings: Any, url: str, main: Callable[[list[str] | None], None]) -> None:
    """Add the forwarding route (running command lines through ``main``), the connectors and the
    state file to the service ``app``."""
    from fastapi import APIRouter, Depends

    from vigil.api import tokens
    from vigil.api.auth import require_admin, service_state
    from vigil.api.state import ServiceState
    from vigil.errors import InputError

    state: ServiceState = app.state.vigil
    db = state.db

    router = APIRouter()

    @router.post(FORWARD_PATH, include_in_schema=False, dependencies=[Depends(require_admin)])
    def forwarded(body: Forwarded, st: ServiceState = Depends(service_state)) -> dict[str, Any]:
        if body.argv[0] in LOCAL_COMMANDS:
            raise InputError(f"`vigil {body.argv[0]}` runs on its own, not inside the service")
        return run_forwarded(st.db, body.argv, body.columns, main)

    app.include_router(router)

    from vigil import connectors
    from vigil.api.health import add_readiness_check
    from vigil.connectors.runner import Coalesced, Runner

    def analyze() -> None:
        from vigil.api import operations

        with db.writer() as store:
            operations.analyze(store, settings, app.state.cae)

    analysis = Coalesced(analyze, "vigil-analysis")
    runner = Runner(connectors.enabled(settings), db.writer,
                    on_stored=analysis.kick if settings.connectors.analyze_after_batch else None)
    app.state.connector_runner = runner

    def connectors_ready() -> None:
        with db.reader() as store:
            connectors.readiness(store, settings)

    add_readiness_check(app, "connectors", connectors_ready)
    path = state_path(settings.store.path)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[None]:
        async with inner(a):
            with db.writer() as store:
                # a service killed earlier left its credential valid: revoke it (its state file is stale)
                for row in tokens.list_tokens(store.con):
                    if row["name"].startswith("local-cli-") and row["revoked_at"] is None:
                        tokens.revoke_token(store.con, row["token_id"])
                info, token = tokens.create_token(store.con, f"local-cli-{os.getpid()}", "admin",
                                                  created_by="vigil serve (local CLI credential)")
            write_state(path, url, token, info["token_id"])
            analysis.start()
            runner.start()
            try:
                yield
            finally:
                runner.stop()
                analysis.stop()
                try:
                    with db.writer() as store:
                        tokens.revoke_token(store.con, info["token_id"])
                finally:
                    _unlink_if_ours(path, info["token_id"])

    app.router.lifespan_context = lifespan


def _unlink_if_ours(path: Path, token_id: str) -> None:
    current = read_state(path)
    if current is not None and current.get("token_id") == token_id:
        path.unlink()


