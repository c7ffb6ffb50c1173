"""IP-class and threat-intel feeds: plain files in a folder, validated, loaded into the store.

Files (every one optional; ``#`` starts a comment; blank lines are ignored):

=====================  ==========================================================
``tor-exits.txt``      one IP or CIDR per line -> ip_class ``tor``
``<class>-asns.txt``   ``ASN [name]`` per line (``AS`` prefix allowed); class is vpn, hosting,
                       mobile or isp (isp -> ip_class ``residential``)
``<class>-ranges.txt`` one CIDR per line, same classes (cloud providers publish theirs)
``threat-intel.csv``   ``indicator,label`` (IP or CIDR; header line optional)
``asn-ranges.csv``     ``start_ip,end_ip,asn,org`` (the ip-location-db ``asn`` CSV layout)
=====================  ==========================================================

The package ships a small default set (``vigil/data/feeds/``); files in the user's feeds folder
(``enrich.feeds_dir``, else ``<data_dir>/feeds``) replace the default of the same name.
``vigil feeds update --from DIR`` validates every file in DIR first and installs only when all
are valid, so a bad download never half-replaces the feeds.
"""
from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from vigil.enrich.geoinstall import data_dir
from vigil.enrich.ipnum import cidr_keys, ip_key, v4_key_sql
from vigil.errors import InputError
from vigil.settings import EnrichSettings
from vigil.store import connect, literal

CLASSES = {"vpn": "vpn", "hosting": "hosting", "mobile": "mobile", "isp": "residential"}
ASN_RANGE_SCHEMA = pa.schema([("family", pa.int32()), ("start_key", pa.int64()), ("end_key", pa.int64()),
                              ("asn", pa.int32()), ("as_org", pa.string())])
KNOWN = ({"tor-exits.txt", "threat-intel.csv", "asn-ranges.csv"}
         | {f"{c}-asns.txt" for c in CLASSES} | {f"{c}-ranges.txt" for c in CLASSES})


@dataclass
class Feeds:
    """Parsed feeds, ready to load: Arrow-able columns plus where each file came from."""

    ranges: dict[str, list[Any]] = field(
        default_factory=lambda: {k: [] for k in ("family", "start_key", "end_key", "kind", "label", "feed")})
    asn_classes: dict[int, tuple[str, str | None, str]] = field(default_factory=dict)
    asn_ranges: list[pa.Table] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def add_range(self, keys: tuple[int, int, int], kind: str, label: str | None, feed: str) -> None:
        names = ("family", "start_key", "end_key", "kind", "label", "feed")
        for k, v in zip(names, (*keys, kind, label, feed), strict=True):
            self.ranges[k].append(v)

    def ranges_table(self) -> pa.Table:
        return pa.Table.from_pydict(self.ranges, schema=pa.schema([
            ("family", pa.int32()), ("start_key", pa.int64()), ("end_key", pa.int64()), ("kind", pa.string()),
            ("label", pa.string()), ("feed", pa.string())]))

    def asn_classes_table(self) -> pa.Table:
        items = sorted(self.asn_classes.items())
        return pa.Table.from_pydict(
            {"asn": [a for a, _ in items], "ip_class": [v[0] for _, v in items],
             "label": [v[1] for _, v in items], "feed": [v[2] for _, v in items]},
            schema=pa.schema([("asn", pa.int32()), ("ip_class", pa.string()), ("label", pa.string()),
                              ("feed", pa.string())]))

    def asn_ranges_table(self) -> pa.Table:
        if not self.asn_ranges:
            return ASN_RANGE_SCHEMA.empty_table()
        return pa.concat_tables(self.asn_ranges)


def _lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read feed ({exc})", path=str(path)) from None
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if line:
            out.append((n, line))
    return out


def _asn(text: str, path: Path, line: int) -> int:
    t = text.strip().upper().removeprefix("AS")
    if not t.isdigit() or not 0 < int(t) < 1 << 32:
        raise InputError(f"line {line}: {text!r} is not an AS number", path=str(path))
    return int(t)


def _keys(text: str, path: Path, line: int) -> tuple[int, int, int]:
    try:
        return cidr_keys(text)
    except ValueError as exc:
        raise InputError(f"line {line}: {exc}", path=str(path)) from None


