from __future__ import annotations

import ipaddress
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.hunt import run_hunt
from vigil.hunt.functions import PRELUDE, with_prelude
from vigil.store import Store, open_store

_STORE: Store | None = None


def _store() -> Store:
    global _STORE
    if _STORE is None:
        _STORE = open_store(":memory:")
    return _STORE


def _print(expr: str) -> object:
    return run_hunt(_store(), f"print x = {expr}").to_pylist()[0]["x"]


def test_prelude_only_when_called() -> None:
    assert with_prelude("T | take 1") == "T | take 1"
    q = with_prelude("T | where ipv4_is_private(ip)")
    assert q.startswith(PRELUDE["ipv4_is_private"]) and "geo_distance" not in q


ips = st.integers(min_value=0, max_value=2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))


@settings(max_examples=12, deadline=None)
@given(ip=ips, net=ips, prefix=st.integers(min_value=0, max_value=32))
def test_ipv4_is_in_range_matches_ipaddress(ip: str, net: str, prefix: int) -> None:
    network = ipaddress.IPv4Network(f"{net}/{prefix}", strict=False)
    assert _print(f"ipv4_is_in_range('{ip}', '{net}/{prefix}')") == (ipaddress.IPv4Address(ip) in network)


@settings(max_examples=12, deadline=None)
@given(ip=ips)
def test_ipv4_is_private_matches_rfc1918(ip: str) -> None:
    rfc1918 = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    assert _print(f"ipv4_is_private('{ip}')") == any(ipaddress.IPv4Address(ip) in n for n in rfc1918)


def _haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


@settings(max_examples=12, deadline=None)
@given(st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90))
def test_geo_distance_2points(lon1: float, lat1: float, lon2: float, lat2: float) -> None:
    got = _print(f"geo_distance_2points({lon1!r}, {lat1!r}, {lon2!r}, {lat2!r})")
    assert math.isclose(float(got), _haversine(lon1, lat1, lon2, lat2), rel_tol=1e-9, abs_tol=1e-6)  # type: ignore[arg-type]


def test_geo_distance_out_of_range_is_null() -> None:
    assert _print("geo_distance_2points(0.0, 91.0, 0.0, 0.0)") is None
    # Paris -> London: 343.5 km on the sphere (Kusto's ellipsoid: 343.9 km)
    assert round(float(_print("geo_distance_2points(2.3522, 48.8566, -0.1278, 51.5074)")) / 1000, 1) == 343.6  # type: ignore[arg-type]
