"""The simulator's geography: countries, cities, ASNs and IP ranges shipped in ``vigil/data/geography``.

The same table feeds the simulator (which IP a user signs in from, and what Entra writes in
``LocationDetails`` and ``AutonomousSystemNumber``) and the tests of every enrichment path
(:func:`build_mmdb_rows` gives the records of a MaxMind-format City + ASN database, :func:`iter_ranges`
an integer range table for ASOF / range joins), so enrichment and the logs always agree.

Ranges are representative public allocations of the named organisations, not an authoritative
registry extract; the corporate ASN 64500 ("Contoso Ltd") is from the RFC 5398 documentation block.
"""
from __future__ import annotations

import csv
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any, Literal

from vigil.errors import ConfigError

AsnType = Literal["corporate", "isp", "mobile", "hosting", "vpn", "tor", "relay"]
ASN_TYPES: tuple[str, ...] = ("corporate", "isp", "mobile", "hosting", "vpn", "tor", "relay")
#: ASN type -> the enrichment contract's ``ip_class`` (corporate splits on the range's role); "relay" is iCloud
#: Private Relay's egress (an anonymiser to enrichment, kept apart here so attackers' "vpn" draws stay the same)
IP_CLASS = {"isp": "residential", "mobile": "mobile", "hosting": "hosting", "vpn": "vpn", "tor": "tor",
            "relay": "vpn"}


@dataclass(frozen=True)
class Country:
    iso2: str
    name: str
    latitude: float
    longitude: float
    neighbours: tuple[str, ...]


@dataclass(frozen=True)
class City:
    country: str
    name: str
    state: str
    latitude: float
    longitude: float
    timezone: str


@dataclass(frozen=True)
class Asn:
    number: int
    org: str
    type: str
    country: str


@dataclass(frozen=True)
class IpRange:
    cidr: str
    asn: Asn
    city: City
    role: str  # office | vpn_gateway | "" (not corporate)
    name: str  # egress name for corporate ranges

    @cached_property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr)

    @property
    def country(self) -> str:
        return self.city.country

    @property
    def ip_class(self) -> str:
        if self.asn.type == "corporate":
            return "corporate_egress"
        return IP_CLASS[self.asn.type]

    @property
    def first_int(self) -> int:
        return int(self.network.network_address)

    @property
    def size(self) -> int:
        return int(self.network.num_addresses)

    def address(self, offset: int) -> str:
        """The address ``offset`` into the range, skipping the network address (wraps)."""
        net = self.network
        usable = max(1, min(net.num_addresses - 2, 2**32))
        return str(net.network_address + 1 + (offset % usable))


@dataclass(frozen=True)
class Geography:
    countries: dict[str, Country]
    cities: dict[tuple[str, str], City]
    asns: dict[int, Asn]
    ranges: tuple[IpRange, ...]

    def ranges_where(self, *, type: str | None = None, country: str | None = None,
                     role: str | None = None, version: int = 4) -> list[IpRange]:
        """Ranges of an ASN type / country / corporate role (IPv4 unless ``version=6``)."""
        return [r for r in self.ranges
                if (type is None or r.asn.type == type) and (country is None or r.country == country)
                and (role is None or r.role == role) and r.network.version == version]

    def city(self, country: str, name: str) -> City:
        return self.cities[(country, name)]

    def lookup(self, ip: str) -> IpRange | None:
        """The most specific range holding ``ip`` (None when the table has none)."""
        addr = ipaddress.ip_address(ip)
        best: IpRange | None = None
        for r in self.ranges:
            net = r.network
            if addr.version == net.version and addr in net:
                if best is None or net.prefixlen > best.network.prefixlen:
                    best = r
        return best

    def corporate_ranges(self) -> list[IpRange]:
        return [r for r in self.ranges if r.asn.type == "corporate"]


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("vigil.data").joinpath("geography").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def load_geography() -> Geography:
    """Parse the shipped CSVs (cached); raises ConfigError naming the file and row on bad data."""
    countries = {r["iso2"]: Country(r["iso2"], r["name"], float(r["latitude"]), float(r["longitude"]),
                                    tuple(r["neighbours"].split())) for r in _rows("countries.csv")}
    cities: dict[tuple[str, str], City] = {}
    for i, r in enumerate(_rows("cities.csv"), start=2):
        if r["iso2"] not in countries:
            raise ConfigError(f"line {i}: unknown country {r['iso2']!r}", path="geography/cities.csv")
        cities[(r["iso2"], r["city"])] = City(r["iso2"], r["city"], r["state"], float(r["latitude"]),
                                              float(r["longitude"]), r["timezone"])
    asns: dict[int, Asn] = {}
    for i, r in enumerate(_rows("asns.csv"), start=2):
        if r["type"] not in ASN_TYPES:
            raise ConfigError(f"line {i}: type {r['type']!r} not one of {ASN_TYPES}", path="geography/asns.csv")
        asns[int(r["asn"])] = Asn(int(r["asn"]), r["org"], r["type"], r["country"])
    ranges = []
    for i, r in enumerate(_rows("ranges.csv"), start=2):
        key = (r["iso2"], r["city"])
        if key not in cities or int(r["asn"]) not in asns:
            raise ConfigError(f"line {i}: unknown city {key} or ASN {r['asn']}", path="geography/ranges.csv")
        ipaddress.ip_network(r["cidr"])  # validates
        ranges.append(IpRange(r["cidr"], asns[int(r["asn"])], cities[key], r["role"], r["name"]))
    return Geography(countries, cities, asns, tuple(ranges))


@dataclass(frozen=True)
class RangeRow:
    """One row of the integer range table (IPv4 and IPv6 as Python ints; ``version`` tells which)."""
    cidr: str
    version: int
    first: int
    last: int
    asn: int
    as_org: str
    asn_type: str
    ip_class: str
    country: str
    state: str
    city: str
    latitude: float
    longitude: float
    timezone: str
    egress_name: str


def iter_ranges() -> Iterator[RangeRow]:
    """Every range as start/end integers, sorted by (version, first) — an ASN / geo range table."""
    geo = load_geography()
    for r in sorted(geo.ranges, key=lambda x: (x.network.version, x.first_int)):
        net = r.network
        yield RangeRow(r.cidr, net.version, int(net.network_address), int(net.broadcast_address),
                       r.asn.number, r.asn.org, r.asn.type, r.ip_class, r.country, r.city.state,
                       r.city.name, r.city.latitude, r.city.longitude, r.city.timezone, r.name)


def build_mmdb_rows() -> list[tuple[str, dict[str, Any]]]:
    """(cidr, record) pairs shaped like a GeoLite2/GeoIP2 City record merged with the ASN fields.

    Feed them to any MaxMind DB writer (``database_type`` "GeoIP2-City" / "GeoLite2-ASN" both read the
    same keys), so ``maxminddb`` lookups in tests return exactly what the simulated logs say.
    """
    geo = load_geography()
    out = []
    for r in sorted(geo.ranges, key=lambda x: (x.network.version, x.first_int)):
        country = geo.countries[r.country]
        out.append((r.cidr, {
            "city": {"names": {"en": r.city.name}},
            "country": {"iso_code": r.country, "names": {"en": country.name}},
            "subdivisions": [{"names": {"en": r.city.state}}],
            "location": {"latitude": r.city.latitude, "longitude": r.city.longitude,
                         "time_zone": r.city.timezone, "accuracy_radius": 20 if r.asn.type != "mobile" else 200},
            "autonomous_system_number": r.asn.number,
            "autonomous_system_organization": r.asn.org,
        }))
    return out
