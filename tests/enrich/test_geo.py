"""geo.py and mmdb_write.py: both record schemas read through maxminddb, range tables, lookups."""
from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import maxminddb
import pytest

from tests.enrich.geoenv import write_geo_mmdb
from vigil.enrich import geo
from vigil.enrich.ipnum import ip_key
from vigil.enrich.mmdb_write import write_mmdb
from vigil.errors import InputError


@pytest.mark.parametrize("flat", [False, True])
def test_lookup_reads_both_schemas(tmp_path: Path, flat: bool) -> None:
    path = write_geo_mmdb(tmp_path / "city.mmdb", flat=flat)
    found = geo.lookup(path, "212.39.70.70")
    assert found is not None
    assert (found["geo_country"], found["geo_city"]) == ("BG", "Sofia")
    assert found["geo_latitude"] == pytest.approx(42.6977, abs=0.01)
    # GeoIP2 records carry accuracy_radius; DB-IP Lite's flat records do not
    assert found["geo_accuracy_km"] == (None if flat else 20.0)
    assert found["network"] == "212.39.70.64/27"
    assert geo.lookup(path, "10.0.0.1") is None


def test_nested_record_uses_english_names_and_subdivision() -> None:
    rec = {"country": {"iso_code": "DE"}, "city": {"names": {"de": "München", "en": "Munich"}},
           "subdivisions": [{"names": {"en": "Bavaria"}}],
           "location": {"latitude": 48.1, "longitude": 11.6, "accuracy_radius": 100}}
    assert geo.flatten(rec) == {"geo_country": "DE", "geo_state": "Bavaria", "geo_city": "Munich",
                                "geo_latitude": 48.1, "geo_longitude": 11.6, "geo_accuracy_km": 100.0}
    assert geo.flatten("not a record") is None


def test_build_ranges_is_sorted_and_disjoint(tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "t.mmdb", [
        ("81.2.0.0/16", {"country_code": "GB", "latitude": 51.0, "longitude": 0.0}),
        ("81.2.69.0/24", {"country_code": "FR", "latitude": 48.8, "longitude": 2.3}),
        ("2001:db8:1::/48", {"country_code": "DE", "latitude": 52.5, "longitude": 13.4}),
        ("2001:db8:1:2::/80", {"country_code": "NL", "latitude": 52.4, "longitude": 4.9}),  # finer than /64
    ])
    t = geo.build_ranges(path).to_pydict()
    rows = list(zip(t["family"], t["start_key"], t["end_key"], t["geo_country"], strict=True))
    for fam in (4, 6):
        spans = [(s, e) for f, s, e, _ in rows if f == fam]
        assert spans == sorted(spans)
        assert all(a[1] < b[0] for a, b in pairwise(spans))
    fam, key = ip_key("81.2.69.9")  # type: ignore[misc]
    assert [c for f, s, e, c in rows if f == fam and s <= key <= e] == ["FR"]
    fam, key = ip_key("81.2.1.1")  # type: ignore[misc]
    assert [c for f, s, e, c in rows if f == fam and s <= key <= e] == ["GB"]


def test_writer_output_opens_with_the_c_reader(tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "t.mmdb", [("192.0.2.0/24", {"n": 1, "big": 1 << 40, "neg": -3, "ok": True,
                                                            "list": [1.5, "x"]})])
    with maxminddb.open_database(str(path), maxminddb.MODE_MMAP_EXT) as reader:
        assert reader.get("192.0.2.1") == {"n": 1, "big": 1 << 40, "neg": -3, "ok": True, "list": [1.5, "x"]}


def test_bad_database_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"not a database")
    with pytest.raises(InputError, match="bad.mmdb: not a MaxMind-format database"):
        geo.lookup(bad, "1.1.1.1")
    with pytest.raises(InputError, match="not found"):
        geo.lookup(tmp_path / "missing.mmdb", "1.1.1.1")
    with pytest.raises(InputError, match="not an IP"):
        geo.lookup(bad, "999.1.1.1")


def test_ipv4_only_database(tmp_path: Path) -> None:
    path = write_mmdb(tmp_path / "v4.mmdb", [("81.2.69.0/24", {"country_code": "GB", "latitude": 51.5,
                                                                "longitude": -0.1})], ip_version=4)
    assert geo.lookup(path, "81.2.69.1")["geo_country"] == "GB"  # type: ignore[index]
    assert geo.lookup(path, "2001:db8::1") is None  # DB-IP Lite ships IPv4 and IPv6 as separate files
    assert geo.build_ranges(path).num_rows == 1
    with pytest.raises(ValueError, match="IPv4-only"):
        write_mmdb(tmp_path / "x.mmdb", [("2001:db8::/32", {})], ip_version=4)
