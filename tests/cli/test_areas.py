"""The command modules are listed, not discovered: a module left out of ``AREAS`` would be a
command that silently does not exist."""
from __future__ import annotations

import pkgutil

import vigil.cli


def test_every_command_module_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules(vigil.cli.__path__) if not m.name.startswith("_")}
    listed = {m.__name__.rsplit(".", 1)[1] for m in vigil.cli.AREAS}
    assert modules == listed, f"add to vigil/cli/__init__.py AREAS: {sorted(modules - listed)}"
    assert all(callable(getattr(m, "register", None)) for m in vigil.cli.AREAS)
