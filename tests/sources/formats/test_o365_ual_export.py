"""Unified audit log exports (Purview CSVs, Search-UnifiedAuditLog, Extractor-Suite, Graph) -> activities."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, sample
from tests.sources.formats.ual_layouts import (
    LAYOUTS,
    audit_data,
    load_records,
    write_csv,
    write_extractor_json,
    write_graph_json,
    write_hawk_json,
)
from tests.sources.vendor_support import ingest_one, quarantine_reasons, rows
from vigil.store import open_store

API = FIXTURES / "sources" / "o365" / "management_api.jsonl"
COMPARED = ("event_time", "tenant_id", "user_id", "user_principal_name", "workload", "record_type", "operation",
            "result_status", "object_id", "ip", "user_agent", "client_app_id", "app_name", "session_id",
            "unique_token_id", "correlation_id", "token_issued_at", "parameters", "details")


def _mapped(store, fmt: str) -> dict[str, tuple]:
    return {rid: tuple(r[c] for c in COMPARED) for rid, r in rows(store, "activities", fmt).items()}


def test_layouts_are_told_apart_by_their_header() -> None:
    assert {layout: fmt for layout, (_, _, fmt) in LAYOUTS.items()} == {
        "purview_classic": "o365_ual_classic", "select_cut": "o365_ual_classic",
        "select_cut_recordtype": "o365_ual_classic", "purview_current": "o365_ual_purview",
        "export_csv": "o365_ual_cmdlet"}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_maps_like_the_management_api(store, settings, tmp_path: Path, layout: str) -> None:
    records = load_records(API)
    path = write_csv(tmp_path / f"{layout}.csv", layout, records)
    r = ingest_one(store, settings, path)
    assert (r.source_format, r.read, r.stored, r.duplicate, r.quarantined) == (LAYOUTS[layout][2], 4, 4, 0, 0)
    got = _mapped(store, r.source_format)
    mail = rows(store, "activities", r.source_format)["9d1c0000-0000-4000-8000-000000000001"]
    # AppAccessContext: the link from mail access back to the sign-in session and token
    assert mail["session_id"] == "8f2c1e0a-5b7d-4c3e-9a1f-000000000001"
    assert mail["unique_token_id"] == "uti-BBBBBBBBBBBBBBBBBBBBBB"
    assert mail["client_app_id"] == "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
    # the same records read from the Management API JSON: the same events, mapped the same, stored once
    alone = open_store(str(tmp_path / "api.duckdb"))
    try:
        ingest_one(alone, settings, API)
        assert got == _mapped(alone, "o365_management_api")
    finally:
        alone.close()
    again = ingest_one(store, settings, API)
    assert (again.stored, again.duplicate) == (0, 4)
    assert store.scalar("SELECT count(*) FROM activities") == 4


def test_published_records_in_every_layout(store, settings, tmp_path: Path) -> None:
    records = load_records(sample("o365-audit/plaso_microsoft_audit_log.jsonl"))
    reference = ingest_one(store, settings, sample("o365-audit/plaso_microsoft_audit_log.jsonl"))
    assert reference.stored == 4
    expected = _mapped(store, "o365_management_api")
    for layout in sorted(LAYOUTS):
        r = ingest_one(store, settings, write_csv(tmp_path / f"{layout}.csv", layout, records))
        assert (r.source_format, r.read, r.duplicate) == (LAYOUTS[layout][2], 4, 4), (layout, r)
    # read alone, each layout gives exactly the API's rows
    for layout in ("purview_current", "export_csv"):
        s = open_store(str(tmp_path / f"{layout}.duckdb"))
        try:
            r = ingest_one(s, settings, write_csv(tmp_path / f"alone-{layout}.csv", layout, records))
            assert r.stored == 4
            assert _mapped(s, r.source_format) == expected
        finally:
            s.close()


@pytest.mark.parametrize(("encoding", "delimiter", "type_line"), [
    ("utf-8-sig", ",", False),   # Excel "CSV UTF-8", Export-Csv -Encoding UTF8 (Windows PowerShell)
    ("utf-8", ",", True),        # Windows PowerShell Export-Csv without -NoTypeInformation
    ("utf-8-sig", ";", False),   # Excel in a locale whose list separator is ';'
    ("utf-16", "\t", False),     # Excel "Unicode Text": UTF-16 LE with BOM, tab-separated
    ("utf-16", ",", False),      # Export-Csv -Encoding Unicode
])
def test_excel_and_powershell_mangled_files(store, settings, tmp_path: Path, encoding: str, delimiter: str,
                                            type_line: bool) -> None:
    records = load_records(API)
    layout = "export_csv" if type_line else "purview_classic"
    path = write_csv(tmp_path / "mangled.csv", layout, records, encoding=encoding, delimiter=delimiter,
                     type_line=type_line)
    r = ingest_one(store, settings, path)
    assert (r.source_format, r.stored, r.quarantined) == (LAYOUTS[layout][2], 4, 0)
    assert rows(store, "activities", r.source_format)["9d1c0000-0000-4000-8000-000000000003"]["session_id"] == (
        "8f2c1e0a-5b7d-4c3e-9a1f-000000000001")


def test_split_files_and_overlapping_searches_store_each_record_once(store, settings, tmp_path: Path) -> None:
    records = load_records(API) + load_records(sample("o365-audit/plaso_microsoft_audit_log.jsonl"))
    part1 = write_csv(tmp_path / "search1_part1.csv", "purview_current", records[:5])
    part2 = write_csv(tmp_path / "search1_part2.csv", "purview_current", records[5:])
    overlap = write_csv(tmp_path / "search2.csv", "purview_current", records[3:7])
    cmdlet = write_csv(tmp_path / "powershell.csv", "export_csv", records[6:])
    results = [ingest_one(store, settings, p) for p in (part1, part2, overlap, cmdlet)]
    assert [(r.read, r.stored, r.duplicate) for r in results] == [(5, 5, 0), (3, 3, 0), (4, 0, 4), (2, 0, 2)]
    assert sum(r.read for r in results) == sum(r.stored + r.duplicate + r.quarantined for r in results) == 14
    assert store.scalar("SELECT count(*) FROM activities") == 8
    assert store.scalar("SELECT count(DISTINCT source_record_id) FROM activities") == 8


def test_cut_and_mismatched_rows_are_quarantined_with_the_reason(store, settings, tmp_path: Path) -> None:
    records = load_records(API)

    def damage(row: dict[str, str]) -> None:
        if row["Operation"] == "MailItemsAccessed":  # the portal cut a long cell
            row["AuditData"] = row["AuditData"][:200]
        elif row["Operation"] == "New-InboxRule":  # outer column from another record
            row["Operation"] = "Set-InboxRule"
        elif row["Operation"] == "FileDownloaded":
            row["RecordId"] = "00000000-0000-0000-0000-000000000000"

    path = write_csv(tmp_path / "damaged.csv", "purview_current", records, edit=damage)
    r = ingest_one(store, settings, path)
    assert (r.read, r.stored, r.quarantined) == (4, 1, 3)
    reasons = quarantine_reasons(store, path)
    assert reasons[0].startswith("AuditData is cut off")
    assert reasons[1] == "outer Operation does not match AuditData.Operation (operation)"
    assert reasons[2] == "outer RecordId does not match AuditData.Id (record id)"
    assert sum(r.reasons.values()) == r.quarantined


def test_times_are_cross_checked_with_slack_for_local_time(store, settings, tmp_path: Path) -> None:
    records = load_records(API)

    def shift(row: dict[str, str]) -> None:
        if "New-InboxRule" in row["Operations"]:
            row["CreationDate"] = "2026-03-05T09:08:00.0000000Z"  # three days off: another record's time
        elif "FileDownloaded" in row["Operations"]:
            row["CreationDate"] = "2026-03-02T01:09:30-08:00"  # the same instant, written in local time

    path = write_csv(tmp_path / "times.csv", "purview_classic", records, edit=shift)
    r = ingest_one(store, settings, path)
    assert (r.stored, r.quarantined) == (3, 1)
    assert quarantine_reasons(store, path) == ["outer CreationDate is more than 14 hours from AuditData.CreationTime"]


def test_extractor_suite_json_and_graph_records(store, settings, tmp_path: Path) -> None:
    records = load_records(API)
    ext = ingest_one(store, settings, write_extractor_json(tmp_path / "UAL-20260302000000.json",
                                                           [records[:2], records[2:]]))
    assert (ext.source_format, ext.read, ext.stored) == ("o365_ual_cmdlet", 4, 4)
    graph = ingest_one(store, settings, write_graph_json(tmp_path / "UALGraph.json", records))
    assert (graph.source_format, graph.read, graph.stored, graph.duplicate) == ("o365_ual_graph", 4, 0, 4)
    got = rows(store, "activities", "o365_ual_cmdlet")
    assert got["9d1c0000-0000-4000-8000-000000000002"]["unique_token_id"] == "uti-CCCCCCCCCCCCCCCCCCCCCC"
    assert json.loads(got["9d1c0000-0000-4000-8000-000000000002"]["parameters"])[0]["Value"] == "drop@evil.example"


def test_auditdata_that_is_not_an_object(store, settings, tmp_path: Path) -> None:
    records = load_records(API)

    def blank(row: dict[str, str]) -> None:
        if row["Operations"] == "UserLoggedIn":
            row["AuditData"] = ""
        elif row["Operations"] == "FileDownloaded":
            row["AuditData"] = "[" + audit_data(records[2]) + "]"

    path = write_csv(tmp_path / "odd.csv", "purview_classic", records, edit=blank)
    r = ingest_one(store, settings, path)
    assert (r.stored, r.quarantined) == (2, 2)
    assert sorted(quarantine_reasons(store, path)) == ["AuditData is not a JSON object", "no AuditData in the row"]


def test_hawk_raw_logs(store, settings, tmp_path: Path) -> None:
    """Hawk's Raw_*_<user>.csv (Export-Csv -Encoding UTF8) and .json (ConvertTo-Json | Out-File, UTF-16)."""
    records = load_records(API)
    csv_r = ingest_one(store, settings, write_csv(tmp_path / "Raw_Authentication_Logs_alice.csv", "export_csv",
                                                  records, encoding="utf-8-sig"))
    assert (csv_r.source_format, csv_r.stored) == ("o365_ual_cmdlet", 4)
    json_r = ingest_one(store, settings, write_hawk_json(tmp_path / "Raw_Authentication_Logs_alice.json", records))
    assert (json_r.source_format, json_r.read, json_r.duplicate) == ("o365_ual_cmdlet", 4, 4)
