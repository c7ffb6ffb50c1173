"""BehaviorAnalytics is a view folding ueba_behavior's typed insight columns into Sentinel's JSON bags: for the
same events it reads exactly what the stored-JSON table gave (frozen from the code before the change), a store
holding another shape of ueba_behavior is recomputed, and hunts filter on the bags as before."""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURES
from vigil.settings import Settings, load_settings
from vigil.store import Store, open_store
from vigil.ueba import stage  # the new code's names are imported in the tests: freezing runs the old code

#: BehaviorAnalytics of the tenant below as written by commit 12040a1 (the JSON stored in the table), per
#: SourceRecordId: [UsersInsights, DevicesInsights, ActivityInsights, InvestigationPriority, its reason].
#: Re-freeze (when the insights change on purpose) with `python -m tests.ueba.test_behavior_view OUT.json.gz`.
FROZEN = FIXTURES / "ueba" / "behavior-bags-12040a1.json.gz"
COLUMNS = ("UsersInsights", "DevicesInsights", "ActivityInsights", "InvestigationPriority",
           "InvestigationPriorityReason")


def analyse(folder: Path) -> tuple[Store, Settings]:
    """A small simulated tenant (every campaign type, a directory), through the ueba stage alone."""
    from vigil.simulate import simulate_tenant
    from vigil.sources.ingest import ingest_paths
    from vigil.ueba.directory import ingest_directory

    simulate_tenant(folder / "sim", users=8, days=8, seed=5)
    settings = load_settings(overrides={"store.path": str(folder / "vigil.duckdb"), "ueba.learning_days": 2},
                             environ={})
    store = open_store(settings.store.path)
    logs = [folder / "sim" / n for n in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json",
                                         "OfficeActivity_ManagementAPI.json", "AuditLogs.json")]
    assert not [r.error for r in ingest_paths(store, logs, settings) if r.error]
    ingest_directory(store, [folder / "sim" / "users.json", folder / "sim" / "groups.json"])
    stage.run(store, settings)
    return store, settings


def bags(store: Store) -> dict[str, list[Any]]:
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    return {str(r[0]): list(r[1:]) for r in store.rows(f'SELECT SourceRecordId, {cols} FROM "BehaviorAnalytics"')}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store, settings = analyse(tmp_path_factory.mktemp("bags"))
    yield store, settings
    store.close()


def test_the_view_reads_what_the_stored_json_gave(analysed: tuple[Store, Settings]) -> None:
    from vigil.ueba.tables import INSIGHT_BAGS

    store, _ = analysed
    frozen = json.loads(gzip.decompress(FROZEN.read_bytes()))
    now = bags(store)
    assert set(now) == set(frozen) and len(now) > 1000
    differ = [k for k in sorted(now) if [orjson.loads(v) if i < 3 else v for i, v in enumerate(now[k])]
              != [orjson.loads(v) if i < 3 else v for i, v in enumerate(frozen[k])]]
    assert differ == [], (differ[:3], now[differ[0]], frozen[differ[0]])
    # the flags are really there: rows with each kind of insight set
    act = [orjson.loads(v[2]) for v in now.values()]
    assert all(any(a.get(c.name) is True for a in act) for c in INSIGHT_BAGS["ActivityInsights"][:5])


def test_bags_are_not_stored(analysed: tuple[Store, Settings]) -> None:
    from vigil.ueba.tables import INSIGHT_BAGS

    store, _ = analysed
    stored = dict(store.rows("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'ueba_behavior'"))
    assert not set(INSIGHT_BAGS) & set(stored)
    assert stored["FirstTimeUserConnectedFromCountry"] == "BOOLEAN" and stored["App"] == "VARCHAR"
    assert store.rows("SELECT table_type FROM information_schema.tables WHERE table_name = 'BehaviorAnalytics'") \
        == [("VIEW",)]


def test_hunts_read_the_bags(analysed: tuple[Store, Settings]) -> None:
    from vigil.hunt import run_hunt

    store, _ = analysed
    want = store.scalar("SELECT count(*) FROM ueba_behavior WHERE FirstTimeUserConnectedFromCountry")
    got = run_hunt(store, "BehaviorAnalytics | where ActivityInsights.FirstTimeUserConnectedFromCountry == true "
                          "| extend Name = tostring(UsersInsights.AccountDisplayName) | project Name")
    assert got.num_rows == want > 0


def test_a_store_with_another_shape_is_recomputed(analysed: tuple[Store, Settings]) -> None:
    from vigil.ueba.tables import UEBA_BEHAVIOR

    store, settings = analysed
    before = bags(store)
    # as a store upgraded from one whose bags lacked a key would hold it
    store.execute(f"ALTER TABLE {UEBA_BEHAVIOR.name} DROP COLUMN UncommonHighVolumeOfOperations")
    summary = stage.run(store, settings)
    assert summary["behavior_mode"] == "full" and bags(store) == before


if __name__ == "__main__":  # freeze: run with PYTHONPATH naming the code whose output is the reference
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        st, _ = analyse(Path(tmp))
        Path(sys.argv[1]).write_bytes(gzip.compress(json.dumps(bags(st), sort_keys=True).encode(), 9))
        st.close()
