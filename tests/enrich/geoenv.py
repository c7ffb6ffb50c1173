"""A tiny geolocation environment for tests, built from the simulator's geography table.

The .mmdb is written with vigil's own MaxMind DB writer and read back by ``maxminddb``; the ASN
range CSV and the ASN-class feeds come from the same table, so logs built from the geography and
the enrichment agree. Nothing is downloaded.
"""
from __future__ import annotations

import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES
from vigil.enrich.mmdb_write import write_mmdb
from vigil.settings import Settings, load_settings
from vigil.simulate.geography import build_mmdb_rows, iter_ranges, load_geography

FEEDS_FIXTURE = FIXTURES / "enrich" / "feeds"
_CLASS_FILE = {"isp": "isp-asns.txt", "mobile": "mobile-asns.txt", "hosting": "hosting-asns.txt",
               "vpn": "vpn-asns.txt"}


def write_geo_mmdb(path: Path, *, flat: bool = False) -> Path:
    """The geography as a GeoIP2-shaped (nested) or DB-IP-Lite-shaped (flat) City database."""
    rows = build_mmdb_rows()
    if flat:
        rows = [(cidr, {"country_code": r["country"]["iso_code"], "state1": r["subdivisions"][0]["names"]["en"],
                        "city": r["city"]["names"]["en"], "latitude": r["location"]["latitude"],
                        "longitude": r["location"]["longitude"]}) for cidr, r in rows]
    return write_mmdb(path, rows)


def write_feeds(folder: Path) -> Path:
    """ASN ranges and ASN classes from the geography plus the hand-written fixture feeds."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for r in iter_ranges():
        import ipaddress

        first, last = ipaddress.ip_address(r.first), ipaddress.ip_address(r.last)
        org = r.as_org.replace('"', "")
        lines.append(f'{first},{last},{r.asn},"{org}"')
    (folder / "asn-ranges.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    by_file: dict[str, list[str]] = {}
    for asn in load_geography().asns.values():
        if asn.type in _CLASS_FILE:
            by_file.setdefault(_CLASS_FILE[asn.type], []).append(f"{asn.number} {asn.org}")
    for name, entries in by_file.items():
        (folder / name).write_text("\n".join(entries) + "\n", encoding="utf-8")
    for f in FEEDS_FIXTURE.iterdir():
        shutil.copy(f, folder / f.name)
    return folder


@lru_cache(maxsize=1)
def _shared() -> Path:
    """mmdb files and feeds written once per test process (read-only for the tests)."""
    folder = Path(tempfile.mkdtemp(prefix="vigil-geoenv-"))
    write_geo_mmdb(folder / "city.mmdb")
    write_geo_mmdb(folder / "city-flat.mmdb", flat=True)
    write_feeds(folder / "feeds")
    return folder


def geo_settings(tmp: Path, *, flat: bool = False, **enrich: Any) -> Settings:
    """Settings whose store and data dir live under ``tmp`` (mmdb and feeds shared, built once)."""
    tmp.mkdir(parents=True, exist_ok=True)
    mmdb = _shared() / ("city-flat.mmdb" if flat else "city.mmdb")
    feeds = _shared() / "feeds"
    overrides: dict[str, Any] = {"store.path": str(tmp / "vigil.duckdb"), "enrich.mmdb_path": str(mmdb),
                                 "enrich.feeds_dir": str(feeds), "enrich.data_dir": str(tmp / "data")}
    overrides.update({f"enrich.{k}": v for k, v in enrich.items()})
    return load_settings(overrides=overrides, environ={})


def ip_in(cidr_prefix: str, role: str = "", country: str | None = None, offset: int = 5) -> str:
    """An address inside the geography range whose CIDR starts with ``cidr_prefix``."""
    for r in load_geography().ranges:
        if r.cidr.startswith(cidr_prefix) and (not role or r.role == role) and (country is None or r.country == country):
            return r.address(offset)
    raise KeyError(cidr_prefix)
