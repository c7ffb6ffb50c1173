"""ActivityInsights: Sentinel's per-dimension keys, their lookbacks, and the set-based SQL.

For a dimension value used by user ``u`` on day ``D`` (days since epoch), with lookback
``L`` (first time), window ``U`` (uncommon by user, 10 d) and wide lookback ``W``
(among peers / in tenant):

* FirstTimeUser...   -- ``u`` did not use the value on days ``[D-L, D-1]`` *and* this is
  ``u``'s first event with the value on day ``D`` (ordered by time, then event_id).
* ...UncommonlyByUser -- over days ``[D-U, D-1]`` the value is under ``uncommon_user_share``
  of ``u``'s events with that dimension (needs some history in the window).
* ...AmongPeers       -- under ``uncommon_peer_share`` of ``u``'s peers used it on ``[D-W, D-1]``.
* FirstTime...InTenant -- nobody used it on ``[D-L, D-1]`` and this is the tenant's first
  event with it on day ``D``.
* ...UncommonlyInTenant -- it appears on under ``uncommon_tenant_share`` of the tenant's
  active user-days of ``[D-W, D-1]``.
"""
from __future__ import annotations

from dataclasses import dataclass

from vigil.settings import UebaSettings


@dataclass(frozen=True)
class Dim:
    name: str
    label: str            # how the reason string names it
    weight: float         # InvestigationPriority weight (docs/ueba.md)
    first_user: str
    uncommon_user: str
    uncommon_peers: str
    first_tenant: str
    uncommon_tenant: str

    def keys(self) -> tuple[str, str, str, str, str]:
        return (self.first_user, self.uncommon_user, self.uncommon_peers, self.first_tenant, self.uncommon_tenant)


DIMENSIONS: tuple[Dim, ...] = (
    Dim("action", "action", 1.5, "FirstTimeUserPerformedAction", "ActionUncommonlyPerformedByUser",
        "ActionUncommonlyPerformedAmongPeers", "FirstTimeActionPerformedInTenant", "ActionUncommonlyPerformedInTenant"),
    Dim("app", "app", 1.5, "FirstTimeUserUsedApp", "AppUncommonlyUsedByUser", "AppUncommonlyUsedAmongPeers",
        "FirstTimeAppObservedInTenant", "AppUncommonlyUsedInTenant"),
    Dim("resource", "resource", 1.0, "FirstTimeUserAccessedResource", "ResourceUncommonlyAccessedByUser",
        "ResourceUncommonlyAccessedAmongPeers", "FirstTimeResourceAccessedInTenant",
        "ResourceUncommonlyAccessedInTenant"),
    Dim("browser", "browser", 1.0, "FirstTimeUserConnectedViaBrowser", "BrowserUncommonlyUsedByUser",
        "BrowserUncommonlyUsedAmongPeers", "FirstTimeBrowserObservedInTenant", "BrowserUncommonlyUsedInTenant"),
    Dim("device", "device", 2.0, "FirstTimeUserConnectedFromDevice", "DeviceUncommonlyUsedByUser",
        "DeviceUncommonlyUsedAmongPeers", "FirstTimeDeviceObservedInTenant", "DeviceUncommonlyUsedInTenant"),
    Dim("isp", "ISP", 2.0, "FirstTimeUserConnectedViaISP", "ISPUncommonlyUsedByUser", "ISPUncommonlyUsedAmongPeers",
        "FirstTimeConnectionViaISPInTenant", "ISPUncommonlyUsedInTenant"),
    Dim("country", "country", 4.0, "FirstTimeUserConnectedFromCountry", "CountryUncommonlyConnectedFromByUser",
        "CountryUncommonlyConnectedFromAmongPeers", "FirstTimeConnectionFromCountryObservedInTenant",
        "CountryUncommonlyConnectedFromInTenant"),
)


