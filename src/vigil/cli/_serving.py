"""The service's side of handing CLI commands to a running ``vigil serve`` (the CLI's side, and the state
file, are in ``_service.py``): the forwarding route, the stores a handed-over command gets, the connectors
and the state file's lifetime.
"""
from __future__ import annotations

import io
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vigil.cli._service import FORWARD_PATH, LOCAL_COMMANDS, read_state, state_path, write_state
from vigil.store import Store




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
        from vigil.api.policy import refresh_risk

        with db.writer() as store:
            operations.analyze(store, settings, app.state.cae)
            refresh_risk(app, store)  # the decision point's profiles follow the analysis

    analysis = Coalesced(analyze, "vigil-analysis")
    runner = Runner(connectors.enabled(settings), db.writer,
                    on_stored=analysis.kick if settings.connectors.analyze_after_batch else None)
    app.state.connector_runner = runner
    stream = None
    if settings.stream.enabled:
        from vigil.stream.runner import StreamRunner

        # listeners (app.state.stream_runner.add_listener) are called after each applied micro-batch
        stream = StreamRunner(settings, db.writer, cae=app.state.cae)

        def profiles(batch: Any) -> None:  # the decision point's profiles follow each micro-batch
            from vigil.api.policy import refresh_risk

            if batch.affected_users:
                with db.reader() as store:
                    refresh_risk(app, store, batch.affected_users)

        stream.add_listener(profiles)
    app.state.stream_runner = stream

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
            if stream is not None:
                stream.start()
            try:
                yield
            finally:
                if stream is not None:
                    stream.stop()
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


