"""The write / attach / file-read / escalation attempts of issue 12, shared by every hunting path's tests.

A store is judged unchanged by a fingerprint: row count and MD5 of every row of ``incidents`` and
``api_tokens`` (a forged admin token or an emptied queue both move it).
"""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.seed import seed
from vigil.api import tokens
from vigil.store import Store, open_store

#: the token a successful `.set-or-append api_tokens` would forge (never valid: the attack is refused)
FORGED = "vgl_f0f0f0f0f0f0_forgedforgedforgedforgedforgedforgedfor"


@dataclass(frozen=True)
class Attack:
    name: str
    text: str
    #: files the attack would create (their absence afterwards is part of the check)
    creates: tuple[Path, ...] = ()


def kql_attacks(tmp: Path, other_store: Path) -> list[Attack]:
    forged_hash = hashlib.sha256(FORGED.encode()).hexdigest()
    return [
        Attack("empty incidents", ".set-or-replace incidents <| incidents | where 1 == 0"),
        Attack("forge admin token",
               ".set-or-append api_tokens <| datatable(token_id:string, name:string, role:string, "
               "token_hash:string, created_at:datetime, created_by:string, revoked_at:datetime)"
               f'["f0f0f0f0f0f0", "forged", "admin", "{forged_hash}", datetime(2026-01-01), "x", datetime(null)]'),
        Attack("append", ".append incidents <| incidents"),
        Attack("create database file", f'.create database x persist (@"{tmp / "created.duckdb"}")',
               (tmp / "created.duckdb",)),
        Attack("attach another store", f'.attach database other from @"{other_store}"'),
        Attack("probe /etc/shadow", '.attach database shadow from @"/etc/shadow"'),
        Attack("detach", ".detach database main"),
        Attack("drop", ".drop table incidents"),
        Attack("comment hides the command", "// hunting\n.set-or-replace incidents <| incidents | take 0"),
        Attack("read a file", 'print x = read_text("/etc/passwd")'),
    ]


def sql_attacks(tmp: Path, other_store: Path) -> list[Attack]:
    return [
        Attack("copy to a file", f"COPY incidents TO '{tmp / 'leak.csv'}'", (tmp / "leak.csv",)),
        Attack("read /etc/passwd", "SELECT * FROM read_text('/etc/passwd')"),
        Attack("csv of /etc/passwd", "SELECT * FROM read_csv('/etc/passwd')"),
        Attack("glob", "SELECT * FROM glob('/etc/*')"),
        Attack("environment", "SELECT getenv('HOME')"),
        Attack("sniff", "SELECT * FROM sniff_csv('/etc/passwd')"),
        Attack("parquet metadata", f"SELECT * FROM parquet_metadata('{other_store}')"),
        Attack("attach another store", f"ATTACH '{other_store}' AS other"),
        Attack("attach a new file", f"ATTACH '{tmp / 'new.duckdb'}' AS n", (tmp / "new.duckdb",)),
        Attack("export", f"EXPORT DATABASE '{tmp / 'dump'}'", (tmp / "dump",)),
        Attack("delete", "DELETE FROM incidents"),
        Attack("second statement", "SELECT 1; DELETE FROM incidents"),
        Attack("forge token", "INSERT INTO api_tokens SELECT 'f', 'forged', 'admin', 'h', now()::TIMESTAMP, 'x', NULL"),
        Attack("create", "CREATE TABLE copy_of AS SELECT * FROM api_tokens"),
        Attack("drop", "DROP TABLE incidents"),
        Attack("install", "INSTALL httpfs"),
        Attack("load", "LOAD httpfs"),
        Attack("set", "SET enable_external_access = true"),
        Attack("reset", "RESET memory_limit"),
        Attack("pragma", "PRAGMA enable_profiling"),
        Attack("call", "CALL checkpoint()"),
        Attack("checkpoint", "CHECKPOINT"),
        Attack("commit", "COMMIT"),
    ]


@pytest.fixture(scope="session")
def attack_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The store under attack (seeded, an admin and a reader token) and another store with a token of its
    own, written once per run."""
    root = tmp_path_factory.mktemp("attacked")
    other = root / "other.duckdb"
    with open_store(other) as store:
        tokens.create_token(store.con, "other-admin", "admin")
    path = root / "vigil.duckdb"
    with open_store(path) as store:
        seed(store)
        tokens.create_token(store.con, "admin", "admin")  # else `vigil serve` would create one at start
        _, reader = tokens.create_token(store.con, "reader", "reader")
    return path, other, reader


def make_stores(tmp: Path, template: tuple[Path, Path, str]) -> tuple[Path, Path, str]:
    """Fresh copies of the template's stores in ``tmp``: (store, other store, reader token)."""
    path, other, reader = template
    shutil.copyfile(path, tmp / "vigil.duckdb")
    shutil.copyfile(other, tmp / "other.duckdb")
    return tmp / "vigil.duckdb", tmp / "other.duckdb", reader


def fingerprint(store: Store) -> tuple[object, ...]:
    # `vigil serve` adds its own local CLI credential at start: that row is the service's, not an attack's
    return tuple(store.con.execute(
        f"SELECT count(*), md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) FROM {name} t {where}").fetchall()[0]
        for name, where in (("incidents", ""), ("api_tokens", "WHERE created_by IS DISTINCT FROM "
                                                              "'vigil serve (local CLI credential)'")))


def fingerprint_of(path: Path) -> tuple[object, ...]:
    with open_store(path, read_only=True) as store:
        return fingerprint(store)
