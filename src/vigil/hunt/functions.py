"""KQL functions duckdb-kql 1.1.2 lacks, supplied as scalar ``let`` functions (a prelude).

Only the functions a query calls are prepended, and a query's own ``let`` of the same name
wins. Each body uses only constructs duckdb-kql translates (``parse_ipv4``, trigonometry).

* ``ipv4_is_private(ip)`` -- RFC 1918: 10/8, 172.16/12, 192.168/16.
* ``ipv4_is_in_range(ip, range)`` -- ``range`` is an address or CIDR; compares the networks
  ``parse_ipv4(ip/prefix) == parse_ipv4(range)``.
* ``geo_distance_2points(lon1, lat1, lon2, lat2)`` -- metres, haversine on a sphere of the
  mean Earth radius (6,371,008.8 m); Kusto uses the WGS-84 ellipsoid, so results differ by
  up to ~0.5 %. Null when a coordinate is out of range, as in Kusto.
"""
from __future__ import annotations

import re

from vigil.hunt.text import mentions

PRELUDE: dict[str, str] = {
    "ipv4_is_private": (
        "let ipv4_is_private = (ip:string) { parse_ipv4(ip) between (167772160 .. 184549375)"
        " or parse_ipv4(ip) between (2886729728 .. 2887778303)"
        " or parse_ipv4(ip) between (3232235520 .. 3232301055) };"),
    "ipv4_is_in_range": (
        "let ipv4_is_in_range = (ip:string, range:string) { parse_ipv4(strcat(ip, '/', "
        "iff(range contains '/', extract(@'/(\\d+)$', 1, range), '32'))) == parse_ipv4(range) };"),
    "geo_distance_2points": (
        "let geo_distance_2points = (lon1:real, lat1:real, lon2:real, lat2:real) { iff("
        "lat1 between (-90.0 .. 90.0) and lat2 between (-90.0 .. 90.0)"
        " and lon1 between (-180.0 .. 180.0) and lon2 between (-180.0 .. 180.0),"
        " 2.0 * 6371008.8 * asin(sqrt(pow(sin(radians(lat2 - lat1) / 2.0), 2.0)"
        " + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2.0), 2.0))),"
        " real(null)) };"),
}


def with_prelude(kql: str) -> str:
    """``kql`` with the prelude functions it calls (and does not define itself) prepended."""
    lets = [body for name, body in PRELUDE.items()
            if mentions(kql, name) and not re.search(rf"\blet\s+{name}\s*=", kql)]
    return "\n".join(lets + [kql]) if lets else kql
