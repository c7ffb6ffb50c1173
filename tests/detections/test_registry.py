"""The catalogue: discovery, metadata, config (disable / tune), isolation from vendor formats."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.detections.cases import load
from tests.detections.upstream import create_upstream
from tests.layers import edges, unit
from vigil.detections import engine, registry
from vigil.detections.base import LEVELS
from vigil.errors import ConfigError
from vigil.settings import load_settings
from vigil.store import Store

PKG = Path(registry.__file__).resolve().parent
DOCS = Path(__file__).resolve().parents[2] / "docs" / "detections.md"


def test_catalogue_is_complete_and_consistent() -> None:
    dets = registry.all_detections()
    assert len(dets) >= 17
    required = {"unlikelyTravel", "impossibleTravel", "newCountry", "unfamiliarFeatures", "anonymizedIPAddress",
                "maliciousIPAddress", "passwordSpray", "bruteForce", "credentialStuffing", "mfaFatigue",
                "anomalousToken", "attackerinTheMiddle", "leakedCredentials", "suspiciousInboxForwarding",
                "suspiciousInboxManipulation", "massDownload", "legacyAuthentication"}
    assert required <= {d.id for d in dets}
    for d in dets:
        assert d.title and len(d.description) > 40, d.id
        assert d.timing in ("realtime", "offline") and d.activity in ("signin", "user")
        assert set(d.levels) <= set(LEVELS) and d.levels
        assert all(re.fullmatch(r"T\d{4}(\.\d{3})?", m) for m in d.mitre), d.mitre
        assert d.requires and d.level_rules


def test_every_detection_has_positive_and_negative_cases() -> None:
    for d in registry.all_detections():
        cases = load(d).get("cases", [])
        assert any(c["expect"] for c in cases), f"{d.id}: no positive case in {registry.cases_path(d).name}"
        assert any(not c["expect"] for c in cases), f"{d.id}: no negative case in {registry.cases_path(d).name}"
        levels = {e["risk_level"] for c in cases for e in c["expect"]}
        assert levels <= set(d.levels), f"{d.id}: cases expect levels {levels} outside {d.levels}"


def test_every_detection_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for d in registry.all_detections():
        assert f"### {d.id}" in text, f"docs/detections.md has no section '### {d.id}'"


def test_detections_never_import_vendor_formats() -> None:
    # stricter than the layers (tests/test_layers.py): detections read canonical tables only
    bad = [f"{e.src} imports {e.dst} at {e.where}" for e in edges() if unit(e.src) == "detections"
           and unit(e.dst) == "sources"]
    assert not bad, bad


def test_disabled_detection_is_not_run_and_unknown_ids_are_errors(store: Store) -> None:
    create_upstream(store)
    s = load_settings(overrides={"store.path": store.path, "detections.disabled": ["newCountry"]}, environ={})
    result = engine.run(store, s)
    assert "newCountry" not in result.counts and "passwordSpray" in result.counts
    assert "leakedCredentials" in result.skipped  # no list configured: said, not silently empty
    with pytest.raises(ConfigError, match="nope"):
        engine.run(store, load_settings(overrides={"store.path": store.path, "detections.disabled": ["nope"]},
                                        environ={}))
    with pytest.raises(ConfigError, match="min_acounts"):
        engine.run(store, load_settings(overrides={
            "store.path": store.path, "detections.params": {"passwordSpray": {"min_acounts": 3}}}, environ={}))
    with pytest.raises(ConfigError, match="must be a number"):
        engine.run(store, load_settings(overrides={
            "store.path": store.path, "detections.params": {"passwordSpray": {"min_accounts": "5; drop"}}},
            environ={}))


def test_missing_upstream_is_reported_not_empty(store: Store) -> None:
    result = engine.run(store, load_settings(overrides={"store.path": store.path}, environ={}))
    # a fresh store has its canonical tables (directory_events): detections reading only those run and find
    # nothing; every other one is skipped, naming what it needs
    assert all(set(registry.get(d).requires) <= {"directory_events"} for d in result.counts)
    assert not any(result.counts.values())
    assert "signins_enriched" in result.skipped["newCountry"]
    assert "session_hijacks" in result.skipped["attackerinTheMiddle"]


def test_leaked_list_that_matches_nobody_is_said(store: Store, tmp_path: Path) -> None:
    import hashlib

    from tests.builders import insert as insert_canonical
    from tests.builders import row

    create_upstream(store)
    insert_canonical(store, "signins", [row("signins", user_principal_name="ada@contoso.com")])
    p = tmp_path / "leaked.txt"
    p.write_text(hashlib.sha256(b"ada@contoso.com:Winter2025!").hexdigest() + "\n", encoding="ascii")
    s = load_settings(overrides={"store.path": store.path, "detections.leaked_credentials_path": str(p)},
                      environ={})
    result = engine.run(store, s, only=["leakedCredentials"])
    assert "upn,hash" in result.notes["leakedCredentials"]
    p.write_text("ada@contoso.com," + "ab" * 32 + "\n", encoding="ascii")
    assert "leakedCredentials" not in engine.run(store, s, only=["leakedCredentials"]).notes
    p.write_text("ada@contoso.com,Winter2025!\n", encoding="ascii")
    with pytest.raises(Exception, match="plaintext refused"):
        engine.run(store, s, only=["leakedCredentials"])



@given(st.one_of(st.text(), st.booleans(), st.none(), st.lists(st.integers())))
def test_params_never_render_non_numbers(value: object) -> None:
    params = registry.get("passwordSpray").with_params({"min_accounts": value})
    with pytest.raises(ConfigError):
        params.num("min_accounts")


@given(st.lists(st.text(min_size=1), min_size=1))
def test_string_lists_are_quoted(values: list[str]) -> None:
    params = registry.get("massDownload").with_params({"operations": values})
    rendered = params.strs("operations")
    import duckdb

    assert duckdb.sql(f"select list_value{rendered}").fetchall()[0][0] == values


def test_documented_parameters_match_the_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for d in registry.all_detections():
        section = text.split(f"### {d.id}\n", 1)[1].split("\n### ", 1)[0]
        for name, value in d.params.items():
            assert f"| `{name}` | `{value}` |" in section, f"docs/detections.md: {d.id}.{name} = {value} missing"
