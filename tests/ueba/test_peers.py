from __future__ import annotations

import math
from pathlib import Path

from tests.ueba import tenant
from tests.ueba.conftest import build_tenant
from vigil.settings import Settings, load_settings
from vigil.store import Store
from vigil.ueba import stage


def test_peers_ranked_by_tfidf_of_shared_groups(analysed: tuple[Store, Settings]) -> None:
    store, settings = analysed
    rows = store.query("SELECT * FROM UserPeerAnalytics WHERE UserPrincipalName = 'victim@contoso.com' "
                       "ORDER BY Rank").to_pylist()
    assert [r["Rank"] for r in rows] == list(range(1, settings.ueba.peers + 1))
    assert {r["PeerSource"] for r in rows} == {"groups"}
    # victim (user 0) shares the 2-person project group with sales1, so sales1 is rank 1
    assert rows[0]["PeerUserPrincipalName"] == "sales1@contoso.com"
    assert rows[0]["UserId"] == "00000000-0000-0000-0000-000000000001" and rows[0]["UserName"] == "Victor Tim"
    # then the other sales users (shared department group) before anyone from other departments
    assert {r["PeerUserPrincipalName"][:5] for r in rows[1:9]} == {"sales"}
    # independent computation of the rank-1 score: cosine of TF-IDF vectors, idf = ln(1 + N / members)
    n = 30
    idf = {"dept": math.log(1 + n / 10), "project": math.log(1 + n / 2), "everyone": math.log(1 + n / 30)}
    norm = math.sqrt(sum(v * v for v in idf.values()))
    assert math.isclose(rows[0]["PeerScore"], sum(v * v for v in idf.values()) / norm ** 2)
    assert math.isclose(rows[1]["PeerScore"], (idf["dept"] ** 2 + idf["everyone"] ** 2) / norm ** 2)


def test_ties_broken_by_peer_key(analysed: tuple[Store, Settings]) -> None:
    store, _ = analysed
    rows = store.query("SELECT peer_key, PeerScore FROM UserPeerAnalytics WHERE user_key = 'victim@contoso.com' "
                       "ORDER BY Rank").to_pylist()
    for a, b in zip(rows, rows[1:], strict=False):
        assert a["PeerScore"] > b["PeerScore"] or (a["PeerScore"] == b["PeerScore"] and a["peer_key"] < b["peer_key"])


def test_no_directory_falls_back_to_app_usage(tmp_path: Path) -> None:
    store = build_tenant(tmp_path / "nodir", days=2, directory=False, memory=True)
    # give two users a rare app so app similarity has something to rank
    from tests.builders import insert
    us = tenant.users()
    insert(store, "signins", [dict(tenant.signin(u, tenant.START), app_name="Rare CRM") for u in us[:2]])
    summary = stage.run(store, load_settings(environ={}))
    assert summary["users_with_peers"] == {"app_usage": 30}
    top = store.query("SELECT user_key, peer_key, PeerSource, PeerScore FROM UserPeerAnalytics WHERE Rank = 1 "
                      "AND user_key IN (?, ?) ORDER BY user_key", [us[0]["upn"], us[1]["upn"]]).to_pylist()
    # the two users of the rare app are each other's closest peer
    assert {(r["user_key"], r["peer_key"]) for r in top} == {(us[0]["upn"], us[1]["upn"]), (us[1]["upn"], us[0]["upn"])}
    assert all(r["PeerSource"] == "app_usage" and r["PeerScore"] > 0.9 for r in top)
    ba = store.query("SELECT InvestigationPriorityReason FROM BehaviorAnalytics LIMIT 1").to_pylist()
    assert "vendor columns" in ba[0]["InvestigationPriorityReason"]
    store.close()
