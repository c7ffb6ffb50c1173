"""Travel verdicts between a person's consecutive located events (``pid``: one itinerary across renames
and identity providers, docs/identity.md; each row names the later event's account).

For every located event (successful or failed, interactive or not, any session) the *from* side is
the user's previous **successful** located event, so one failed attempt from far away yields one
row (marked ``to_failed``) and does not become the starting point of the next. Stale locations (a
confidential client's non-interactive sign-in carrying the token's original IP) are not locations.
Pairs with the same IP are not written: they carry no travel.

Verdicts, first that applies:

* ``same_location``: the distance minus both accuracy radii is 0, or same country and city, or one
  side is a mobile-carrier IP in the same country (carrier gateways put a Bengaluru phone in Delhi);
* ``egress_change``: both ends are corporate egress points, or one is and the pair is in one
  session that kept the root's device (VPN failover, split tunnel; an activity without a device
  id does not break it, a sign-in without the root's device id does);
* ``plausible`` / ``improbable`` / ``impossible`` by implied speed (``travel.*_kmh``); a pair of
  different sessions with a mobile-carrier IP on one side is at most ``improbable`` when that IP's
  country is one the person had been in before (roaming phones egress through their home carrier, so
  they show the home country) or the other side is corporate egress (a VPN hides where the person is); a
  carrier IP in a country they were never seen in is presence there.

Window functions order by ``(event_time, event_id)``; the "previous success" is
``last_value(success_id IGNORE NULLS)`` over the preceding rows (Spark: ``last(x, true)``; an
equivalent without IGNORE NULLS is a running max of ``row_number()``, measured 25% slower here).
That and string formatting are the only DuckDB-specific parts; they come from ``store.dialect``.
"""
from __future__ import annotations

from vigil.settings import TravelSettings
from vigil.store import Store

# One window pass over the located events finds each one's previous success (last non-null
# success key: Spark spells it last(x, true)); both sides are then joined back by an integer row key
# (joining on the text event_id cost ~1.5x as much).
_PAIRS = """
CREATE OR REPLACE TEMP TABLE _loc AS
SELECT {row_key} AS rk, uid, pid, user_id, user_principal_name, event_id, event_table, event_time, ip, country, city,
       lat, lon, acc, ip_class, corp, egress_name, device_id, session_key, ok, failed
FROM {ev}
WHERE lat IS NOT NULL AND lon IS NOT NULL AND NOT coalesce(stale, FALSE) AND pid IS NOT NULL AND (ok OR failed);

CREATE OR REPLACE TEMP TABLE _pairs AS
WITH seq AS (
  SELECT rk AS t_rk, {prev_ok} OVER (
           PARTITION BY pid ORDER BY event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS f_rk
  FROM _loc
)
SELECT t.uid, t.pid, coalesce(t.user_id, f.user_id) AS user_id, t.user_principal_name,
  f.event_id AS f_id, t.event_id AS t_id, f.event_table AS f_table, t.event_table AS t_table,
  f.event_time AS f_time, t.event_time AS t_time, f.ip AS f_ip, t.ip AS t_ip,
  f.country AS f_country, t.country AS t_country, f.city AS f_city, t.city AS t_city,
  f.lat AS f_lat, f.lon AS f_lon, t.lat AS t_lat, t.lon AS t_lon, f.acc AS f_acc, t.acc AS t_acc,
  f.ip_class AS f_class, t.ip_class AS t_class, f.corp AS f_corp, t.corp AS t_corp,
  f.egress_name AS f_egress, t.egress_name AS t_egress, f.device_id AS f_device, t.device_id AS t_device,
  f.session_key AS f_session, t.session_key AS t_session, t.failed AS t_failed,
  2 * 6371.0088 * asin(least(1.0, sqrt(power(sin(radians(t.lat - f.lat) / 2), 2)
      + cos(radians(f.lat)) * cos(radians(t.lat)) * power(sin(radians(t.lon - f.lon) / 2), 2)))) AS dist,
  {elapsed} AS elapsed
FROM seq JOIN _loc t ON t.rk = seq.t_rk JOIN _loc f ON f.rk = seq.f_rk
WHERE f.ip IS DISTINCT FROM t.ip
"""

