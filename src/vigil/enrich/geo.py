"""Geolocation from MaxMind-format City databases (DB-IP Lite, GeoIP2 / GeoLite2).

Two record schemas are read:

* flat (DB-IP Lite as published by ip-location-db): ``country_code, state1, city, latitude,
  longitude`` (no accuracy: the per-source default applies);
* nested (GeoIP2 City and DB-IP's own files): ``country.iso_code, subdivisions[0].names.en,
  city.names.en, location.latitude / longitude / accuracy_radius`` (km).

Per-IP lookups (``vigil geo lookup``) read the file with ``maxminddb``. The analysis looks up only
the *distinct IPs not yet covered* by ``geo_ranges`` (:func:`ranges_for`) and stores the network
each one fell in, with or without a record, so ``geo_ranges`` is a cache of the database's networks
that the logs touched, joined set-based (enrich/rangejoin.py). Dumping a whole DB-IP City file
(14.7 M networks) took over 5 minutes per store; looking up 100,000 distinct IPs takes under a second.
:func:`iter_range_batches` still dumps a whole (small) database, for tests and benchmarks.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import maxminddb
import pyarrow as pa

from vigil.enrich.ipnum import network_keys
from vigil.errors import InputError

GEO_FIELDS = ("geo_country", "geo_state", "geo_city", "geo_latitude", "geo_longitude", "geo_accuracy_km")


def _name(node: Any) -> str | None:
    if isinstance(node, dict):
        names = node.get("names")
        if isinstance(names, dict):
            value = names.get("en") or next(iter(names.values()), None)
            return str(value) if value else None
    return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def flatten(record: Any) -> dict[str, Any] | None:
    """A database record as ``geo_*`` fields (accuracy None when the database gives none)."""
    if not isinstance(record, dict):
        return None
    if "country_code" in record or "latitude" in record:  # flat DB-IP Lite schema
        return {
            "geo_country": (record.get("country_code") or None),
            "geo_state": record.get("state1") or None,
            "geo_city": record.get("city") or None,
            "geo_latitude": _float(record.get("latitude")),
            "geo_longitude": _float(record.get("longitude")),
            "geo_accuracy_km": None,
        }
    country = record.get("country") or record.get("registered_country") or {}
    location = record.get("location") or {}
    subdivisions = record.get("subdivisions") or []
    return {
        "geo_country": country.get("iso_code") if isinstance(country, dict) else None,
        "geo_state": _name(subdivisions[0]) if subdivisions else None,
        "geo_city": _name(record.get("city")),
        "geo_latitude": _float(location.get("latitude")),
        "geo_longitude": _float(location.get("longitude")),
        "geo_accuracy_km": _float(location.get("accuracy_radius")),
    }


def open_reader(path: str | Path) -> maxminddb.Reader:
    p = Path(path)
    if not p.is_file():
        raise InputError("geolocation database not found (run `vigil geo install` or `vigil geo use PATH`)",
                         path=str(p))
    try:
        return maxminddb.open_database(str(p))
    except (maxminddb.InvalidDatabaseError, ValueError, OSError) as exc:
        raise InputError(f"not a MaxMind-format database ({exc})", path=str(p)) from None


def lookup(path: str | Path, ip: str) -> dict[str, Any] | None:
    """One IP's location from the database (None when the database has no record for it)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        raise InputError(f"{ip!r} is not an IP address") from None
    with open_reader(path) as reader:
        if addr.version == 6 and reader.metadata().ip_version == 4:
            return None  # an IPv4-only file (DB-IP Lite ships v4 and v6 separately)
        found, prefix = reader.get_with_prefix_len(ip)
    flat = flatten(found)
    if flat is not None:
        flat["network"] = str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
    return flat


def _ranges(reader: maxminddb.Reader) -> Iterator[tuple[int, int, int, dict[str, Any]]]:
    for network, record in reader:
        flat = flatten(record)
        if flat is None or (flat["geo_country"] is None and flat["geo_latitude"] is None):
            continue
        family, start, end = network_keys(network)
        yield family, start, end, flat


RANGE_SCHEMA = pa.schema([("family", pa.int32()), ("start_key", pa.int64()), ("end_key", pa.int64()),
                          ("geo_country", pa.string()), ("geo_state", pa.string()), ("geo_city", pa.string()),
                          ("geo_latitude", pa.float64()), ("geo_longitude", pa.float64()),
                          ("geo_accuracy_km", pa.float64())])
_BATCH = 200_000


def iter_range_batches(path: str | Path) -> Iterator[pa.RecordBatch]:
    """The whole database as sorted, non-overlapping ``geo_ranges`` rows in Arrow batches, so a full
    DB-IP / GeoLite2 City file (millions of networks) streams into the store in bounded memory."""
    names = RANGE_SCHEMA.names
    cols: dict[str, list[Any]] = {k: [] for k in names}
    last_end = {4: -(1 << 64), 6: -(1 << 64)}
    with open_reader(path) as reader:
        for family, start, end, flat in _ranges(reader):
            if start <= last_end[family]:  # IPv6 networks finer than /64 collapse onto one key
                continue
            last_end[family] = end
            for k, v in zip(names, (family, start, end, *(flat[f] for f in GEO_FIELDS)), strict=True):
                cols[k].append(v)
            if len(cols["family"]) >= _BATCH:
                yield pa.RecordBatch.from_pydict(cols, schema=RANGE_SCHEMA)
                cols = {k: [] for k in names}
    yield pa.RecordBatch.from_pydict(cols, schema=RANGE_SCHEMA)


def build_ranges(path: str | Path) -> pa.Table:
    """:func:`iter_range_batches` as one table (small databases, tests)."""
    return pa.Table.from_batches(list(iter_range_batches(path)), schema=RANGE_SCHEMA)


def ranges_for(paths: list[Path], ips: list[str]) -> pa.Table:
    """``geo_ranges`` rows for the networks of the databases holding ``ips``: one per network, the
    first database with a record for an IP winning; a network without a record is kept with empty
    location fields, so the IP is not looked up again. Non-overlapping, as the join needs."""
    readers = [open_reader(p) for p in paths]
    cols: dict[str, list[Any]] = {k: [] for k in RANGE_SCHEMA.names}
    seen: set[tuple[int, int]] = set()
    empty = dict.fromkeys(GEO_FIELDS)
    try:
        for ip in ips:
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                continue
            found: tuple[Any, int] | None = None
            for reader in readers:
                if addr.version == 6 and reader.metadata().ip_version == 4:
                    continue
                record, prefix = reader.get_with_prefix_len(addr)
                if found is None or record is not None:
                    found = (record, prefix)
                if record is not None:
                    break
            if found is None:
                continue
            family, start, end = network_keys(ipaddress.ip_network(f"{addr}/{found[1]}", strict=False))
            if (family, start) in seen:  # IPv6 networks finer than /64 share a key
                continue
            seen.add((family, start))
            flat = flatten(found[0]) or empty
            for k, v in zip(RANGE_SCHEMA.names, (family, start, end, *(flat[f] for f in GEO_FIELDS)), strict=True):
                cols[k].append(v)
    finally:
        for reader in readers:
            reader.close()
    return pa.Table.from_pydict(cols, schema=RANGE_SCHEMA)


def signature(paths: list[Path]) -> str:
    """Identity of source files (path, size, mtime), to rebuild range tables only when they change."""
    parts = []
    for p in paths:
        st = p.stat()
        parts.append(f"{p.resolve()}:{st.st_size}:{int(st.st_mtime)}")
    return "|".join(parts)
