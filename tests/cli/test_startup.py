"""`vigil --help` and light commands start without loading the store engine, Arrow, the web framework or the
settings models: each command imports what it uses when it runs (issue 17: start-up in under 0.3 s; the
time itself is measured in docs/benchmarks.md, not asserted here)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vigil.cli._lazy import AREAS
from vigil.cli.analyze import STAGE_NAMES
from vigil.pipeline import stage_names

# (not pydantic: typer itself validates parameters with it)
HEAVY = ("duckdb", "pyarrow", "numpy", "fastapi", "starlette", "uvicorn", "httpx", "sqlglot", "cryptography",
         "vigil.store.db", "vigil.pipeline", "vigil.notebook", "vigil.settings")

_PROBE = """
import json, sys
from vigil.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""
# the command modules: the top-level group imports one only when its command runs (cli/_lazy.py)
AREA_MODULES = tuple(f"vigil.cli.{area}" for area in AREAS)
# what typer's rich help formatter imports for every page; plain output must not pay for it
HELP_FORMATTER = ("typer.rich_utils", "rich.markdown", "markdown_it", "pygments")


def _loaded(argv: list[str], cwd: Path, modules: tuple[str, ...] = HEAVY) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    env.pop("VIGIL_CONFIG", None)
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=modules), *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)
    loaded: list[str] = json.loads(proc.stderr.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["formats"], ["ingest", "--help"],
                                  ["analyze", "--help"], ["policy", "--help"], ["serve", "--help"]])
def test_help_and_light_commands_load_no_heavy_module(argv: list[str], tmp_path: Path) -> None:
    assert _loaded(argv, tmp_path) == []


@pytest.mark.parametrize(("argv", "area"), [(["--help"], None), (["--version"], None), (["formats"], "ingest"),
                                            (["ingest", "--help"], "ingest"), (["policy", "--help"], "policy"),
                                            (["detections", "list"], "detections"), (["token", "--help"], "serve")])
def test_only_the_command_run_is_built(argv: list[str], area: str | None, tmp_path: Path) -> None:
    assert _loaded(argv, tmp_path, AREA_MODULES) == ([f"vigil.cli.{area}"] if area else [])


@pytest.mark.parametrize("argv", [["--version"], ["formats"], ["detections", "list"]])
def test_commands_that_print_no_help_load_no_help_formatter(argv: list[str], tmp_path: Path) -> None:
    assert _loaded(argv, tmp_path, HELP_FORMATTER) == []


def test_importing_the_package_loads_nothing_heavy(tmp_path: Path) -> None:
    code = f"import json, sys, vigil, vigil.errors, vigil.store.schema; print(json.dumps(sorted(m for m in " \
           f"{HEAVY!r} if m in sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=120, check=True).stdout
    assert json.loads(out) == []


def test_the_notebook_api_still_resolves_from_the_package() -> None:
    import vigil

    assert callable(vigil.sql) and callable(vigil.open_store) and vigil.__version__
    with pytest.raises(AttributeError):
        _ = vigil.no_such_name  # type: ignore[attr-defined]


def test_the_help_text_names_the_pipelines_stages() -> None:
    assert list(STAGE_NAMES) == stage_names()
