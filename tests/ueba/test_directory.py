from __future__ import annotations

import json

from tests.conftest import FIXTURES, sample
from vigil.store import Store
from vigil.ueba.directory import ingest_directory

F = FIXTURES / "ueba"


def _ii(store: Store) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["AccountUPN"]: r for r in store.query("SELECT * FROM IdentityInfo").to_pylist()}


def test_graph_users_groups_and_members_merge(store: Store) -> None:
    summary = ingest_directory(store, [F / "graph_users_expand.json", F / "graph_groups_members.json",
                                       F / "group_members_page.json"])
    assert summary["quarantined"] == 5
    ii = _ii(store)
    assert set(ii) == {"ada@contoso.com", "ben@contoso.com", "cy@contoso.com"}
    ada, ben, cy = ii["ada@contoso.com"], ii["ben@contoso.com"], ii["cy@contoso.com"]
    assert ada["AccountObjectId"] == "11111111-0000-0000-0000-000000000001"
    assert ada["AccountName"] == "ada" and ada["AccountDomain"] == "contoso.com"
    assert json.loads(ada["AssignedRoles"]) == ["Global Administrator"]
    # g-fin from memberOf, and the members page of group aaaaaaaa-... (no display name known)
    assert json.loads(ada["GroupMembership"]) == ["Finance", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"]
    assert json.loads(ben["GroupMembership"]) == ["Finance", "Ops", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"]
    assert ben["Manager"] == "ada@contoso.com" and cy["Manager"] == "ben@contoso.com"
    assert cy["IsAccountEnabled"] is False
    # Ada: Global Administrator -> High; Ben: manages Cy -> Medium; Cy: a non-privileged role -> Medium
    assert ada["BlastRadius"] == "High" and "privileged role: Global Administrator" in ada["BlastRadiusReason"]
    assert ben["BlastRadius"] == "Medium" and "1 direct / 1 transitive reports" in ben["BlastRadiusReason"]
    assert cy["BlastRadius"] == "Medium" and "1 other directory role(s)" in cy["BlastRadiusReason"]
    q = store.query("SELECT source_file, reason FROM quarantine ORDER BY reason").to_pylist()
    assert all(r["source_file"].endswith(".json") for r in q)


def test_reingest_is_idempotent(store: Store) -> None:
    paths = [F / "identityinfo_export.csv", F / "plain_directory.csv"]
    ingest_directory(store, paths)
    first = store.query("SELECT * EXCLUDE (TimeGenerated) FROM IdentityInfo ORDER BY user_key").to_pylist()
    ingest_directory(store, paths)
    again = store.query("SELECT * EXCLUDE (TimeGenerated) FROM IdentityInfo ORDER BY user_key").to_pylist()
    assert first == again
    assert store.query("SELECT count(*) AS n FROM directory_users").to_pylist()[0]["n"] == 4


def test_identityinfo_export_and_blast_radius_from_tree(store: Store) -> None:
    ingest_directory(store, [F / "identityinfo_export.csv", F / "plain_directory.csv"])
    ii = _ii(store)
    eve, finn = ii["eve@fabrikam.com"], ii["finn@fabrikam.com"]
    assert eve["BlastRadius"] == "High"  # Security Administrator
    assert finn["Manager"] == "eve@fabrikam.com" and finn["BlastRadius"] == "Low"
    assert json.loads(eve["GroupMembership"]) == ["All Staff", "SecOps"]
    assert eve["ChangeSource"] == "IdentityInfo"
    # hal -> ida -> (jon quarantined); hal is the top of the tree with reports
    hal, ida = ii["hal@example.org"], ii["ida@example.org"]
    assert hal["BlastRadius"] == "High" and "top of the org tree" in hal["BlastRadiusReason"]
    assert ida["BlastRadius"] == "Low" and ida["Manager"] == "hal@example.org"


def test_unreadable_file_is_quarantined_not_fatal(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    summary = ingest_directory(store, [bad, F / "plain_directory.csv"])
    assert summary["failed_files"] == [str(bad)]
    reasons = store.query("SELECT reason FROM quarantine WHERE source_file = ?", [str(bad)]).to_pylist()
    assert "not valid JSON" in reasons[0]["reason"]


def test_samples_ingest(store: Store) -> None:
    paths = [sample(f"directory/{n}") for n in (
        "graph-v1_user-list_example1-response.json", "graph-v1_user-list_example7-response.json",
        "graph-v1_user-list_example8-response.json", "graph-v1_user-list_example11-response.json",
        "graph-v1_group-list_example1-response.json", "sentinel_AADUSerInfo.csv")]
    summary = ingest_directory(store, paths)
    assert summary["identities"] == 13 and summary["quarantined"] == 0
    ii = _ii(store)
    assert ii["samiraa@domain.onmicrosoft.com"]["Department"] == "IT"
    assert "no Manager data" in ii["admin@contoso.com"]["BlastRadiusReason"]
