"""Session stitching: every sign-in and activity to a session, each session's root and hops.

Links, in order of precedence (first that applies wins):

1. the event's own session id: Entra ``SessionId`` (sign-ins), ``AppAccessContext.AADSessionId``
   (audit activity), Okta ``rootSessionId`` / ``externalSessionId`` (set by the adapter);
2. ``UniqueTokenId`` -> the sign-in with that ``UniqueTokenIdentifier`` (the token's own session);
3. ``CorrelationId`` -> a sign-in of the same user in that trail that has a session id;
4. ``OriginalRequestId`` -> likewise, for the steps of a multi-step sign-in;
5. otherwise *inferred*: the same user, device id and user agent, split where the gap between
   consecutive events exceeds ``sessions.inactivity_gap_minutes``.

The root authentication is the session's first interactive successful sign-in (else its first
successful sign-in, else its first event; ``root_interactive`` says which). Every window orders
by ``(event_time, event_id)``.
"""
from __future__ import annotations

from vigil.settings import SessionSettings
from vigil.enrich._sql import count
from vigil.store import Store

_LINKS = """
CREATE OR REPLACE TEMP TABLE _links AS
WITH by_uti AS (
  SELECT unique_token_id, min(session_id) AS session_id FROM {ev}
  WHERE event_table = 'signins' AND session_id IS NOT NULL AND unique_token_id IS NOT NULL GROUP BY unique_token_id
), by_corr AS (
  SELECT uid, correlation_id, min(session_id) AS session_id FROM {ev}
  WHERE event_table = 'signins' AND session_id IS NOT NULL AND correlation_id IS NOT NULL GROUP BY uid, correlation_id
), by_orig AS (
  SELECT uid, original_request_id, min(session_id) AS session_id FROM {ev}
  WHERE event_table = 'signins' AND session_id IS NOT NULL AND original_request_id IS NOT NULL
  GROUP BY uid, original_request_id
)
SELECT e.event_id, e.event_table,
  's:' || coalesce(e.session_id, u.session_id, c.session_id, o.session_id) AS session_key,
  CASE WHEN e.session_id IS NOT NULL THEN CASE WHEN e.event_table = 'signins' THEN 'session_id'
                                               ELSE 'aad_session_id' END
       WHEN u.session_id IS NOT NULL THEN 'unique_token_id'
       WHEN c.session_id IS NOT NULL THEN 'correlation_id'
       WHEN o.session_id IS NOT NULL THEN 'original_request_id' END AS link_method
FROM {ev} e
LEFT JOIN by_uti u ON e.session_id IS NULL AND u.unique_token_id = e.unique_token_id
LEFT JOIN by_corr c ON e.session_id IS NULL AND c.uid = e.uid AND c.correlation_id = e.correlation_id
LEFT JOIN by_orig o ON e.session_id IS NULL AND o.uid = e.uid AND o.original_request_id = e.original_request_id
"""

_INFERRED = """
CREATE OR REPLACE TEMP TABLE _inferred AS
WITH r AS (
  SELECT e.event_id, e.event_time, coalesce(e.uid, '') AS uk, coalesce(e.device_id, '') AS dk,
         coalesce(e.user_agent, '') AS ak
  FROM {ev} e JOIN _links l ON l.event_id = e.event_id WHERE l.link_method IS NULL
), g AS (
  SELECT *, CASE WHEN lag(event_time) OVER w IS NULL
                   OR event_time > lag(event_time) OVER w + INTERVAL {gap} MINUTE THEN 1 ELSE 0 END AS brk
  FROM r WINDOW w AS (PARTITION BY uk, dk, ak ORDER BY event_time, event_id)
), n AS (
  SELECT *, sum(brk) OVER (PARTITION BY uk, dk, ak ORDER BY event_time, event_id
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sn
  FROM g
)
SELECT event_id, 'i:' || substr(md5(uk || '|' || dk || '|' || ak || '|' || first_value(event_id) OVER (
         PARTITION BY uk, dk, ak, sn ORDER BY event_time, event_id)), 1, 16) AS session_key
FROM n
"""

