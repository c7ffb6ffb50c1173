"""Corporate egress points: declared (named locations, configured CIDRs / ASNs) and learned.

Learning looks at successful sign-ins over the lookback that were made from a managed or compliant
device *and* with MFA satisfied, by the sign-in itself or earlier on that device by that user
(conditional access rarely asks for MFA on the corporate network): an IP prefix (/24 IPv4, /48 IPv6)
used that way by at least ``learn_min_users_prefix`` distinct users, or an ASN (in none of the ISP /
mobile / hosting / VPN feeds) used by at least ``learn_min_users_asn``, most of them through prefixes they share,
is proposed with its evidence. Mobile-carrier prefixes are never learned (carrier-grade NAT puts many strangers
behind one /24), and neither are consumer-ISP ASNs: many managed employees sign in from them at home, so they
look used by the organisation, but the organisation does not control them.

An analyst's decision (``vigil egress accept|reject``) lives in ``egress_decisions`` and wins over
every origin on the next analyze; ``enrich.trust_proposed_egress`` says whether proposals already
count as corporate before anyone decides.
"""
from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from vigil.enrich.ipnum import cidr_keys
from vigil.errors import ConfigError, InputError
from vigil.locations.named import NamedLocations, load_named_locations, parse_named_locations
from vigil.settings import EnrichSettings
from vigil.store import Store

EGRESS_SCHEMA = pa.schema([("kind", pa.string()), ("value", pa.string()), ("name", pa.string()),
                           ("origin", pa.string()), ("status", pa.string()), ("distinct_users", pa.int64()),
                           ("evidence", pa.string())])


