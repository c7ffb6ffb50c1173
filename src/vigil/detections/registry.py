"""The detection catalogue: every module in :mod:`vigil.detections.rules` defining ``DETECTION``.

Discovery is the one source of truth: adding a detection means adding a module (and its
``.yml`` cases) to ``rules/``; nothing else lists them.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

from vigil.detections import rules
from vigil.detections.base import LEVELS, Detection
from vigil.errors import ConfigError

RULES_DIR = Path(rules.__file__).resolve().parent


@cache
def all_detections() -> tuple[Detection, ...]:
    found: dict[str, Detection] = {}
    for info in sorted(pkgutil.iter_modules(rules.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{rules.__name__}.{info.name}")
        det = getattr(module, "DETECTION", None)
        if not isinstance(det, Detection):
            continue
        if det.id in found:
            raise ConfigError(f"detection id {det.id!r} defined twice ({found[det.id].module}, {info.name})")
        bad = set(det.levels) - set(LEVELS)
        if bad:
            raise ConfigError(f"detection {det.id}: unknown levels {sorted(bad)}")
        object.__setattr__(det, "module", info.name)
        found[det.id] = det
    return tuple(found.values())


def get(detection_id: str) -> Detection:
    for det in all_detections():
        if det.id == detection_id:
            return det
    raise ConfigError(f"no detection {detection_id!r} (see `vigil detections list`)")


def cases_path(det: Detection) -> Path:
    """The YAML file of the detection's test cases, beside its module."""
    return RULES_DIR / f"{det.module}.yml"


def enabled(disabled: list[str]) -> list[Detection]:
    known = {d.id for d in all_detections()}
    unknown = set(disabled) - known
    if unknown:
        raise ConfigError(f"detections.disabled names unknown detection(s): {', '.join(sorted(unknown))}")
    return [d for d in all_detections() if d.id not in disabled]
