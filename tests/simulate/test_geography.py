from __future__ import annotations

import ipaddress

import pytest

from vigil.simulate.geography import ASN_TYPES, build_mmdb_rows, iter_ranges, load_geography


def test_every_asn_type_and_office_country_has_ranges() -> None:
    geo = load_geography()
    for t in ASN_TYPES:
        assert geo.ranges_where(type=t), t
    for cc in ("GB", "BG", "BR", "US", "DE", "IN"):
        assert geo.ranges_where(type="corporate", country=cc, role="office"), cc
    assert geo.ranges_where(type="corporate", role="vpn_gateway")
    assert any(r.network.version == 6 for r in geo.ranges)


def test_ranges_do_not_overlap_and_reference_known_rows() -> None:
    geo = load_geography()
    nets = [r.network for r in geo.ranges]
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            assert not (a.version == b.version and a.overlaps(b)), (a, b)
    for r in geo.ranges:
        assert r.country in geo.countries
        assert r.asn.number in geo.asns
        assert r.network.is_global, r.cidr


def test_lookup_and_address_stay_inside_the_range() -> None:
    geo = load_geography()
    for r in geo.ranges:
        for off in (0, 7, 2**31 + 5):
            ip = r.address(off)
            assert ipaddress.ip_address(ip) in r.network
            assert geo.lookup(ip) == r
    assert geo.lookup("10.0.0.1") is None


def test_range_table_is_sorted_and_matches_mmdb_rows() -> None:
    rows = list(iter_ranges())
    keys = [(r.version, r.first) for r in rows]
    assert keys == sorted(keys)
    assert all(r.first <= r.last for r in rows)
    mmdb = dict(build_mmdb_rows())
    assert len(mmdb) == len(rows)
    for r in rows:
        rec = mmdb[r.cidr]
        assert rec["country"]["iso_code"] == r.country
        assert rec["city"]["names"]["en"] == r.city
        assert rec["autonomous_system_number"] == r.asn
        assert rec["location"]["latitude"] == pytest.approx(r.latitude)
        assert r.ip_class in {"corporate_egress", "vpn", "tor", "hosting", "mobile", "residential"}


def test_cities_have_valid_time_zones() -> None:
    from zoneinfo import ZoneInfo

    for city in load_geography().cities.values():
        ZoneInfo(city.timezone)
        assert -90 <= city.latitude <= 90 and -180 <= city.longitude <= 180
