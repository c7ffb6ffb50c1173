from __future__ import annotations

import ipaddress
import random
import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from vigil.simulate.geography import load_geography
from vigil.simulate.rand import guid, puid, rng_for, uti
from vigil.simulate.records import iso_s, iso_us, with_port


@given(st.integers(min_value=0, max_value=2**63))
def test_guid_is_uuid4_and_matches_the_uuid_module(seed: int) -> None:
    a, b = random.Random(seed), random.Random(seed)
    g = guid(a)
    assert g == str(uuid.UUID(int=b.getrandbits(128), version=4))
    assert uuid.UUID(g).version == 4


@given(st.integers(min_value=0, max_value=2**63))
def test_token_ids_and_puids(seed: int) -> None:
    r = random.Random(seed)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", uti(r))
    assert re.fullmatch(r"10032[0-9A-F]{11}", puid(r))


def test_streams_are_independent_of_each_other() -> None:
    assert rng_for(1, "user-day", 3, 4).random() == rng_for(1, "user-day", 3, 4).random()
    assert rng_for(1, "user-day", 3, 4).random() != rng_for(1, "user-day", 4, 3).random()


@given(st.integers(min_value=0, max_value=4_102_444_800_000_000))
def test_time_formats_match_strftime(us: int) -> None:
    from datetime import datetime, timedelta

    dt = datetime(1970, 1, 1) + timedelta(microseconds=us)
    assert iso_us(us) == dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert iso_s(us) == dt.strftime("%Y-%m-%dT%H:%M:%S")


@given(st.integers(min_value=0, max_value=len(load_geography().ranges) - 1), st.integers(min_value=0),
       st.integers(min_value=1, max_value=65535))
def test_addresses_stay_in_range_and_ports_parse(i: int, offset: int, port: int) -> None:
    r = load_geography().ranges[i]
    ip = r.address(offset)
    assert ipaddress.ip_address(ip) in r.network
    text = with_port(ip, port)
    host = text[1:].split("]:")[0] if text.startswith("[") else text.rsplit(":", 1)[0]
    assert host == ip and text.endswith(f":{port}")
