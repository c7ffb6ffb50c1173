"""In-memory stores: identity resolution is SQL over small tables."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from vigil.store import Store, open_store


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store(":memory:")
    yield s
    s.close()
