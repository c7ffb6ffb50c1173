"""The enrich stage of ``vigil analyze``: feeds, geo / ASN ranges, IPs, user agents, egress, views.

Idempotent: every table it writes is replaced (range tables only when their source files
changed, user agents only added). Nothing here loops over events in Python.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from vigil.enrich import egress, feeds, geo, geoinstall, iptable, ua
from vigil.enrich.rangejoin import asof_sql, window_sql
from vigil.enrich.tables import ENRICH_TABLES
from vigil.enrich.views import create_views
from vigil.settings import EnrichSettings, Settings
from vigil.store import Store


def _replace(store: Store, table: str, data: pa.Table) -> None:
    store.con.register("_replacement", data)
    try:
        store.execute(f"DELETE FROM {store.ident(table)}")
        cols = ", ".join(store.ident(c) for c in data.column_names)
        store.execute(f"INSERT INTO {store.ident(table)} ({cols}) SELECT {cols} FROM _replacement")
    finally:
        store.con.unregister("_replacement")


def _source_changed(store: Store, name: str, sig: str) -> bool:
    rows = store.con.execute("SELECT signature FROM enrich_sources WHERE name = ?", [name]).fetchall()
    return not rows or rows[0][0] != sig


def _record_source(store: Store, name: str, sig: str, rows: int) -> None:
    store.con.execute("INSERT OR REPLACE INTO enrich_sources VALUES (?, ?, ?, ?)",
                      [name, sig, rows, datetime.now(UTC).replace(tzinfo=None)])


def refresh_geo_ranges(store: Store, settings: EnrichSettings, ips: str = "_ips") -> dict[str, Any]:
    """Add to ``geo_ranges`` the networks of the distinct IPs in ``ips`` that it does not cover yet
    (all of them again when the active .mmdb files changed): looked up in the files, never dumped whole."""
    files = geoinstall.mmdb_files(settings)
    sig = geo.signature(files) if files else "none"
    if _source_changed(store, "geo_ranges", sig):
        store.con.execute("DELETE FROM geo_ranges")
        _record_source(store, "geo_ranges", sig, 0)
    added = 0
    if files:
        covered = asof_sql(ips, "geo_ranges", ["start_key"]) if store.dialect.asof else \
            window_sql(ips, "geo_ranges", ["start_key"])
        missing = [r[0] for r in store.con.execute(
            f"SELECT DISTINCT i.ip FROM {ips} i LEFT JOIN ({covered}) c ON c.family = i.family AND "
            f"c.ip_key = i.ip_key WHERE i.ip_key IS NOT NULL AND c.start_key IS NULL ORDER BY i.ip").fetchall()]
        if missing:
            batch = geo.ranges_for(files, missing)
            added = batch.num_rows
            store.con.register("_geo_batch", batch)
            try:
                store.con.execute("INSERT INTO geo_ranges SELECT * FROM _geo_batch")
            finally:
                store.con.unregister("_geo_batch")
            _record_source(store, "geo_ranges", sig, store.count("geo_ranges"))
    return {"geo_databases": [str(f) for f in files], "geo_ranges": store.count("geo_ranges"),
            "geo_ranges_added": added}


def load_feeds(store: Store, settings: EnrichSettings) -> dict[str, Any]:
    """Load the effective feeds; ``asn_ranges`` only when its files changed."""
    loaded = feeds.load(settings, asn_ranges=False)  # the large range file is read only when it changed
    _replace(store, "feed_ranges", loaded.ranges_table())
    _replace(store, "asn_classes", loaded.asn_classes_table())
    asn_files = [p for n, p in loaded.files.items() if n == "asn-ranges.csv"]
    sig = geo.signature([Path(p) for p in asn_files]) if asn_files else "none"
    if _source_changed(store, "asn_ranges", sig):
        for p in asn_files:
            feeds.parse_file(Path(p), loaded)
        _replace(store, "asn_ranges", loaded.asn_ranges_table())
        store.con.execute("DELETE FROM asn_names")
        store.con.execute("INSERT INTO asn_names SELECT asn, min(as_org) FROM asn_ranges GROUP BY asn")
        _record_source(store, "asn_ranges", sig, store.count("asn_ranges"))
    return {"feed_files": sorted(loaded.files), "feed_ranges": store.count("feed_ranges"),
            "asn_classes": store.count("asn_classes"), "asn_ranges": store.count("asn_ranges")}


def enrich_user_agents(store: Store) -> int:
    """Classify user agents not yet in ``ua_enrichment`` (distinct strings only); returns how many."""
    known = "user_agent IS NOT NULL AND user_agent NOT IN (SELECT user_agent FROM ua_enrichment)"
    new = [r[0] for r in store.con.execute(
        f"SELECT user_agent FROM signins WHERE {known} UNION SELECT user_agent FROM activities WHERE {known} "
        "ORDER BY 1").fetchall()]
    if new:
        store.con.register("_new_ua", ua.classify_all(new))
        try:
            store.con.execute("INSERT INTO ua_enrichment SELECT * FROM _new_ua")
        finally:
            store.con.unregister("_new_ua")
    return len(new)


def egress_step(store: Store, es: EnrichSettings, *, full: bool = True) -> dict[str, int]:
    """Declared + learned egress points, decisions applied; writes ``egress_points`` and ``ip_enrichment``
    from ``_ipgeo`` (every IP; ``full``: in place of every row, else only the IPs new or re-marked) and
    (re)creates the enriched views."""
    statuses = egress.effective_statuses(es)
    points = egress.declared(es, egress.stored_named_locations(store))
    iptable.mark_egress(store, egress.cidr_ranges(points, ("accepted",)), "_ipgeo", "_ipgeo_declared")
    if es.learn_egress:
        points += egress.learn(store, es, "_ipgeo_declared")
    points = egress.apply_decisions(store, points)
    _replace(store, "egress_points", egress.to_table(points))
    iptable.mark_egress(store, egress.cidr_ranges(points, statuses), "_ipgeo", "_ipgeo_final")
    written = iptable.write_ip_enrichment(store, "_ipgeo_final", full=full)
    for t in ("_ips", "_ipgeo", "_ipgeo_declared", "_ipgeo_final"):
        store.con.execute(f"DROP TABLE IF EXISTS {t}")
    create_views(store, es, statuses)
    out = {s: sum(1 for p in points if p["status"] == s) for s in ("accepted", "proposed", "rejected")}
    out["ip_enrichment"] = written
    return out


def lookup_fingerprint(store: Store) -> str:
    """What an IP's geo, ASN and feed columns were looked up against: the geo and ASN sources and the feeds'
    contents. While it stays the same, a stored ``ip_enrichment`` row stays right."""
    agg = store.dialect.string_agg
    feeds_sig = store.scalar(f"""SELECT md5(coalesce(
        (SELECT {agg("concat_ws('|', family, start_key, end_key, kind, coalesce(label, ''), feed)", ';',
                     order_by='family, start_key, end_key, kind, label, feed')} FROM feed_ranges), '') || '#' ||
        coalesce((SELECT {agg("concat_ws('|', asn, ip_class, coalesce(label, ''), feed)", ';', order_by='asn')}
                  FROM asn_classes), ''))""")
    asn = store.scalar("SELECT signature FROM enrich_sources WHERE name = 'asn_ranges'")
    return f"{feeds_sig}|{asn or ''}"


def run(store: Store, settings: Settings) -> dict[str, Any]:
    """Enrich the IPs and user agents the store does not know yet; every IP again only when what they are
    looked up against changed (geo / ASN databases, feeds). Egress is decided over every IP each run (learning
    counts users over the look-back) and only the IPs whose egress changed are re-written."""
    es = settings.enrich
    store.ensure(ENRICH_TABLES)
    summary: dict[str, Any] = {}
    summary.update(load_feeds(store, es))
    files = geoinstall.mmdb_files(es)
    fingerprint = lookup_fingerprint(store) + "|" + (geo.signature(files) if files else "none")
    full = store.dialect.name != "duckdb" or _source_changed(store, "ip_enrichment", fingerprint) \
        or store.count("ip_enrichment") == 0
    if full:
        store.con.execute("DELETE FROM ip_enrichment")
    # every IP (the known ones from ip_enrichment, which holds each event IP once) for egress; the new for lookups
    known_and_new = f"SELECT ip FROM ip_enrichment UNION {iptable.new_event_ips()}"
    summary["distinct_ips"] = iptable.distinct_ips(store, "_ips", iptable.EVENT_IPS if full else known_and_new)
    store.con.execute("CREATE OR REPLACE TEMP TABLE _ips_new AS SELECT * FROM _ips WHERE ip NOT IN "
                      "(SELECT ip FROM ip_enrichment)")
    summary["new_ips"] = store.count("_ips_new")
    summary.update(refresh_geo_ranges(store, es, "_ips_new"))
    iptable.ip_geo(store, "_ips_new", "_ipgeo")
    if not full:  # the known IPs' lookups as stored (their egress is decided again below)
        keep = ", ".join(f"o.{c}" for c in iptable.LOOKUP_COLUMNS)
        store.con.execute(f"INSERT INTO _ipgeo SELECT i.ip, i.family, i.ip_key, i.prefix, {keep} FROM ip_enrichment o "
                          "JOIN _ips i ON i.ip = o.ip")
    store.con.execute("DROP TABLE IF EXISTS _ips_new")
    points = egress_step(store, es, full=full)
    summary["ip_enrichment"] = store.count("ip_enrichment")
    summary["ip_enrichment_written"] = points.pop("ip_enrichment")
    summary["egress_points"] = points
    summary["ip_mode"] = "full" if full else "new IPs"
    _record_source(store, "ip_enrichment", fingerprint, summary["ip_enrichment"])
    summary["new_user_agents"] = enrich_user_agents(store)
    return summary
