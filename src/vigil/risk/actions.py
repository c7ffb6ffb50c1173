"""Admin risk actions: confirm compromised, confirm safe, dismiss. Recorded with who and when.

Actions go to ``riskActions`` (never replaced by re-analysis) and the lifecycle is
re-applied at once, so ``riskyUsers`` reflects them immediately and after every ``analyze``.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from vigil.errors import InputError
from vigil.identity import actions as identity
from vigil.risk import lifecycle
from vigil.risk.tables import RISK_ACTIONS, TABLES
from vigil.settings import RiskSettings
from vigil.store import Store

ACTIONS = {"confirmCompromised", "confirmSafe", "dismiss"}


def resolve_user(store: Store, user: str) -> tuple[str | None, str]:
    """(user id, UPN) for any name the user ever had, an account id or an identity id (the account's
    current name, docs/identity.md), else for a UPN or object id the store has seen."""
    have = store.relations()
    key = user.strip()
    if {"identities", "identity_aliases"} <= have:
        try:
            found = identity.resolve_one(store, key)
        except InputError:
            found = None
        if found is not None:
            account, name = store.rows("SELECT account_id, name FROM identities WHERE identity_id = ?", [found])[0]
            if name:
                return (str(account) if account else None), str(name)
    sources = [("signins", "user_id", "user_principal_name"), ("riskyUsers", "id", "userPrincipalName"),
               ("riskDetections", "userId", "userPrincipalName")]
    for table, id_col, upn_col in sources:
        if table not in have:
            continue
        id_q, upn_q = store.ident(id_col), store.ident(upn_col)
        rows = store.rows(f"select max({id_q}), max({upn_q}) from {store.ident(table)} "
                          f"where lower({upn_q}) = lower(?) or {id_q} = ?", [key, key])
        row = rows[0] if rows else None
        if row and row[1]:
            return row[0], str(row[1]).lower()
    raise InputError(f"no user {user!r} in the store (give a UPN or object id seen in the logs)")


def record(store: Store, action: str, users: list[str], *, actor: str, reason: str | None = None,
           settings: RiskSettings | None = None) -> dict[str, Any]:
    if action not in ACTIONS:
        raise InputError(f"unknown risk action {action!r} (one of {', '.join(sorted(ACTIONS))})")
    if not actor or not actor.strip():
        raise InputError("a risk action needs who did it (--by)")
    if not users:
        raise InputError("a risk action needs at least one user")
    store.ensure(TABLES)
    resolved = [resolve_user(store, u) for u in users]
    now = datetime.now(UTC).replace(tzinfo=None)
    ids = []
    for uid, upn in resolved:
        action_id = uuid.uuid4().hex[:16]
        ids.append(action_id)
        store.execute(f"insert into {store.ident(RISK_ACTIONS.name)} values (?, ?, ?, ?, ?, ?, ?)",
                      [action_id, action, uid, upn, actor.strip(), now, reason])
    summary = lifecycle.apply(store, settings or RiskSettings.model_validate({}))
    users_now = store.query(
        'select id, userPrincipalName, riskLevel, riskState, riskDetail from "riskyUsers" '
        "where source = 'vigil' and (userPrincipalName = any(?) or id = any(?) or id in "
        "(select person_id from identities where account_id = any(?))) order by userPrincipalName",
        [[upn for _, upn in resolved], [uid for uid, _ in resolved if uid],
         [uid for uid, _ in resolved if uid]]).to_pylist()
    return {"action": action, "actor": actor.strip(), "at": now.isoformat() + "Z", "action_ids": ids,
            "users": users_now, "riskyUsers": summary["riskyUsers"]}


def confirm_compromised(store: Store, user_ids: list[str], *, actor: str, reason: str | None = None,
                        settings: RiskSettings | None = None) -> dict[str, Any]:
    return record(store, "confirmCompromised", user_ids, actor=actor, reason=reason, settings=settings)


def confirm_safe(store: Store, user_ids: list[str], *, actor: str, reason: str | None = None,
                 settings: RiskSettings | None = None) -> dict[str, Any]:
    return record(store, "confirmSafe", user_ids, actor=actor, reason=reason, settings=settings)


def dismiss(store: Store, user_ids: list[str], *, actor: str, reason: str | None = None,
            settings: RiskSettings | None = None) -> dict[str, Any]:
    return record(store, "dismiss", user_ids, actor=actor, reason=reason, settings=settings)