def normalise(kind: str, value: str) -> str:
    """Canonical text of a CIDR or ASN; InputError when it is neither."""
    if kind == "cidr":
        try:
            return str(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise InputError(f"{value!r} is not a CIDR range") from None
    if kind == "asn":
        text = value.strip().upper().removeprefix("AS")
        if not text.isdigit():
            raise InputError(f"{value!r} is not an AS number")
        return str(int(text))
    raise InputError(f"egress kind must be cidr or asn, not {kind!r}")


def stored_named_locations(store: Store) -> NamedLocations | None:
    """The tenant's named locations kept in the store (``vigil policy load``, the Graph connector), if any."""
    if not store.exists("named_locations") or store.count("named_locations") == 0:
        return None
    rows = store.con.execute("select document from named_locations order by id").fetchall()
    docs = [orjson.loads(r[0]) for r in rows]
    return parse_named_locations(docs, "named_locations")


def declared(settings: EnrichSettings, stored: NamedLocations | None = None) -> list[dict[str, Any]]:
    """Egress points from the named locations (the settings' file and those kept in the store) and the
    configured CIDRs / ASNs (status accepted)."""
    points: list[dict[str, Any]] = []
    sources: list[tuple[NamedLocations, str]] = []
    if settings.named_locations:
        sources.append((load_named_locations(settings.named_locations), settings.named_locations))
    if stored is not None:
        sources.append((stored, "store: named_locations"))
    seen: set[str] = set()
    for locations, where in sources:
        for loc in locations.ip_locations():
            if settings.named_locations_trusted_only and not loc.is_trusted:
                continue
            for r in loc.ip_ranges:
                if r.normalized in seen:  # the same range from the file and the store: one point
                    continue
                seen.add(r.normalized)
                points.append(dict(kind="cidr", value=r.normalized, name=loc.display_name, origin="named_location",
                                   status="accepted", distinct_users=None,
                                   evidence={"named_location_id": loc.id, "isTrusted": loc.is_trusted,
                                             "cidrAddress": r.cidr_address, "from": where}))
    for i, cidr in enumerate(settings.corporate_cidrs):
        try:
            value = normalise("cidr", cidr)
        except InputError:
            raise ConfigError(f"setting enrich.corporate_cidrs[{i}]: {cidr!r} is not a CIDR range") from None
        points.append(dict(kind="cidr", value=value, name=f"configured {value}", origin="configured",
                           status="accepted", distinct_users=None, evidence={"setting": "enrich.corporate_cidrs"}))
    for asn in settings.corporate_asns:
        points.append(dict(kind="asn", value=str(asn), name=f"configured AS{asn}", origin="configured",
                           status="accepted", distinct_users=None, evidence={"setting": "enrich.corporate_asns"}))
    return points


def effective_statuses(settings: EnrichSettings) -> tuple[str, ...]:
    return ("accepted", "proposed") if settings.trust_proposed_egress else ("accepted",)


def cidr_ranges(points: list[dict[str, Any]], statuses: tuple[str, ...]) -> pa.Table:
    cols: dict[str, list[Any]] = {"family": [], "start_key": [], "end_key": [], "egress_name": []}
    for p in points:
        if p["kind"] == "cidr" and p["status"] in statuses:
            family, start, end = cidr_keys(p["value"])
            for k, v in zip(cols, (family, start, end, p["name"] or p["value"]), strict=True):
                cols[k].append(v)
    return pa.Table.from_pydict(cols, schema=pa.schema([("family", pa.int32()), ("start_key", pa.int64()),
                                                        ("end_key", pa.int64()), ("egress_name", pa.string())]))


# A sign-in counts when it succeeded from a managed / compliant device and either satisfied MFA itself
# or came from a device on which the same user satisfied MFA in the lookback: conditional access
# usually skips MFA on the corporate network, so the office sign-ins themselves rarely carry it.
_LEARN_BASE = """
WITH recent AS (
  SELECT * FROM signins WHERE result = 'success'
    AND event_time >= (SELECT max(event_time) FROM signins) - INTERVAL {days} DAY
), mfa_devices AS (
  SELECT DISTINCT coalesce(user_id, user_principal_name) AS uid, device_id FROM recent
  WHERE mfa_satisfied AND device_id IS NOT NULL
)
SELECT coalesce(s.user_id, s.user_principal_name) AS uid, g.prefix, coalesce(s.asn, g.asn_number) AS asn,
       coalesce(s.country, g.geo_country) AS country, s.event_time, s.ip, g.egress_name, g.range_class,
       ac.ip_class AS asn_class
FROM recent s JOIN {ipgeo} g ON g.ip = s.ip
LEFT JOIN asn_classes ac ON ac.asn = coalesce(s.asn, g.asn_number)
LEFT JOIN mfa_devices md ON md.uid = coalesce(s.user_id, s.user_principal_name) AND md.device_id = s.device_id
WHERE (s.device_managed OR s.device_compliant) AND (s.mfa_satisfied OR md.device_id IS NOT NULL)
"""

_LEARN_GROUP = """
SELECT {key} AS value, count(DISTINCT uid) AS distinct_users, count(*) AS signins,
       list(DISTINCT country ORDER BY country) FILTER (WHERE country IS NOT NULL) AS countries,
       min(event_time) AS first_seen, max(event_time) AS last_seen,
       list(DISTINCT ip ORDER BY ip)[1:5] AS sample_ips
FROM base WHERE {where} GROUP BY {key} HAVING count(DISTINCT uid) >= {min_users} {having} ORDER BY value
"""
#: an organisation's own AS carries its users through shared gateway prefixes (offices, VPN concentrators); a
#: consumer ISP carries employees working from home, each from their own prefix. An ASN is learned only when at
#: least this share of its users signed in from a prefix shared with another user (an employee's home ISP
#: labelled corporate would hide a session replayed through a residential proxy on that ISP).
ASN_MIN_SHARED_USERS = 0.8


def learn(store: Store, settings: EnrichSettings, ipgeo: str) -> list[dict[str, Any]]:
    """Proposed egress points from managed-device MFA sign-ins (see module doc)."""
    con = store.con
    con.execute("CREATE OR REPLACE TEMP TABLE base0 AS "
                + _LEARN_BASE.format(ipgeo=ipgeo, days=int(settings.learn_lookback_days)))
    con.execute("""CREATE OR REPLACE TEMP TABLE base AS
                   SELECT b.*, coalesce(p.users, 0) >= 2 AS shared_prefix FROM base0 b
                   LEFT JOIN (SELECT prefix, count(DISTINCT uid) AS users FROM base0 GROUP BY prefix) p
                     ON p.prefix = b.prefix""")
    con.execute("DROP TABLE base0")
    points = []
    specs = (
        ("cidr", "prefix", "prefix IS NOT NULL AND egress_name IS NULL AND coalesce(range_class, asn_class, '') "
                           "NOT IN ('mobile', 'tor')", settings.learn_min_users_prefix, ""),
        # an ASN: in none of the feeds, no sign-in from a range a feed calls residential or mobile, and its users
        # on shared gateway prefixes, not each on their own (see ASN_MIN_SHARED_USERS)
        ("asn", "asn", "asn IS NOT NULL AND asn_class IS NULL", settings.learn_min_users_asn,
         f"AND count(DISTINCT uid) FILTER (WHERE shared_prefix) >= {ASN_MIN_SHARED_USERS} * count(DISTINCT uid) "
         "AND count(*) FILTER (WHERE range_class IN ('residential', 'mobile')) = 0"),
    )
    for kind, key, where, min_users, having in specs:
        rows = con.sql(_LEARN_GROUP.format(key=key, where=where, min_users=int(min_users), having=having)).fetchall()
        for value, users, signins, countries, first, last, sample in rows:
            label = f"AS{value}" if kind == "asn" else str(value)
            points.append(dict(
                kind=kind, value=str(value), origin="learned", status="proposed", distinct_users=int(users),
                name=f"learned {label} ({', '.join(countries or []) or 'no country'})",
                evidence={"distinct_users": int(users), "signins": int(signins), "countries": countries or [],
                          "first_seen": first, "last_seen": last, "sample_ips": sample,
                          "rule": f">= {min_users} distinct users signing in from a managed device that "
                                  f"satisfied MFA, over {settings.learn_lookback_days} days"}))
    con.execute("DROP TABLE IF EXISTS base")
    return points


def apply_decisions(store: Store, points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overlay analyst decisions; decided points absent from the data are kept (accepted by hand)."""
    decisions = {(k, v): (s, n, t, note) for k, v, s, n, t, note in store.con.execute(
        "SELECT kind, value, status, name, decided_at, note FROM egress_decisions").fetchall()}
    seen = set()
    for p in points:
        key = (p["kind"], p["value"])
        seen.add(key)
        if key in decisions:
            status, name, at, note = decisions[key]
            p["status"] = status
            p["name"] = name or p["name"]
            p["evidence"] = {**p["evidence"], "decision": {"status": status, "decided_at": at, "note": note}}
    for (kind, value), (status, name, at, note) in decisions.items():
        if (kind, value) not in seen:
            points.append(dict(kind=kind, value=value, name=name or value, origin="configured", status=status,
                               distinct_users=None,
                               evidence={"decision": {"status": status, "decided_at": at, "note": note}}))
    return points


def to_table(points: list[dict[str, Any]]) -> pa.Table:
    rows = [{**p, "evidence": orjson.dumps(p["evidence"], default=str).decode()} for p in points]
    return pa.Table.from_pylist(rows, schema=EGRESS_SCHEMA)


def decide(store: Store, kind: str, value: str, status: str, name: str | None = None,
           note: str | None = None) -> dict[str, Any]:
    """Record an analyst decision (accepted | rejected); the next analyze honours it."""
    if status not in ("accepted", "rejected"):
        raise InputError(f"decision must be accepted or rejected, not {status!r}")
    value = normalise(kind, value)
    at = datetime.now(UTC).replace(tzinfo=None)
    store.con.execute("INSERT OR REPLACE INTO egress_decisions VALUES (?, ?, ?, ?, ?, ?)",
                      [kind, value, status, name, at, note])
    store.con.execute("UPDATE egress_points SET status = ?, name = coalesce(?, name) WHERE kind = ? AND value = ?",
                      [status, name, kind, value])
    return {"kind": kind, "value": value, "status": status, "name": name, "decided_at": at, "note": note}
