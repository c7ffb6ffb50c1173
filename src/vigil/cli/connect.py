"""``vigil connect NAME test|run|status``: pull sign-ins, audit and risk from the tenant's APIs."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, emit, settings_from, store_from
from vigil.cli._table import Col, show
from vigil.errors import ConnectorError, InputError

if TYPE_CHECKING:
    from vigil.store import Store

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhd])$")


def parse_since(text: str) -> datetime:
    """``7d``, ``12h``, ``30m`` before now, or an ISO date/time (UTC)."""
    m = _DURATION.match(text.strip())
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if m:
        n, unit = float(m.group(1)), m.group(2)
        return now - timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: n})
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--since {text!r}: give a duration (7d, 12h, 30m) or an ISO date/time") from None
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def render_status(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("no connector has polled yet (`vigil connect NAME run`, or enable one for `vigil serve`)")
        return
    show([{**r, "records": r["records"] or 0, "stored": r["stored"] or 0,
           "last_poll_at": r["last_poll_at"] or "never",
           "lag": None if r.get("lag_s") is None else f"{r['lag_s'] / 60:.1f} min"} for r in rows],
         [Col("connector", priority=0), Col("stream", priority=1), Col("records", priority=4),
          Col("stored", priority=3), Col("last_poll_at", "last poll", 2), Col("lag", priority=5),
          Col("last_error", "last error", 6)], title="connectors")


def register(app: typer.Typer) -> None:
    @app.command("connect")
    def connect(
        name: Annotated[str, typer.Argument(help="graph | okta | o365 (or `all` with status)")],
        action: Annotated[str, typer.Argument(help="test (read one record, write nothing) | run (one poll) | status")]
        = "status",
        since: Annotated[str | None, typer.Option(
            "--since", help="with run: start at this time (7d, 12h, ISO) whatever the checkpoint (backfill)")] = None,
        stream: Annotated[list[str], typer.Option(
            "--stream", help="with run: only this stream (repeatable), e.g. signins")] = [],  # noqa: B006
        db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False,
    ) -> None:
        """Pull logs from a tenant API into the store (see docs/connectors.md)."""
        from vigil import connectors

        settings = settings_from(db, config)
        if action == "status":
            with store_from(settings, read_only=True) as store:
                rows = [r for r in connectors.status(store) if name == "all" or r["connector"] == name]
            emit(rows, as_json=json, render=render_status)
            return
        conn = connectors.get(name, settings)
        if action == "test":
            from vigil.connectors.http import Http

            http = Http(conn.cfg, conn.name)
            try:
                checks = conn.test(http)
            finally:
                http.close()

            def show(rows: list[dict[str, Any]]) -> None:
                for c in rows:
                    mark = "[green]ok[/green]" if c["ok"] else "[red]failed[/red]"
                    console.print(f"{mark}  {c['check']}: {c['detail']}", highlight=False)

            emit(checks, as_json=json, render=show)
            if not all(c["ok"] for c in checks):
                raise ConnectorError(f"{name}: {sum(not c['ok'] for c in checks)} check(s) failed")
            return
        if action != "run":
            raise InputError(f"unknown action {action!r}: test, run or status")
        start = parse_since(since) if since else None
        with store_from(settings) as store:
            @contextmanager
            def writer() -> Iterator[Store]:
                yield store

            results = [r.as_dict() for r in conn.poll(writer, since=start, only=list(stream) or None)]

        def show_run(rows: list[dict[str, Any]]) -> None:
            for r in rows:
                state = f"[red]{r['error']}[/red]" if r["error"] else "ok"
                console.print(f"{name} {r['stream']}: {r['received']:,} received, {r['stored']:,} stored, "
                              f"{r['duplicate']:,} duplicate, {r['quarantined']:,} quarantined "
                              f"({r['pages']} pages, {r['seconds']:.1f} s) {state}", highlight=False)

        emit(results, as_json=json, render=show_run)
        failed = [r for r in results if r["error"]]
        if failed:
            raise ConnectorError(f"{name}: {len(failed)} stream(s) failed: " + "; ".join(
                f"{r['stream']}: {r['error']}" for r in failed))