def parse_file(path: Path, feeds: Feeds) -> None:
    """Parse one feed file into ``feeds``; InputError names the file and line at fault."""
    name = path.name
    if name not in KNOWN:
        raise InputError(f"unknown feed file (expected one of: {', '.join(sorted(KNOWN))})", path=str(path))
    feeds.files[name] = str(path)
    if name == "tor-exits.txt":
        for n, line in _lines(path):
            feeds.add_range(_keys(line, path, n), "tor", "Tor exit", name)
    elif name.endswith("-asns.txt"):
        cls = CLASSES[name.removesuffix("-asns.txt")]
        for n, line in _lines(path):
            number, _, label = line.partition(" ")
            feeds.asn_classes[_asn(number, path, n)] = (cls, label.strip() or None, name)
    elif name.endswith("-ranges.txt"):
        cls = CLASSES[name.removesuffix("-ranges.txt")]
        for n, line in _lines(path):
            feeds.add_range(_keys(line, path, n), cls, None, name)
    elif name == "threat-intel.csv":
        for n, line in _lines(path):
            cells = next(csv.reader([line]))
            if n == 1 and cells[0].strip().lower() == "indicator":
                continue
            label = cells[1].strip() if len(cells) > 1 and cells[1].strip() else "threat intel"
            feeds.add_range(_keys(cells[0], path, n), "threat_intel", label, name)
    else:  # asn-ranges.csv: large (500k lines), read by DuckDB when loading, checked once
        feeds.asn_ranges.append(asn_ranges_cached(path))


def _cache_path(path: Path) -> Path:
    st = path.stat()
    return path.with_name(f".{path.name}.{st.st_size}-{st.st_mtime_ns}.parquet")


def write_asn_cache(path: Path, table: pa.Table) -> None:
    """Keep ``table`` (the checked rows of ``path``) as a Parquet file beside it, named by the CSV's size
    and modification time, and remove copies of earlier versions; a read-only folder just keeps none."""
    target = _cache_path(path)
    staged = target.with_suffix(".tmp")
    try:
        pq.write_table(table, staged)
        staged.replace(target)
        for old in path.parent.glob(f".{path.name}.*.parquet"):
            if old != target:
                old.unlink(missing_ok=True)
    except OSError:
        staged.unlink(missing_ok=True)


def asn_ranges_cached(path: Path) -> pa.Table:
    """The checked ``asn_ranges`` rows of an ASN CSV: from its Parquet copy when the CSV has not changed
    since it was checked (0.1 s instead of about 10 s for the 515,000 ranges of ip-location-db)."""
    cache = _cache_path(path)
    if cache.is_file():
        try:
            return pq.read_table(cache, schema=ASN_RANGE_SCHEMA)
        except (OSError, pa.ArrowInvalid):
            pass  # damaged: checked again below and rewritten
    with connect() as con:
        table = load_asn_ranges(con, path)
    write_asn_cache(path, table)
    return table


def asn_ranges_sql(path: Path) -> str:
    """SELECT of ``(line, family, start_key, end_key, asn, as_org)`` from an asn-ranges CSV (DuckDB reads it;
    IPv4 keys are computed in SQL, IPv6 rows by :func:`ipv6_keys` afterwards)."""
    src = literal(str(path))
    return f"""
SELECT line, start_ip, end_ip, asn_text, as_org,
       {v4_key_sql('start_ip')} AS start_v4, {v4_key_sql('end_ip')} AS end_v4
FROM (SELECT row_number() OVER () AS line, trim(column0) AS start_ip, trim(column1) AS end_ip,
             trim(column2) AS asn_text, nullif(trim(column3), '') AS as_org
      FROM read_csv({src}, header = false, all_varchar = true, auto_detect = false, quote = '"',
                    columns = {{'column0': 'VARCHAR', 'column1': 'VARCHAR', 'column2': 'VARCHAR',
                               'column3': 'VARCHAR'}}, null_padding = true))
"""


def load_asn_ranges(con: duckdb.DuckDBPyConnection, path: Path) -> pa.Table:
    """The validated ``asn_ranges`` rows of one CSV; InputError names the first bad line."""
    try:
        raw = con.sql(asn_ranges_sql(path)).to_arrow_table().to_pydict()
    except duckdb.Error as exc:
        raise InputError(f"cannot read as CSV ({str(exc).splitlines()[0]})", path=str(path)) from None
    out: dict[str, list[Any]] = {k: [] for k in ("family", "start_key", "end_key", "asn", "as_org")}
    for i, line in enumerate(raw["line"]):
        start_ip, end_ip, sv4, ev4 = raw["start_ip"][i], raw["end_ip"][i], raw["start_v4"][i], raw["end_v4"][i]
        if line == 1 and (start_ip or "").lower() in ("start", "start_ip", "range_start"):
            continue
        if sv4 is not None and ev4 is not None:
            family, start, end = 4, sv4, ev4
        else:
            a, b = ip_key(start_ip), ip_key(end_ip)
            if a is None or b is None or a[0] != b[0]:
                raise InputError(f"line {line}: {start_ip!r}..{end_ip!r} is not an IP range", path=str(path))
            family, start, end = a[0], a[1], b[1]
        if end < start:
            raise InputError(f"line {line}: range ends before it starts", path=str(path))
        asn_text = raw["asn_text"][i] or ""
        out["family"].append(family)
        out["start_key"].append(start)
        out["end_key"].append(end)
        out["asn"].append(_asn(asn_text, path, line))
        out["as_org"].append(raw["as_org"][i])
    return pa.Table.from_pydict(out, schema=ASN_RANGE_SCHEMA)


