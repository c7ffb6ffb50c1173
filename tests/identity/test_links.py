"""Cross-provider links: same verified name, none, ambiguity from a reused name, manual link / unlink."""
from __future__ import annotations

import json

import pytest

from tests.identity.helpers import add, entra, lifecycle, okta
from vigil.errors import InputError
from vigil.identity import actions, stage
from vigil.store import Store

JANE = "0a0a0a0a-0000-4000-8000-000000000001"
OLD = "0b0b0b0b-0000-4000-8000-000000000002"
NEW = "0c0c0c0c-0000-4000-8000-000000000003"


def _persons(store: Store) -> dict[str, str]:
    return dict(store.rows("select identity_id, person_id from identities"))


def test_one_login_at_two_providers_at_once_is_one_person_with_evidence(store: Store) -> None:
    add(store, "signins", [entra("e1", 0, JANE, "jane@contoso.com"), okta("o1", 2, "00u1", "Jane@Contoso.com")])
    out = stage.rebuild(store)
    assert (out["identities"], out["persons"], out["links"]) == (2, 1, {"accepted": 1})
    assert _persons(store) == {JANE: JANE, "okta:00u1": JANE}  # the Entra object id is the person's id
    link = store.query("select * from identity_links").to_pylist()[0]
    assert (link["method"], link["status"], link["alias"]) == ("same_login", "accepted", "jane@contoso.com")
    sides = {s["identity_id"]: s for s in json.loads(link["evidence"])["sides"]}
    assert sides["okta:00u1"]["evidence"] == "o1" and sides[JANE]["kind"] == "upn"
    assert "both named jane@contoso.com" in link["reason"]
    persons = dict(store.rows("select event_id, person_id from event_identities"))
    assert persons == {"e1": JANE, "o1": JANE}


def test_different_names_are_two_people_until_linked_by_hand_and_unlinking_wins(store: Store) -> None:
    add(store, "signins", [entra("e1", 0, JANE, "jane@contoso.com"), okta("o1", 2, "00u1", "jdoe@okta-contoso.com")])
    assert stage.rebuild(store)["persons"] == 2
    out = actions.record(store, "link", "jane@contoso.com", "jdoe@okta-contoso.com", actor="soc@contoso.com",
                         reason="same employee, HR record 4711")
    assert out["persons"] == 1 and out["person_ids"] == [JANE]
    link = store.query("select * from identity_links").to_pylist()[0]
    assert (link["method"], link["status"]) == ("manual", "accepted")
    assert json.loads(link["evidence"])["actor"] == "soc@contoso.com" and "HR record 4711" in link["reason"]
    stage.rebuild(store)  # the action survives re-analysis
    assert _persons(store)["okta:00u1"] == JANE
    actions.record(store, "unlink", "okta:00u1", JANE, actor="lead@contoso.com")
    assert _persons(store) == {JANE: JANE, "okta:00u1": "okta:00u1"}
    assert store.count("identity_link_actions") == 2
    with pytest.raises(InputError, match="--by"):
        actions.record(store, "link", JANE, "okta:00u1", actor=" ")
    with pytest.raises(InputError, match="no identity"):
        actions.record(store, "link", JANE, "nobody@contoso.com", actor="x")


def test_unlink_rejects_an_automatic_link(store: Store) -> None:
    add(store, "signins", [entra("e1", 0, JANE, "jane@contoso.com"), okta("o1", 2, "00u1", "jane@contoso.com")])
    stage.rebuild(store)
    actions.record(store, "unlink", "00u1", JANE, actor="lead@contoso.com", reason="shared mailbox login")
    link = store.query("select * from identity_links").to_pylist()[0]
    assert (link["method"], link["status"]) == ("same_login", "rejected")
    assert stage.rebuild(store)["persons"] == 2


def test_a_reused_name_never_merges_two_people_through_a_third_account(store: Store) -> None:
    # Entra account OLD deleted, NEW created with the same UPN; Okta kept the login the whole time
    add(store, "signins", [entra("old", 0, OLD, "alex@contoso.com"), entra("new", 50, NEW, "alex@contoso.com"),
                           okta("o1", 1, "00u9", "alex@contoso.com"), okta("o2", 51, "00u9", "alex@contoso.com")])
    add(store, "directory_events", [lifecycle("del", 20, OLD, "alex@contoso.com", "Delete user"),
                                    lifecycle("add", 40, NEW, "alex@contoso.com", "Add user")])
    out = stage.rebuild(store)
    assert out["persons"] == 2 and out["links"] == {"accepted": 1, "ambiguous": 1}
    assert _persons(store) == {OLD: OLD, NEW: NEW, "okta:00u9": NEW}
    ambiguous = store.query("select * from identity_links where status = 'ambiguous'").to_pylist()[0]
    assert ambiguous["identity_a"] == OLD and "reused name" in ambiguous["reason"]


def test_show_finds_the_person_by_any_former_name(store: Store) -> None:
    add(store, "signins", [entra("e1", 0, JANE, "jane.doe@contoso.com", user_display_name="Jane Doe"),
                           entra("e2", 5, JANE, "jane.smith@contoso.com", user_display_name="Jane Smith"),
                           okta("o1", 6, "00u1", "jane.smith@contoso.com")])
    stage.rebuild(store)
    for query in ("JANE.DOE@contoso.com ", "jane doe", "00u1", JANE, "okta:00u1"):
        people = actions.show(store, query)
        assert [p["person_id"] for p in people] == [JANE], query
    p = actions.show(store, "jane.doe@contoso.com")[0]
    assert (p["name"], p["display_name"], p["former_names"]) == ("jane.smith@contoso.com", "Jane Smith",
                                                                   ["jane.doe@contoso.com"])
    assert [a["provider"] for a in p["accounts"]] == ["entra", "okta"] and len(p["links"]) == 1
    with pytest.raises(InputError, match="no identity"):
        actions.show(store, "nobody")
