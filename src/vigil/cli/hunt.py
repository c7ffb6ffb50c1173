"""``vigil hunt``: run a KQL query over the store."""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated, Any

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
    register_watchlists(app)

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
        """Run KQL over the Sentinel-named tables and vigil's own.

        Entra ID: SigninLogs, AADNonInteractiveUserSignInLogs, AuditLogs. Office 365: OfficeActivity.
        UEBA: BehaviorAnalytics, UserPeerAnalytics, IdentityInfo. vigil's own: see `vigil status`."""
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


def register_watchlists(app: typer.Typer) -> None:
    group = typer.Typer(help="Watchlists: named CSV lists hunts read with _GetWatchlist('alias').",
                        no_args_is_help=True)
    app.add_typer(group, name="watchlist")

    @group.command("import")
    def import_(
        alias: Annotated[str, typer.Argument(help="the name _GetWatchlist() takes")],
        file: Annotated[str, typer.Argument(help="CSV file with a header row")],
        search_key: Annotated[str | None, typer.Option("--search-key", help="column of SearchKey "
                                                       "(default: the first)")] = None,
        description: Annotated[str, typer.Option("--description", help="what the list is for")] = "",
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Import (or replace) a watchlist from a CSV file."""
        from vigil.cli._common import console
        from vigil.hunt.watchlist import check_alias, import_csv

        check_alias(alias)
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read as UTF-8 text ({getattr(exc, 'strerror', None) or exc})", path=file) \
                from None
        with store_from(settings_from(db, config)) as store:
            wl = import_csv(store, alias, text, source=file, search_key=search_key, description=description)
        if json:
            print_json(wl.to_dict())
            return
        console.print(f"watchlist [bold]{wl.alias}[/bold]: {wl.item_count} rows, search key {wl.search_key!r}, "
                      f"columns {', '.join(wl.columns)}")

    @group.command("list")
    def list_(db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """The watchlists, with their search key, columns and row counts."""
        from vigil.cli._common import emit
        from vigil.hunt.watchlist import list_watchlists

        with store_from(settings_from(db, config), read_only=True) as store:
            rows = [w.to_dict() for w in list_watchlists(store)]

        def render(rows: list[dict[str, Any]]) -> None:
            from vigil.cli._table import show as show_rows

            show_rows([{"alias": r["alias"], "rows": r["item_count"], "search key": r["search_key"],
                        "columns": ", ".join(r["columns"]), "updated": r["updated_at"][:19],
                        "description": r["description"]} for r in rows],
                      ["alias", "rows", "search key", "columns", "updated", "description"],
                      title=plural(len(rows), "watchlist"),
                      empty="no watchlists (vigil watchlist import ALIAS FILE.csv)")

        emit(rows, as_json=json, render=render)

    @group.command("show")
    def show(
        alias: Annotated[str, typer.Argument(help="watchlist")],
        limit: Annotated[int, typer.Option("--limit", help="rows printed")] = 200,
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """The rows of a watchlist, as _GetWatchlist() answers them."""
        from vigil.hunt import run_hunt

        settings = settings_from(db, config)
        with store_from(settings, read_only=True) as store:
            table = run_hunt(store, f"_GetWatchlist({alias!r})", timeout_s=settings.hunt.timeout_s)
        print_arrow(table, as_json=json, title=f"watchlist {alias}: {plural(table.num_rows, 'row')}", limit=limit,
                    ranked=False)

    @group.command("delete")
    def delete(alias: Annotated[str, typer.Argument(help="watchlist")], db: DbOpt = None,
               config: ConfigOpt = None) -> None:
        """Delete a watchlist and its rows."""
        from vigil.cli._common import console
        from vigil.hunt.watchlist import delete as delete_watchlist

        with store_from(settings_from(db, config)) as store:
            if not delete_watchlist(store, alias):
                raise InputError(f"no watchlist {alias!r} (see `vigil watchlist list`)")
        console.print(f"deleted watchlist {alias}")
