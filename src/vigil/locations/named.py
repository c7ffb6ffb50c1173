"""Graph named locations (``ipNamedLocation``, ``countryNamedLocation``) and IP/country lookup.

Documents are read strictly (unknown properties are rejected with their JSON path). Limits
are the documented ones: at most 195 named locations, 2000 ranges per location, CIDR masks
longer than /8. Ranges are accepted "as published", host bits included (Graph's own example
lists ``2001:4898:80e8:7:d92a:7695:fda1:9d62/48``); the network is what counts.

Lookups are O(log n) per location (sorted, merged integer intervals), because the decision
point answers in well under a millisecond.

Enrich derives corporate egress from :meth:`NamedLocations.trusted_ranges`, policy/ evaluates
location conditions and cae/ enforces allowed locations with the same objects.
"""
from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from vigil.errors import ConfigError
from vigil.locations.graphdoc import Node, documents, read_json
from vigil.locations.ip import parse_ip

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

MAX_LOCATIONS = 195
MAX_RANGES = 2000
MIN_PREFIX_EXCLUSIVE = 8  # "CIDR masks greater than /8"
COUNTRY_LOOKUP_METHODS = ("clientIpAddress", "authenticatorAppGps")
_IP_TYPE = "#microsoft.graph.ipNamedLocation"
_COUNTRY_TYPE = "#microsoft.graph.countryNamedLocation"
_V4_TYPE = "#microsoft.graph.iPv4CidrRange"
_V6_TYPE = "#microsoft.graph.iPv6CidrRange"
_COMMON = ("id", "displayName", "createdDateTime", "modifiedDateTime")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class IpRange:
    """One published ``cidrAddress`` and the network it denotes (host bits cleared)."""

    cidr_address: str
    network: IPNetwork

    @property
    def normalized(self) -> str:
        return str(self.network)


