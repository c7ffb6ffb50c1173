"""Finding a person by any name, showing them, and linking or unlinking accounts by hand.

``find`` matches an identity id, a provider's account id, a person id or any alias ever carried (UPN,
login, email, display name; case and surrounding spaces ignored). ``link`` / ``unlink`` record the
action in ``identity_link_actions`` (never replaced: who, when, why) and rebuild the identities, so
``show`` reflects them at once; travel, detections and risk follow at the next ``vigil analyze``.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from vigil.errors import InputError
from vigil.identity import stage
from vigil.identity.tables import IDENTITY_LINK_ACTIONS
from vigil.store import Store

ACTIONS = ("link", "unlink")


def require(store: Store) -> None:
    """Refuse, saying why, on a store the identity stage has not run on (read-only opens included)."""
    if not store.exists("identities") or not store.exists("identity_aliases"):
        raise InputError("no identities in the store yet: run vigil analyze (its first stage resolves them)")


def _tiers(store: Store, query: str) -> list[list[str]]:
    """Identity ids matching ``query``: by identity id, by account id, by any name, by person id."""
    require(store)
    q = query.strip()
    if not q:
        raise InputError("give a name, UPN, email, login, account id or identity id")
    sqls = ("SELECT identity_id FROM identities WHERE identity_id IN (?, lower(?))",
            "SELECT identity_id FROM identities WHERE lower(account_id) = lower(?)",
            "SELECT identity_id FROM identities WHERE lower(name) = lower(?) "
            "UNION SELECT identity_id FROM identity_aliases WHERE lower(alias) = lower(?)",
            "SELECT identity_id FROM identities WHERE person_id IN (?, lower(?))")
    return [sorted(str(r[0]) for r in store.rows(sql, [q] * sql.count("?"))) for sql in sqls]


def find(store: Store, query: str) -> list[str]:
    """Identity ids matching ``query`` in any way (see the module docstring), sorted."""
    return sorted({i for tier in _tiers(store, query) for i in tier})


def resolve_one(store: Store, query: str) -> str:
    """The one identity ``query`` names most directly (an id before a name)."""
    for ids in _tiers(store, query):
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise InputError(f"{query!r} names {len(ids)} identities ({', '.join(ids)}): give the identity id")
    raise InputError(f"no identity named {query!r} in the store (run vigil analyze after ingesting its logs)")


def show(store: Store, query: str) -> list[dict[str, Any]]:
    """Each person ``query`` finds: current name, accounts with former names, links with evidence."""
    ids = find(store, query)
    if not ids:
        raise InputError(f"no identity named {query!r} in the store (run vigil analyze after ingesting its logs)")
    persons = sorted({str(r[0]) for r in store.rows(
        f"SELECT DISTINCT person_id FROM identities WHERE identity_id IN {store.dialect.in_list(ids)}")})
    out = []
    for pid in persons:
        accounts = store.query("""SELECT * FROM identities WHERE person_id = ?
                                  ORDER BY identity_id <> person_id, provider, identity_id""", [pid]).to_pylist()
        members = [a["identity_id"] for a in accounts]
        in_list = store.dialect.in_list(members)
        aliases = store.query(f"""SELECT identity_id, kind, alias, valid_from, valid_to, valid_from_seen, last_seen,
                                  observations, learned_from, evidence FROM identity_aliases
                                  WHERE identity_id IN {in_list}
                                  ORDER BY identity_id, kind, valid_from_seen, alias""").to_pylist()
        links = store.query(f"""SELECT * FROM identity_links WHERE identity_a IN {in_list} OR identity_b IN {in_list}
                                ORDER BY identity_a, identity_b""").to_pylist()
        for a in accounts:
            mine = [x for x in aliases if x["identity_id"] == a["identity_id"]]
            a["former_names"] = [x for x in mine if x["kind"] != "display_name" and x["valid_to"] is not None]
            a["aliases"] = mine
        head = accounts[0]
        out.append({"person_id": pid, "name": head["name"], "display_name": head["display_name"],
                    "former_names": sorted({x["alias"] for a in accounts for x in a["former_names"]} - {head["name"]}),
                    "accounts": accounts, "links": links})
    return out


def record(store: Store, action: str, first: str, second: str, *, actor: str,
           reason: str | None = None) -> dict[str, Any]:
    """Link or unlink two accounts by hand; returns the action and the person(s) after it."""
    if action not in ACTIONS:
        raise InputError(f"unknown identity action {action!r} (one of {', '.join(ACTIONS)})")
    if not actor or not actor.strip():
        raise InputError("an identity link action needs who did it (--by)")
    a, b = sorted((resolve_one(store, first), resolve_one(store, second)))
    if a == b:
        raise InputError(f"{first!r} and {second!r} are the same identity ({a})")
    action_id = uuid.uuid4().hex[:16]
    now = datetime.now(UTC).replace(tzinfo=None)
    store.execute(f"INSERT INTO {store.ident(IDENTITY_LINK_ACTIONS.name)} VALUES (?, ?, ?, ?, ?, ?, ?)",
                  [action_id, action, a, b, actor.strip(), now, reason])
    summary = stage.rebuild(store)
    return {"action": action, "action_id": action_id, "identity_a": a, "identity_b": b, "actor": actor.strip(),
            "at": now.isoformat() + "Z", "persons": summary["persons"],
            "person_ids": sorted({str(r[0]) for r in store.rows(
                "SELECT person_id FROM identities WHERE identity_id IN (?, ?)", [a, b])}),
            "note": "travel, detections and risk follow at the next vigil analyze"}
