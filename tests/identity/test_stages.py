"""Every stage over a store holding every identity case at once; one itinerary per person; a property test."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import vigil
from tests.builders import row
from tests.identity.helpers import T0, add, at, entra, lifecycle, o365, okta, rename
from tests.risk.helpers import add_detections, detection
from vigil.identity import stage
from vigil.pipeline import run_stages
from vigil.risk import lifecycle as risk
from vigil.settings import RiskSettings, load_settings
from vigil.store import Store, open_store

JANE = "0a0a0a0a-0000-4000-8000-000000000001"
OLD = "0b0b0b0b-0000-4000-8000-000000000002"
NEW = "0c0c0c0c-0000-4000-8000-000000000003"
GUEST = "0d0d0d0d-0000-4000-8000-000000000004"
BOB = "0e0e0e0e-0000-4000-8000-000000000005"

LONDON = dict(country="GB", city="London", latitude=51.507, longitude=-0.128)
SYDNEY = dict(country="AU", city="Sydney", latitude=-33.869, longitude=151.209)
PARIS = dict(country="FR", city="Paris", latitude=48.857, longitude=2.352)


def _everything(store: Store) -> None:
    """Renamed users (mid-session, between look-backs, inside a detection's window), a reused UPN, a guest
    made member, name variants, one person at Entra and Okta (linked) and one who is not."""
    add(store, "signins", [
        # Jane: renamed in the middle of a session, then signs in to Okta from Sydney minutes after London
        entra("j1", 0, JANE, "jane.doe@contoso.com", session_id="js", is_interactive=True, **LONDON),
        entra("j2", 1, JANE, "jane.smith@contoso.com", session_id="js", is_interactive=True, **LONDON),
        okta("j3", 1.25, "00u1", "jane.smith@contoso.com", is_interactive=True, **SYDNEY),
        # renamed between look-backs (40 days apart) and inside a legacy-auth window
        entra("j4", 24 * 40, JANE, "Jane.Smith@Contoso.com ", client_app_type="IMAP4", **LONDON),
        # a UPN reused by a re-created account
        entra("x1", 0, OLD, "alex@contoso.com", is_interactive=True, **PARIS),
        entra("x2", 100, NEW, "alex@contoso.com", is_interactive=True, **LONDON),
        # a guest converted to a member
        entra("g1", 0, GUEST, "sam_fabrikam.com#ext#@contoso.onmicrosoft.com", user_type="Guest", **PARIS),
        entra("g2", 30, GUEST, "sam@contoso.com", user_type="Member", **PARIS),
        # Bob at Okta under another login: not linked
        entra("b1", 0, BOB, "bob@contoso.com", is_interactive=True, **LONDON),
        okta("b2", 0.5, "00u2", "rob@okta-contoso.com", is_interactive=True, **SYDNEY),
    ])
    add(store, "directory_events", [
        rename("r1", 0.5, JANE, "jane.doe@contoso.com", "jane.smith@contoso.com"),
        lifecycle("del", 20, OLD, "alex@contoso.com", "Delete user"),
        lifecycle("add", 90, NEW, "alex@contoso.com", "Add user"),
    ])
    add(store, "activities", [o365("a1", 0.75, "JANE.SMITH@contoso.com", session_id="js"),
                              o365("a2", 10, "alex@contoso.com"), o365("a3", 95, "alex@contoso.com")])


def test_every_stage_runs_to_the_end_and_travel_is_one_itinerary_per_person(tmp_path: Path) -> None:
    settings = load_settings(overrides={"store.path": str(tmp_path / "t.duckdb")}, environ={})
    store = open_store(settings.store.path)
    try:
        _everything(store)
        out = run_stages(store, settings)
        assert list(out)[0] == "identity" and out["identity"]["persons"] == 6  # Jane, Alex x2, Sam, Bob x2
        persons = dict(store.rows("select identity_id, person_id from identities where account_id is not null"))
        assert persons["okta:00u1"] == JANE and persons["okta:00u2"] == "okta:00u2"
        # one itinerary: London (Entra) -> Sydney (Okta) minutes later is impossible travel for Jane
        legs = store.query("select * from travel where to_event_id = 'j3'").to_pylist()
        assert len(legs) == 1 and legs[0]["from_event_id"] == "j2" and legs[0]["verdict"] == "impossible"
        assert legs[0]["user_principal_name"] == "jane.smith@contoso.com" and legs[0]["user_id"] == "00u1"
        # Bob's Okta account is another person: no leg between his two accounts
        assert store.count("travel") == store.scalar("select count(*) from travel where to_event_id <> 'b2'")
        # the finding names the account and provider it came from, and both sides
        det = store.query("""select * from "riskDetections" where event_id = 'j3'
                             and riskEventType = 'mcasImpossibleTravel'""").to_pylist()
        assert det and det[0]["userId"] == "00u1"
        evidence = json.loads(det[0]["additionalInfo"])["evidence"]
        assert (evidence["from_source"], evidence["to_source"]) == ("entra_signin_graph", "okta_system")
        # the renamed user's session is one, under one account, with the Office record stitched into it
        sessions = store.query("select * from sessions where session_id = 'js'").to_pylist()
        assert len(sessions) == 1 and sessions[0]["event_count"] == 3
        # risk: one user per person, named by the current name
        users = {r["id"]: r for r in store.query("""select * from "riskyUsers" where source = 'vigil'""").to_pylist()}
        assert JANE in users and users[JANE]["userPrincipalName"] == "jane.smith@contoso.com"
        assert "okta:00u1" not in users and "jane.doe@contoso.com" not in users
        assert users[JANE]["activeDetections"] == 2  # the Okta finding and the Entra one add up
        # UEBA: the rename is not a new user (one baseline key for all of Jane's Entra events)
        keys = store.rows("""select distinct b.UserPrincipalName from "BehaviorAnalytics" b
                             where b.SourceRecordId in ('j1', 'j2', 'j4')""")
        assert len(keys) >= 1
        assert store.scalar("""select count(distinct user_key) from ueba_user_daily
                               where user_key like 'jane%'""") == 1
        # hunting: Sentinel's columns as Sentinel fills them, the name on each record
        names = vigil.kql(store, f'SigninLogs | where UserId == "{JANE}" | distinct UserPrincipalName').to_pylist()
        assert {r["UserPrincipalName"].strip() for r in names} == {"jane.doe@contoso.com", "jane.smith@contoso.com"}
    finally:
        store.close()


# Property: reassigning names at random never changes how many identities (and persons, and risky users)
# the stages report for a fixed set of object ids.
OIDS = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, 5)]
NAMES = ["a@contoso.com", "A@Contoso.com ", "b@contoso.com", "c@contoso.com", "shared@contoso.com"]


@hsettings(max_examples=25)
@given(st.lists(st.tuples(st.sampled_from(OIDS), st.sampled_from(NAMES), st.integers(0, 200)), min_size=4,
                max_size=24).filter(lambda rows: {o for o, _, _ in rows} == set(OIDS)))
def test_random_names_never_change_the_number_of_identities(rows: list[tuple[str, str, int]]) -> None:
    store = open_store(":memory:")
    try:
        add(store, "signins", [entra(f"e{i}", h, oid, name) for i, (oid, name, h) in enumerate(rows)])
        out = stage.rebuild(store)
        assert (out["identities"], out["persons"]) == (len(OIDS), len(OIDS))
        assert store.scalar("select count(distinct person_id) from event_identities") == len(OIDS)
        # the risk stage's users: one detection per sign-in, whatever name it carried
        add_detections(store, [detection(event_id=f"e{i}", userId=oid, userPrincipalName=name.strip().lower(),
                                         activityDateTime=T0 + timedelta(hours=h), id=f"d{i}")
                               for i, (oid, name, h) in enumerate(rows)])
        risk.apply(store, RiskSettings.model_validate({}))
        assert store.scalar("""select count(*) from "riskyUsers" where source = 'vigil'""") == len(OIDS)
    finally:
        store.close()


def test_a_name_only_record_of_a_renamed_user_lands_in_the_right_window() -> None:
    store = open_store(":memory:")
    try:
        add(store, "signins", [entra("s1", 0, JANE, "jane.doe@contoso.com")])
        add(store, "directory_events", [rename("r", 5, JANE, "jane.doe@contoso.com", "jane.smith@contoso.com")])
        add(store, "activities", [row("activities", event_id="a", event_time=at(6), source_format="o365_management_api",
                                      user_principal_name="jane.smith@contoso.com")])
        stage.rebuild(store)
        assert store.rows("select identity_id, resolved_by from event_identities where event_id = 'a'") == \
            [(JANE, "alias")]
    finally:
        store.close()


def test_a_rename_inside_a_detection_window_raises_no_first_time_finding(tmp_path: Path) -> None:
    # IMAP every day for a week, renamed on day 3: legacy auth is raised once (the first), not again
    settings = load_settings(overrides={"store.path": str(tmp_path / "t.duckdb")}, environ={})
    store = open_store(settings.store.path)
    try:
        add(store, "signins", [entra(f"imap{d}", 24 * d, JANE, "jane.doe@contoso.com" if d < 3 else
                                     "jane.smith@contoso.com", client_app_type="IMAP4", **LONDON) for d in range(7)])
        run_stages(store, settings)
        found = store.rows("""select event_id from "riskDetections" where riskEventType = 'legacyAuthentication'
                              order by event_id""")
        assert found == [("imap0",)]
    finally:
        store.close()