@dataclass(frozen=True)
class _Intervals:
    """Sorted, merged ``[start, end]`` integer intervals of one address family."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @staticmethod
    def build(nets: Sequence[IPNetwork]) -> _Intervals:
        spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in nets)
        merged: list[list[int]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        return _Intervals(tuple(m[0] for m in merged), tuple(m[1] for m in merged))

    def contains(self, value: int) -> bool:
        i = bisect.bisect_right(self.starts, value) - 1
        return i >= 0 and value <= self.ends[i]


@dataclass(frozen=True)
class IpNamedLocation:
    id: str
    display_name: str
    ip_ranges: tuple[IpRange, ...]
    is_trusted: bool = False
    created: str | None = None
    modified: str | None = None
    _v4: _Intervals = field(default=_Intervals((), ()), repr=False, compare=False)
    _v6: _Intervals = field(default=_Intervals((), ()), repr=False, compare=False)

    kind = "ip"

    @staticmethod
    def create(id: str, display_name: str, ip_ranges: tuple[IpRange, ...], is_trusted: bool = False,
               created: str | None = None, modified: str | None = None) -> IpNamedLocation:
        v4 = [r.network for r in ip_ranges if r.network.version == 4]
        v6 = [r.network for r in ip_ranges if r.network.version == 6]
        return IpNamedLocation(id, display_name, ip_ranges, is_trusted, created, modified,
                               _Intervals.build(v4), _Intervals.build(v6))

    def contains_ip(self, ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        addr = parse_ip(ip) if not isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address)) else ip
        if addr is None:
            return False
        table = self._v4 if addr.version == 4 else self._v6
        return table.contains(int(addr))


@dataclass(frozen=True)
class CountryNamedLocation:
    id: str
    display_name: str
    countries_and_regions: frozenset[str]
    country_lookup_method: str = "clientIpAddress"
    include_unknown_countries_and_regions: bool = False
    created: str | None = None
    modified: str | None = None

    kind = "country"
    is_trusted = False  # country locations cannot be marked trusted in Graph

    def contains_country(self, country: str | None) -> bool:
        """``country`` is ISO 3166 alpha-2; None (or an unmappable value) is an unknown country."""
        code = (country or "").strip().upper()
        if not _COUNTRY.match(code):
            return self.include_unknown_countries_and_regions
        return code in self.countries_and_regions


NamedLocation = Union[IpNamedLocation, CountryNamedLocation]


@dataclass(frozen=True)
class NamedLocations:
    """The tenant's named locations by id, in document order."""

    by_id: dict[str, NamedLocation] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.by_id)

    def __iter__(self) -> Iterator[NamedLocation]:
        return iter(self.by_id.values())

    def __contains__(self, location_id: object) -> bool:
        return location_id in self.by_id

    def get(self, location_id: str) -> NamedLocation | None:
        return self.by_id.get(location_id)

    def ip_locations(self) -> list[IpNamedLocation]:
        return [loc for loc in self.by_id.values() if isinstance(loc, IpNamedLocation)]

    def country_locations(self) -> list[CountryNamedLocation]:
        return [loc for loc in self.by_id.values() if isinstance(loc, CountryNamedLocation)]

    def matching_ip(self, ip: str | None) -> list[IpNamedLocation]:
        """IP named locations whose ranges contain ``ip`` (empty for a missing or bad IP)."""
        addr = parse_ip(ip)
        if addr is None:
            return []
        return [loc for loc in self.ip_locations() if loc.contains_ip(addr)]

    def is_trusted_ip(self, ip: str | None) -> bool:
        return any(loc.is_trusted for loc in self.matching_ip(ip))

    def trusted_ranges(self) -> list[tuple[str, str, str]]:
        """``(network, location display name, location id)`` for every range of a trusted IP
        location — the tenant's declared corporate egress (enrich's ``egress_points``)."""
        out: list[tuple[str, str, str]] = []
        for loc in self.ip_locations():
            if loc.is_trusted:
                out.extend((r.normalized, loc.display_name, loc.id) for r in loc.ip_ranges)
        return out

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per location, for the ``named_locations`` table and for display."""
        rows = []
        for loc in self.by_id.values():
            if isinstance(loc, IpNamedLocation):
                detail = [r.cidr_address for r in loc.ip_ranges]
                rows.append(dict(id=loc.id, displayName=loc.display_name, kind="ip", isTrusted=loc.is_trusted,
                                 ipRanges=detail, countriesAndRegions=None, countryLookupMethod=None,
                                 includeUnknownCountriesAndRegions=None))
            else:
                rows.append(dict(id=loc.id, displayName=loc.display_name, kind="country", isTrusted=False,
                                 ipRanges=None, countriesAndRegions=sorted(loc.countries_and_regions),
                                 countryLookupMethod=loc.country_lookup_method,
                                 includeUnknownCountriesAndRegions=loc.include_unknown_countries_and_regions))
        return rows


def _ip_range(node: Node) -> IpRange:
    node.obj(("cidrAddress",), required=("cidrAddress",))
    cidr = node.string("cidrAddress", required=True)
    assert cidr is not None
    odata = node.value.get("@odata.type")
    if "/" not in cidr:
        raise node.child("cidrAddress").error(f"{cidr!r} is not in CIDR notation (address/prefix)")
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise node.child("cidrAddress").error(f"{cidr!r} is not a CIDR range ({exc})") from None
    if odata is not None and odata not in (_V4_TYPE, _V6_TYPE):
        raise node.child("@odata.type").error(f"unknown range type {odata!r} (expected iPv4CidrRange or iPv6CidrRange)")
    if odata is not None and (odata == _V4_TYPE) != (network.version == 4):
        raise node.child("cidrAddress").error(f"{cidr!r} does not match its @odata.type {odata}")
    if network.prefixlen <= MIN_PREFIX_EXCLUSIVE:
        raise node.child("cidrAddress").error(
            f"{cidr!r}: named-location ranges must have a mask longer than /{MIN_PREFIX_EXCLUSIVE}")
    return IpRange(cidr, network)


def parse_named_location(node: Node) -> NamedLocation:
    """One ``namedLocation`` object; the kind is taken from ``@odata.type`` or, when absent,
    from which properties it carries."""
    if not isinstance(node.value, dict):
        raise node.error("expected a namedLocation object")
    odata = node.value.get("@odata.type")
    if odata is None:
        odata = _IP_TYPE if "ipRanges" in node.value else _COUNTRY_TYPE if "countriesAndRegions" in node.value else None
    if odata == _IP_TYPE:
        node.obj(_COMMON + ("ipRanges", "isTrusted"), required=("id", "displayName", "ipRanges"))
        ranges = tuple(_ip_range(r) for r in node.items("ipRanges"))
        if not ranges:
            raise node.child("ipRanges").error("an ipNamedLocation needs at least one range")
        if len(ranges) > MAX_RANGES:
            raise node.child("ipRanges").error(f"{len(ranges)} ranges; Entra allows at most {MAX_RANGES}")
        return IpNamedLocation.create(
            str(node.string("id", required=True)), str(node.string("displayName", required=True)), ranges,
            bool(node.boolean("isTrusted", default=False)), node.string("createdDateTime"),
            node.string("modifiedDateTime"))
    if odata == _COUNTRY_TYPE:
        node.obj(_COMMON + ("countriesAndRegions", "countryLookupMethod", "includeUnknownCountriesAndRegions"),
                 required=("id", "displayName"))
        countries = node.strings("countriesAndRegions")
        for i, code in enumerate(countries):
            if not _COUNTRY.match(code.upper()):
                raise node.child("countriesAndRegions").child(i).error(
                    f"{code!r} is not an ISO 3166 two-letter country or region code")
        include_unknown = bool(node.boolean("includeUnknownCountriesAndRegions", default=False))
        if not countries and not include_unknown:
            raise node.child("countriesAndRegions").error(
                "a countryNamedLocation needs countries or includeUnknownCountriesAndRegions")
        return CountryNamedLocation(
            str(node.string("id", required=True)), str(node.string("displayName", required=True)),
            frozenset(c.upper() for c in countries),
            str(node.string("countryLookupMethod", choices=COUNTRY_LOOKUP_METHODS, default="clientIpAddress")),
            include_unknown, node.string("createdDateTime"), node.string("modifiedDateTime"))
    if odata is None:
        raise node.error("not a named location: no @odata.type and neither ipRanges nor countriesAndRegions")
    raise node.child("@odata.type").error(
        f"unknown named location type {odata!r} (expected ipNamedLocation or countryNamedLocation)")


def parse_named_locations(data: Any, source: str | None = None) -> NamedLocations:
    """Named locations from parsed Graph JSON: one object, a ``value`` list or a bare list."""
    nodes = documents(data, source)
    if len(nodes) > MAX_LOCATIONS:
        raise ConfigError(f"{len(nodes)} named locations; Entra allows at most {MAX_LOCATIONS}", path=source)
    out: dict[str, NamedLocation] = {}
    for node in nodes:
        loc = parse_named_location(node)
        if loc.id in out:
            raise node.child("id").error(f"duplicate named location id {loc.id!r}")
        out[loc.id] = loc
    return NamedLocations(out)


def load_named_locations(path: str | Path) -> NamedLocations:
    """Read a Graph ``namedLocations`` JSON file (single object or ``value`` list)."""
    return parse_named_locations(read_json(path), str(path))
