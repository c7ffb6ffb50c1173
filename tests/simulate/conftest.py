"""One small simulated tenant shared by the simulator tests (written once per session)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from vigil.simulate import SimulationSummary, simulate_tenant

LOG_FILES = ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "OfficeActivity_ManagementAPI.json",
             "AuditLogs.json", "OktaSystemLog.json")


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, SimulationSummary]]:
    out = tmp_path_factory.mktemp("sim-demo")
    summary = simulate_tenant(out, users=40, days=7, seed=7)
    yield out, summary


@pytest.fixture(scope="session")
def demo_rows(demo: tuple[Path, SimulationSummary]) -> dict[str, list[dict[str, Any]]]:
    out, _ = demo
    rows = {name: read_ndjson(out / name) for name in LOG_FILES}
    rows["labels.jsonl"] = read_ndjson(out / "labels.jsonl")
    rows["scenarios.jsonl"] = read_ndjson(out / "scenarios.jsonl")
    return rows
