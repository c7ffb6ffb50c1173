"""The ``vigil`` command.

Each area adds its commands in its own module here (``vigil/cli/<area>.py``) exposing
``register(app: typer.Typer) -> None``, and lists each top-level command it adds in ``_lazy.LISTING``
(with its one-line help): the top-level group imports a module and builds its command only when
that command runs, so ``vigil --help`` and light commands start fast (issue 17).
"""
from __future__ import annotations

import sys
from typing import Any

import typer
import typer.main

from vigil.cli._common import Entry
from vigil.cli._lazy import AREAS, LazyGroup, finish
from vigil.errors import VigilError

app = typer.Typer(
    name="vigil",
    help="Identity threat detection and response: ingest sign-in and activity logs, correlate sessions, "
    "judge travel, baseline users, score risk, evaluate conditional access and revoke sessions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)
__all__ = ["AREAS", "app", "command", "main"]


def _print_version(value: bool) -> None:
    if value:
        from vigil.version import version

        typer.echo(f"vigil {version()}")
        raise typer.Exit()


@app.callback()
def _root(show_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                            help="print vigil's version and exit")) -> None:
    """Identity threat detection and response."""


def _usage_hint(ctx: typer.Context | None) -> str:
    """``usage: vigil hunt [OPTIONS] QUERY (try 'vigil hunt --help')`` on one line."""
    if ctx is None:
        return "usage: vigil [OPTIONS] COMMAND [ARGS]... (try 'vigil --help')"
    pieces = " ".join(ctx.command.collect_usage_pieces(ctx))
    return f"usage: {ctx.command_path} {pieces} (try '{ctx.command_path} --help')"


def _innermost_context(exc: Exception) -> typer.Context | None:
    # click's option parser raises some usage errors (an option missing its value) without the
    # context; the innermost frame that had one knows which command was being parsed
    found = None
    tb = exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("ctx")
        if hasattr(candidate, "command_path") and hasattr(candidate, "command"):
            found = candidate
        tb = tb.tb_next
    return found


def _usage_error(exc: Exception) -> None:
    """One line naming the problem, the usage hint, exit 2 (docs/sources.md, exit codes)."""
    ctx: typer.Context | None = getattr(exc, "ctx", None) or _innermost_context(exc)
    message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    where = ctx.command_path if ctx is not None else "vigil"
    print(f"{where}: error: {message}", file=sys.stderr)
    print(_usage_hint(ctx), file=sys.stderr)
    sys.exit(2)


def _click_base(name: str) -> type[Exception]:
    # typer >= 0.2x vendors click (typer._click), older typer uses click itself: find the
    # class through a public typer exception rather than importing either
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


def command() -> Any:
    """The click command tree of ``app``, with usage errors instead of help for bare groups (see
    ``_lazy.finish``); its top-level commands are built when first used."""
    root = typer.main.get_command(app)
    finish(root)
    return root


def main(argv: list[str] | None = None) -> None:
    """The ``vigil`` command. Run as a process (``argv`` None) beside a running ``vigil serve`` of the
    same store, the command is handed to that service, which owns the store (see cli/_service.py)."""
    if argv is None:
        from vigil.cli._service import forward_if_running

        forwarded = forward_if_running(sys.argv[1:])
        if forwarded is not None:
            sys.exit(forwarded)
    try:
        rc = command()(args=argv, standalone_mode=False, prog_name="vigil", obj=Entry(main))
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
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        if isinstance(exc, _click_base("UsageError")):
            _usage_error(exc)
        if isinstance(exc, _click_base("ClickException")):
            print(f"vigil: error: {' '.join(exc.format_message().split())}", file=sys.stderr)  # type: ignore[attr-defined]
            sys.exit(getattr(exc, "exit_code", 1))
        raise
