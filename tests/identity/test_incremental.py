"""The identity stage over new events only gives what one run over everything gives: events arriving in random
batches, late and out of order (renames with and without audit records, name-only records before their account
is known, an account deleted and its name reused, one login at two providers), compared after every batch."""
from __future__ import annotations

import random
from typing import Any

import pytest

from tests.identity.helpers import add, entra, lifecycle, o365, okta, rename
from vigil.identity import incremental, stage
from vigil.store import Store, open_store

JANE = "0a0a0a0a-0000-4000-8000-000000000001"
OLD = "0b0b0b0b-0000-4000-8000-000000000002"
NEW = "0c0c0c0c-0000-4000-8000-000000000003"
BOB = "0d0d0d0d-0000-4000-8000-000000000004"
TABLES = ("identities", "identity_aliases", "identity_links", "event_identities")


def _rows() -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    for h in range(0, 60, 3):  # Jane: renamed by an admin at hour 30 (audit), Office 365 records by name only
        name = "jane.doe@contoso.com" if h < 30 else "jane.smith@contoso.com"
        rows.append(("signins", entra(f"j{h}", h + 0.25, JANE, name, user_display_name="Jane",
                                      user_type="Member" if h > 40 else "Guest")))
        rows.append(("activities", o365(f"jo{h}", h + 0.5, name)))
    rows.append(("directory_events", rename("r-jane", 30, JANE, "jane.doe@contoso.com", "jane.smith@contoso.com")))
    for h in range(0, 60, 4):  # Bob: renamed with no audit record; Okta under his new name from hour 20
        name = "bob@contoso.com" if h < 20 else "robert@contoso.com"
        rows.append(("signins", entra(f"b{h}", h + 0.1, BOB, name, user_display_name="Bob")))
        rows.append(("signins", entra(f"b{h}x", h + 0.9, BOB, name)))  # a second sighting in the same hour
        if h >= 20:
            rows.append(("signins", okta(f"k{h}", h + 0.3, "00u1", name)))
        rows.append(("activities", o365(f"bo{h}", h + 0.2, name)))
    # an account deleted at hour 24, its UPN reused by a new account from hour 30
    for h in range(0, 24, 5):
        rows.append(("signins", entra(f"o{h}", h, OLD, "sam@contoso.com")))
    rows.append(("directory_events", lifecycle("del-old", 24, OLD, "sam@contoso.com", "Delete user")))
    rows.append(("directory_events", lifecycle("add-new", 29, NEW, "sam@contoso.com", "Add user")))
    for h in range(30, 60, 5):
        rows.append(("signins", entra(f"n{h}", h, NEW, "sam@contoso.com")))
    for h in range(1, 60, 6):
        rows.append(("activities", o365(f"so{h}", h + 0.5, "sam@contoso.com")))
    rows.append(("activities", o365("stranger", 7, "nobody@contoso.com")))
    return rows


def _table(store: Store, name: str) -> list[tuple[Any, ...]]:
    return sorted(store.rows(f"SELECT * FROM {name}"), key=repr)


def _batches(rows: list[tuple[str, dict[str, Any]]], rng: random.Random) -> list[list[tuple[str, dict[str, Any]]]]:
    """Mostly in time order, in random sizes (some of one row), each shuffled; some rows held back a while."""
    ordered = sorted(rows, key=lambda r: (r[1]["event_time"], r[1]["event_id"]))
    late = [r for r in ordered if rng.random() < 0.15]
    rest = [r for r in ordered if r not in late]
    out, i = [], 0
    while i < len(rest):
        size = rng.choice([1, 4, 12, 25])
        batch = rest[i:i + size] + [late.pop(0) for _ in range(min(len(late), rng.randint(0, 2)))]
        i += size
        rng.shuffle(batch)
        out.append(batch)
    if late:
        out.append(late)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_in_any_order_equal_one_run_over_everything(seed: int) -> None:
    rng = random.Random(seed)
    inc, full = open_store(":memory:"), open_store(":memory:")
    modes = []
    for batch in _batches(_rows(), rng):
        for store in (inc, full):
            for table in ("signins", "activities", "directory_events"):
                mine = [r for t, r in batch if t == table]
                if mine:
                    add(store, table, mine)
        modes.append(stage.run(inc, None)["mode"])  # type: ignore[arg-type]
        stage.rebuild(full)
        for name in TABLES:
            assert _table(inc, name) == _table(full, name), (name, len(modes))
    assert modes[0] == "full" and set(modes[1:]) == {"incremental"}
    assert {r[0] for r in full.rows("SELECT name FROM identities")} >= {"jane.smith@contoso.com", "robert@contoso.com"}
    inc.close()
    full.close()


