"""In-memory stores: these tests exercise SQL, not the file system (faster on a busy disk)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.risk.month import month  # noqa: F401  (the simulated month, session-scoped)
from vigil.store import Store, open_store


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store(":memory:")
    yield s
    s.close()
