"""UserPeerAnalytics: each user's top-N peers.

Groups: every user is a vector over the groups they belong to, each group weighted by
its inverse document frequency ``idf = ln(1 + users / members)`` (smaller groups weigh
more, as Sentinel documents); peers are ranked by the cosine similarity of those vectors.
Users without any group membership get peers from the same computation over the apps
they used (``PeerSource = 'app_usage'``). Groups or apps with more than
``max_peer_group_size`` members are skipped: their weight is near zero and their pairs
would dominate the cost (n^2).
"""
from __future__ import annotations

from typing import Any

from vigil.settings import UebaSettings
from vigil.store import Store
from vigil.ueba.events import EventSources, events_sql
from vigil.ueba.tables import IDENTITY_INFO, USER_PEER_ANALYTICS


def _tfidf_ctes(membership: str, max_size: int, only: str = "TRUE") -> str:
    """CTEs ending in ``ranked(u, p, score, rk)`` from a ``(user_key, item)`` membership relation;
    ``only`` restricts the users peers are computed for (``a.user_key``), not the candidates."""
    return f"""
    m AS (SELECT DISTINCT user_key, item FROM ({membership}) WHERE user_key IS NOT NULL AND item IS NOT NULL),
    n AS (SELECT count(DISTINCT user_key) AS users FROM m),
    sizes AS (SELECT item, count(*) AS members FROM m GROUP BY item),
    w AS (SELECT m.user_key, m.item, sizes.members, ln(1 + n.users / sizes.members) AS idf
          FROM m JOIN sizes USING (item) CROSS JOIN n),
    norms AS (SELECT user_key, sqrt(sum(idf * idf)) AS norm FROM w GROUP BY user_key),
    wk AS (SELECT * FROM w WHERE members BETWEEN 2 AND {int(max_size)}),
    pairs AS (SELECT a.user_key AS u, b.user_key AS p, sum(a.idf * b.idf) AS dot
              FROM wk a JOIN wk b ON a.item = b.item AND a.user_key <> b.user_key WHERE {only} GROUP BY 1, 2),
    ranked AS (
        SELECT u, p, dot / (nu.norm * np.norm) AS score,
               row_number() OVER (PARTITION BY u ORDER BY dot / (nu.norm * np.norm) DESC, p) AS rk
        FROM pairs JOIN norms nu ON nu.user_key = u JOIN norms np ON np.user_key = p
    )"""


_INSERT = """INSERT INTO UserPeerAnalytics (TimeGenerated, UserId, UserPrincipalName, UserName, PeerUserId,
    PeerUserPrincipalName, PeerUserName, Rank, PeerSource, PeerScore, user_key, peer_key)"""


def build_peers(store: Store, settings: UebaSettings, src: EventSources) -> dict[str, Any]:
    """Rebuild UserPeerAnalytics (idempotent). Returns counts by PeerSource."""
    store.ensure((IDENTITY_INFO, USER_PEER_ANALYTICS))
    con = store.con
    top, cap = int(settings.peers), settings.max_peer_group_size
    con.execute("DELETE FROM UserPeerAnalytics")
    groups = "SELECT user_key, unnest(CAST(GroupMembership AS VARCHAR[])) AS item FROM IdentityInfo"
    con.execute(f"""{_INSERT}
    WITH {_tfidf_ctes(groups, cap)},
    ii AS (SELECT user_key, min(AccountObjectId) AS oid, min(AccountUPN) AS upn,
                  min(AccountDisplayName) AS name FROM IdentityInfo GROUP BY user_key)
    SELECT now()::TIMESTAMP, a.oid, a.upn, a.name, b.oid, b.upn, b.name, rk, 'groups', score, u, p
    FROM ranked JOIN ii a ON a.user_key = u JOIN ii b ON b.user_key = p
    WHERE rk <= {top}""")
    # Fallback: users with no group peers (no directory, or in no shared group), by app usage.
    apps = f"SELECT coalesce(lower(user_principal_name), user_id) AS user_key, app AS item FROM ({events_sql(src)})"
    done = "a.user_key NOT IN (SELECT DISTINCT user_key FROM UserPeerAnalytics)"
    con.execute(f"""{_INSERT}
    WITH {_tfidf_ctes(apps, cap, done)},
    who AS (SELECT coalesce(lower(user_principal_name), user_id) AS user_key, min(user_id) AS oid,
                   min(lower(user_principal_name)) AS upn, min(user_display_name) AS name
            FROM ({events_sql(src)}) GROUP BY 1)
    SELECT now()::TIMESTAMP, a.oid, a.upn, a.name, b.oid, b.upn, b.name, rk, 'app_usage', score, u, p
    FROM ranked JOIN who a ON a.user_key = u JOIN who b ON b.user_key = p
    WHERE rk <= {top}""")
    rows = store.query("SELECT PeerSource, count(DISTINCT user_key) AS users "
                       "FROM UserPeerAnalytics GROUP BY 1").to_pylist()
    return dict(peer_rows=store.count("UserPeerAnalytics"),
                users_with_peers={r["PeerSource"]: r["users"] for r in rows})
