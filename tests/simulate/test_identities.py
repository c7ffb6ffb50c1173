"""The identity scenarios: a renamed user and Okta users go through ingest and every stage; one itinerary
per person, one identity per renamed account, links only where the login is the same."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.simulate.conftest import LOG_FILES, read_ndjson
from vigil.pipeline import run_stages
from vigil.settings import load_settings
from vigil.sources.ingest import ingest_paths
from vigil.store import Store, open_store
from vigil.ueba.directory import ingest_directory


@pytest.fixture(scope="module")
def analysed(demo: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Any]]:
    out, _ = demo
    db = tmp_path_factory.mktemp("sim-identity") / "vigil.duckdb"
    settings = load_settings(overrides={"store.path": str(db)}, environ={})
    store = open_store(db)
    results = ingest_paths(store, [out / n for n in LOG_FILES], settings)
    assert all(r.error is None and r.quarantined == 0 for r in results)
    ingest_directory(store, [out / "users.json", out / "groups.json"])
    stages = run_stages(store, settings)
    yield store, (out, stages)
    store.close()


def test_a_renamed_user_is_one_identity_with_both_names_dated_by_the_audit_record(analysed: Any) -> None:
    store, (out, stages) = analysed
    renames = [s for s in read_ndjson(out / "scenarios.jsonl") if s["scenario"] == "rename"]
    assert renames and stages["identity"]["renamed"] >= len(renames)
    for r in renames:
        oid = r["user_id"].lower()
        names = store.rows("select alias, valid_from, learned_from from identity_aliases where identity_id = ? "
                           "and kind = 'upn' order by valid_from_seen", [oid])
        assert [n[0] for n in names] == [r["old_upn"], r["new_upn"]]
        assert names[1][1].isoformat() == r["time"][:19]  # the new name is valid from the rename itself
        assert store.scalar("select name from identities where identity_id = ?", [oid]) == r["new_upn"]
        # every Office 365 record under either name belongs to the one account
        assert store.scalar("""select count(distinct ei.identity_id) from activities a join event_identities ei
                               on ei.event_id = a.event_id where a.user_principal_name in (?, ?)""",
                            [r["old_upn"], r["new_upn"]]) == 1
        # one user risk, one UEBA key, whatever name the records carried
        assert store.scalar("""select count(distinct user_key) from ueba_user_daily where user_key in (?, ?)""",
                            [r["old_upn"], r["new_upn"]]) <= 1


def test_okta_users_are_linked_only_by_the_same_login_and_travel_is_one_itinerary(analysed: Any) -> None:
    store, (out, _) = analysed
    accounts = [s for s in read_ndjson(out / "scenarios.jsonl") if s["scenario"] == "okta_account"]
    assert any(a["same_login"] for a in accounts) and any(not a["same_login"] for a in accounts)
    profiles = {s["user"]: s for s in read_ndjson(out / "scenarios.jsonl") if s["scenario"] == "user_profile"}
    assert profiles
    for a in accounts:
        person = store.scalar("select person_id from identities where identity_id = ?", ["okta:" + a["okta_id"]])
        if person is None:  # an Okta user with no weekday at home in the window
            continue
        entra = store.scalar("select min(identity_id) from identity_aliases where kind = 'upn' and alias = ?",
                             [a["user"]])
        assert (person == entra) == a["same_login"], a
    legs = store.scalar("""
        select count(*) from travel t
        join event_identities f on f.event_id = t.from_event_id join event_identities o on o.event_id = t.to_event_id
        where f.identity_id <> o.identity_id and f.person_id = o.person_id""")
    assert legs > 0  # Entra at the office, then Okta from home: legs of one itinerary
