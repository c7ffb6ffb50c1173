"""The Python API, for notebooks and scripts (names avoid the subpackages' names: ``vigil.hunt`` is the
package, ``vigil.kql`` the function). Every query returns a ``pyarrow.Table``
(``.to_pandas()`` / ``polars.from_arrow()`` from there)::

    import vigil
    store = vigil.open_store("tenant.duckdb")
    vigil.ingest(store, ["exports/SigninLogs.json", "exports/OfficeActivity.json"])
    vigil.analyze(store)
    vigil.sql(store, "select verdict, count(*) from travel group by 1")
    vigil.kql(store, "SigninLogs | summarize count() by Location")
    vigil.table(store, "incidents")
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from vigil.settings import Settings, load_settings
from vigil.store import Store
from vigil.store import open_store as _open_store


def settings_for(store: Store, **overrides: Any) -> Settings:
    """Settings for ``store`` (defaults, ./vigil.yaml or $VIGIL_CONFIG, then dotted ``overrides``)."""
    dotted = {k.replace("__", "."): v for k, v in overrides.items()}
    return load_settings(overrides={"store.path": store.path, **dotted})


def open_store(path: str | Path = "vigil.duckdb", read_only: bool = False) -> Store:
    """Open (creating and migrating when needed) a vigil store."""
    return _open_store(path, read_only=read_only)


def ingest(store: Store, paths: list[str | Path] | str | Path, fmt: str | None = None,
           settings: Settings | None = None) -> pa.Table:
    """Ingest files or folders; one row per file with read / stored / duplicate / quarantined counts."""
    from vigil.sources.ingest import ingest_paths

    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    results = ingest_paths(store, items, settings or settings_for(store), fmt=fmt)
    return pa.Table.from_pylist([r.as_dict() for r in results])


def analyze(store: Store, stages: list[str] | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Run the batch stages (all, or those named); returns each stage's summary."""
    from vigil.pipeline import run_stages

    return run_stages(store, settings or settings_for(store), stages)


def sql(store: Store, query: str, params: list[Any] | None = None) -> pa.Table:
    """Run DuckDB SQL over the store."""
    return store.query(query, params)


def raw(store: Store, event_ids: list[str] | str) -> dict[str, str]:
    """The raw vendor text of stored records, by event id (what the vendor exported, byte for byte)."""
    return store.raw([event_ids] if isinstance(event_ids, str) else list(event_ids))


def table(store: Store, name: str, limit: int | None = None) -> pa.Table:
    """A whole table (or its first ``limit`` rows)."""
    if not store.exists(name):
        from vigil.errors import InputError

        raise InputError(f"no table named {name!r} (have: {', '.join(store.tables())})")
    return store.query(f"select * from {store.ident(name)}" + (f" limit {int(limit)}" if limit else ""))


def kql(store: Store, query: str) -> pa.Table:
    """Run a KQL hunting query (Sentinel table and column names) over the store."""
    from vigil.hunt import run_hunt

    return run_hunt(store, query)


def simulate_tenant(out_dir: str | Path, users: int = 40, days: int = 7, seed: int = 7, **kwargs: Any) -> Any:
    """Write a simulated tenant's logs (vendor formats) with ground-truth labels; see docs/simulate.md."""
    from vigil.simulate import simulate_tenant

    return simulate_tenant(out_dir, users=users, days=days, seed=seed, **kwargs)
