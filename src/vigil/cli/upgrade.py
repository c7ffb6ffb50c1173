"""``vigil upgrade``: migrate a store to this vigil's schema (the same steps any read-write open runs)."""
from __future__ import annotations

from pathlib import Path

import typer

from vigil.cli._common import SERVICE_STORES, ConfigOpt, DbOpt, JsonOpt, console, print_json, settings_from, store_from
from vigil.errors import StoreError
from vigil.version import version


def upgrade(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Migrate the store forward to this vigil's schema (back it up first: `vigil backup DEST`)."""
    import duckdb

    from vigil.store import connect
    from vigil.store.migrate import stored_version
    from vigil.store.schema import SCHEMA_VERSION

    settings = settings_from(db, config)
    path = settings.store.path
    if SERVICE_STORES.get() is not None:  # handed over to a running `vigil serve`: it migrated when it opened
        with store_from(settings, read_only=True) as store:
            current = int(store.scalar("select value from vigil_meta where key = 'schema_version'"))
        if as_json:
            print_json({"store": path, "from_schema": current, "to_schema": current, "vigil": version()})
        else:
            # the words first, the path last: a long path then wraps as a whole, never splitting the message
            console.print(f"already at schema {current} (the running vigil serve migrated it on start): {path}")
        return
    if not Path(path).is_file():
        raise StoreError("store not found", path=path)
    try:
        with connect(path, read_only=True) as con:
            before = stored_version(con)
    except duckdb.Error as exc:
        raise StoreError(f"cannot open DuckDB store ({str(exc).splitlines()[0]})", path=path) from None
    with store_from(settings):  # opening read-write runs the migrations (or refuses a newer store)
        pass
    result = {"store": path, "from_schema": before, "to_schema": SCHEMA_VERSION, "vigil": version()}
    if as_json:
        print_json(result)
    elif before == SCHEMA_VERSION:
        console.print(f"already at schema {SCHEMA_VERSION} (vigil {version()}): {path}")
    else:
        console.print(f"migrated from schema {before} to {SCHEMA_VERSION} (vigil {version()}): {path}")


def register(app: typer.Typer) -> None:
    app.command("upgrade")(upgrade)
