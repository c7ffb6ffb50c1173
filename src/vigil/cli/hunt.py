"""``vigil hunt``: run a KQL query over the store."""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli._common import (
    ConfigOpt,
    DbOpt,
    JsonOpt,
    err_console,
    print_arrow,
    print_json,
    settings_from,
    store_from,
)
from vigil.cli._table import plural
from vigil.errors import InputError, QueryError

FORMATS = ("table", "csv", "json")


def register(app: typer.Typer) -> None:
    @app.command("hunt")
    def hunt(
        query: Annotated[str | None, typer.Argument(help="KQL query ('-' reads stdin)")] = None,
        file: Annotated[str | None, typer.Option("--file", "-f", help="read the KQL from this file")] = None,
        fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
        now: Annotated[str | None, typer.Option("--now", help="what now() / ago() mean: an ISO time, wall, latest "
                                                "or auto (default: the hunt.now setting, docs/hunting.md)")] = None,
        explain: Annotated[bool, typer.Option("--explain", help="print the DuckDB SQL, do not run")] = False,
        limit: Annotated[int, typer.Option("--limit", help="rows printed in table format")] = 200,
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Run KQL (BehaviorAnalytics, SigninLogs, AADNonInteractiveUserSignInLogs, AuditLogs, OfficeActivity,
        IdentityInfo, UserPeerAnalytics and vigil's own tables)."""
        from vigil.hunt import run_hunt, translate
        from vigil.hunt.guard import check_kql

        if fmt not in FORMATS:
            raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if file:
            try:
                kql = Path(file).read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot read ({exc.strerror})", path=file) from None
        elif query == "-":
            kql = sys.stdin.read()
        elif query:
            kql = query
        else:
            raise InputError("give a KQL query, `-` for stdin, or --file")
        if explain:
            typer.echo(translate(kql))
            return
        check_kql(kql)  # refused before the store is even opened
        from vigil.errors import ConfigError
        from vigil.hunt.clock import resolve_now

        settings = settings_from(db, config)
        with store_from(settings, read_only=True) as store:
            try:
                when, why = resolve_now(store, now or settings.hunt.now)
            except ConfigError:
                raise QueryError(f"--now is not auto, wall, latest or an ISO date/time: {now!r}") from None
            table = run_hunt(store, kql, now=when, timeout_s=settings.hunt.timeout_s)
        if "now(" in kql or "ago(" in kql:  # say which clock answered, on stderr (stdout stays the result)
            err_console.print(f"[dim]now() = {when:%Y-%m-%d %H:%M:%S} UTC, {why}[/dim]" if when else
                              f"[dim]now() = {why}[/dim]")
        if json or fmt == "json":
            print_json(table.to_pylist())
        elif fmt == "csv":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(table.column_names)
            for row in table.to_pylist():
                writer.writerow(["" if v is None else v for v in row.values()])
            typer.echo(out.getvalue(), nl=False)
        else:
            print_arrow(table, as_json=False, title=plural(table.num_rows, "row"), limit=limit, ranked=False)
