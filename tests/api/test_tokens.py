"""API tokens: shown once, stored as a hash, verified in constant time, revocable; the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from vigil.api import tokens
from vigil.cli import app
from vigil.errors import AuthError, InputError
from vigil.store import Store


def test_token_is_never_stored(store: Store) -> None:
    info, token = tokens.create_token(store.con, "alice", "admin")
    assert token.startswith(f"vgl_{info['token_id']}_") and len(token) == 4 + 12 + 1 + 43
    dumped = str(store.con.execute("select * from api_tokens").fetchall())
    assert token not in dumped and token.split("_", 2)[2] not in dumped
    who = tokens.verify_token(store.con, token)
    assert (who.name, who.role, who.is_admin) == ("alice", "admin", True)


def test_wrong_secret_unknown_id_revoked(store: Store) -> None:
    _, token = tokens.create_token(store.con, "bob", "reader")
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(AuthError, match="unknown"):
        tokens.verify_token(store.con, forged)
    with pytest.raises(AuthError, match="unknown"):
        tokens.verify_token(store.con, "vgl_0123456789ab_" + token[-43:])
    tokens.revoke_token(store.con, "bob")
    with pytest.raises(AuthError, match="revoked"):
        tokens.verify_token(store.con, token)
    assert tokens.list_tokens(store.con)[0]["revoked_at"] is not None


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_any_malformed_presentation_is_rejected_without_echo(presented: str) -> None:
    import duckdb

    con = duckdb.connect()
    tokens.ensure_table(con)
    with pytest.raises(AuthError) as err:
        tokens.verify_token(con, presented)
    # the message is one of a fixed few, so it can never carry what was presented
    assert str(err.value) in {"malformed API token (expected vgl_<id>_<secret>)", "unknown API token"}


def test_roles_and_names_are_validated(store: Store) -> None:
    with pytest.raises(InputError, match="role"):
        tokens.create_token(store.con, "x", "root")
    with pytest.raises(InputError, match="name"):
        tokens.create_token(store.con, "bad\nname", "reader")
    tokens.create_token(store.con, "twin", "reader")
    tokens.create_token(store.con, "twin", "reader")
    with pytest.raises(InputError, match="several"):
        tokens.revoke_token(store.con, "twin")


def test_token_cli(tmp_path: Path) -> None:
    db = str(tmp_path / "v.duckdb")
    runner = CliRunner()
    made = runner.invoke(app, ["token", "create", "--name", "ci", "--role", "reader", "--db", db, "--json"])
    assert made.exit_code == 0, made.output
    token = json.loads(made.output)["token"]
    listed = runner.invoke(app, ["token", "list", "--db", db, "--json"])
    rows = json.loads(listed.output)
    assert [r["name"] for r in rows] == ["ci"] and token not in listed.output
    gone = runner.invoke(app, ["token", "revoke", "ci", "--db", db, "--json"])
    assert gone.exit_code == 0 and json.loads(gone.output)["revoked_at"]
