"""The YAML column-mapping adapter: loading, validation errors, and ingest through a mapping."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from tests.conftest import FIXTURES
from tests.sources.vendor_support import quarantine_reasons, rows
from vigil.errors import ConfigError
from vigil.sources.mapping import ingest_mapped, load_mapping

DIR = FIXTURES / "sources" / "mapping"


def test_csv_through_mapping(store, settings):
    [r] = ingest_mapped(store, [DIR / "acme_vpn.csv"], settings, DIR / "acme_vpn.yaml")
    assert r.error is None and r.source_format == "acme_vpn"
    assert (r.read, r.stored, r.duplicate, r.quarantined) == (5, 2, 1, 2)
    got = rows(store, "signins", "acme_vpn")
    alice = got["s-1|27.11.2026 08:15:02"]  # record_id list joined with |
    assert alice["event_time"] == datetime(2026, 11, 27, 8, 15, 2)  # day-first format from the YAML
    assert (alice["user_principal_name"], alice["ip"], alice["country"]) == (
        "alice@contoso.com", "203.0.113.7", "FR")  # lower-cased, port stripped, name -> ISO code
    assert (alice["result"], alice["result_code"], alice["mfa_satisfied"]) == ("success", "OK", True)
    assert (alice["app_name"], alice["source_table"]) == ("ACME VPN", "AcmeVpn")
    bob = got["s-2|27.11.2026 08:20:10"]
    assert (bob["result"], bob["mfa_satisfied"]) == ("failure", False)
    reasons = quarantine_reasons(store, DIR / "acme_vpn.csv")
    assert reasons == ['unparseable event time "27.11.2026 25:99:00"',
                       "missing a required field (User) of mapping acme_vpn.yaml"]


def test_json_lines_epoch_into_activities(store, settings):
    [r] = ingest_mapped(store, [DIR / "badge_events.jsonl"], settings, DIR / "badge_events.yaml")
    assert (r.read, r.stored, r.quarantined) == (3, 2, 1)
    got = rows(store, "activities", "badge_gateway")
    assert got["b-1"]["event_time"] == datetime(2026, 11, 25, 8, 15, 2, 118000)
    assert got["b-2"]["event_time"] == datetime(2026, 11, 25, 8, 16)  # epoch given as a string
    assert (got["b-1"]["user_principal_name"], got["b-1"]["result_status"]) == ("carol.diaz@contoso.com", "Success")
    assert got["b-2"]["result_status"] == "Failure"
    assert json.loads(got["b-1"]["details"]) == {"door": "HQ-3F"}
    assert json.loads(got["b-2"]["details"]) == "not json"  # kept as a JSON string, not dropped
    assert quarantine_reasons(store, DIR / "badge_events.jsonl") == ["no event time in the record"]


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text("name: t1\ntarget: signins\ntime: $.t\n" + body, encoding="utf-8")
    return p


@pytest.mark.parametrize(("body", "message"), [
    ("columns: {userx: $.a}", "columns.userx: signins has no column 'userx'"),
    ("columns: {event_time: $.a}", "columns.event_time: is set by the engine"),
    ("columns: {ip: {expr: \"(SELECT 1)\"}}", "columns.ip.expr: 'SELECT' is not allowed"),
    ("columns: {ip: {expr: \"read_csv('/etc/passwd')\"}}", "'read_csv' is not allowed"),
    ("columns: {ip: {expr: \"{$.a}; DROP TABLE signins\"}}", "may not contain ';'"),
    ("columns: {ip: \"$.a[*]\"}", "wildcards are not supported"),
    ("columns: {ip: {expr: \"lower({$.a}, 1, 2)\"}}", "columns.ip: does not compile"),
    ("columns: {ip: {wat: 1}}", "columns.ip: expected a path string or one of"),
    ("columns: [ip]", "columns: expected a mapping"),
    ("columns: {ip: $.a}\nbogus: 1", "unknown keys ['bogus']"),
])
def test_invalid_mappings_name_the_key(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


@pytest.mark.parametrize(("text", "message"), [
    ("name: t1\ntarget: [signins\n", "invalid YAML at line"),
    ("- a\n- b\n", "a mapping file is a YAML mapping"),
    ("name: t1\ntarget: signins\ncolumns: {ip: $.a}\n", "time: is required"),
    ("name: Bad Name\ntarget: signins\ntime: $.t\ncolumns: {ip: $.a}\n", "name: 'Bad Name'"),
    ("name: okta_system\ntarget: signins\ntime: $.t\ncolumns: {ip: $.a}\n", "is a built-in format"),
    ("name: t1\ntarget: logs\ntime: $.t\ncolumns: {ip: $.a}\n", "'logs' is not one of"),
    ("name: t1\ntarget: signins\ntime: {field: $.t, formats: ['%Q']}\ncolumns: {ip: $.a}\n",
     "time.formats[0]: invalid strptime format"),
    ("name: t1\ntarget: signins\ntime: {field: $.t, epoch: fortnights}\ncolumns: {ip: $.a}\n",
     "time.epoch: 'fortnights'"),
])
def test_invalid_documents(tmp_path, text, message):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=None) as err:
        load_mapping(path)
    assert message in str(err.value)


def test_missing_mapping_file(tmp_path):
    with pytest.raises(ConfigError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")


_values = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**15), st.floats(allow_nan=False),
                    st.text(max_size=30), st.lists(st.integers(), max_size=3),
                    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.fixed_dictionaries({}, optional={
    "id": _values, "ts_ms": _values, "who": st.one_of(_values, st.fixed_dictionaries({"email": _values})),
    "action": _values, "net": st.one_of(_values, st.fixed_dictionaries({"src": _values})), "ok": _values,
    "extra": _values}), min_size=1, max_size=8))
def test_mutated_records_always_balance(store, settings, tmp_path, records):
    """Whatever the records hold, nothing crashes and read == stored + duplicate + quarantined."""
    path = tmp_path / f"badge-{abs(hash(json.dumps(records, sort_keys=True)))}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    [r] = ingest_mapped(store, [path], settings, DIR / "badge_events.yaml")
    assert r.error is None
    assert r.read == len(records)
    assert r.read == r.stored + r.duplicate + r.quarantined
