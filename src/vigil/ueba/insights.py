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


def day_flags_sql(dim: str, s: UebaSettings, from_day: int) -> str:
    """One row per (user_key, value, day >= from_day) with the day-level flags of ``dim``.

    Window functions order by ``day`` only: rows are unique per (user, dim, value, day),
    so the order is total. The event-level "first event of the day" refinement is applied
    by the caller.
    """
    first, wide = lookbacks(dim, s)
    u = int(s.uncommon_by_user_days)
    v = int(s.volume_days)
    hist = from_day - max(first, wide, u, v) - 1
    return f"""
    WITH h AS (SELECT user_key, value, day, n FROM ueba_user_daily WHERE dim = '{dim}' AND day >= {hist}),
    hu AS (
        SELECT user_key, value, day, n,
               lag(day) OVER (PARTITION BY user_key, value ORDER BY day) AS prev_day,
               coalesce(sum(n) OVER (PARTITION BY user_key, value ORDER BY day
                                     RANGE BETWEEN {u} PRECEDING AND 1 PRECEDING), 0) AS uv,
               coalesce(sum(n) OVER (PARTITION BY user_key, value ORDER BY day
                                     RANGE BETWEEN {v} PRECEDING AND 1 PRECEDING), 0) AS v7
        FROM h),
    tot AS (SELECT user_key, day, sum(n) AS n FROM h GROUP BY user_key, day),
    totw AS (SELECT user_key, day,
                    coalesce(sum(n) OVER (PARTITION BY user_key ORDER BY day
                                          RANGE BETWEEN {u} PRECEDING AND 1 PRECEDING), 0) AS ut
             FROM tot),
    brk AS (SELECT user_key, value, day,
                   CASE WHEN lag(day) OVER (PARTITION BY user_key, value ORDER BY day) >= day - {wide}
                        THEN 0 ELSE 1 END AS b
            FROM h WHERE day >= {from_day - wide - 1}),
    runs AS (  -- usage runs with gaps <= W: a run covers days [start + 1, end + W]
        SELECT user_key, value, min(day) AS start_day, max(day) AS end_day
        FROM (SELECT user_key, value, day,
                     sum(b) OVER (PARTITION BY user_key, value ORDER BY day ROWS UNBOUNDED PRECEDING) AS run
              FROM brk)
        GROUP BY user_key, value, run),
    k AS (SELECT * FROM hu WHERE day >= {from_day}),
    -- Peer usage as a step function per (user, value): each peer's run adds +1 from start+1 and
    -- -1 after end+W; a running sum read at the user's own days counts the peers whose usage
    -- covers that day (runs of one peer are disjoint, so each peer counts once). This touches
    -- runs x peers rows instead of every (user, value, day) key x peers.
    rp AS (SELECT upa.user_key AS u, r.value, r.start_day + 1 AS lo, r.end_day + {wide} AS hi
           FROM runs r JOIN UserPeerAnalytics upa ON upa.peer_key = r.user_key),
    steps AS (
        SELECT u, value, lo AS day, 1 AS delta, 0 AS q FROM rp
        UNION ALL SELECT u, value, hi + 1, -1, 0 FROM rp
        UNION ALL SELECT user_key, value, day, 0, 1 FROM k),
    peer_used AS (
        SELECT u AS user_key, value, day, used FROM (
            SELECT u, value, day, q,
                   sum(delta) OVER (PARTITION BY u, value ORDER BY day, q
                                    RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS used
            FROM steps)
        WHERE q = 1),
    peer_cnt AS (SELECT user_key, count(*) AS peers FROM UserPeerAnalytics GROUP BY user_key),
    t AS (SELECT value, day,
                 lag(day) OVER (PARTITION BY value ORDER BY day) AS t_prev,
                 coalesce(sum(users) OVER (PARTITION BY value ORDER BY day
                                           RANGE BETWEEN {wide} PRECEDING AND 1 PRECEDING), 0) AS t_ud
          FROM ueba_tenant_daily WHERE dim = '{dim}' AND day >= {hist}),
    act AS (SELECT day, coalesce(sum(users) OVER (ORDER BY day RANGE BETWEEN {wide} PRECEDING AND 1 PRECEDING), 0)
                   AS all_ud
            FROM (SELECT day, count(*) AS users FROM ueba_active_daily WHERE day >= {hist} GROUP BY day))
    SELECT k.user_key, k.value, k.day, k.n, k.v7,
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
    JOIN totw w ON w.user_key = k.user_key AND w.day = k.day
    JOIN t ON t.value = k.value AND t.day = k.day
    JOIN act a ON a.day = k.day
    LEFT JOIN peer_cnt pc ON pc.user_key = k.user_key
    LEFT JOIN peer_used pu ON pu.user_key = k.user_key AND pu.value = k.value AND pu.day = k.day
    """
