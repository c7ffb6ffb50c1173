"""IP addresses as sortable integer keys, so range lookups are plain joins.

Every address maps to ``(family, key)``: IPv4 keys are the 32-bit value; IPv6 keys are the top
64 bits as a signed BIGINT (geolocation, ASN and egress data are never finer than /64, and a
BIGINT key keeps the range tables and joins identical on DuckDB and Spark). IPv4-mapped IPv6
addresses count as IPv4.
"""
from __future__ import annotations

import ipaddress

from vigil.locations.ip import parse_ip

_V6_SHIFT = 64
_V6_BIAS = 1 << 63

#: SQL expression (DuckDB and Spark) for the IPv4 key of column ``{col}``; NULL when not dotted-quad.
V4_KEY_SQL = (
    "CASE WHEN regexp_matches({col}, '^[0-9]{{1,3}}(\\.[0-9]{{1,3}}){{3}}$') THEN "
    "CAST(split_part({col}, '.', 1) AS BIGINT) * 16777216 + CAST(split_part({col}, '.', 2) AS BIGINT) * 65536"
    " + CAST(split_part({col}, '.', 3) AS BIGINT) * 256 + CAST(split_part({col}, '.', 4) AS BIGINT) END"
)


def v4_key_sql(col: str) -> str:
    return V4_KEY_SQL.format(col=col)


def addr_key(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[int, int]:
    if addr.version == 4:
        return 4, int(addr)
    return 6, (int(addr) >> _V6_SHIFT) - _V6_BIAS


def ip_key(ip: str | None) -> tuple[int, int] | None:
    """``(family, key)`` of an IP as logs write it, or None when it is not an IP."""
    addr = parse_ip(ip)
    return None if addr is None else addr_key(addr)


def network_keys(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int, int]:
    """``(family, start_key, end_key)`` covering ``network``."""
    family, start = addr_key(network.network_address)
    _, end = addr_key(network.broadcast_address)
    return family, start, end


def cidr_keys(text: str) -> tuple[int, int, int]:
    """``(family, start_key, end_key)`` of a CIDR or single address; ValueError when neither."""
    text = text.strip()
    if "/" in text:
        return network_keys(ipaddress.ip_network(text, strict=False))
    addr = parse_ip(text)
    if addr is None:
        raise ValueError(f"{text!r} is not an IP address or CIDR range")
    family, key = addr_key(addr)
    return family, key, key


def prefix_of(ip: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network an address belongs to, as CIDR text."""
    addr = parse_ip(ip)
    if addr is None:
        return None
    bits = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))
