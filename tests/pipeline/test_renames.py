"""A renamed user never stops the analysis (issue 21): the vendor files, every stage, to the end."""
from __future__ import annotations

from pathlib import Path

import vigil
from tests.conftest import FIXTURES


def test_a_rename_between_two_risky_signins_analyses_to_the_end(tmp_path: Path) -> None:
    store = vigil.open_store(tmp_path / "t.duckdb")
    try:
        vigil.ingest(store, [FIXTURES / "identity" / "renamed_user_signins.json"])
        out = vigil.analyze(store)
        assert out["risk"]["riskyUsers"] == 1
        users = vigil.sql(store, """select id, userPrincipalName, activeDetections from "riskyUsers" """).to_pylist()
        assert users == [{"id": "11111111-1111-1111-1111-111111111111",
                          "userPrincipalName": "jane.smith@contoso.com", "activeDetections": 2}]
    finally:
        store.close()