_VERDICT = """
INSERT INTO travel
WITH m AS (
  SELECT p.*, greatest(p.dist - p.f_acc - p.t_acc, 0) AS adj,
    greatest(p.dist - p.f_acc - p.t_acc, 0) / (greatest(p.elapsed, {min_elapsed}) / 3600.0) AS speed,
    (p.f_session = p.t_session) AS same_session,
    (p.f_session = p.t_session AND p.t_device IS NOT NULL AND p.t_device = s.root_device_id) AS same_device,
    -- a sign-in without the root's device id is another device; an activity without one is unknown
    (p.f_session = p.t_session
     AND CASE WHEN p.t_table = 'signins' THEN p.t_device IS NOT DISTINCT FROM s.root_device_id
              ELSE p.t_device IS NULL OR p.t_device = s.root_device_id END
     AND CASE WHEN p.f_table = 'signins' THEN p.f_device IS NOT DISTINCT FROM s.root_device_id
              ELSE p.f_device IS NULL OR p.f_device = s.root_device_id END) AS root_device_kept,
    s.root_device_id, s.root_time, s.root_mfa, s.root_country,
    CASE WHEN s.inferred THEN 'same inferred session ' ELSE 'same session ' END AS same_words,
    coalesce(s.session_id, substr(p.t_session, 3)) AS sid,
    -- the mobile side's country was one this person had been in before: its home carrier (roaming phones
    -- egress through their home network, so they show the home country wherever they are)
    -- (behind corporate egress on the other side the person's own country is hidden by the VPN: unknown, so
    -- not judged "never there")
    coalesce(fc.first_t < CASE WHEN p.t_class = 'mobile' THEN p.t_time ELSE p.f_time END, FALSE)
      OR p.f_corp OR p.t_corp AS mobile_known
  FROM _pairs p LEFT JOIN sessions s ON s.session_key = p.t_session
  LEFT JOIN (SELECT pid, country, min(event_time) AS first_t FROM _loc WHERE ok GROUP BY pid, country) fc
    ON fc.pid = p.pid AND fc.country = CASE WHEN p.t_class = 'mobile' THEN p.t_country ELSE p.f_country END
), v AS (
  SELECT m.*,
    CASE WHEN adj = 0 OR (f_country = t_country AND f_city = t_city) THEN 'same_location'
         WHEN (f_class = 'mobile' OR t_class = 'mobile') AND f_country = t_country THEN 'same_location'
         WHEN (f_corp AND t_corp) OR ((f_corp OR t_corp) AND coalesce(root_device_kept, FALSE)) THEN 'egress_change'
         WHEN speed <= {plausible} THEN 'plausible'
         WHEN speed <= {impossible} THEN 'improbable'
         -- roaming phones egress through their home carrier: not "impossible" on a mobile IP of a country the
         -- person had been in; a carrier IP in a country they were never in is presence there
         WHEN (f_class = 'mobile' OR t_class = 'mobile') AND NOT coalesce(same_session, FALSE) AND mobile_known
           THEN 'improbable'
         ELSE 'impossible' END AS verdict,
    CASE WHEN same_session AND root_time IS NOT NULL THEN
           same_words || left(sid, 8) || '…' || CASE WHEN same_device THEN ' and device' ELSE '' END
           || ' since the ' || CASE WHEN root_mfa THEN 'MFA ' ELSE '' END || 'sign-in in '
           || coalesce(root_country, 'an unknown country') || ' at ' || {root_hm}
         WHEN same_session THEN same_words || left(sid, 8) || '…'
         ELSE 'different sessions' END AS sess,
    coalesce(f_city || ', ', '') || coalesce(f_country, '?') AS f_place,
    coalesce(t_city || ', ', '') || coalesce(t_country, '?') AS t_place,
    CASE WHEN elapsed < 3600 THEN CAST(round(elapsed / 60.0) AS BIGINT) || ' min'
         ELSE {hours} || ' h' END AS took
  FROM m
)
SELECT user_id, user_principal_name, f_id, t_id, f_time, t_time, f_ip, t_ip, f_country, t_country, f_city, t_city,
  f_lat, f_lon, t_lat, t_lon, dist, adj, elapsed, speed, same_session, t_session, f_class, t_class,
  coalesce(t_failed, FALSE), verdict,
  CASE verdict
    WHEN 'same_location' THEN CASE WHEN adj > 0 AND coalesce(f_city, '') <> coalesce(t_city, '') THEN
      f_place || ' and ' || t_place || ' are in one country and the ' || CASE WHEN t_class = 'mobile' THEN 'later'
      ELSE 'earlier' END || ' IP is a mobile carrier''s, which geolocates only to the country (carrier gateway)'
      ELSE f_place || ' and ' || t_place || ' are within the location accuracy ('
         || CAST(round(dist) AS BIGINT) || ' km apart, accuracy radii ' || CAST(round(f_acc) AS BIGINT) || ' and '
         || CAST(round(t_acc) AS BIGINT) || ' km)' END
    WHEN 'egress_change' THEN
      CASE WHEN f_corp AND t_corp AND coalesce(f_country, '') <> coalesce(t_country, '')
             THEN coalesce(f_country, '?') || ' and ' || coalesce(t_country, '?') || ' are both corporate egress points'
           WHEN f_corp AND t_corp THEN f_egress || ' and ' || t_egress || ' are both corporate egress points'
           WHEN t_corp THEN coalesce(t_country, '?') || ' is a corporate egress point (' || t_egress || ')'
           ELSE coalesce(f_country, '?') || ' is a corporate egress point (' || f_egress || ')' END
      || '; ' || sess
    ELSE f_place || ' to ' || t_place || ': ' || CAST(round(adj) AS BIGINT) || ' km beyond the accuracy radii in '
         || took || ' (' || CAST(round(speed) AS BIGINT) || ' km/h) is '
         || CASE verdict WHEN 'plausible' THEN 'a plausible travel speed'
                         WHEN 'improbable' THEN 'faster than a commercial flight'
                         ELSE 'impossible travel' END
         || '; ' || sess || CASE WHEN t_failed THEN '; the later attempt failed' ELSE '' END
         || CASE WHEN verdict = 'improbable' AND speed > {impossible}
                 THEN '; improbable, not impossible: a mobile-carrier IP may be roaming through its home network'
                 WHEN verdict = 'impossible' AND (f_class = 'mobile' OR t_class = 'mobile')
                 THEN '; the mobile carrier is in a country this user was never in: presence there, not roaming'
                 ELSE '' END
  END,
  f_acc, t_acc, f_table, t_table
FROM v
"""


def travel(store: Store, settings: TravelSettings, ev: str = "_ev") -> dict[str, int]:
    con = store.con
    d = store.dialect
    con.execute(_PAIRS.format(ev=ev, row_key=d.row_key(), prev_ok=d.last_non_null("CASE WHEN ok THEN rk END"),
                              elapsed=f"{d.epoch_seconds('t.event_time')} - {d.epoch_seconds('f.event_time')}"))
    con.execute("DELETE FROM travel")
    con.execute(_VERDICT.format(root_hm=d.format_time("root_time", "%H:%M"),
                                hours=d.format_number("elapsed / 3600.0", 1),
                                min_elapsed=int(settings.min_elapsed_s), plausible=float(settings.plausible_kmh),
                                impossible=float(settings.impossible_kmh)))
    con.execute("DROP TABLE IF EXISTS _pairs")
    con.execute("DROP TABLE IF EXISTS _loc")
    return {str(k): int(v) for k, v in con.execute("SELECT verdict, count(*) FROM travel GROUP BY 1").fetchall()}
