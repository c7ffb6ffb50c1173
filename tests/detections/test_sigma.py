"""Sigma rules through the vigil backend: translation, reasons for what is left out, findings when run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import sigma_rules
from tests.detections.upstream import create_upstream, insert
from vigil.detections import engine, imported
from vigil.detections.sigma.load import check_runs, import_dir
from vigil.settings import load_settings
from vigil.store import Store

CONSOLE_NO_MFA = """
title: AWS Console Login Without MFA
id: 77777777-0000-4000-8000-000000000001
status: test
description: a console sign-in that succeeded without MFA
tags: [attack.initial-access, attack.t1078.004]
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventName: 'ConsoleLogin'
        additionalEventData.MFAUsed: 'NO'
        responseElements.ConsoleLogin: 'Success'
    filter_tool:
        userAgent|contains: '100%_tool'
    condition: selection and not filter_tool
level: high
"""

ROPC = """
title: Legacy ROPC sign-in with a single factor
id: 77777777-0000-4000-8000-000000000002
logsource: {product: azure, service: signinlogs}
detection:
    selection:
        Status: 'Success'
        userAgent|contains|all: ['bav2', 'ropc']
        ResultType: 0
    condition: selection
level: informational
"""

OKTA_MFA_RESET = """
title: Okta MFA Reset or Deactivated
id: 77777777-0000-4000-8000-000000000003
tags: [attack.persistence, attack.t1556.006]
logsource: {product: okta, service: okta}
detection:
    selection:
        eventType|re: '^user\\.mfa\\.factor\\.(deactivate|reset_all)$'
    condition: selection
level: medium
"""

LEFT_OUT = {
    "nofield.yml": """
title: Needs a field vigil does not keep
logsource: {product: azure, service: signinlogs}
detection:
    selection: {NetworkLocationDetails: '[]'}
    condition: selection
level: low
""",
    "onelogin.yml": """
title: OneLogin
logsource: {product: onelogin, service: onelogin.events}
detection:
    selection: {event_type_id: 17}
    condition: selection
