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

from collections.abc import Iterator
from contextlib import contextmanager
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


def sql(store: Store, query: str, params: list[Any] | None = None, timeout_s: float | None = None) -> pa.Table:
    """Run one read-only SELECT over the store (no writes, no file access; ``hunt.timeout_s`` unless
    ``timeout_s`` is given). Write with the functions above, never through here."""
    from vigil.hunt import run_sql

    with _hunting(store) as cur:
        return run_sql(cur, query, params, timeout_s=timeout_s or settings_for(store).hunt.timeout_s)


def raw(store: Store, event_ids: list[str] | str) -> dict[str, str]:
    """The raw vendor text of stored records, by event id (what the vendor exported, byte for byte)."""
    return store.raw([event_ids] if isinstance(event_ids, str) else list(event_ids))


def table(store: Store, name: str, limit: int | None = None) -> pa.Table:
    """A whole table (or its first ``limit`` rows)."""
    if not store.exists(name):
        from vigil.errors import InputError

        raise InputError(f"no table named {name!r} (have: {', '.join(store.tables())})")
    return store.query(f"select * from {store.ident(name)}" + (f" limit {int(limit)}" if limit else ""))


def kql(store: Store, query: str, timeout_s: float | None = None) -> pa.Table:
    """Run a KQL hunting query (Sentinel table and column names) over the store; read-only like ``sql``."""
    from vigil.hunt import run_hunt

    with _hunting(store) as cur:
        return run_hunt(cur, query, timeout_s=timeout_s or settings_for(store).hunt.timeout_s)


@contextmanager
def _hunting(store: Store) -> Iterator[Store]:
    """A cursor of its own (the caller's open transaction never mixes with the hunt's read-only one) on an
    instance without file access (a no-op for stores vigil opened: they are hardened already)."""
    from vigil.store.readonly import harden

    cur = store.con.cursor()
    try:
        harden(cur)
        yield Store(cur, store.path)
    finally:
        cur.close()


def simulate_tenant(out_dir: str | Path, users: int = 40, days: int = 7, seed: int = 7, **kwargs: Any) -> Any:
    """Write a simulated tenant's logs (vendor formats) with ground-truth labels; see docs/simulate.md."""
    from vigil.simulate import simulate_tenant

    return simulate_tenant(out_dir, users=users, days=days, seed=seed, **kwargs)
