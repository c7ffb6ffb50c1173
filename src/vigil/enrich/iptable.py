"""Set-based IP enrichment: distinct IPs -> keys -> geo / ASN / feed ranges.

IPv4 keys and /24 prefixes are computed in SQL; IPv6 (rare in sign-in logs, and only the
distinct ones) in Python. Geo and ASN come from non-overlapping range tables through
:mod:`vigil.enrich.rangejoin`; feed ranges may overlap (a Tor exit inside a hosting range), so
they use a plain range join and the most specific match wins.
"""
from __future__ import annotations

import pyarrow as pa

from vigil.enrich.geo import GEO_FIELDS
from vigil.enrich.ipnum import ip_key, prefix_of, v4_key_sql
from vigil.enrich.rangejoin import asof_sql, window_sql
from vigil.enrich.tables import IP_ENRICHMENT
from vigil.store import Store

_V4_PREFIX = ("split_part(ip, '.', 1) || '.' || split_part(ip, '.', 2) || '.' || split_part(ip, '.', 3) "
              "|| '.0/24'")

#: what :func:`ip_geo` looks up for an IP (the columns of ``ip_enrichment`` besides the IP, its key and egress)
LOOKUP_COLUMNS = (*GEO_FIELDS, "asn_number", "as_org", "range_class", "threat_intel")

#: feed classes by precedence when several feed ranges hold one IP
_CLASS_RANK = "CASE kind WHEN 'tor' THEN 1 WHEN 'vpn' THEN 2 WHEN 'hosting' THEN 3 WHEN 'mobile' THEN 4 ELSE 5 END"


#: the distinct IPs of the events (the default source of :func:`distinct_ips`)
EVENT_IPS = "SELECT ip FROM signins WHERE ip IS NOT NULL UNION SELECT ip FROM activities WHERE ip IS NOT NULL"


def new_event_ips() -> str:
    """SQL: the distinct IPs of the events that ``ip_enrichment`` does not hold yet (an anti-join per event
    table: cheaper than the distinct IPs of every event when most are known)."""
    known = "NOT IN (SELECT ip FROM ip_enrichment)"
    return (f"SELECT ip FROM signins WHERE ip IS NOT NULL AND ip {known} "
            f"UNION SELECT ip FROM activities WHERE ip IS NOT NULL AND ip {known}")


def distinct_ips(store: Store, target: str = "_ips", source: str = EVENT_IPS) -> int:
    """Temp table ``target(ip, family, ip_key, prefix)`` of the distinct IPs ``source`` selects (column ``ip``;
    default: every IP of signins and activities)."""
    con = store.con
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE {target} AS
WITH d AS (SELECT DISTINCT ip FROM ({source}) s WHERE ip IS NOT NULL)
SELECT ip, CASE WHEN k IS NOT NULL THEN 4 END AS family, k AS ip_key,
       CASE WHEN k IS NOT NULL THEN {_V4_PREFIX} END AS prefix
FROM (SELECT ip, {v4_key_sql('ip')} AS k FROM d)""")
    others = [r[0] for r in con.execute(f"SELECT ip FROM {target} WHERE family IS NULL").fetchall()]
    if others:
        cols: dict[str, list[object]] = {"ip": [], "family": [], "ip_key": [], "prefix": []}
        for ip in others:
            key = ip_key(ip)
            if key is None:
                continue
            for k, v in zip(cols, (ip, key[0], key[1], prefix_of(ip)), strict=True):
                cols[k].append(v)
        fixed = pa.Table.from_pydict(cols, schema=pa.schema([("ip", pa.string()), ("family", pa.int32()),
                                                             ("ip_key", pa.int64()), ("prefix", pa.string())]))
        con.register("_v6_keys", fixed)
        try:
            con.execute(f"UPDATE {target} t SET family = v.family, ip_key = v.ip_key, prefix = v.prefix "
                        "FROM _v6_keys v WHERE t.ip = v.ip")
        finally:
            con.unregister("_v6_keys")
    return store.count(target)


def ip_geo(store: Store, ips: str = "_ips", target: str = "_ipgeo") -> None:
    """Temp table ``target``: ``ips`` plus geo, ASN, feed class and threat intel (no egress yet)."""
    lookup = asof_sql if store.dialect.asof else window_sql
    geo = lookup(ips, "geo_ranges", list(GEO_FIELDS))
    asn = lookup(ips, "asn_ranges", ["asn", "as_org"])
    store.con.execute(f"""
