"""UserPeerAnalytics: each user's top-N peers.

Groups: every user is a vector over the groups they belong to, each group weighted by
its inverse document frequency ``idf = ln(1 + users / members)`` (smaller groups weigh
more, as Sentinel documents); peers are ranked by the cosine similarity of those vectors.
Users without any group membership get peers from the same computation over the apps
they used (``PeerSource = 'app_usage'``). Groups or apps with more than
``max_peer_group_size`` members are skipped: their weight is near zero and their pairs
would dominate the cost (n^2).

Users are keyed as BehaviorAnalytics keys them (:func:`vigil.ueba.events.keyed_events_sql`: a renamed
account is one user under its current name). Peers depend only on who is in which group or used which app
(and the names shown): when that membership is what the last build saw (a fingerprint in ``ueba_state``),
the rows stand and nothing is recomputed, so the stream's micro-batches pay the n^2 part only when a user
joins a group or uses an app for the first time.
"""
from __future__ import annotations

from typing import Any

from vigil.identity.tables import TABLES as IDENTITY_TABLES
from vigil.settings import UebaSettings
from vigil.store import Store
from vigil.ueba import baseline
from vigil.ueba.events import EventSources, keyed_events_sql
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
               -- rounded: equal similarities summed in another order differ in the last bits, and must tie
               row_number() OVER (PARTITION BY u ORDER BY round(dot / (nu.norm * np.norm), 9) DESC, p) AS rk
        FROM pairs JOIN norms nu ON nu.user_key = u JOIN norms np ON np.user_key = p
    )"""


_INSERT = """INSERT INTO UserPeerAnalytics (TimeGenerated, UserId, UserPrincipalName, UserName, PeerUserId,
    PeerUserPrincipalName, PeerUserName, Rank, PeerSource, PeerScore, user_key, peer_key)"""


def _inputs(store: Store, src: EventSources) -> str:
    """Materialise what peers are computed from (group and app membership, the names shown) and return its
    fingerprint: settings, row counts and an order-independent sum of row hashes."""
    con = store.con
    con.execute("""CREATE OR REPLACE TEMP TABLE _peer_groups AS SELECT user_key, AccountObjectId AS oid,
        AccountUPN AS upn, AccountDisplayName AS name, unnest(CAST(GroupMembership AS VARCHAR[])) AS item
        FROM IdentityInfo""")
    # apps: keyed as BehaviorAnalytics keys its rows (the current name of a renamed account); app and names are
    # the tables' own columns, so the enriched views' joins are not needed here
    plain = EventSources("signins", "activities", False) if src.enriched else src
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _peer_apps AS
        SELECT user_key, app AS item, min(user_id) AS oid, min(user_display_name) AS name,
               min(lower(user_principal_name)) FILTER (WHERE lower(user_principal_name) = user_key) AS cur,
               min(lower(user_principal_name)) AS upn
        FROM ({keyed_events_sql(plain)}) GROUP BY user_key, app""")
    fp = store.rows("""SELECT (SELECT count(*) FROM _peer_groups), (SELECT sum(hash(user_key, oid, upn, name, item))
        FROM _peer_groups), (SELECT count(*) FROM _peer_apps),
        (SELECT sum(hash(user_key, item, oid, name, cur, upn)) FROM _peer_apps)""")[0]
    return "|".join(str(v) for v in fp)


def build_peers(store: Store, settings: UebaSettings, src: EventSources, *, full: bool = False) -> dict[str, Any]:
    """Rebuild UserPeerAnalytics when its inputs changed or ``full`` (idempotent). Returns counts by PeerSource."""
    store.ensure((IDENTITY_INFO, USER_PEER_ANALYTICS, *IDENTITY_TABLES))
    con = store.con
    top, cap = int(settings.peers), settings.max_peer_group_size
    fingerprint = f"{top}|{cap}|{_inputs(store, src)}"
    rebuilt = full or baseline.get_state(store, "peers") != fingerprint
    if rebuilt:
        _build(store, top, cap)
        baseline.set_state(store, "peers", fingerprint)
    for t in ("_peer_groups", "_peer_apps"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    rows = store.query("SELECT PeerSource, count(DISTINCT user_key) AS users "
                       "FROM UserPeerAnalytics GROUP BY 1").to_pylist()
    return dict(peer_rows=store.count("UserPeerAnalytics"), peers_rebuilt=rebuilt,
                users_with_peers={r["PeerSource"]: r["users"] for r in rows})


def _build(store: Store, top: int, cap: int) -> None:
    con = store.con
    con.execute("DELETE FROM UserPeerAnalytics")
    groups = "SELECT user_key, item FROM _peer_groups"
    con.execute(f"""{_INSERT}
    WITH {_tfidf_ctes(groups, cap)},
    ii AS (SELECT user_key, min(oid) AS oid, min(upn) AS upn, min(name) AS name FROM _peer_groups GROUP BY user_key)
    SELECT now()::TIMESTAMP, a.oid, a.upn, a.name, b.oid, b.upn, b.name, rk, 'groups', score, u, p
    FROM ranked JOIN ii a ON a.user_key = u JOIN ii b ON b.user_key = p
    WHERE rk <= {top}""")
    # Fallback: users with no group peers (no directory, or in no shared group), by app usage.
    apps = "SELECT user_key, item FROM _peer_apps"
    done = "a.user_key NOT IN (SELECT DISTINCT user_key FROM UserPeerAnalytics)"
    con.execute(f"""{_INSERT}
    WITH {_tfidf_ctes(apps, cap, done)},
    who AS (SELECT user_key, min(oid) AS oid, coalesce(min(cur), min(upn)) AS upn, min(name) AS name
            FROM _peer_apps GROUP BY 1)
    SELECT now()::TIMESTAMP, a.oid, a.upn, a.name, b.oid, b.upn, b.name, rk, 'app_usage', score, u, p
    FROM ranked JOIN who a ON a.user_key = u JOIN who b ON b.user_key = p
    WHERE rk <= {top}""")
