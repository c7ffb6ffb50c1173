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
from vigil.store import Store

# Fallback links, computed only for events without their own session id (the lookups are
# semi-joined to those events first, so the aggregates stay small on big stores).
_FALLBACK = (
    ("unique_token_id", "unique_token_id", "e.unique_token_id = l.unique_token_id"),
    ("correlation_id", "uid, correlation_id", "e.uid = l.uid AND e.correlation_id = l.correlation_id"),
    ("original_request_id", "uid, original_request_id",
     "e.uid = l.uid AND e.original_request_id = l.original_request_id"),
)
_LOOKUP = """
UPDATE {ev} e SET session_key = 's:' || l.session_id, link_method = '{method}'
FROM (
  SELECT {cols}, min(session_id) AS session_id FROM {ev}
  WHERE event_table = 'signins' AND session_id IS NOT NULL
    AND ({cols}) IN (SELECT {cols} FROM {ev} WHERE session_key IS NULL)
  GROUP BY {cols}
) l
WHERE e.session_key IS NULL AND {cond}
"""

_INFERRED = """
CREATE OR REPLACE TEMP TABLE _inferred AS
WITH r AS (
  SELECT e.event_id, e.event_time, coalesce(e.uid, '') AS uk, coalesce(e.device_id, '') AS dk,
         coalesce(e.user_agent, '') AS ak
  FROM {ev} e WHERE e.session_key IS NULL
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
  SELECT session_key, event_id, row_number() OVER (PARTITION BY session_key ORDER BY
           CASE WHEN event_table = 'signins' AND is_interactive AND ok THEN 0
                WHEN event_table = 'signins' AND ok THEN 1 WHEN event_table = 'signins' THEN 2 ELSE 3 END,
           event_time, event_id) AS rk
  FROM {ev}
), root AS (SELECT e.* FROM ranked k JOIN {ev} e ON e.event_id = k.event_id WHERE k.rk = 1),
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
       r.ua_family, r.ua_os_family, a.event_count, a.signin_count, a.activity_count, coalesce(h.n, 0),
       a.countries, a.ips
FROM agg a JOIN root r ON r.session_key = a.session_key LEFT JOIN hops h ON h.session_key = a.session_key
"""

# Previous non-null value of each attribute in the session (activities often carry no device). A hop is a
# change to a value *not yet seen in the session*: a user between the office egress and home, or Office
# flipping between the browser and the Windows authentication broker, hops once each way, not once per
# switch (the demo's busiest benign session went from 52 hops to 4). An IP counts by its network: its ASN
# (from any event of the session with that IP: activities often carry none), else its /24 (IPv6: /48), so
# a mobile carrier's or a cloud NAT's address churn inside one network is no hop (a phone's session on one
# carrier went from 25 hops to 2); a user agent counts by its family and class (a version bump or a
# client's build string is no hop).
_SUBNET = ("CASE WHEN ip LIKE '%.%' THEN regexp_extract(ip, '^([0-9]+[.][0-9]+[.][0-9]+)[.]', 1) "
           "ELSE lower(regexp_extract(ip, '^([0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F]*)', 1)) END")
_HOP_KINDS = ("ip", "asn", "country", "device", "user_agent")
_HOPS = """
CREATE OR REPLACE TEMP TABLE _hopcand AS
SELECT * FROM (
  SELECT session_key, event_id, event_time, ip, asn, country, device, user_agent,
    {previous}, {first_seen}
  FROM (SELECT session_key, event_id, event_time, ip, CAST(asn AS VARCHAR) AS asn, country,
               CASE WHEN ua_family IS NOT NULL THEN ua_family || ' (' || coalesce(ua_class, '?') || ')'
                    WHEN ua_class IS NOT NULL THEN ua_class ELSE user_agent END AS user_agent,
               CASE WHEN event_table = 'signins' THEN coalesce(device_id, '(none)') ELSE device_id END AS device,
               coalesce(max(CAST(asn AS VARCHAR)) OVER (PARTITION BY session_key, ip),
                        nullif({subnet}, ''), ip) AS ip_net
        FROM {ev}) x
  WINDOW w AS (PARTITION BY session_key ORDER BY event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
) y
WHERE {any_hop}
"""


def link(store: Store, settings: SessionSettings, ev: str = "_ev") -> dict[str, int]:
    """Fill ``session_key`` / ``link_method`` (own session id already set by events.py) on every row of
    ``ev`` and write ``event_sessions``."""
    con = store.con
    for method, cols, cond in _FALLBACK:
        con.execute(_LOOKUP.format(ev=ev, method=method, cols=cols, cond=cond))
    con.execute(_INFERRED.format(ev=ev, gap=int(settings.inactivity_gap_minutes)))
    con.execute(f"UPDATE {ev} e SET session_key = i.session_key, link_method = 'inferred' FROM _inferred i "
                "WHERE e.session_key IS NULL AND e.event_id = i.event_id")
    con.execute("DROP TABLE IF EXISTS _inferred")
    con.execute("DELETE FROM event_sessions")
    con.execute(f"INSERT INTO event_sessions SELECT event_id, event_table, session_key, link_method FROM {ev}")
    counts = con.execute("SELECT link_method, count(*) FROM event_sessions GROUP BY 1").fetchall()
    return {str(k): int(v) for k, v in counts}


def hops(store: Store, ev: str = "_ev") -> int:
    con = store.con
    previous = ", ".join(f"{store.dialect.last_non_null(c)} OVER w AS p_{c}" for c in _HOP_KINDS)
    seen_by = {k: k for k in _HOP_KINDS} | {"ip": "ip_net"}  # what makes a value new to the session
    first_seen = ", ".join(
        f"CASE WHEN {col} IS NOT NULL THEN row_number() OVER (PARTITION BY session_key, {col} "
        f"ORDER BY event_time, event_id) END AS {kind}_nth" for kind, col in seen_by.items())
    hop = {k: f"({k} <> p_{k} AND {k}_nth = 1)" for k in _HOP_KINDS}
    con.execute(_HOPS.format(ev=ev, previous=previous, first_seen=first_seen, subnet=_SUBNET,
                             any_hop=" OR ".join(hop.values())))
    con.execute("DELETE FROM session_hops")
    for kind in _HOP_KINDS:
        con.execute(f"INSERT INTO session_hops SELECT session_key, event_id, event_time, '{kind}', p_{kind}, {kind} "
                    f"FROM _hopcand WHERE {hop[kind]}")
    con.execute("DROP TABLE IF EXISTS _hopcand")
    return store.count("session_hops")


def sessions(store: Store, ev: str = "_ev") -> int:
    store.con.execute("DELETE FROM sessions")
    store.con.execute(_SESSIONS.format(ev=ev))
    return store.count("sessions")