def lookbacks(dim: str, s: UebaSettings) -> tuple[int, int]:
    """(first-time lookback L, peers/tenant lookback W) in days, per microsoft-anchors §1.4."""
    first = {
        "action": s.lookback_action_days, "app": s.lookback_app_days, "resource": s.lookback_resource_days,
        "browser": s.lookback_browser_days, "device": s.lookback_device_days, "isp": s.lookback_isp_days,
        "country": s.lookback_country_days,
    }[dim]
    wide = s.lookback_device_peers_days if dim == "device" else first
    return first, wide


def history_days(s: UebaSettings) -> int:
    """How far back of the first analysed day any insight reads."""
    return max(max(lookbacks(d.name, s)) for d in DIMENSIONS) + max(s.uncommon_by_user_days, s.volume_days) + 1


def key_tables_sql() -> tuple[str, str, str]:
    """Integer surrogates for the baselines' string keys, built once per run: users, (dim, value) pairs and
    each user's peers as user ids. The flag queries partition, sort and join on these (strings cost several
    times more to sort), and turn back into the string keys only for their output rows."""
    users = """SELECT user_key, CAST(row_number() OVER (ORDER BY user_key) AS INTEGER) AS uid
               FROM (SELECT DISTINCT user_key FROM ueba_active_daily)"""
    values = """SELECT dim, value, CAST(row_number() OVER (ORDER BY dim, value) AS INTEGER) AS vid
                FROM (SELECT DISTINCT dim, value FROM ueba_tenant_daily)"""
    # peers with no events have no usage; users with no events have no rows to flag
    peers = """SELECT a.uid, b.uid AS peer_uid FROM UserPeerAnalytics upa
               JOIN _ueba_uid a ON a.user_key = upa.user_key JOIN _ueba_uid b ON b.user_key = upa.peer_key"""
    return users, values, peers