def default_dir() -> Path:
    return Path(str(resources.files("vigil.data").joinpath("feeds")))


def user_dir(settings: EnrichSettings) -> Path:
    return Path(settings.feeds_dir).expanduser() if settings.feeds_dir else data_dir(settings) / "feeds"


def load(settings: EnrichSettings, asn_ranges: bool = True) -> Feeds:
    """The effective feeds: packaged defaults, each replaced by the user's file of the same name.
    ``asn_ranges=False`` names the (large) ASN range file in ``files`` without reading it."""
    chosen: dict[str, Path] = {p.name: p for p in sorted(default_dir().iterdir()) if p.name in KNOWN}
    udir = user_dir(settings)
    if udir.is_dir():
        for p in sorted(udir.iterdir()):
            if p.is_file() and p.name in KNOWN:
                chosen[p.name] = p
    feeds = Feeds()
    for name in sorted(chosen):
        if name == "asn-ranges.csv" and not asn_ranges:
            feeds.files[name] = str(chosen[name])
            continue
        parse_file(chosen[name], feeds)
    return feeds


def update(settings: EnrichSettings, source: str | Path) -> dict[str, Any]:
    """Validate every feed file in ``source`` and, only if all parse, copy them into the feeds folder."""
    src = Path(source).expanduser()
    if not src.is_dir():
        raise InputError("not a folder", path=str(src))
    files = sorted(p for p in src.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError("no feed files in the folder", path=str(src))
    counts: dict[str, int] = {}
    for p in files:
        feeds = Feeds()
        parse_file(p, feeds)
        counts[p.name] = (len(feeds.ranges["start_key"]) + len(feeds.asn_classes)
                          + sum(t.num_rows for t in feeds.asn_ranges))
    dest = user_dir(settings)
    dest.mkdir(parents=True, exist_ok=True)
    for p in files:
        tmp = dest / f".{p.name}.tmp"
        shutil.copyfile(p, tmp)
        tmp.replace(dest / p.name)
    return {"installed_to": str(dest), "files": counts}


ASN_PACKAGE = "@ip-location-db/asn"
ASN_ATTRIBUTION = "ASN data: RouteViews and DB-IP (https://db-ip.com), CC BY 4.0, via ip-location-db"


def install_asn(settings: EnrichSettings, version: str | None = None, npm: str = "npm") -> dict[str, Any]:
    """Fetch the ip-location-db ASN ranges (IPv4 and IPv6 CSV) with ``npm pack``, check them, and install
    them as the feeds' ``asn-ranges.csv``: every IP then has an ASN, and the ``<class>-asns.txt`` feeds
    class it (hosting, VPN, home ISP, mobile) offline."""
    from vigil.enrich.geoinstall import npm_extract

    spec = f"{ASN_PACKAGE}@{version}" if version else ASN_PACKAGE
    dest = user_dir(settings)
    with tempfile.TemporaryDirectory() as tmp:
        package, files = npm_extract(spec, lambda n: n in ("asn-ipv4.csv", "asn-ipv6.csv") or n.endswith("LICENSE"),
                                     Path(tmp), npm)
        parts = sorted(f for f in files if f.suffix == ".csv")
        if not parts:
            raise InputError(f"{package} holds no asn-ipv4.csv / asn-ipv6.csv")
        merged = Path(tmp) / "asn-ranges.csv"
        private = 0
        with open(merged, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            for part in parts:
                with open(part, encoding="utf-8", newline="") as src:
                    for row in csv.reader(src):
                        # private-use and reserved 32-bit ASNs (4200000000 and up) say nothing about the network
                        if len(row) >= 3 and row[2].isdigit() and int(row[2]) > 2**31 - 1:
                            private += 1
                            continue
                        writer.writerow(row)
        feeds = Feeds()
        parse_file(merged, feeds)  # checked before it replaces anything
        rows = sum(t.num_rows for t in feeds.asn_ranges)
        dest.mkdir(parents=True, exist_ok=True)
        for f in (merged, *(f for f in files if f.name.endswith("LICENSE"))):
            staged = dest / f".{f.name}.tmp"
            shutil.copyfile(f, staged)
            staged.replace(dest / (f.name if f.suffix == ".csv" else f"asn-{f.name}"))
        write_asn_cache(dest / "asn-ranges.csv", feeds.asn_ranges_table())
    return {"package": package, "ranges": rows, "private_asn_ranges_left_out": private,
            "path": str(dest / "asn-ranges.csv"), "attribution": ASN_ATTRIBUTION}