level: low
""",
    "broken.yml": "title: [unclosed\n",
}


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _import(store: Store, folder: Path) -> dict[str, str]:
    result = import_dir(folder)
    check_runs(store, result)
    imported.replace(store, "sigma", result.rules)
    return {Path(o.path).name: ("loaded" if o.loaded else o.reason) for o in result.outcomes}


def _run(store: Store, tmp_path: Path) -> list[dict[str, object]]:
    settings = load_settings(overrides={"store.path": store.path}, environ={})
    engine.run(store, settings, only=[r.id for r in imported.load(store)])
    return store.query("""select event_id, riskLevel, riskEventType, mitre, reason, additionalInfo
                          from "riskDetections" order by event_id""").to_pylist()


def test_rules_run_as_detections_with_level_and_tags(store: Store, tmp_path: Path) -> None:
    create_upstream(store)
    insert(store, "signins_enriched", [
        # CloudTrail console sign-ins: without MFA (raised), with MFA, a failure, and the filtered tool
        {"event_id": "ct1", "event_time": "2026-01-05T09:00:00", "user_principal_name": "ada", "app_name":
         "AWS Management Console", "token_issuer_type": "AWS", "result": "success", "mfa_satisfied": False},
        {"event_id": "ct2", "event_time": "2026-01-05T09:01:00", "user_principal_name": "bob", "app_name":
         "AWS Management Console", "token_issuer_type": "AWS", "result": "success", "mfa_satisfied": True},
        {"event_id": "ct3", "event_time": "2026-01-05T09:02:00", "user_principal_name": "cy", "app_name":
         "AWS Management Console", "token_issuer_type": "AWS", "result": "failure", "mfa_satisfied": False},
        {"event_id": "ct4", "event_time": "2026-01-05T09:03:00", "user_principal_name": "di", "app_name":
         "AWS Management Console", "token_issuer_type": "AWS", "result": "success", "mfa_satisfied": False,
         "user_agent": "my 100%_tool/1"},
        # Entra: ROPC success (case-insensitive, |all), a ROPC failure, an Okta sign-in with that agent
        {"event_id": "e1", "event_time": "2026-01-05T10:00:00", "user_principal_name": "ada", "result": "success",
         "result_code": "0", "user_agent": "BAV2ROPC", "token_issuer_type": "AzureAD"},
        {"event_id": "e2", "event_time": "2026-01-05T10:01:00", "user_principal_name": "ada", "result": "failure",
         "result_code": "50126", "user_agent": "BAV2ROPC"},
        {"event_id": "e3", "event_time": "2026-01-05T10:02:00", "user_principal_name": "ada", "result": "success",
         "result_code": "0", "user_agent": "BAV2ROPC", "token_issuer_type": "Okta"},
    ])
    insert(store, "activities_enriched", [
        {"event_id": "o1", "event_time": "2026-01-05T11:00:00", "user_principal_name": "ada", "workload": "Okta",
         "operation": "user.mfa.factor.reset_all"},
        {"event_id": "o2", "event_time": "2026-01-05T11:01:00", "user_principal_name": "ada", "workload": "Okta",
         "operation": "user.mfa.factor.reset_all.extra"},
    ])
    folder = _write(tmp_path / "rules", {"console.yml": CONSOLE_NO_MFA, "ropc.yml": ROPC, "okta.yml": OKTA_MFA_RESET,
                                         **LEFT_OUT})
    outcomes = _import(store, folder)
    assert outcomes["console.yml"] == outcomes["ropc.yml"] == outcomes["okta.yml"] == "loaded"
    assert outcomes["nofield.yml"] == "field 'NetworkLocationDetails' has no equivalent in vigil for azure/signinlogs"
    assert outcomes["onelogin.yml"].startswith("logsource onelogin/onelogin.events")
    assert outcomes["broken.yml"].startswith("not a valid Sigma rule")

    found = _run(store, tmp_path)
    assert [(f["event_id"], f["riskLevel"]) for f in found] == [("ct1", "high"), ("e1", "low"), ("o1", "medium")]
    console = found[0]
    assert console["riskEventType"] == "sigma:77777777-0000-4000-8000-000000000001"
    assert json.loads(console["mitre"]) == ["T1078.004"]
    assert "AWS Console Login Without MFA" in console["reason"]
    evidence = json.loads(console["additionalInfo"])["evidence"]
    assert (evidence["sigma_level"], evidence["logsource"], evidence["mfa"]) == ("high", "aws/cloudtrail", False)


def test_importing_again_replaces_the_rules(store: Store, tmp_path: Path) -> None:
    create_upstream(store)
    _import(store, _write(tmp_path / "a", {"console.yml": CONSOLE_NO_MFA, "ropc.yml": ROPC}))
    assert len(imported.load(store)) == 2
    _import(store, _write(tmp_path / "b", {"okta.yml": OKTA_MFA_RESET}))
    assert [r.title for r in imported.load(store)] == ["Okta MFA Reset or Deactivated"]


def test_the_published_identity_rules(store: Store, tmp_path: Path) -> None:
    folder = sigma_rules()
    create_upstream(store)
    store.ensure([imported.IMPORTED_DETECTIONS])
    from vigil.detections.tables import RISK_DETECTIONS
    from vigil.store.schema import DIRECTORY_EVENTS

    store.ensure([RISK_DETECTIONS, DIRECTORY_EVENTS])
    result = import_dir(folder)
    check_runs(store, result)
    assert len(result.outcomes) == 143
    # every rule left out says why; every loaded one ran (its SQL executed over the store)
    assert all(o.reason for o in result.outcomes if not o.loaded)
    assert result.loaded == len(result.rules) >= 90
    reasons = {o.reason for o in result.outcomes if not o.loaded}
    assert not [r for r in reasons if r.startswith("query failed")], reasons
    imported.replace(store, "sigma", result.rules)
    settings = load_settings(overrides={"store.path": store.path}, environ={})
    run = engine.run(store, settings, only=[r.id for r in result.rules])
    assert not run.skipped and len(run.counts) == result.loaded


@pytest.mark.parametrize("name", ["missing"])
def test_not_a_folder_names_it(tmp_path: Path, name: str) -> None:
    from vigil.errors import InputError

    with pytest.raises(InputError, match=name):
        import_dir(tmp_path / name)
