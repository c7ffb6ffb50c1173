"""Shared test vocabulary: paths to the published samples, fresh stores, settings."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from vigil.settings import Settings, default_data_dir, load_settings
from vigil.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The geolocation databases scripts/setup.sh installs (docs/enrich.md) are the user's: tests see an empty
# data folder of their own (settings.default_data_dir), so every result is the same with or without
# them; tests/enrich/test_dbip.py reads the installed ones on purpose, from INSTALLED_DATA_DIR.
if "VIGIL_TESTS_INSTALLED_DATA_DIR" not in os.environ:  # once, in the first process (xdist workers inherit)
    os.environ["VIGIL_TESTS_INSTALLED_DATA_DIR"] = str(default_data_dir())
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="vigil-tests-data-")
    atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], True)
INSTALLED_DATA_DIR = Path(os.environ["VIGIL_TESTS_INSTALLED_DATA_DIR"])

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


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """The one SparkSession of a test run: local[2], UI off, two shuffle partitions (start-up ~11 s).
    With pytest-xdist each worker that needs it starts its own."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed (scripts/setup.sh installs it)")
    from vigil.store.spark import session

    s = session("local[2]", app="vigil-tests", conf={
        "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
        "spark.driver.memory": "1g"})
    yield s
    s.stop()
