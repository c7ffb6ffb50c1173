"""The unified UEBA event stream: sign-ins and activities with the seven baseline dimensions.

Attributes come from the enrichment views (``signins_enriched`` / ``activities_enriched``:
geo_country, as_org / asn_number, ua_family, ua_os_family, ua_device_family, threat_intel)
when they exist, else from the vendor columns (country, asn, device_browser, device_os).
Which one was used is returned so every BehaviorAnalytics row can say so in its reason.

Dimensions (the values the insights are computed over):

* action   -- ``Sign-in`` for sign-ins, the operation name for activities
* app      -- client application (app_name; activities fall back to the workload)
* resource -- resource_name for sign-ins, workload for activities
* browser  -- user-agent family, else the vendor browser string
* device   -- device id, else device name, else "<os> / <device family or browser>", else the
  user agent (a client never seen before is a new device)
* isp      -- AS organisation, else "AS<number>", else the vendor ISP
* country  -- ISO country
"""
from __future__ import annotations

from dataclasses import dataclass

from vigil.store import DUCKDB, Store

DIMS = ("action", "app", "resource", "browser", "device", "isp", "country")


@dataclass(frozen=True)
class EventSources:
    signins: str
    activities: str
    enriched: bool

    @property
    def note(self) -> str:
        if self.enriched:
            return "attributes from signins_enriched/activities_enriched"
        return "attributes from vendor columns (no enrichment views)"


def event_sources(store: Store) -> EventSources:
    enriched = store.exists("signins_enriched") and store.exists("activities_enriched")
    if enriched:
        return EventSources("signins_enriched", "activities_enriched", True)
    return EventSources("signins", "activities", False)


def _attr(enriched: bool, enriched_expr: str, vendor_expr: str) -> str:
    return f"coalesce({enriched_expr}, {vendor_expr})" if enriched else vendor_expr


def events_sql(src: EventSources, where: str = "TRUE") -> str:
    """SELECT producing one row per sign-in and activity with keys, dimensions and display fields.

    ``where`` filters on ``event_time`` (applied to both inputs before the union).
    """
    e = src.enriched
    s_country = _attr(e, "s.geo_country", "s.country")
    a_country = _attr(e, "a.geo_country", "a.country")
    s_isp = _attr(e, "s.as_org, 'AS' || s.asn_number::VARCHAR", "'AS' || s.asn::VARCHAR") if e \
        else "'AS' || s.asn::VARCHAR"
    a_isp = _attr(e, "a.as_org, 'AS' || a.asn_number::VARCHAR", "a.isp")
    s_browser = _attr(e, "nullif(s.ua_family, 'Other')", "s.device_browser")
    a_browser = "nullif(a.ua_family, 'Other')" if e else "CAST(NULL AS VARCHAR)"
    s_os = _attr(e, "nullif(s.ua_os_family, 'Other')", "s.device_os")
    a_os = "nullif(a.ua_os_family, 'Other')" if e else "CAST(NULL AS VARCHAR)"
    s_family = "nullif(s.ua_device_family, 'Other')" if e else "CAST(NULL AS VARCHAR)"
    a_family = "nullif(a.ua_device_family, 'Other')" if e else "CAST(NULL AS VARCHAR)"
    s_ua_family = "s.ua_family" if e else "CAST(NULL AS VARCHAR)"
    a_ua_family = "a.ua_family" if e else "CAST(NULL AS VARCHAR)"
    s_ti = "s.threat_intel" if e else "CAST(NULL AS VARCHAR)"
    a_ti = "a.threat_intel" if e else "CAST(NULL AS VARCHAR)"
    return f"""
    SELECT s.event_id, s.event_time, 'signins' AS event_table, s.tenant_id, s.source_format, s.source_table,
           s.user_id, s.user_principal_name, s.user_display_name,
           CASE WHEN s.result = 'failure' THEN 'FailedLogOn' ELSE 'LogOn' END AS activity_type,
           'Sign-in' AS action,
           s.app_name AS app,
           s.resource_name AS resource,
           {s_browser} AS browser,
           coalesce(nullif(s.device_id, ''), nullif(s.device_name, ''),
                    {s_os} || ' / ' || coalesce({s_family}, {s_browser}), nullif(s.user_agent, '')) AS device,
           {s_isp} AS isp,
           {s_country} AS country,
           s.ip, s.device_name, {s_os} AS os, {s_family} AS device_family, {s_ua_family} AS ua_family,
           {s_ti} AS threat_intel
    FROM {src.signins} s WHERE {where.replace('event_time', 's.event_time')}
    UNION ALL
    SELECT a.event_id, a.event_time, 'activities', a.tenant_id, a.source_format, a.source_table,
           a.user_id, a.user_principal_name, a.user_display_name,
           coalesce(a.workload, a.record_type, 'Activity'),
           coalesce(a.operation, 'Unknown'),
           coalesce(a.app_name, a.workload),
           a.workload,
           {a_browser},
           coalesce(nullif(a.device_id, ''), {a_os} || ' / ' || coalesce({a_family}, {a_browser}),
                    nullif(a.user_agent, '')),
           {a_isp},
           {a_country},
           a.ip, CAST(NULL AS VARCHAR), {a_os}, {a_family}, {a_ua_family}, {a_ti}
    FROM {src.activities} a WHERE {where.replace('event_time', 'a.event_time')}
    """


def keyed_events_sql(src: EventSources, where: str = "TRUE") -> str:
    """events_sql plus ``user_key`` and ``day`` (days since epoch). The user key is the current name of the
    event's account (identity stage, docs/identity.md: a renamed user keeps one baseline under its latest
    UPN, the name IdentityInfo carries), else the lower-cased UPN, else the UPN IdentityInfo gives the
    object id, else the object id."""
    return f"""
    SELECT ev.*, coalesce(idn.name, lower(ev.user_principal_name), ii.AccountUPN, ev.user_id) AS user_key,
           CAST(floor({DUCKDB.epoch_seconds('ev.event_time')} / 86400) AS INTEGER) AS day
    FROM ({events_sql(src, where)}) ev
    LEFT JOIN event_identities ei ON ei.event_id = ev.event_id AND ei.event_table = ev.event_table
    LEFT JOIN identities idn ON idn.identity_id = ei.identity_id
    LEFT JOIN (SELECT AccountObjectId, min(AccountUPN) AS AccountUPN FROM IdentityInfo
               WHERE AccountObjectId IS NOT NULL GROUP BY 1) ii
           ON ev.user_principal_name IS NULL AND ii.AccountObjectId = ev.user_id
    """
