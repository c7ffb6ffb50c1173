"""The one registry of log formats: every module in ``vigil.sources`` defining ``SOURCE``.

Detection order is the order of ``PRIORITY`` first (more specific formats before more
general ones), then module name.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from vigil.errors import UnknownFormatError
from vigil.sources._base import SourceSpec

_NOT_SOURCES = {"ingest", "registry", "mapping", "docs"}


@lru_cache(maxsize=1)
def _load() -> dict[str, SourceSpec]:
    import vigil.sources as pkg

    found: dict[str, SourceSpec] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in _NOT_SOURCES:
            continue
        module = importlib.import_module(f"vigil.sources.{info.name}")
        specs = getattr(module, "SOURCES", None) or [module.SOURCE]
        for spec in specs:
            if spec.name in found:
                raise RuntimeError(f"duplicate source name {spec.name!r} in {info.name}")
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
