"""Tables the enrich stage writes (contracts in docs/architecture.md "Table contracts")."""
from __future__ import annotations

from vigil.store.schema import C, Table

_GEO = (
    C("geo_country", "VARCHAR", "ISO 3166 alpha-2 country"),
    C("geo_state", "VARCHAR", "state / region"),
    C("geo_city", "VARCHAR", "city"),
    C("geo_latitude", "DOUBLE", "latitude"),
    C("geo_longitude", "DOUBLE", "longitude"),
    C("geo_accuracy_km", "DOUBLE", "accuracy radius in km (database's own, else the per-source default)"),
)

GEO_RANGES = Table(
    "geo_ranges",
    doc="The geolocation database as integer IP ranges (built once per .mmdb; see enrich/geo.py).",
    columns=(
        C("family", "INTEGER NOT NULL", "4 or 6"),
        C("start_key", "BIGINT NOT NULL", "first address key (enrich/ipnum.py)"),
        C("end_key", "BIGINT NOT NULL", "last address key"),
    ) + _GEO,
)

ASN_RANGES = Table(
    "asn_ranges",
    doc="ASN and organisation per IP range (feeds asn-ranges.csv, ip-location-db asn CSVs).",
    columns=(
        C("family", "INTEGER NOT NULL", "4 or 6"),
        C("start_key", "BIGINT NOT NULL", "first address key"),
        C("end_key", "BIGINT NOT NULL", "last address key"),
        C("asn", "INTEGER NOT NULL", "autonomous system number"),
        C("as_org", "VARCHAR", "organisation"),
    ),
)

FEED_RANGES = Table(
    "feed_ranges",
    doc="IPs and CIDRs from the feeds: Tor exits, per-class ranges, threat intel.",
    columns=(
        C("family", "INTEGER NOT NULL", "4 or 6"),
        C("start_key", "BIGINT NOT NULL", "first address key"),
        C("end_key", "BIGINT NOT NULL", "last address key"),
        C("kind", "VARCHAR NOT NULL", "tor | vpn | hosting | mobile | residential | threat_intel"),
        C("label", "VARCHAR", "feed label (threat-intel description, provider)"),
        C("feed", "VARCHAR NOT NULL", "feed file it came from"),
    ),
)

ASN_CLASSES = Table(
    "asn_classes",
    doc="IP class of whole ASNs from the feeds (vpn / hosting / mobile / residential).",
    primary_key=("asn",),
    columns=(
        C("asn", "INTEGER NOT NULL", "autonomous system number"),
        C("ip_class", "VARCHAR NOT NULL", "vpn | hosting | mobile | residential"),
        C("label", "VARCHAR", "name in the feed"),
        C("feed", "VARCHAR NOT NULL", "feed file"),
    ),
)

IP_ENRICHMENT = Table(
    "ip_enrichment",
    doc="One row per distinct IP of signins and activities: database location, ASN, feed matches.",
    columns=(
        C("ip", "VARCHAR NOT NULL", "IP as written in the event tables"),
        C("family", "INTEGER", "4 or 6 (null when not an IP)"),
        C("ip_key", "BIGINT", "address key"),
    ) + _GEO + (
        C("asn_number", "INTEGER", "ASN from the range table"),
        C("as_org", "VARCHAR", "organisation from the range table"),
        C("range_class", "VARCHAR", "class from a feed range (tor / vpn / hosting / mobile / residential)"),
        C("threat_intel", "VARCHAR", "threat-intel label, null when none"),
        C("egress_name", "VARCHAR", "corporate egress point (CIDR) the IP is in, null when none"),
    ),
)

UA_ENRICHMENT = Table(
    "ua_enrichment",
    doc="One row per distinct user agent: ua-parser result plus vigil's client class.",
    primary_key=("user_agent",),
    columns=(
        C("user_agent", "VARCHAR NOT NULL", "user agent string"),
        C("ua_family", "VARCHAR", "browser / client family"),
        C("ua_major", "VARCHAR", "major version"),
        C("ua_os_family", "VARCHAR", "operating system family"),
        C("ua_device_family", "VARCHAR", "device family"),
        C("ua_class", "VARCHAR NOT NULL", "browser | mobile_app | desktop_app | scripted | legacy_protocol | headless"
          " | unknown"),
        C("ua_rule", "VARCHAR", "vigil rule that set the class (null when ua-parser's family decided)"),
    ),
)

EGRESS_POINTS = Table(
    "egress_points",
    doc="Corporate egress: named locations, configured CIDRs/ASNs and learned proposals.",
    columns=(
        C("kind", "VARCHAR NOT NULL", "cidr | asn"),
        C("value", "VARCHAR NOT NULL", "normalised CIDR or ASN number"),
        C("name", "VARCHAR", "named location / configured name / learned description"),
        C("origin", "VARCHAR NOT NULL", "named_location | configured | learned"),
        C("status", "VARCHAR NOT NULL", "accepted | proposed | rejected"),
        C("distinct_users", "BIGINT", "distinct users seen from it (managed device + MFA for learned)"),
        C("evidence", "JSON", "sign-ins, distinct users, countries, first/last seen, sample IPs, decision"),
    ),
)

EGRESS_DECISIONS = Table(
    "egress_decisions",
    doc="Analyst decisions on egress points; honoured by every later analyze.",
    primary_key=("kind", "value"),
    columns=(
        C("kind", "VARCHAR NOT NULL", "cidr | asn"),
        C("value", "VARCHAR NOT NULL", "CIDR or ASN"),
        C("status", "VARCHAR NOT NULL", "accepted | rejected"),
        C("name", "VARCHAR", "name given by the analyst"),
        C("decided_at", "TIMESTAMP NOT NULL", "when"),
        C("note", "VARCHAR", "why"),
    ),
)

ENRICH_SOURCES = Table(
    "enrich_sources",
    doc="Which geo / ASN source files the range tables were built from (rebuilt when they change).",
    primary_key=("name",),
    columns=(
        C("name", "VARCHAR NOT NULL", "geo_ranges | asn_ranges"),
        C("signature", "VARCHAR NOT NULL", "paths, sizes and mtimes of the sources"),
        C("rows", "BIGINT", "ranges loaded"),
        C("built_at", "TIMESTAMP NOT NULL", "when"),
    ),
)


ASN_NAMES = Table(
    "asn_names",
    doc="Organisation name per ASN (from asn_ranges), for vendor-given ASNs.",
    primary_key=("asn",),
    columns=(C("asn", "INTEGER NOT NULL", "autonomous system number"), C("as_org", "VARCHAR", "organisation")),
)

ENRICH_TABLES: tuple[Table, ...] = (GEO_RANGES, ASN_RANGES, ASN_NAMES, FEED_RANGES, ASN_CLASSES, IP_ENRICHMENT,
                                    UA_ENRICHMENT, EGRESS_POINTS, EGRESS_DECISIONS, ENRICH_SOURCES)
