"""Pipeline stage ``identity`` (first of ``vigil analyze``): accounts, aliases, links, persons, and the
identity of every sign-in and activity. Re-computed from the whole store on every run (idempotent);
manual link actions survive (``identity_link_actions`` is never replaced)."""
from __future__ import annotations

from typing import Any

from vigil.identity import links, resolve
from vigil.identity.tables import TABLES
from vigil.settings import Settings
from vigil.store import Store


def rebuild(store: Store) -> dict[str, Any]:
    store.ensure(TABLES)
    resolve.resolve(store)
    passes = links.link_and_group(store)
    con = store.con
    with store.transaction():
        con.execute("DELETE FROM identities")
        con.execute("""INSERT INTO identities SELECT i.identity_id, i.provider, i.account_id, i.name, i.display_name,
          i.user_type, i.created_time, i.deleted_time, i.first_seen, i.last_seen, i.events, p.person_id
          FROM _id_identities i JOIN _id_person p ON p.identity_id = i.identity_id""")
        con.execute("DELETE FROM identity_aliases")
        con.execute("""INSERT INTO identity_aliases SELECT identity_id, kind, alias, valid_from, valid_to, seen_from,
          last_seen, observations, learned_from, evidence FROM _id_alias""")
        con.execute("DELETE FROM identity_links")
        con.execute("INSERT INTO identity_links SELECT * FROM _id_links")
        con.execute("DELETE FROM event_identities")
        con.execute("""INSERT INTO event_identities SELECT m.event_id, m.event_table, m.identity_id, p.person_id,
          m.resolved_by FROM _id_event_map m JOIN _id_person p ON p.identity_id = m.identity_id""")
    for t in ("_id_ev", "_id_obs", "_id_renames", "_id_life", "_id_alias", "_id_weak", "_id_event_map",
              "_id_identities", "_id_cand", "_id_links", "_id_edges", "_id_lbl", "_id_lbl_next", "_id_person"):
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
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
            "complete": passes < links.MAX_PASSES}


def run(store: Store, settings: Settings) -> dict[str, Any]:
    return rebuild(store)
