"""Shared test vocabulary: paths to the published samples, fresh stores, settings."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from vigil.settings import Settings, load_settings
from vigil.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Hypothesis' per-example deadline is a timed assertion: on a loaded 2-core machine it fails correct code.
hypothesis_settings.register_profile("vigil", deadline=None)
hypothesis_settings.load_profile("vigil")


def sample(relative: str) -> Path:
    """Path of a published sample under ../shared/samples, or skip the test when absent."""
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"../shared/samples/{relative} not present (shared samples are absent on a fresh clone)")
    return path


def sigma_rules() -> Path:
    """The SigmaHQ identity rules under ../shared/sigma/rules, or skip the test when absent."""
    path = SHARED / "sigma" / "rules"
    if not path.is_dir():
        pytest.skip("../shared/sigma/rules not present (shared Sigma rules are absent on a fresh clone)")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(overrides={"store.path": str(tmp_path / "vigil.duckdb")}, environ={})


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = open_store(settings.store.path)
    yield s
    s.close()
