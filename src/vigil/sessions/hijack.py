"""Session-hijack findings: a session or token used from what its root authentication never used.

Only sessions with a real root (an interactive successful sign-in carrying a session id) are
judged. For each later event of the session (stale confidential-client locations excluded):

* *device novel*: a sign-in without the root's device id (or with another), an activity with
  another device id, or another OS family than the root's user agent;
* *network novel*: another IP than the root's, and either a hosting / VPN /
  Tor class the root did not have or another country on another ASN;
* *client novel*: another user-agent family than the root's;
* *scripted*: a scripted or headless client where the root was neither.

Findings (one per session and kind, evidence in time order):

* ``token_replay`` — device novel and network novel (high), or device and client novel (medium; high on a
  new ASN while the owner is active from the root device within ``sessions.owner_active_minutes``). A
  corporate-egress label never clears a network here: a session hijack is judged on the session's own root;
  a root without a device id (Okta's ``rootSessionId``, an unmanaged browser) used from a novel network by
  another client is a replay too (medium);
* ``scripted_client`` — scripted use (high with a novel device or network, else medium);
* ``aitm`` — the root sign-in came from a hosting ASN (an adversary-in-the-middle proxy) and the
  session was then used from another ASN (high);
* ``concurrent_use`` — a replayed / scripted / AiTM event within ``sessions.concurrency_minutes`` of
  the root device using the session from another IP (high).
"""
from __future__ import annotations

from vigil.settings import SessionSettings
from vigil.store import DUCKDB, Store

_FLAGS = """
CREATE OR REPLACE TEMP TABLE _flags AS
SELECT x.*,
  (dev_novel AND net_novel) OR (dev_novel AND ua_novel)
    -- a root without a device id (Okta's rootSessionId, an unmanaged browser): another network and another client
    OR (root_device_id IS NULL AND net_novel AND ua_novel) AS replay,
  scripted_evt, aitm_evt
FROM (
  SELECT e.session_key, e.event_id, e.event_table, e.event_time, e.ip, e.country, e.asn, e.as_org, e.ip_class,
    e.user_agent, e.device_id, e.corp, e.uid, s.user_id, s.user_principal_name, s.root_event_id, s.root_time, s.root_ip,
    s.root_country, s.root_asn, s.root_ip_class, s.root_device_id, s.root_mfa,
    coalesce(s.session_id, substr(s.session_key, 3)) AS sid,
    (s.root_device_id IS NOT NULL AND ((e.event_table = 'signins' AND coalesce(e.device_id, '') <> s.root_device_id)
        OR (e.device_id IS NOT NULL AND e.device_id <> s.root_device_id)))
      OR (e.ua_os_family IS NOT NULL AND s.root_ua_os_family IS NOT NULL AND e.ua_os_family <> s.root_ua_os_family)
      AS dev_novel,
    -- a corporate-egress label never clears a network: a learned or declared range can be wrong (an ISP that
    -- employees use from home), and the device and client still have to be novel for a finding
    (e.ip IS NOT NULL AND e.ip <> coalesce(s.root_ip, '')
      AND ((e.ip_class IN ('hosting', 'vpn', 'tor') AND e.ip_class <> coalesce(s.root_ip_class, ''))
           OR (e.country IS NOT NULL AND s.root_country IS NOT NULL AND e.country <> s.root_country
               AND coalesce(e.asn, -1) <> coalesce(s.root_asn, -1)))) AS net_novel,
    (e.asn IS NOT NULL AND s.root_asn IS NOT NULL AND e.asn <> s.root_asn) AS asn_novel,
    (e.ua_family IS NOT NULL AND s.root_ua_family IS NOT NULL AND e.ua_family <> s.root_ua_family) AS ua_novel,
    (e.ua_class IN ('scripted', 'headless') AND coalesce(s.root_ua_class, '') NOT IN ('scripted', 'headless'))
      AS scripted_evt,
    (s.root_ip_class = 'hosting' AND NOT e.corp AND e.ip IS NOT NULL AND e.ip <> coalesce(s.root_ip, '')
      AND coalesce(e.asn, -1) <> coalesce(s.root_asn, -1)) AS aitm_evt
  FROM {ev} e
  JOIN sessions s ON s.session_key = e.session_key
  WHERE NOT s.inferred AND s.root_interactive AND e.event_id <> s.root_event_id AND e.event_time >= s.root_time
    AND NOT coalesce(e.stale, FALSE)
) x
"""

# the account's owner still working from the root device (any of its sessions) around a replayed event
_OWNER = """
CREATE OR REPLACE TEMP TABLE _flags AS
SELECT f.*, coalesce(o.owner_active, FALSE) AS owner_active
FROM _flags f LEFT JOIN (
  SELECT DISTINCT f.event_id, TRUE AS owner_active
  FROM _flags f JOIN {ev} l ON l.uid = f.uid AND l.device_id = f.root_device_id AND l.event_id <> f.event_id
   AND l.event_time BETWEEN f.event_time - INTERVAL {minutes} MINUTE AND f.event_time + INTERVAL {minutes} MINUTE
  WHERE f.replay AND f.root_device_id IS NOT NULL AND coalesce(l.ip, '') <> coalesce(f.ip, '')
) o ON o.event_id = f.event_id
"""

_CONCURRENT = """
CREATE OR REPLACE TEMP TABLE _concurrent AS
SELECT f.*, l.event_id AS legit_id, l.ip AS legit_ip, l.event_time AS legit_time
FROM _flags f JOIN {ev} l ON l.session_key = f.session_key
  AND l.event_time BETWEEN f.event_time - INTERVAL {minutes} MINUTE AND f.event_time + INTERVAL {minutes} MINUTE
  AND l.device_id = f.root_device_id AND l.ip IS NOT NULL AND l.ip <> f.ip
WHERE (f.replay OR f.scripted_evt OR f.aitm_evt)
"""

