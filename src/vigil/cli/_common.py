"""Shared CLI plumbing: options, settings, output in table or JSON form."""
from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console

if TYPE_CHECKING:
    # DuckDB, Arrow and the settings' pydantic models load where a command uses them, not for `vigil --help`
    # (tests/cli/test_startup.py)
    import pyarrow as pa

    from vigil.settings import Settings
    from vigil.store import Store

console = Console()
err_console = Console(stderr=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="DuckDB store file (default ./vigil.duckdb, or $VIGIL_DB)")
]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="YAML settings file (or $VIGIL_CONFIG)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print machine-readable JSON instead of tables")]


def settings_from(db: str | None, config: str | None) -> Settings:
    from vigil.settings import load_settings

    return load_settings(config, overrides={"store.path": db})


#: set while `vigil serve` runs a command handed over by a CLI (cli/_service.py): stores then come from
#: the service's own database (read-only ones inside a transaction that is rolled back)
SERVICE_STORES: ContextVar[Callable[[bool], Store] | None] = ContextVar("vigil_service_stores", default=None)


@dataclass(frozen=True)
class Entry:
    """``vigil.cli.main`` handed to every command as click's root context object, for a command that
    runs other command lines in-process (``vigil serve`` runs those a CLI hands over to it); passed
    down rather than imported, since ``vigil.cli`` imports every command module."""

    main: Callable[[list[str] | None], None]


def entry(ctx: typer.Context) -> Entry:
    obj = ctx.find_root().obj
    if not isinstance(obj, Entry):
        raise RuntimeError("this command runs through vigil.cli.main (the `vigil` command)")
    return obj


def store_from(settings: Settings, *, read_only: bool = False) -> Store:
    opener = SERVICE_STORES.get()
    if opener is not None:
        return opener(read_only)
    from vigil.store import open_store

    s = settings.store
    return open_store(s.path, read_only=read_only, threads=s.threads, memory_limit=s.memory_limit)


def print_json(data: Any) -> None:
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode())


def arrow_rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def print_arrow(table: pa.Table, *, as_json: bool, title: str | None = None, limit: int | None = None) -> None:
    if as_json:
        print_json(arrow_rows(table))
        return
    from rich.table import Table as RichTable

    rt = RichTable(title=title, show_lines=False, header_style="bold")
    for name in table.column_names:
        rt.add_column(name, overflow="fold")
    rows = table.to_pylist()
    for row in rows[: limit or len(rows)]:
        rt.add_row(*["" if v is None else str(v) for v in row.values()])
    console.print(rt)
    if limit and len(rows) > limit:
        console.print(f"[dim]… {len(rows) - limit} more rows (use --json or export for all)[/dim]")


def emit(data: Any, *, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON, or hand it to ``render`` for the human form."""
    if as_json:
        print_json(data)
    else:
        render(data)
