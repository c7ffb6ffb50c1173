"""The ``signins_enriched`` and ``activities_enriched`` views (contract: docs/architecture.md).

Vendor fields win: when the identity provider wrote coordinates they are the location
(``geo_source = 'vendor'``); otherwise the geolocation database's record is (``'mmdb'``); a
vendor country with no coordinates and no database record is kept as ``'vendor'``. The ASN is
the vendor's ``AutonomousSystemNumber`` when given, else the range table's. ``ip_class`` is, in
order: Tor exit (feed, or the identity provider's verdict), corporate egress, an anonymising proxy by the
identity provider's verdict (``vpn``: Okta's isProxy, Entra's anonymizedIPAddress), feed range class, ASN
class from the feeds, else unknown.
``identity_id`` / ``person_id`` come from the identity stage (``event_identities``): the account across
its renames, and the person across identity providers (docs/identity.md); before that stage has run
they are the record's own UPN, else its user id.
"""
from __future__ import annotations

from vigil.enrich.ua import LEGACY_CLIENT_APPS
from vigil.identity.tables import EVENT_IDENTITIES
from vigil.settings import EnrichSettings
from vigil.store import Store, literal


#: Microsoft's own ASNs: a non-interactive sign-in from them is a Microsoft service acting for the user
MICROSOFT_SERVICE_ASNS = (8075, 8068, 8069, 12076)


def _select(settings: EnrichSettings, statuses: tuple[str, ...], *, signins: bool) -> str:
    acc = settings.default_accuracy_km
    vendor_acc, mmdb_acc = float(acc.get("vendor", 25.0)), float(acc.get("mmdb", 50.0))
    has_vendor_xy = "s.latitude IS NOT NULL AND s.longitude IS NOT NULL" if signins else "FALSE"
    db_has = "(ie.geo_latitude IS NOT NULL OR ie.geo_country IS NOT NULL)"
    vendor_state = "s.state" if signins else "CAST(NULL AS VARCHAR)"
    vendor_asn = "s.asn" if signins else "CAST(NULL AS INTEGER)"
    legacy = ", ".join(literal(a) for a in LEGACY_CLIENT_APPS)
    client_app = (f"CASE WHEN s.client_app_type IN ({legacy}) THEN 'legacy_protocol' "
                  "ELSE coalesce(u.ua_class, 'unknown') END") if signins else "coalesce(u.ua_class, 'unknown')"
    # not the user's location: a confidential client's non-interactive sign-in (the token's original IP), or a
    # non-interactive sign-in from Microsoft's own network (a Microsoft service acting for the user)
    microsoft = ", ".join(str(a) for a in MICROSOFT_SERVICE_ASNS)
    stale = ("(coalesce(s.is_interactive, FALSE) = FALSE AND (coalesce(s.client_credential_type, 'none') "
             f"NOT IN ('none', '') OR coalesce({vendor_asn}, ie.asn_number) IN ({microsoft})))"
             ) if signins else "FALSE"
    status_list = ", ".join(literal(x) for x in statuses)
    table = "signins" if signins else "activities"

    def vendor_flag(name: str) -> str:
        """The identity provider judged the network itself (Okta securityContext.isProxy / isTor, Entra's
        anonymizedIPAddress on the sign-in): its verdict beats a feed that calls the range residential."""
        if not signins:
            return "FALSE"
        pattern = literal('%"' + name + '"%')
        return f"coalesce(CAST(s.risk_event_types AS VARCHAR) LIKE {pattern}, FALSE)"

    def geo(vendor: str, db: str) -> str:
        return f"CASE WHEN {has_vendor_xy} THEN {vendor} WHEN {db_has} THEN {db} ELSE {vendor} END"

    return f"""
SELECT s.*,
  {geo('s.country', 'ie.geo_country')} AS geo_country,
  {geo(vendor_state, 'ie.geo_state')} AS geo_state,
  {geo('s.city', 'ie.geo_city')} AS geo_city,
  {geo('s.latitude' if signins else 'CAST(NULL AS DOUBLE)', 'ie.geo_latitude')} AS geo_latitude,
  {geo('s.longitude' if signins else 'CAST(NULL AS DOUBLE)', 'ie.geo_longitude')} AS geo_longitude,
  CASE WHEN {has_vendor_xy} THEN {vendor_acc} WHEN ie.geo_latitude IS NOT NULL
       THEN coalesce(ie.geo_accuracy_km, {mmdb_acc}) END AS geo_accuracy_km,
  CASE WHEN {has_vendor_xy} THEN 'vendor' WHEN {db_has} THEN 'mmdb'
       WHEN s.country IS NOT NULL THEN 'vendor' ELSE 'none' END AS geo_source,
  coalesce({vendor_asn}, ie.asn_number) AS asn_number,
  CASE WHEN {vendor_asn} IS NULL OR {vendor_asn} = ie.asn_number THEN ie.as_org ELSE an.as_org END AS as_org,
  CASE WHEN ie.range_class = 'tor' OR {vendor_flag('torExitNode')} THEN 'tor'
       WHEN ie.egress_name IS NOT NULL OR ea.egress_name IS NOT NULL THEN 'corporate_egress'
       WHEN {vendor_flag('anonymizedIPAddress')} THEN 'vpn'
       WHEN ie.range_class IS NOT NULL THEN ie.range_class
       WHEN ac.ip_class IS NOT NULL THEN ac.ip_class ELSE 'unknown' END AS ip_class,
  (coalesce(ie.range_class, '') <> 'tor' AND (ie.egress_name IS NOT NULL OR ea.egress_name IS NOT NULL))
    AS is_corporate_egress,
  CASE WHEN coalesce(ie.range_class, '') <> 'tor' THEN coalesce(ie.egress_name, ea.egress_name) END AS egress_name,
  ie.threat_intel,
  u.ua_family, u.ua_major, u.ua_os_family, u.ua_device_family,
  {client_app} AS ua_class,
  {stale} AS location_is_stale,
  coalesce(ei.identity_id, s.user_principal_name, s.user_id) AS identity_id,
  coalesce(ei.person_id, s.user_principal_name, s.user_id) AS person_id
FROM {'signins' if signins else 'activities'} s
LEFT JOIN event_identities ei ON ei.event_id = s.event_id AND ei.event_table = {literal(table)}
LEFT JOIN ip_enrichment ie ON ie.ip = s.ip
LEFT JOIN ua_enrichment u ON u.user_agent = s.user_agent
LEFT JOIN asn_classes ac ON ac.asn = coalesce({vendor_asn}, ie.asn_number)
LEFT JOIN asn_names an ON an.asn = {vendor_asn}
LEFT JOIN (SELECT CAST(value AS INTEGER) AS asn, min(name) AS egress_name FROM egress_points
           WHERE kind = 'asn' AND status IN ({status_list}) GROUP BY 1) ea
  ON ea.asn = coalesce({vendor_asn}, ie.asn_number)"""


def create_views(store: Store, settings: EnrichSettings, statuses: tuple[str, ...]) -> None:
    store.ensure((EVENT_IDENTITIES,))  # empty until the identity stage runs: every event is then its own name
    store.con.execute("CREATE OR REPLACE VIEW signins_enriched AS " + _select(settings, statuses, signins=True))
    store.con.execute("CREATE OR REPLACE VIEW activities_enriched AS "
                      + _select(settings, statuses, signins=False))
