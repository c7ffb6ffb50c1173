from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import sample
from vigil.errors import ConfigError
from vigil.locations.ip import parse_ip
from vigil.locations.named import CountryNamedLocation, IpNamedLocation, load_named_locations, parse_named_locations

SAMPLE = "ca-policies/graph-v1_conditionalaccessroot-list-namedlocations_example1-response.json"


def test_graph_example_loads_all_three() -> None:
    locs = load_named_locations(sample(SAMPLE))
    assert len(locs) == 3
    v4 = locs.get("06e4ff15-ca6b-4843-9c34-3fdd1ce8f739")
    assert isinstance(v4, IpNamedLocation) and not v4.is_trusted
    assert v4.contains_ip("6.5.4.3") and not v4.contains_ip("6.5.4.4")
    assert v4.contains_ip("127.126.125.255") and not v4.contains_ip("127.126.126.0")
    country = locs.get("1b7f0916-7677-40d8-97a1-d606f4ed8fcf")
    assert isinstance(country, CountryNamedLocation)
    assert country.contains_country("US") and country.contains_country("ca") and not country.contains_country("DE")
    assert not country.contains_country(None)  # includeUnknownCountriesAndRegions is false
    assert country.country_lookup_method == "clientIpAddress"


def test_ipv6_ranges_with_host_bits_as_published() -> None:
    locs = load_named_locations(sample(SAMPLE))
    v6 = locs.get("05239353-9117-4d29-a6a1-89724cb61b8c")
    assert isinstance(v6, IpNamedLocation) and v6.is_trusted
    assert v6.ip_ranges[0].cidr_address == "2001:4898:80e8:7:d92a:7695:fda1:9d62/48"
    assert v6.ip_ranges[0].normalized == "2001:4898:80e8::/48"
    assert v6.contains_ip("2001:4898:80e8:ffff::1") and not v6.contains_ip("2001:4898:80e9::1")
    assert locs.is_trusted_ip("2001:4898:80d8::5") and not locs.is_trusted_ip("6.5.4.3")
    assert [r[0] for r in locs.trusted_ranges()] == ["2001:4898:80e8::/48", "2001:4898:80d8::/48"]


def test_single_object_and_type_inferred() -> None:
    locs = parse_named_locations({"id": "x", "displayName": "HQ", "isTrusted": True,
                                  "ipRanges": [{"cidrAddress": "10.1.0.0/16"}]})
    assert locs.is_trusted_ip("10.1.2.3") and [loc.id for loc in locs.matching_ip("10.1.9.9")] == ["x"]


def test_unknown_countries_included() -> None:
    locs = parse_named_locations({"@odata.type": "#microsoft.graph.countryNamedLocation", "id": "u",
                                  "displayName": "unknown", "countriesAndRegions": [],
                                  "includeUnknownCountriesAndRegions": True,
                                  "countryLookupMethod": "authenticatorAppGps"})
    loc = locs.get("u")
    assert isinstance(loc, CountryNamedLocation)
    assert loc.contains_country(None) and loc.contains_country("") and not loc.contains_country("FR")
    assert loc.country_lookup_method == "authenticatorAppGps"


@pytest.mark.parametrize("doc, where, why", [
    ({"id": "a", "displayName": "a", "ipRanges": [{"cidrAddress": "10.0.0.0/8"}]},
     "$.ipRanges[0].cidrAddress", "longer than /8"),
    ({"id": "a", "displayName": "a", "ipRanges": [{"cidrAddress": "10.0.0.1"}]},
     "$.ipRanges[0].cidrAddress", "CIDR"),
    ({"id": "a", "displayName": "a", "ipRanges": [{"@odata.type": "#microsoft.graph.iPv6CidrRange",
                                                    "cidrAddress": "10.0.0.0/16"}]},
     "$.ipRanges[0].cidrAddress", "does not match"),
    ({"id": "a", "displayName": "a", "ipRanges": [{"cidrAddress": "10.0.0.0/16"}], "color": "red"},
     "$.color", "unknown property"),
    ({"@odata.type": "#microsoft.graph.countryNamedLocation", "id": "c", "displayName": "c",
      "countriesAndRegions": ["USA"]}, "$.countriesAndRegions[0]", "ISO 3166"),
    ({"@odata.type": "#microsoft.graph.countryNamedLocation", "id": "c", "displayName": "c",
      "countriesAndRegions": ["US"], "countryLookupMethod": "wifi"}, "$.countryLookupMethod", "not one of"),
    ({"@odata.type": "#microsoft.graph.compliantNetworkNamedLocation", "id": "c", "displayName": "c"},
     "$.@odata.type", "unknown named location type"),
    ({"id": "a", "displayName": "a", "ipRanges": [], "isTrusted": "yes"}, "$.ipRanges", "at least one"),
])
def test_rejects_with_json_path(doc: dict, where: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_named_locations(doc, "locs.json")
    assert f"locs.json:{where}" in str(info.value) and why in str(info.value)


def test_duplicate_ids_rejected() -> None:
    one = {"id": "a", "displayName": "a", "ipRanges": [{"cidrAddress": "10.0.0.0/16"}]}
    with pytest.raises(ConfigError, match=r"\$\.value\[1\]\.id.*duplicate"):
        parse_named_locations({"value": [one, one]})


def test_parse_ip_forms() -> None:
    assert str(parse_ip("[2001:db8::1]:443")) == "2001:db8::1"
    assert str(parse_ip("10.0.0.1:8080")) == "10.0.0.1"
    assert str(parse_ip("::ffff:10.0.0.1")) == "10.0.0.1"
    assert parse_ip("not-an-ip") is None and parse_ip(None) is None


@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(9, 32)), min_size=1, max_size=20),
       st.integers(0, 2**32 - 1))
def test_interval_lookup_matches_ipaddress(ranges: list[tuple[int, int]], probe: int) -> None:
    cidrs = [f"{ipaddress.IPv4Address(a)}/{p}" for a, p in ranges]
    locs = parse_named_locations({"id": "h", "displayName": "h",
                                  "ipRanges": [{"cidrAddress": c} for c in cidrs]})
    addr = ipaddress.IPv4Address(probe)
    expected = any(addr in ipaddress.ip_network(c, strict=False) for c in cidrs)
    loc = locs.get("h")
    assert isinstance(loc, IpNamedLocation) and loc.contains_ip(str(addr)) is expected