_SESSIONS = """
INSERT INTO sessions
WITH ranked AS (
  SELECT e.*, row_number() OVER (PARTITION BY session_key ORDER BY
           CASE WHEN event_table = 'signins' AND is_interactive AND ok THEN 0
                WHEN event_table = 'signins' AND ok THEN 1 WHEN event_table = 'signins' THEN 2 ELSE 3 END,
           event_time, event_id) AS rk
  FROM {ev} e
), root AS (SELECT * FROM ranked WHERE rk = 1),
agg AS (
  SELECT session_key, min(event_time) AS first_time, max(event_time) AS last_time, count(*) AS event_count,
         count(*) FILTER (WHERE event_table = 'signins') AS signin_count,
         count(*) FILTER (WHERE event_table = 'activities') AS activity_count,
         to_json(coalesce(list(DISTINCT country ORDER BY country) FILTER (WHERE country IS NOT NULL), [])) AS countries,
         to_json(coalesce(list(DISTINCT ip ORDER BY ip) FILTER (WHERE ip IS NOT NULL), [])) AS ips
  FROM {ev} GROUP BY session_key
), hops AS (SELECT session_key, count(*) AS n FROM session_hops GROUP BY session_key)
SELECT a.session_key, CASE WHEN a.session_key LIKE 's:%' THEN substr(a.session_key, 3) END,
       r.user_id, r.user_principal_name, a.session_key LIKE 'i:%',
       CASE WHEN a.session_key LIKE 'i:%' THEN 'inferred' ELSE 'session_id' END,
       a.first_time, a.last_time, r.event_id, r.event_time, r.ip, r.country, r.city, r.lat, r.lon, r.device_id,
       coalesce(r.device_os, r.ua_os_family), coalesce(r.device_browser, r.ua_family), r.user_agent, r.mfa,
       r.ip_class, (r.event_table = 'signins' AND coalesce(r.is_interactive, FALSE) AND r.ok), r.asn, r.ua_class,
       a.event_count, a.signin_count, a.activity_count, coalesce(h.n, 0), a.countries, a.ips
FROM agg a JOIN root r ON r.session_key = a.session_key LEFT JOIN hops h ON h.session_key = a.session_key
"""

# Previous non-null value of each attribute in the session (activities often carry no device).
_HOPS = """
CREATE OR REPLACE TEMP TABLE _hopcand AS
SELECT * FROM (
  SELECT session_key, event_id, event_time, ip, asn, country, device, user_agent,
    last_value(ip IGNORE NULLS) OVER w AS p_ip, last_value(asn IGNORE NULLS) OVER w AS p_asn,
    last_value(country IGNORE NULLS) OVER w AS p_country, last_value(device IGNORE NULLS) OVER w AS p_device,
    last_value(user_agent IGNORE NULLS) OVER w AS p_user_agent
  FROM (SELECT session_key, event_id, event_time, ip, CAST(asn AS VARCHAR) AS asn, country, user_agent,
               CASE WHEN event_table = 'signins' THEN coalesce(device_id, '(none)') ELSE device_id END AS device
        FROM {ev}) x
  WINDOW w AS (PARTITION BY session_key ORDER BY event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
) y
WHERE ip <> p_ip OR asn <> p_asn OR country <> p_country OR device <> p_device OR user_agent <> p_user_agent
"""


def link(store: Store, settings: SessionSettings, ev: str = "_ev") -> dict[str, int]:
    """Add ``session_key`` to ``ev`` and write ``event_sessions``; returns counts per link method."""
    con = store.con
    con.execute(_LINKS.format(ev=ev))
    con.execute(_INFERRED.format(ev=ev, gap=int(settings.inactivity_gap_minutes)))
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE {ev} AS
SELECT e.*, coalesce(l.session_key, i.session_key) AS session_key
FROM {ev} e JOIN _links l ON l.event_id = e.event_id LEFT JOIN _inferred i ON i.event_id = e.event_id""")
    con.execute("DELETE FROM event_sessions")
    con.execute("""
INSERT INTO event_sessions
SELECT l.event_id, l.event_table, coalesce(l.session_key, i.session_key), coalesce(l.link_method, 'inferred')
FROM _links l LEFT JOIN _inferred i ON i.event_id = l.event_id""")
    counts = dict(con.execute("SELECT link_method, count(*) FROM event_sessions GROUP BY 1").fetchall())
    con.execute("DROP TABLE IF EXISTS _links")
    con.execute("DROP TABLE IF EXISTS _inferred")
    return {str(k): int(v) for k, v in counts.items()}


def hops(store: Store, ev: str = "_ev") -> int:
    con = store.con
    con.execute(_HOPS.format(ev=ev))
    con.execute("DELETE FROM session_hops")
    for kind in ("ip", "asn", "country", "device", "user_agent"):
        con.execute(f"INSERT INTO session_hops SELECT session_key, event_id, event_time, '{kind}', p_{kind}, {kind} "
                    f"FROM _hopcand WHERE {kind} <> p_{kind}")
    con.execute("DROP TABLE IF EXISTS _hopcand")
    return count(store, "session_hops")


def sessions(store: Store, ev: str = "_ev") -> int:
    store.con.execute("DELETE FROM sessions")
    store.con.execute(_SESSIONS.format(ev=ev))
    return count(store, "sessions")