CREATE OR REPLACE TEMP TABLE {target} AS
WITH g AS ({geo}), a AS ({asn}),
f AS (
  SELECT i.ip, min_by(f.kind, {_CLASS_RANK.replace('kind', 'f.kind')} * 1e12 + (f.end_key - f.start_key)::DOUBLE)
           FILTER (WHERE f.kind <> 'threat_intel') AS range_class,
         string_agg(DISTINCT f.label, '; ' ORDER BY f.label) FILTER (WHERE f.kind = 'threat_intel') AS threat_intel
  FROM {ips} i JOIN feed_ranges f ON f.family = i.family AND i.ip_key BETWEEN f.start_key AND f.end_key
  GROUP BY i.ip
)
SELECT i.ip, i.family, i.ip_key, i.prefix, {", ".join(f"g.{c}" for c in GEO_FIELDS)},
       a.asn AS asn_number, a.as_org, f.range_class, f.threat_intel
FROM {ips} i
LEFT JOIN g ON g.family = i.family AND g.ip_key = i.ip_key
LEFT JOIN a ON a.family = i.family AND a.ip_key = i.ip_key
LEFT JOIN f ON f.ip = i.ip""")


def mark_egress(store: Store, egress_ranges: pa.Table, source: str, target: str) -> None:
    """``target`` = ``source`` plus ``egress_name``: the most specific egress CIDR holding the IP."""
    con = store.con
    con.register("_egress_ranges", egress_ranges)
    try:
        con.execute(f"""
CREATE OR REPLACE TEMP TABLE {target} AS
SELECT g.*, e.egress_name FROM {source} g LEFT JOIN (
  SELECT g2.ip, min_by(r.egress_name, r.end_key - r.start_key) AS egress_name
  FROM {source} g2 JOIN _egress_ranges r ON r.family = g2.family AND g2.ip_key BETWEEN r.start_key AND r.end_key
  GROUP BY g2.ip) e ON e.ip = g.ip""")
    finally:
        con.unregister("_egress_ranges")


def write_ip_enrichment(store: Store, source: str, *, full: bool = True) -> int:
    """Write ``source`` (a :func:`mark_egress` result) into ``ip_enrichment``: all of it in place of every row
    (``full``), else only its IPs that are new or whose egress changed. Returns the rows written."""
    cols = ", ".join(store.ident(c) for c in IP_ENRICHMENT.column_names)
    con = store.con
    if full:
        con.execute("DELETE FROM ip_enrichment")
        con.execute(f"INSERT INTO ip_enrichment ({cols}) SELECT {cols} FROM {source}")
        return store.count("ip_enrichment")
    picked = ", ".join(f"n.{store.ident(c)}" for c in IP_ENRICHMENT.column_names)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _ip_changed AS SELECT {picked} FROM {source} n
        LEFT JOIN ip_enrichment o ON o.ip = n.ip
        WHERE o.ip IS NULL OR o.egress_name IS DISTINCT FROM n.egress_name""")
    con.execute("DELETE FROM ip_enrichment WHERE ip IN (SELECT ip FROM _ip_changed)")
    con.execute(f"INSERT INTO ip_enrichment ({cols}) SELECT {cols} FROM _ip_changed")
    written = store.count("_ip_changed")
    con.execute("DROP TABLE IF EXISTS _ip_changed")
    return written
