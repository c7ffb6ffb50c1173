"""One event stream for stitching and travel: enriched sign-ins and activities side by side.

``uid`` is the account (the identity stage's ``identity_id``: one key across renames, and an Office 365
record carrying only a UPN takes the account that held it then); ``pid`` the person across identity
providers (``person_id``), the key of travel: one itinerary per person.
"""
from __future__ import annotations

from vigil.store import Store

_COMMON = """
  event_id, event_time, identity_id AS uid, person_id AS pid, user_id, user_principal_name,
  session_id, unique_token_id, correlation_id, ip, asn_number AS asn, as_org, geo_country AS country,
  geo_city AS city, geo_latitude AS lat, geo_longitude AS lon, coalesce(geo_accuracy_km, 0) AS acc,
  ip_class, coalesce(is_corporate_egress, FALSE) AS corp, egress_name, device_id, user_agent, ua_family,
  ua_os_family, ua_class, app_name"""

EVENTS_SQL = f"""
SELECT 'signins' AS event_table, {_COMMON}, original_request_id, is_interactive,
  (coalesce(result, 'success') = 'success') AS ok, (result IN ('failure', 'interrupted')) AS failed,
  mfa_satisfied AS mfa,
  device_os, device_browser, location_is_stale AS stale,
  CASE WHEN session_id IS NOT NULL THEN 's:' || session_id END AS session_key,
  CASE WHEN session_id IS NOT NULL THEN 'session_id' END AS link_method
FROM signins_enriched
UNION ALL
SELECT 'activities' AS event_table, {_COMMON}, CAST(NULL AS VARCHAR) AS original_request_id,
  CAST(NULL AS BOOLEAN) AS is_interactive,
  (lower(coalesce(result_status, 'succeeded')) NOT IN ('failed', 'failure', 'false')) AS ok,
  (lower(coalesce(result_status, '')) IN ('failed', 'failure', 'false')) AS failed, CAST(NULL AS BOOLEAN) AS mfa,
  CAST(NULL AS VARCHAR) AS device_os, CAST(NULL AS VARCHAR) AS device_browser, FALSE AS stale,
  CASE WHEN session_id IS NOT NULL THEN 's:' || session_id END AS session_key,
  CASE WHEN session_id IS NOT NULL THEN 'aad_session_id' END AS link_method
FROM activities_enriched"""


def build_events(store: Store, target: str = "_ev") -> int:
    store.con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS {EVENTS_SQL}")
    return store.count(target)
