"""Property tests over the vendor adapters: mutated records never crash a batch, counts always add up,
and the flattened Okta_CL shape maps like the API shape it was flattened from."""
from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tests.sources.vendor_support import ingest_one, quarantined, rows, stored_from
from vigil.sources import registry

SRC = FIXTURES / "sources"


def _okta() -> list[dict[str, Any]]:
    return json.loads((SRC / "okta" / "system_log_page.json").read_text())


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """An Okta LogEvent as the Sentinel connector writes it: paths joined by _, string columns suffixed _s."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "_"))
        elif isinstance(value, list):
            out[name] = json.dumps(value)
        elif name == "published":
            out["published_t"] = value
        elif name == "uuid":
            out["uuid_g"] = value
        elif isinstance(value, bool):
            out[name + "_b"] = str(value).upper()
        elif isinstance(value, (int, float)):
            out[name + "_d"] = str(value)
        else:
            out[name + "_s"] = "" if value is None else value
    out["Type"] = "Okta_CL"
    return out


SEEDS: dict[str, list[dict[str, Any]]] = {
    "okta_system": _okta(),
    "okta_sentinel": [_flatten(r) for r in _okta()],
    "gws_login": json.loads((SRC / "gws" / "login_activities_page.json").read_text())["items"],
    "cloudtrail_console": json.loads(gzip.decompress(next((SRC / "cloudtrail").glob("*.json.gz")).read_bytes()))[
        "Records"],
    "cloudtrail_sentinel": list(csv.DictReader((SRC / "cloudtrail" / "awscloudtrail_sentinel.csv").open())),
    "defender_cloudappevents": json.loads((SRC / "defender" / "advanced_hunting_export.json").read_text()),
}

_junk = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20),
    st.sampled_from(["", "null", "[", "{}", "[]", "{\"a\":", "$.x[*]", "'; DROP TABLE signins; --", "\"quoted\"",
                     "9999-99-99T99:99:99Z", "31/02/2025, 25:61:00.000", "2026-11-27T08:15:02Z", "1e309"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for key, value in items:
        out.append(prefix + (key,))
        out.extend(_paths(value, prefix + (key,)))
    return out


def _mutate(record: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    record = json.loads(json.dumps(record))
    target = record
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return record


@st.composite
def mutated_file(draw: st.DrawFn) -> tuple[str, list[Any]]:
    fmt = draw(st.sampled_from(sorted(SEEDS)))
    out: list[Any] = []
    for record in SEEDS[fmt]:
        for _ in range(draw(st.integers(0, 3))):
            paths = _paths(record)
            path = draw(st.sampled_from(paths))
            record = _mutate(record, path, draw(_junk), draw(st.booleans()))
        out.append(record)
    out.append(draw(_junk))  # and one record that is not an object at all
    return fmt, out


def _serialise(fmt: str, records: list[Any]) -> str:
    # Google Workspace as the API returns it, one page (NDJSON of activities: test_gws_ndjson_activities)
    if fmt == "gws_login":
        return json.dumps({"kind": "admin#reports#activities", "items": records})
    return "".join(json.dumps(r) + "\n" for r in records)


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(case=mutated_file())
def test_mutations_never_break_a_batch(store, settings, tmp_path: Path, case: tuple[str, list[Any]]) -> None:
    fmt, records = case
    path = tmp_path / f"{fmt}-{abs(hash(json.dumps(records, sort_keys=True, default=str)))}.json"
    path.write_text(_serialise(fmt, records), encoding="utf-8")
    r = ingest_one(store, settings, path, fmt=fmt)  # asserts no file error, balanced counts matching the store
    assert r.read == len(records)
    # a format writes its own table and, for the records it does not accept, only its fallback twin's
    spec = registry.get(fmt)
    allowed = {(spec.target, fmt)}
    if spec.fallback:
        allowed.add((registry.get(spec.fallback).target, spec.fallback))
    assert set(stored_from(store, path)) <= allowed
    assert {f for f, _ in quarantined(store, path)} <= {f for _, f in allowed}
    assert all(reason for _, reason in quarantined(store, path))


def test_okta_cl_flattening_maps_like_the_api(store, settings, tmp_path: Path) -> None:
    api = SRC / "okta" / "system_log_page.json"
    flat = tmp_path / "okta_cl.json"
    flat.write_text(json.dumps(SEEDS["okta_sentinel"]), encoding="utf-8")
    ingest_one(store, settings, api)
    assert ingest_one(store, settings, flat).source_format == "okta_sentinel"
    a, b = rows(store, "signins", "okta_system"), rows(store, "signins", "okta_sentinel")
    assert a.keys() == b.keys()
    skip = {"event_id", "source_format", "source_table", "source_file"}
    for rid, row in a.items():
        assert {k: v for k, v in row.items() if k not in skip} == {k: v for k, v in b[rid].items() if k not in skip}
    # and the non-sign-ins both fallback twins store in activities (record_type names the vendor table)
    a, b = rows(store, "activities", "okta_system_activity"), rows(store, "activities", "okta_sentinel_activity")
    assert a.keys() == b.keys() == {"e4627183-1b2a-11ef-9a3b-0b5c1d2e3f45"}
    skip |= {"record_type"}
    for rid, row in a.items():
        assert {k: v for k, v in row.items() if k not in skip} == {k: v for k, v in b[rid].items() if k not in skip}


def test_gws_ndjson_activities(store, settings, tmp_path: Path) -> None:
    """Activities one per line: each line's own `events` array must not be taken for a page wrapper."""
    path = tmp_path / "login.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in SEEDS["gws_login"]), encoding="utf-8")
    r = ingest_one(store, settings, path)
    assert (r.source_format, r.read, r.stored, r.duplicate, r.quarantined) == ("gws_login", 6, 4, 1, 1)
    assert stored_from(store, path) == {("signins", "gws_login"): 3, ("activities", "gws_login_activity"): 1}


def test_scalar_array_elements_are_counted(store, settings, tmp_path: Path) -> None:
    path = tmp_path / "okta.json"
    path.write_text(json.dumps(SEEDS["okta_system"][:1] + [None, 42, True]), encoding="utf-8")
    r = ingest_one(store, settings, path)
    assert (r.read, r.stored, r.quarantined) == (4, 1, 3)