def test_a_new_day_reads_the_new_events_and_the_last_run_of_each_name() -> None:
    store = open_store(":memory:")
    add(store, "signins", [entra(f"d{h}", h, JANE, "jane.doe@contoso.com") for h in range(0, 48, 2)])
    assert stage.run(store, None)["mode"] == "full"  # type: ignore[arg-type]
    add(store, "signins", [entra(f"e{h}", h, JANE, "jane.doe@contoso.com") for h in range(48, 60, 2)])
    out = stage.run(store, None)  # type: ignore[arg-type]
    assert (out["mode"], out["new_events"], out["alias_keys_recomputed"], out["names_reresolved"]) == (
        "incremental", 6, 1, 0)
    assert store.scalar("SELECT events FROM identities") == 30
    assert store.scalar("SELECT count(*) FROM event_identities") == 30
    # nothing new: nothing recomputed
    again = stage.run(store, None)  # type: ignore[arg-type]
    assert (again["mode"], again["new_events"], again["alias_keys_recomputed"]) == ("incremental", 0, 0)
    store.close()


def test_deleted_events_or_a_missing_state_give_a_full_run() -> None:
    store = open_store(":memory:")
    add(store, "signins", [entra("a", 0, JANE, "jane@contoso.com"), entra("b", 1, JANE, "jane@contoso.com")])
    stage.run(store, None)  # type: ignore[arg-type]
    store.execute("DELETE FROM signins WHERE event_id = 'a'")
    out = stage.run(store, None)  # type: ignore[arg-type]
    assert out["mode"] == "full" and store.scalar("SELECT events FROM identities") == 1
    store.execute(f"DROP TABLE {incremental.META}")
    assert stage.run(store, None)["mode"] == "full"  # type: ignore[arg-type]
    assert stage.run(store, None)["mode"] == "incremental"  # type: ignore[arg-type]
    store.close()


def test_name_only_records_move_to_the_account_that_turns_up_later() -> None:
    inc, full = open_store(":memory:"), open_store(":memory:")
    arrivals = [
        [("activities", o365("c1", 3, "carol@contoso.com")), ("activities", o365("c2", 30, "carol@contoso.com"))],
        # her account, seen with the name from hour 2: both records are hers from now on
        [("signins", entra("cs", 2, JANE, "carol@contoso.com"))],
        # the same login at Okta: one person, whose events all take the new person id
        [("signins", okta("ck", 4, "00u9", "carol@contoso.com"))],
    ]
    outs = []
    for batch in arrivals:
        for store in (inc, full):
            for table, r in batch:
                add(store, table, [r])
        outs.append(stage.run(inc, None))  # type: ignore[arg-type]
        stage.rebuild(full)
        for name in TABLES:
            assert _table(inc, name) == _table(full, name), (name, len(outs))
    assert (outs[1]["names_reresolved"], outs[1]["events_moved"]) == (2, 2)
    assert inc.rows("SELECT DISTINCT identity_id, person_id FROM event_identities WHERE event_id IN ('c1', 'c2')") == [
        (JANE, JANE)]
    assert inc.scalar("SELECT count(*) FROM identities WHERE identity_id = 'entra:carol@contoso.com'") == 0
    assert inc.scalar("SELECT count(DISTINCT person_id) FROM event_identities") == 1
    inc.close()
    full.close()