_ROOT = ("'Session ' || left(min(sid), 8) || '… (' || CASE WHEN bool_or(root_mfa) THEN 'MFA ' ELSE '' END "
         "|| 'sign-in from ' || coalesce(min(root_country), '?') || ' on ' "
         "|| coalesce('device ' || min(root_device_id), 'no registered device') || ' at ' "
         "|| " + DUCKDB.format_time("min(root_time)", "%H:%M") + " || ')'")
_FIRST = DUCKDB.first_ordered("{col}", "event_time, event_id")
_TIMES = "CASE WHEN count(DISTINCT event_id) = 1 THEN ' once' ELSE ' ' || count(DISTINCT event_id) || ' times' END"
_WHERE_FROM = (f"' from ' || coalesce({_FIRST.format(col='ip_class')}, 'unknown') || ' AS' "
               f"|| coalesce(CAST({_FIRST.format(col='asn')} AS VARCHAR), '?') || ' ' "
               f"|| coalesce({_FIRST.format(col='as_org')}, '') || ' in ' "
               f"|| coalesce({_FIRST.format(col='country')}, '?') || ' (' || {_FIRST.format(col='ip')} || ')'")
_CLIENT = (f"' with ' || coalesce('device ' || {_FIRST.format(col='device_id')}, 'no device id') "
           f"|| ' and user agent ' || coalesce({_FIRST.format(col='user_agent')}, 'none')")
_APART = f"abs({DUCKDB.epoch_seconds('legit_time')} - {DUCKDB.epoch_seconds('event_time')})"
_NEAREST = DUCKDB.first_ordered("{col}", f"{_APART}, legit_id")

#: kind -> (source table, filter, severity SQL, reason SQL after the root phrase)
_KINDS = {
    # high: a novel device on a novel network; or, off any known network change, a new ASN with another client
    # and no device of the root's while the owner keeps working from that device (a cookie replayed through a
    # residential proxy in the victim's own country looks exactly so)
    "token_replay": ("_flags", "replay",
                     "CASE WHEN bool_or(dev_novel AND net_novel) OR bool_or(dev_novel AND ua_novel AND asn_novel "
                     "AND owner_active) THEN 'high' ELSE 'medium' END",
                     "' was used' || " + _TIMES + " || " + _WHERE_FROM + " || " + _CLIENT
                     + " || CASE WHEN bool_or(dev_novel AND net_novel) "
                       "THEN ', a device and network its root authentication never used' "
                       "ELSE ', a device and client its root authentication never used' END"
                     + " || CASE WHEN bool_or(owner_active) THEN ', while its owner kept working from the root "
                       "device on another network' ELSE '' END"),
    "scripted_client": ("_flags", "scripted_evt",
                        "CASE WHEN bool_or(dev_novel OR net_novel) THEN 'high' ELSE 'medium' END",
                        "' was used' || " + _TIMES + " || ' by a scripted client (' "
                        f"|| coalesce({_FIRST.format(col='user_agent')}, '?') || ')' || " + _WHERE_FROM),
    "aitm": ("_flags", "aitm_evt", "'high'",
             "' began on hosting AS' || coalesce(CAST(min(root_asn) AS VARCHAR), '?') || ' (' || min(root_ip) "
             "|| '), the adversary-in-the-middle shape, and was then used' || " + _TIMES + " || " + _WHERE_FROM),
    "concurrent_use": ("_concurrent", "TRUE", "'high'",
                       "' was used' || " + _WHERE_FROM + " || ' while the root device used it from ' || "
                       + _NEAREST.format(col="legit_ip") + " || ' ' || CAST(round(" + _NEAREST.format(
                           col=_APART) + " / 60.0) AS BIGINT) || ' min apart'"),
}


def hijacks(store: Store, settings: SessionSettings, ev: str = "_ev") -> dict[str, int]:
    con = store.con
    minutes = int(settings.concurrency_minutes)
    con.execute(_FLAGS.format(ev=ev))
    con.execute(_OWNER.format(ev=ev, minutes=int(settings.owner_active_minutes)))
    con.execute(_CONCURRENT.format(ev=ev, minutes=minutes))
    con.execute("DELETE FROM session_hijacks")
    cap = int(settings.max_evidence_events)
    for kind, (source, where, severity, reason) in _KINDS.items():
        ids = "list(event_id ORDER BY event_time, event_id)"
        if source == "_concurrent":
            ids = "list(DISTINCT event_id ORDER BY event_id) || list(DISTINCT legit_id ORDER BY legit_id)"
        con.execute(f"""
INSERT INTO session_hijacks
SELECT substr(md5(session_key || '|{kind}'), 1, 16), session_key, min(user_id), min(user_principal_name),
  min(event_time), '{kind}', {severity}, {_ROOT} || {reason.replace('{minutes}', str(minutes))},
  min(root_event_id), to_json(({ids})[1:{cap}]), {_FIRST.format(col='ip')},
  {_FIRST.format(col='country')}, {_FIRST.format(col='user_agent')}, count(DISTINCT event_id)
FROM {source} WHERE {where} GROUP BY session_key""")
    con.execute("DROP TABLE IF EXISTS _flags")
    con.execute("DROP TABLE IF EXISTS _concurrent")
    return {str(k): int(v) for k, v in con.execute("SELECT kind, count(*) FROM session_hijacks GROUP BY 1").fetchall()}
