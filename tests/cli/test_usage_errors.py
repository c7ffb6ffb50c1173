"""Every usage error of every command is one line plus the usage hint, exit 2 (docs/sources.md).

Commands are discovered from the click tree behind the typer app, so a new command is covered
without editing this file.
"""
from __future__ import annotations

import os
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vigil.cli import command, main

REPO = Path(__file__).resolve().parents[2]


def _walk(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, cmd
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(command()))
IDS = [" ".join(p) or "vigil" for p, _ in COMMANDS]


def _is_numeric(param: Any) -> bool:
    kind = getattr(param, "type", None)
    if kind is not None:  # plain click parameter types
        return getattr(kind, "name", "") in {"integer", "float", "integer range", "float range"}
    annotation = param.get_runtime_param().annotation  # typer >= 0.2x: typed by annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = set(typing.get_args(annotation)) - {type(None)}
        return bool(args) and args <= {int, float}
    return annotation in (int, float)


# groups that do nothing on their own, and commands with a required parameter
MISSING = [p for p, c in COMMANDS
           if (hasattr(c, "commands") and not c.invoke_without_command)
           or (not hasattr(c, "commands") and any(prm.required for prm in c.params))]
NUMERIC = [(p, prm.opts[0]) for p, c in COMMANDS for prm in c.params
           if prm.param_type_name == "option" and _is_numeric(prm)]


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["vigil", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    code = exited.value.code
    return code if isinstance(code, int) else 1, out, err


def _assert_usage_error(result: tuple[int, str, str], path: tuple[str, ...], *needles: str) -> None:
    code, out, err = result
    where = " ".join(("vigil", *path))
    lines = err.splitlines()
    assert code == 2, (code, err)
    assert out == ""
    assert len(lines) == 2, err
    assert lines[0].startswith(f"{where}: error: "), err
    assert lines[1].startswith(f"usage: {where} ") and lines[1].endswith(f"(try '{where} --help')"), err
    for needle in needles:
        assert needle in lines[0], err


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # nothing may run, but if something did it must not touch a store in the checkout
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIGIL_DB", str(tmp_path / "v.duckdb"))


def test_the_tree_is_discovered() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"ingest", "hunt", "cae revoke", "token create"} <= names
    assert len(COMMANDS) > 40
    assert ("ingest",) in MISSING and () in MISSING
    assert (("hunt",), "--limit") in NUMERIC


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=IDS)
def test_unknown_option(path: tuple[str, ...], cmd: Any, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    _assert_usage_error(_run(monkeypatch, capsys, [*path, "--frobnicate"]), path, "--frobnicate")


@pytest.mark.parametrize("path", MISSING, ids=[" ".join(p) or "vigil" for p in MISSING])
def test_missing_argument_or_command(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _assert_usage_error(_run(monkeypatch, capsys, list(path)), path, "Missing")


@pytest.mark.parametrize(("path", "option"), NUMERIC, ids=[" ".join((*p, o)) for p, o in NUMERIC])
def test_bad_number(path: tuple[str, ...], option: str, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> None:
    _assert_usage_error(_run(monkeypatch, capsys, [*path, option, "abc"]), path, option)
    _assert_usage_error(_run(monkeypatch, capsys, [*path, option]), path, option)  # value missing


def test_typo_of_a_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _assert_usage_error(_run(monkeypatch, capsys, ["ingset"]), (), "No such command 'ingset'", "ingest")
    _assert_usage_error(_run(monkeypatch, capsys, ["cae", "revok"]), ("cae",), "No such command 'revok'")


def test_help_is_not_an_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["vigil", "hunt", "--help"])
    main()  # returns: exit 0
    assert "Usage: vigil hunt" in capsys.readouterr().out


@pytest.mark.parametrize("args", [[], ["--frobnicate"], ["ingset"], ["ingest"], ["hunt", "--limit", "abc"]],
                         ids=["bare", "bad-option", "typo", "missing-argument", "bad-int"])
def test_the_real_entry_point(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-m", "vigil", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and ": error: " in lines[0] and lines[1].startswith("usage: vigil"), done.stderr
    assert "Traceback" not in done.stderr