def day_flags_sql(dim: str, s: UebaSettings, from_day: int) -> str:
    """One row per (user_key, value, day >= from_day) with the day-level flags of ``dim``.

    Reads ``_ueba_uid``, ``_ueba_vid`` and ``_ueba_peer`` (:func:`key_tables_sql`). Window functions order
    by ``day`` only: rows are unique per (user, dim, value, day), so the order is total. The event-level
    "first event of the day" refinement is applied by the caller.
    """
    first, wide = lookbacks(dim, s)
    u = int(s.uncommon_by_user_days)
    v = int(s.volume_days)
    hist = from_day - max(first, wide, u, v) - 1
    return f"""
    WITH h AS (SELECT ku.uid, kv.vid, d.day, d.n
               FROM ueba_user_daily d
               JOIN _ueba_uid ku ON ku.user_key = d.user_key
               JOIN _ueba_vid kv ON kv.dim = d.dim AND kv.value = d.value
               WHERE d.dim = '{dim}' AND d.day >= {hist}),
    hu AS (
        SELECT uid, vid, day, n,
               lag(day) OVER (PARTITION BY uid, vid ORDER BY day) AS prev_day,
               coalesce(sum(n) OVER (PARTITION BY uid, vid ORDER BY day
                                     RANGE BETWEEN {u} PRECEDING AND 1 PRECEDING), 0) AS uv,
               coalesce(sum(n) OVER (PARTITION BY uid, vid ORDER BY day
                                     RANGE BETWEEN {v} PRECEDING AND 1 PRECEDING), 0) AS v7
        FROM h),
    tot AS (SELECT uid, day, sum(n) AS n FROM h GROUP BY uid, day),
    totw AS (SELECT uid, day,
                    coalesce(sum(n) OVER (PARTITION BY uid ORDER BY day
                                          RANGE BETWEEN {u} PRECEDING AND 1 PRECEDING), 0) AS ut
             FROM tot),
    -- a new usage run starts where the gap to the previous use exceeds W (the previous use, if any, is
    -- read over all of h: the first row of a partition starts a run either way)
    brk AS (SELECT uid, vid, day, CASE WHEN prev_day >= day - {wide} THEN 0 ELSE 1 END AS b
            FROM hu WHERE day >= {from_day - wide - 1}),
    runs AS (  -- usage runs with gaps <= W: a run covers days [start + 1, end + W]
        SELECT uid, vid, min(day) AS start_day, max(day) AS end_day
        FROM (SELECT uid, vid, day,
                     sum(b) OVER (PARTITION BY uid, vid ORDER BY day ROWS UNBOUNDED PRECEDING) AS run
              FROM brk)
        GROUP BY uid, vid, run),
    k AS (SELECT * FROM hu WHERE day >= {from_day}),
    -- Peer usage as a step function per (user, value): each peer's run adds +1 from start+1 and
    -- -1 after end+W; a running sum read at the user's own days counts the peers whose usage
    -- covers that day (runs of one peer are disjoint, so each peer counts once). This touches
    -- runs x peers rows instead of every (user, value, day) key x peers.
    rp AS (SELECT p.uid AS u, r.vid, r.start_day + 1 AS lo, r.end_day + {wide} AS hi
           FROM runs r JOIN _ueba_peer p ON p.peer_uid = r.uid),
    steps AS (
        SELECT u, vid, lo AS day, 1 AS delta, 0 AS q FROM rp
        UNION ALL SELECT u, vid, hi + 1, -1, 0 FROM rp
        UNION ALL SELECT uid, vid, day, 0, 1 FROM k),
    peer_used AS (
        SELECT u AS uid, vid, day, used FROM (
            SELECT u, vid, day, q,
                   sum(delta) OVER (PARTITION BY u, vid ORDER BY day, q
                                    RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS used
            FROM steps)
        WHERE q = 1),
    peer_cnt AS (SELECT ku.uid, count(*) AS peers
                 FROM UserPeerAnalytics upa JOIN _ueba_uid ku ON ku.user_key = upa.user_key GROUP BY ku.uid),
    t AS (SELECT kv.vid, d.day,
                 lag(d.day) OVER (PARTITION BY kv.vid ORDER BY d.day) AS t_prev,
                 coalesce(sum(d.users) OVER (PARTITION BY kv.vid ORDER BY d.day
                                             RANGE BETWEEN {wide} PRECEDING AND 1 PRECEDING), 0) AS t_ud
          FROM ueba_tenant_daily d JOIN _ueba_vid kv ON kv.dim = d.dim AND kv.value = d.value
          WHERE d.dim = '{dim}' AND d.day >= {hist}),
    act AS (SELECT day, coalesce(sum(users) OVER (ORDER BY day RANGE BETWEEN {wide} PRECEDING AND 1 PRECEDING), 0)
                   AS all_ud
            FROM (SELECT day, count(*) AS users FROM ueba_active_daily WHERE day >= {hist} GROUP BY day))
    SELECT ku.user_key, kv.value, k.day, k.n, k.v7,
           (k.prev_day IS NULL OR k.prev_day < k.day - {first}) AS first_user,
           (w.ut > 0 AND k.uv < {float(s.uncommon_user_share)} * w.ut) AS uncommon_user,
           k.uv, w.ut,
           coalesce(pc.peers, 0) AS peers, coalesce(pu.used, 0) AS peers_used,
           (coalesce(pc.peers, 0) > 0 AND coalesce(pu.used, 0) < {float(s.uncommon_peer_share)} * pc.peers)
               AS uncommon_peers,
           (t.t_prev IS NULL OR t.t_prev < k.day - {first}) AS first_tenant,
           (a.all_ud > 0 AND t.t_ud < {float(s.uncommon_tenant_share)} * a.all_ud) AS uncommon_tenant,
           t.t_ud, a.all_ud
    FROM k
    JOIN _ueba_uid ku ON ku.uid = k.uid
    JOIN _ueba_vid kv ON kv.vid = k.vid
    JOIN totw w ON w.uid = k.uid AND w.day = k.day
    JOIN t ON t.vid = k.vid AND t.day = k.day
    JOIN act a ON a.day = k.day
    LEFT JOIN peer_cnt pc ON pc.uid = k.uid
    LEFT JOIN peer_used pu ON pu.uid = k.uid AND pu.vid = k.vid AND pu.day = k.day
    """
