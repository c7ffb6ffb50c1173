"""Identity resolution: renames, reused names, guests becoming members, name variants."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.identity.helpers import add, at, entra, lifecycle, o365, rename
from vigil.identity import stage
from vigil.store import Store
from vigil.ueba.directory import ingest_directory

JANE = "0a0a0a0a-0000-4000-8000-000000000001"
OLD = "0b0b0b0b-0000-4000-8000-000000000002"
NEW = "0c0c0c0c-0000-4000-8000-000000000003"


def _events(store: Store) -> dict[str, tuple[str, str]]:
    return {r["event_id"]: (r["identity_id"], r["resolved_by"]) for r in store.query(
        "select * from event_identities").to_pylist()}


def _identity(store: Store, identity_id: str) -> dict[str, Any]:
    rows = store.query("select * from identities where identity_id = ?", [identity_id]).to_pylist()
    assert len(rows) == 1
    return rows[0]


def _aliases(store: Store, identity_id: str, kind: str = "upn") -> list[tuple[str, Any, Any]]:
    return [(r["alias"], r["valid_from"], r["valid_to"]) for r in store.query(
        "select * from identity_aliases where identity_id = ? and kind = ? order by valid_from_seen",
        [identity_id, kind]).to_pylist()]


def test_a_rename_in_the_middle_of_a_session_is_one_identity_under_the_new_name(store: Store) -> None:
    add(store, "signins", [entra("s1", 0, JANE, "jane.doe@contoso.com", session_id="sess", user_display_name="Jane Doe"),
                           entra("s2", 1, JANE, "jane.smith@contoso.com", session_id="sess",
                                 user_display_name="Jane Smith")])
    out = stage.rebuild(store)
    assert (out["identities"], out["persons"], out["renamed"]) == (1, 1, 1)
    jane = _identity(store, JANE)
    assert (jane["name"], jane["display_name"], jane["person_id"]) == ("jane.smith@contoso.com", "Jane Smith", JANE)
    # no audit record: the rename happened between the last old and the first new sighting
    assert _aliases(store, JANE) == [("jane.doe@contoso.com", None, at(1)), ("jane.smith@contoso.com", at(0), None)]
    assert _events(store) == {"s1": (JANE, "account_id"), "s2": (JANE, "account_id")}


def test_office_records_carrying_only_a_name_take_the_account_holding_it_then(store: Store) -> None:
    # renamed by an admin (audit) at hour 10; Office 365 records carry only the UPN of their time
    add(store, "signins", [entra("s1", 0, JANE, "jane.doe@contoso.com")])
    add(store, "directory_events", [rename("r1", 10, JANE, "jane.doe@contoso.com", "jane.smith@contoso.com")])
    add(store, "activities", [o365("a-before", 5, "jane.doe@contoso.com"), o365("a-after", 12, "jane.smith@contoso.com"),
                              o365("a-stranger", 12, "bob@contoso.com")])
    stage.rebuild(store)
    assert _aliases(store, JANE) == [("jane.doe@contoso.com", None, at(10)), ("jane.smith@contoso.com", at(10), None)]
    ev = _events(store)
    assert ev["a-before"] == (JANE, "alias") and ev["a-after"] == (JANE, "alias")
    assert ev["a-stranger"] == ("entra:bob@contoso.com", "name")  # no account ever had the name
    assert _identity(store, JANE)["events"] == 3


def test_a_upn_reused_after_deletion_is_two_identities(store: Store) -> None:
    add(store, "signins", [entra("old1", 0, OLD, "alex@contoso.com"), entra("new1", 50, NEW, "alex@contoso.com")])
    add(store, "directory_events", [lifecycle("del", 20, OLD, "alex@contoso.com", "Delete user"),
                                    lifecycle("add", 40, NEW, "alex@contoso.com", "Add user")])
    add(store, "activities", [o365("a-old", 10, "alex@contoso.com"), o365("a-new", 45, "alex@contoso.com")])
    out = stage.rebuild(store)
    assert (out["identities"], out["persons"], out["deleted"]) == (2, 2, 1)
    assert _identity(store, OLD)["deleted_time"] == at(20) and _identity(store, NEW)["created_time"] == at(40)
    assert _aliases(store, OLD) == [("alex@contoso.com", None, at(20))]
    assert _aliases(store, NEW) == [("alex@contoso.com", at(40), None)]
    ev = _events(store)
    assert ev["a-old"] == (OLD, "alias") and ev["a-new"] == (NEW, "alias")


def test_a_reused_upn_without_audit_records_goes_to_whoever_had_been_seen_with_it(store: Store) -> None:
    add(store, "signins", [entra("old1", 0, OLD, "alex@contoso.com"), entra("new1", 50, NEW, "alex@contoso.com")])
    add(store, "activities", [o365("a-old", 10, "alex@contoso.com"), o365("a-new", 60, "alex@contoso.com")])
    stage.rebuild(store)
    ev = _events(store)
    assert ev["a-old"][0] == OLD and ev["a-new"][0] == NEW


def test_a_guest_converted_to_a_member_stays_one_identity(store: Store) -> None:
    guest = "jane_fabrikam.com#ext#@contoso.onmicrosoft.com"
    add(store, "signins", [entra("g", 0, JANE, guest, user_type="Guest"),
                           entra("m", 30, JANE, "jane@contoso.com", user_type="Member")])
    stage.rebuild(store)
    jane = _identity(store, JANE)
    assert (jane["name"], jane["user_type"], jane["events"]) == ("jane@contoso.com", "Member", 2)
    assert [a for a, _, _ in _aliases(store, JANE)] == [guest, "jane@contoso.com"]


def test_case_and_whitespace_variants_are_one_name(store: Store) -> None:
    add(store, "signins", [entra("s1", 0, JANE, "jane.doe@contoso.com")])
    add(store, "activities", [o365("a1", 1, "  Jane.Doe@CONTOSO.com "), o365("a2", 2, "jane.doe@contoso.com")])
    stage.rebuild(store)
    assert _aliases(store, JANE) == [("jane.doe@contoso.com", None, None)]
    assert {k: v[0] for k, v in _events(store).items()} == {"s1": JANE, "a1": JANE, "a2": JANE}


def test_directory_snapshots_give_mail_and_creation(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"value": [{"id": JANE, "userPrincipalName": "Jane.Smith@contoso.com",
                                           "mail": "jane@contoso.com", "displayName": "Jane Smith",
                                           "createdDateTime": "2025-01-01T00:00:00Z"}]}))
    ingest_directory(store, [path])
    add(store, "signins", [entra("s1", 0, JANE, "jane.doe@contoso.com")])
    stage.rebuild(store)
    jane = _identity(store, JANE)
    assert jane["name"] == "jane.smith@contoso.com" and str(jane["created_time"]).startswith("2025-01-01")
    assert [a for a, _, _ in _aliases(store, JANE, "email")] == ["jane@contoso.com"]
    assert _aliases(store, JANE)[0][1] is not None  # the first name starts at the account's creation


def test_rebuild_is_idempotent(store: Store) -> None:
    add(store, "signins", [entra("s1", 0, JANE, "jane.doe@contoso.com"), entra("s2", 1, JANE, "jane.smith@contoso.com")])
    first = stage.rebuild(store)
    again = stage.rebuild(store)
    first.pop("link_passes")
    again.pop("link_passes")
    assert first == again and store.count("identity_aliases") == 2
