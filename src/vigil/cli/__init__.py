"""The ``vigil`` command.

Each area adds its commands in its own module here (``vigil/cli/<area>.py``) exposing
``register(app: typer.Typer) -> None``; modules are discovered, so adding a command
never means editing this file.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from vigil.errors import VigilError

app = typer.Typer(
    name="vigil",
    help="Identity threat detection and response: ingest sign-in and activity logs, correlate sessions, "
    "judge travel, baseline users, score risk, evaluate conditional access and revoke sessions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    try:
        rc = app(standalone_mode=False)
        # with standalone_mode=False click returns the code of typer.Exit instead of exiting
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except VigilError as exc:
        print(f"vigil: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("vigil: interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise
