"""Pipeline stage ``identity`` (first of ``vigil analyze``): accounts, aliases, links, persons, and the
identity of every sign-in and activity. The first run (and any run the incremental state cannot serve)
computes everything from the whole store; later runs on DuckDB take in only the events that have no identity
yet (:mod:`vigil.identity.incremental`), with the same result. Manual link actions survive
(``identity_link_actions`` is never replaced) and rebuild everything (``actions.record``)."""
from __future__ import annotations

from typing import Any

from vigil.identity import incremental, links, resolve
from vigil.identity.tables import TABLES
from vigil.settings import Settings
from vigil.store import Store


_TEMPS = ("_id_ev", "_id_obs", "_id_renames", "_id_life", "_id_alias", "_id_runs", "_id_weak", "_id_event_map",
          "_id_identities", "_id_cand", "_id_links", "_id_edges", "_id_lbl", "_id_lbl_next", "_id_person")


def rebuild(store: Store) -> dict[str, Any]:
    """Everything from the whole store (and the incremental update's state from it)."""
    store.ensure(TABLES)
    resolve.resolve(store)
    passes = links.link_and_group(store)
    con = store.con
    with store.transaction():
        incremental.replace_tables(store)
        con.execute("DELETE FROM event_identities")
        con.execute("""INSERT INTO event_identities SELECT m.event_id, m.event_table, m.identity_id, p.person_id,
          m.resolved_by FROM _id_event_map m JOIN _id_person p ON p.identity_id = m.identity_id""")
    incremental.seed(store)
    _drop(store)
    return _summary(store, passes, {"mode": "full"})


def update(store: Store) -> dict[str, Any] | None:
    """Only what the new events touch (:mod:`vigil.identity.incremental`); None when that cannot be done."""
    store.ensure(TABLES)
    done = incremental.update(store)
    if done is None:
        _drop(store)
        return None
    passes = links.link_and_group(store)
    with store.transaction():
        incremental.write(store)
    _drop(store)
    return _summary(store, passes, {"mode": "incremental", **done})


def _drop(store: Store) -> None:
    for t in _TEMPS + incremental.TEMPS:
        store.con.execute(f"DROP TABLE IF EXISTS temp.{t}")


def _summary(store: Store, passes: int, extra: dict[str, Any]) -> dict[str, Any]:
    row = store.rows("""SELECT count(*), count(DISTINCT person_id), count(*) FILTER (WHERE deleted_time IS NOT NULL)
                        FROM identities""")[0]
    renamed = store.scalar("""SELECT count(*) FROM (SELECT identity_id FROM identity_aliases
                              WHERE kind IN ('upn', 'login', 'email') GROUP BY identity_id, kind
                              HAVING count(DISTINCT alias) > 1) x""")
    by_status = dict(store.rows("SELECT status, count(*) FROM identity_links GROUP BY 1 ORDER BY 1"))
    by_how = dict(store.rows("SELECT resolved_by, count(*) FROM event_identities GROUP BY 1 ORDER BY 1"))
    return {"identities": int(row[0]), "persons": int(row[1]), "renamed": int(renamed or 0),
            "deleted": int(row[2]), "links": {str(k): int(v) for k, v in by_status.items()},
            "events_resolved_by": {str(k): int(v) for k, v in by_how.items()}, "link_passes": passes,
            "complete": passes < links.MAX_PASSES, **extra}


def run(store: Store, settings: Settings) -> dict[str, Any]:
    """Incrementally when the store's state allows it (DuckDB, state in step), else a full rebuild."""
    if incremental.usable(store):
        summary = update(store)
        if summary is not None:
            return summary
    return rebuild(store)
