"""``vigil serve`` and ``vigil token create | list | revoke``."""
from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli._common import (
    ConfigOpt,
    DbOpt,
    JsonOpt,
    console,
    entry,
    err_console,
    print_json,
    settings_from,
    store_from,
)
from vigil.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from vigil.store import Store


def _token_store(db: str | None, config: str | None) -> Store:
    try:
        return store_from(settings_from(db, config))
    except StoreError as exc:
        raise StoreError(f"{exc} -- if `vigil serve` holds the store, manage tokens through its API "
                         "(POST/GET/DELETE /api/v1/tokens with an admin token) or stop it first") from None


def check_web_assets() -> None:
    """Refuse to serve a UI whose third-party files are missing (the map would be an empty box)."""
    from vigil.web import STATIC_DIR
    from vigil.web.assets import HOW_TO_BUILD, missing

    absent = missing(STATIC_DIR / "vendor")
    if absent:
        more = f" and {len(absent) - 1} more" if len(absent) > 1 else ""
        raise ConfigError(f"web UI files missing: {STATIC_DIR / 'vendor' / absent[0]}{more}; {HOW_TO_BUILD}")


token_app = typer.Typer(help="API tokens of `vigil serve` (stored hashed; a token is shown once).",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")


def serve(
    ctx: typer.Context,
    db: DbOpt = None,
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option("--host", help="address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option("--port", help="port to bind (default 8765)")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug | info | warning | error")] = "info",
    log_format: Annotated[str | None, typer.Option(
        "--log-format", help="text | json (one object per line); default service.log_format")] = None,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /api/v1/openapi.json) and the web UI (/) over the store."""
    import uvicorn

    from vigil.api import tokens
    from vigil.api.app import is_loopback
    from vigil.api.logs import log_config
    from vigil.web.app import create_app

    overrides = {"store.path": db, "service.host": host, "service.port": port, "service.log_format": log_format}
    from vigil.settings import load_settings

    settings = load_settings(config, overrides=overrides)
    check_web_assets()
    bind, bind_port = settings.service.host, settings.service.port
    logs = log_config(settings.service.log_format, log_level)
    from logging.config import dictConfig  # here: it loads socketserver & co, which --help never needs

    dictConfig(logs)
    app = create_app(settings, host=bind)
    # First start: no admin token yet, so nobody could sign in. Create one and show it once, on a
    # terminal only: under a supervisor stdout is a log, and a token must never land in a log.
    with app.state.vigil.db.writer() as store:
        missing_admin = not tokens.count_tokens(store.con, "admin")
        first = tokens.create_token(store.con, "initial-admin", "admin", created_by="vigil serve (first start)") \
            if missing_admin and sys.stdout.isatty() else None
    if missing_admin and first is None:
        logging.getLogger("vigil.serve").warning(
            "no admin token exists and stdout is not a terminal, so none was created: stop the service and run "
            "`vigil token create --name admin --role admin` with the same settings")
    public = app.state.vigil.public_url
    console.print(f"vigil serve: store [bold]{settings.store.path}[/bold]; open [bold]{public}/[/bold]")
    if first is not None:
        console.print(f"No admin token existed, so one was created (shown only now, store it safely):\n"
                      f"  [bold]{first[1]}[/bold]\n  name initial-admin, id {first[0]['token_id']}; "
                      f"revoke it with DELETE /api/v1/tokens/{first[0]['token_id']} once you have your own")
    if not is_loopback(bind):
        err_console.print("[yellow]bound to a non-loopback address: use a TLS-terminating proxy in front "
                          "(session cookies are marked Secure)[/yellow]")
        if not settings.service.public_url:
            err_console.print(f"[yellow]service.public_url is not set: the URLs the service hands out (SSF "
                              f"discovery, poll and push endpoints) start with {public}; set it to the URL "
                              f"clients reach the service at[/yellow]")
    from vigil.cli._serving import install

    # connectors in the background, and the CLI's way in (commands beside the service are handed to it)
    local = "127.0.0.1" if bind in ("0.0.0.0", "localhost") else ("::1" if bind == "::" else bind)
    install(app, settings, f"http://{f'[{local}]' if ':' in local else local}:{bind_port}", entry(ctx).main)
    _run(app, uvicorn.Config(app, host=bind, port=bind_port, log_level=log_level.lower(), log_config=logs,
                             proxy_headers=False, server_header=False, date_header=True))


def _run(app: Any, config: Any) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        """On SIGTERM / SIGINT /readyz answers 503 at once while uvicorn finishes the requests in flight;
        the app's shutdown then waits for the running write to commit (``Database.close``)."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            app.state.draining = True
            super().handle_exit(sig, frame)

    Server(config).run()


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="who or what the token is for")],
    role: Annotated[str, typer.Option("--role", help="reader | admin")] = "reader",
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Create an API token and print it once (only its SHA-256 is stored)."""
    from vigil.api import tokens

    with _token_store(db, config) as store:
        info, token = tokens.create_token(store.con, name, role, created_by="cli")
    if as_json:
        print_json({**info, "token": token})
        return
    console.print(f"token for [bold]{name}[/bold] ({role}), id {info['token_id']} — shown once:")
    typer.echo(token)


@token_app.command("list")
def token_list(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """List tokens (ids, names, roles, revocation; never the tokens)."""
    import pyarrow as pa

    from vigil.api import tokens
    from vigil.cli._common import print_arrow

    with _token_store(db, config) as store:
        rows = tokens.list_tokens(store.con)
    if as_json:
        print_json(rows)
        return
    print_arrow(pa.Table.from_pylist(rows) if rows else pa.table({"token_id": []}), as_json=False,
                title="API tokens")


@token_app.command("revoke")
def token_revoke(ident: Annotated[str, typer.Argument(help="token id or unique name")],
                 db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Revoke a token; API calls and web sessions using it are refused from now on."""
    from vigil.api import tokens

    with _token_store(db, config) as store:
        row = tokens.revoke_token(store.con, ident)
    if as_json:
        print_json(row)
    else:
        console.print(f"revoked {row['token_id']} ({row['name']}, {row['role']}) at {row['revoked_at']}")
