"""One broker for the whole session (it starts in ~0.2 s; topics are unique per test)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stream.broker import Tansu


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tansu]:
    b = Tansu(Path(tmp_path_factory.mktemp("tansu")) / "tansu.log")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def topic(broker: Tansu) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    broker.create_topic(name, partitions=2)
    return name
