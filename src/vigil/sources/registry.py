"""The one registry of log formats: every module in ``vigil.sources.formats`` not starting with ``_``.

Each such module defines ``SOURCE`` (one format) or ``SOURCES`` (several). Formats are listed
in module-name order, then in the order a module lists them; detection keeps the first of
equally good matches, so that order only breaks ties.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from vigil.errors import UnknownFormatError
from vigil.sources import formats
from vigil.sources._base import SourceSpec


def format_modules() -> list[str]:
    """Names of the modules in ``sources/formats/`` that must each define at least one format."""
    return sorted(m.name for m in pkgutil.iter_modules(formats.__path__) if not m.name.startswith("_"))


@lru_cache(maxsize=1)
def _load() -> dict[str, SourceSpec]:
    found: dict[str, SourceSpec] = {}
    for name in format_modules():
        module = importlib.import_module(f"{formats.__name__}.{name}")
        specs = getattr(module, "SOURCES", None) or [getattr(module, "SOURCE", None)]
        for spec in specs:
            if not isinstance(spec, SourceSpec):
                raise RuntimeError(f"vigil/sources/formats/{name}.py defines no SOURCE or SOURCES of SourceSpec")
            if spec.name in found:
                raise RuntimeError(f"duplicate source name {spec.name!r} in {name}")
            found[spec.name] = spec
    return found


def all_sources() -> list[SourceSpec]:
    return list(_load().values())


def names() -> list[str]:
    return list(_load())


def get(name: str) -> SourceSpec:
    try:
        return _load()[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {name!r}; known formats: {', '.join(sorted(_load()))}"
        ) from None
