"""Sentinel analytic rules imported as detections: translated at import, run with the others, feed incidents."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.builders import insert, row
from vigil.detections.sentinel import import_rule
from vigil.errors import InputError, QueryError
from vigil.pipeline import run_stages
from vigil.settings import load_settings
from vigil.store import Store, open_store

RULES = Path(__file__).resolve().parents[1] / "hunt" / "sentinel_content" / "rules"
T0 = datetime(2026, 3, 2, 12, 0)
PLACES = [("DE", "Berlin"), ("BR", "Sao Paulo"), ("VN", "Hanoi"), ("US", "Chicago")]


def _signin(upn: str, when: datetime, *, ok: bool, place: tuple[str, str], ip: str) -> dict[str, object]:
    return row("signins", event_time=when, user_principal_name=upn, user_id=f"id-{upn}", is_interactive=True,
               app_name="Office 365 Exchange Online", result="success" if ok else "failure",
               result_code=None if ok else "50126",
               result_reason=None if ok else "Invalid username or password or Invalid on-premise username or password.",
               ip=ip, country=place[0], city=place[1], tenant_id="t-1", user_type="Member")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "vigil.duckdb")
    rows = [_signin("victim@contoso.com", T0 - timedelta(minutes=5 * i), ok=False, place=PLACES[i % 3],
                    ip=f"203.0.113.{i}") for i in range(35)]
    rows += [_signin(f"user{n}@contoso.com", T0 - timedelta(hours=n, minutes=7), ok=True, place=PLACES[3],
                     ip="198.51.100.7") for n in range(6)]
    insert(s, "signins", rows)
    return s


def test_imported_rule_runs_with_the_others_and_raises_an_incident(store: Store, tmp_path: Path) -> None:
    imported = import_rule(store, RULES / "DistribPassCrackAttempt.yaml").to_dict()
    assert imported["id"] == "sentinel:bfb1c90f-8006-4325-98be-c7fffbc254d6"
    assert (imported["level"], imported["user"], imported["mitre"]) == ("medium", "UserPrincipalName", ["T1110"])
    settings = load_settings(overrides={"store.path": str(tmp_path / "vigil.duckdb")}, environ={})
    run_stages(store, settings)
    found = store.rows("""SELECT userPrincipalName, riskLevel, reason FROM riskDetections
                          WHERE riskEventType = 'sentinel:bfb1c90f-8006-4325-98be-c7fffbc254d6'""")
    assert [(u, level) for u, level, _ in found] == [("victim@contoso.com", "medium")]
    assert "Distributed Password cracking attempts" in found[0][2]
    incidents = store.rows("""SELECT user_principal_name FROM incidents WHERE list_contains(
        CAST(risk_event_types AS VARCHAR[]), 'sentinel:bfb1c90f-8006-4325-98be-c7fffbc254d6')""")
    assert incidents == [("victim@contoso.com",)]


def test_the_query_period_and_trigger_are_kept(store: Store, tmp_path: Path) -> None:
    # the attack is 3 days before the newest event: outside the rule's one-day queryPeriod
    insert(store, "signins", [_signin("late@contoso.com", T0 + timedelta(days=3), ok=True, place=PLACES[3],
                                      ip="198.51.100.8")])
    import_rule(store, RULES / "DistribPassCrackAttempt.yaml")
    run_stages(store, load_settings(overrides={"store.path": str(tmp_path / "vigil.duckdb")}, environ={}),
               only=["enrich", "sessions", "ueba", "detections"])
    assert store.scalar("SELECT count(*) FROM riskDetections WHERE riskEventType LIKE 'sentinel:%'") == 0


def test_what_cannot_be_imported_is_refused_in_one_line(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no Account entity mapping"):
        import_rule(store, RULES / "SigninPasswordSpray.yaml")
    with pytest.raises(InputError, match="not a scheduled analytic rule"):
        import_rule(store, RULES / "NRT_AuthenticationMethodsChangedforVIPUsers.yaml")
    rule = tmp_path / "Pivot.yaml"   # a published rule whose query uses a construct vigil refuses
    text = (RULES / "ExplicitMFADeny.yaml").read_text(encoding="utf-8")
    rule.write_text(text.replace("query: |\n  SigninLogs\n", "query: |\n  SigninLogs\n  | evaluate pivot(AppDisplayName)\n"),
                    encoding="utf-8")
    with pytest.raises(QueryError, match="unsupported KQL construct"):
        import_rule(store, rule)
