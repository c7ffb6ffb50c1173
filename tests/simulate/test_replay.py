"""A simulated tenant's records in time order, and a log file that cannot be read is an error."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vigil.errors import InputError, UnknownFormatError
from vigil.settings import load_settings
from vigil.simulate import SimulationSummary
from vigil.simulate.replay import log_records, store_records
from vigil.simulate.world import FILES
from vigil.store import open_store


def test_every_log_record_in_time_order(demo: tuple[Path, SimulationSummary]) -> None:
    out, summary = demo
    records = log_records(out)
    # every line of every log file, none of the directory / policy / ground-truth files
    assert len(records) == sum(summary.files[name] for name in FILES if name in summary.files)
    assert records == sorted(records)
    assert {fmt for _t, fmt, _text in records} == {"entra_signin_la", "o365_management_api", "entra_audit_la",
                                                     "okta_system"}


def test_stored_like_a_micro_batch(demo: tuple[Path, SimulationSummary], tmp_path: Path) -> None:
    out, _ = demo
    records = log_records(out)[:300]
    settings = load_settings(overrides={"store.path": str(tmp_path / "s.duckdb")}, environ={})
    with open_store(settings.store.path) as store:
        store_records(store, settings, records, "kafka:replay")
        stored = sum(store.scalar(f"SELECT count(*) FROM {t} WHERE source_file = 'kafka:replay'")
                     for t in ("signins", "activities", "directory_events") if store.exists(t))
    assert stored == 300


def test_unrecognised_log_file_is_an_error(demo: tuple[Path, SimulationSummary], tmp_path: Path) -> None:
    out, _ = demo
    copy = tmp_path / "sim"
    shutil.copytree(out, copy)
    (copy / "AuditLogs.json").write_text('{"neither": "a sign-in", "nor": "an audit record"}\n')
    with pytest.raises(UnknownFormatError, match="AuditLogs.json"):
        log_records(copy)


def test_record_without_time_is_an_error(demo: tuple[Path, SimulationSummary], tmp_path: Path) -> None:
    out, _ = demo
    copy = tmp_path / "sim"
    shutil.copytree(out, copy)
    path = copy / "SigninLogs.json"
    lines = path.read_text().splitlines()
    lines.append(lines[0].replace('"TimeGenerated"', '"NotTheTime"'))
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=rf"SigninLogs.json:{len(lines)}: a record with none of the time fields"):
        log_records(copy)


def test_folder_without_logs_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text("[]")
    with pytest.raises(InputError, match="none of the simulator's log files"):
        log_records(tmp_path)
