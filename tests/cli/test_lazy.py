"""The top-level group's light listing (``_lazy.LISTING``) matches the commands the modules really
register: same names, same order, same one-line help, each built from the module it names, and
``vigil --help`` prints exactly what the whole tree built at once prints."""
from __future__ import annotations

import inspect
from typing import Any

import pytest
import typer
import typer.main

from vigil.cli import _lazy, app, command


def _eager() -> Any:
    """The tree as it was built before it was lazy: every module registered on one app."""
    whole = typer.Typer(name="vigil", help=app.info.help, add_completion=False, pretty_exceptions_enable=False)
    whole.registered_callback = app.registered_callback
    _lazy.register_all(whole)
    root = typer.main.get_command(whole)
    _lazy.finish(root)
    return root


EAGER = _eager()


def _listed(cmd: Any) -> str:
    return inspect.cleandoc(cmd.short_help or cmd.help or "").split("\n\n")[0]


def test_the_listing_names_every_command_in_order_with_its_help() -> None:
    real = [(name, _listed(cmd)) for name, cmd in EAGER.commands.items()]
    light = [(name, text) for name, _, text in _lazy.LISTING]
    missing = [f"({name!r}, '<module>', {text!r})," for name, text in real if (name, text) not in light]
    assert real == light, "vigil/cli/_lazy.py LISTING is out of date; it needs:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", [name for name, _, _ in _lazy.LISTING])
def test_each_command_comes_from_the_module_listed_and_matches_the_whole_tree(name: str) -> None:
    assert _shape(_lazy.load(name)) == _shape(EAGER.commands[name])


def _shape(cmd: Any) -> Any:
    """Everything help and parsing see: parameters with their options, help, and sub-commands."""
    params = [(p.name, tuple(getattr(p, "opts", ())), getattr(p, "help", None), p.required) for p in cmd.params]
    subs = {n: _shape(c) for n, c in getattr(cmd, "commands", {}).items()}
    module = getattr(cmd.callback, "__module__", None)
    return cmd.name, cmd.help, params, subs, module


def _help(root: Any, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        root.main(args=["--help"], prog_name="vigil")
    assert exited.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("width", [80, 200])
def test_top_level_help_is_unchanged(width: int, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    lazy = _help(command(), capsys)
    assert "analyze" in lazy and "ueba" in lazy
    assert lazy == _help(EAGER, capsys)


def test_a_command_builds_only_its_own_entry() -> None:
    root = command()
    root.get_command(None, "formats")
    assert set(root.commands._built) == {"formats"}  # type: ignore[attr-defined]
    assert root.get_command(None, "no-such-command") is None
