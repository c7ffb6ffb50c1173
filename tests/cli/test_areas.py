"""The command modules are listed, not discovered: a module left out of ``AREAS`` would be a
command that silently does not exist."""
from __future__ import annotations

import importlib
import pkgutil

import vigil.cli


def test_every_command_module_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules(vigil.cli.__path__) if not m.name.startswith("_")}
    assert modules == set(vigil.cli.AREAS), f"add to vigil/cli/_lazy.py LISTING: {sorted(modules - set(vigil.cli.AREAS))}"
    assert all(callable(getattr(importlib.import_module(f"vigil.cli.{m}"), "register", None)) for m in vigil.cli.AREAS)
