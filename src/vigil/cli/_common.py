"""Shared CLI plumbing: options, settings, output in table or JSON form."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from vigil.cli._table import console, err_console  # noqa: F401 -- re-exported: every command prints through them

if TYPE_CHECKING:
    # DuckDB, Arrow and the settings' pydantic models load where a command uses them, not for `vigil --help`
    # (tests/cli/test_startup.py)
    import pyarrow as pa

    from vigil.cli._table import Col
    from vigil.settings import Settings
    from vigil.store import Store


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


def print_arrow(table: pa.Table, *, as_json: bool, title: str | None = None, limit: int | None = None,
                cols: Sequence[Col | str] | None = None, empty: str | None = None, ranked: bool = True) -> None:
    """Rows as JSON, or as a table that fits the terminal (cli/_table.py). ``cols`` ranks the columns;
    without them they rank in the query's order, or (``ranked=False``: a hunt, a query) not at all."""
    if as_json:
        print_json(arrow_rows(table))
        return
    from vigil.cli._table import show

    show(table.to_pylist(), cols if cols is not None or not ranked else table.column_names, title=title,
         limit=limit, empty=empty)


def emit(data: Any, *, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON, or hand it to ``render`` for the human form."""
    if as_json:
        print_json(data)
    else:
        render(data)
