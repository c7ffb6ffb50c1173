"""The lake: Parquet partitioned by tenant and date, a manifest with the DuckDB schema, and a round trip
back into a store that gives the same rows and types."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from vigil.cli import app
from vigil.errors import InputError, StoreError
from vigil.store import Store, open_store
from vigil.store.lake import MANIFEST, Manifest, export_lake, load_lake


def _fill(store: Store, tenants: tuple[str, ...]) -> None:
    store.execute(
        "INSERT INTO signins (event_id, event_time, source_format, source_record_id, tenant_id, user_principal_name, "
        "ip, auth_methods) SELECT 'e' || i, TIMESTAMP '2026-03-01 22:00:00' + i * INTERVAL 1 HOUR, 'entra', 'r' || i, "
        f"{store.dialect.array(tenants)}[1 + i % {len(tenants)}], 'u' || (i % 3) || '@x.test', '10.0.0.' || i, "
        "CASE WHEN i % 2 = 0 THEN '{\"a\": 1}'::JSON END FROM range(6) t(i)")
    store.execute("CREATE TABLE notes (k VARCHAR PRIMARY KEY, v DOUBLE)")
    store.execute("INSERT INTO notes VALUES ('x', 1.5), ('y', NULL)")


def test_partitioned_by_date_and_tenant_where_several(store: Store, tmp_path: Path) -> None:
    _fill(store, ("t1", "t2"))
    manifest = export_lake(store, tmp_path / "lake")
    signins = manifest.tables["signins"]
    assert (signins.time_column, signins.by_tenant, signins.rows) == ("event_time", True, 6)
    parts = sorted(str(p.parent.relative_to(tmp_path / "lake")) for p in (tmp_path / "lake").rglob("*.parquet")
                   if p.parts[-4] == "signins" or p.parts[-3] == "signins")
    assert parts == ["signins/tenant=t1/date=2026-03-01", "signins/tenant=t1/date=2026-03-02",
                     "signins/tenant=t2/date=2026-03-01", "signins/tenant=t2/date=2026-03-02"]
    assert manifest.tables["notes"].partition_by == [] and manifest.tables["notes"].primary_key == ["k"]
    assert (tmp_path / "lake" / "notes" / "part-0.parquet").exists()
    # the files hold the table's own columns only; any Parquet reader sees the table as it was
    got = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path}/lake/signins/**/*.parquet', hive_partitioning=false)")
    assert got.columns == [c for c, _ in signins.columns] and len(got.fetchall()) == 6
    doc = json.loads((tmp_path / "lake" / MANIFEST).read_text())
    assert {t["name"] for t in doc["tables"]} >= {"signins", "notes", "vigil_meta"}
    assert "raw_blocks" not in manifest.tables  # the archive only on request


def test_one_tenant_is_not_partitioned_by_tenant(store: Store, tmp_path: Path) -> None:
    _fill(store, ("t1",))
    manifest = export_lake(store, tmp_path / "lake", ["signins"])
    assert manifest.tables["signins"].partition_by == ["date"]
    assert sorted(p.name for p in (tmp_path / "lake" / "signins").iterdir()) == ["date=2026-03-01", "date=2026-03-02"]


def test_round_trip_into_another_store(store: Store, tmp_path: Path) -> None:
    _fill(store, ("t1", "t2"))
    export_lake(store, tmp_path / "lake")
    with open_store(tmp_path / "other.duckdb") as other:
        loaded = load_lake(other, tmp_path / "lake")
        assert loaded["signins"] == 6 and loaded["notes"] == 2
        for table in ("signins", "notes"):
            q = f"SELECT * FROM {table} ORDER BY 1"
            assert other.query(q).equals(store.query(q)), table
        assert other.scalar("SELECT typeof(auth_methods) FROM signins WHERE auth_methods IS NOT NULL LIMIT 1") == "JSON"
        # loading again replaces, never appends
        load_lake(other, tmp_path / "lake", ["notes"])
        assert other.count("notes") == 2


def test_errors_name_the_lake_and_table(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a vigil lake"):
        Manifest.read(tmp_path)
    with pytest.raises(InputError, match="no table named 'nope'"):
        export_lake(store, tmp_path / "lake", ["nope"])
    export_lake(store, tmp_path / "lake", ["signins"])
    with pytest.raises(InputError, match="the lake has no table 'nope'"):
        load_lake(store, tmp_path / "lake", ["nope"])


def test_cli_export_and_load(store: Store, tmp_path: Path) -> None:
    _fill(store, ("t1",))
    path = store.path
    store.close()
    runner = CliRunner()
    out = runner.invoke(app, ["export", "--lake", str(tmp_path / "lake"), "--db", path, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["tables"]["signins"] == 6
    out = runner.invoke(app, ["load", "--lake", str(tmp_path / "lake"), "signins", "--db",
                              str(tmp_path / "b.duckdb"), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["tables"] == {"signins": 6}


def test_a_lake_from_before_schema_4_loads_behavior_analytics_as_a_view(tmp_path: Path) -> None:
    """An older vigil's lake holds BehaviorAnalytics with its JSON bags: loaded, its rows move to ueba_behavior
    and read back through the view unchanged."""
    import gzip
    import shutil

    from tests.conftest import FIXTURES
    from vigil.store.db import Store as DuckStore

    old = tmp_path / "v1.duckdb"
    with gzip.open(FIXTURES / "store" / "v1-store.duckdb.gz") as src, old.open("wb") as out:
        shutil.copyfileobj(src, out)
    q = 'SELECT * FROM "BehaviorAnalytics" ORDER BY SourceRecordId'
    with duckdb.connect(str(old), read_only=True) as con:  # as the older vigil exported it, unmigrated
        export_lake(DuckStore(con, str(old)), tmp_path / "lake", ["BehaviorAnalytics"])
        want = con.execute(q).fetchall()
    with open_store(tmp_path / "new.duckdb") as new:
        assert load_lake(new, tmp_path / "lake") == {"BehaviorAnalytics": len(want)}
        assert new.rows(q) == want and len(want) > 100
        assert new.count("ueba_behavior") == len(want)
        assert new.rows("SELECT table_type FROM information_schema.tables WHERE table_name = 'BehaviorAnalytics'") \
            == [("VIEW",)]
        load_lake(new, tmp_path / "lake")  # again: replaces
        assert new.rows(q) == want
