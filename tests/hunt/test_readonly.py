"""Hunting is read-only: every attack of issue 12, through the notebook API and the CLI, with both layers and
with each layer alone (the other disabled), refused with the store unchanged and no file created.

The API and the UI's hunt form are replayed against a real `vigil serve` in tests/api/test_hunt.py."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import vigil
from tests.conftest import REPO
from tests.hunt.attacks import (  # noqa: F401  (attack_template is a fixture)
    Attack,
    attack_template,
    fingerprint,
    fingerprint_of,
    kql_attacks,
    make_stores,
    sql_attacks,
)
from vigil.cli import main
from vigil.errors import QueryError, RefusedQuery
from vigil.hunt import adapter
from vigil.store import Store, open_store
from vigil.store import readonly as store_readonly

ATTACKS = [("kql", a.name) for a in kql_attacks(Path("/t"), Path("/o"))] + [
    ("sql", a.name) for a in sql_attacks(Path("/t"), Path("/o"))]


def _unguarded(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None, control: Any = None,
               in_read_only_transaction: bool = False) -> pa.Table:
    """How hunts ran before issue 12: the text straight on the connection, whatever it holds."""
    rel = con.sql(sql, params=params or None)
    return rel.to_arrow_table() if rel is not None else pa.table({"done": [True]})


def _attack(tmp: Path, other: Path, kind: str, name: str) -> Attack:
    table = kql_attacks(tmp, other) if kind == "kql" else sql_attacks(tmp, other)
    return next(a for a in table if a.name == name)


@pytest.fixture
def stores(tmp_path: Path, attack_template: tuple[Path, Path, str]) -> tuple[Path, Path, str]:  # noqa: F811
    return make_stores(tmp_path, attack_template)


def _open(path: Path, layers: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    if layers in ("connection only", "neither"):  # the front check and duckdb-kql's write gate off
        monkeypatch.setattr(adapter, "check_kql", lambda text: None)
        monkeypatch.setattr(adapter, "check_sql", lambda text: None)
        monkeypatch.setattr(adapter, "KQL_ALLOW_WRITE", True)
    if layers in ("front only", "neither"):  # the read-only execution and the hardened instance off
        monkeypatch.setattr(adapter, "run_select", _unguarded)
        monkeypatch.setattr(store_readonly, "harden", lambda con: None)
        return Store(duckdb.connect(str(path)), str(path))
    return open_store(path)


def _run(store: Store, kind: str, text: str) -> None:
    if kind == "kql":
        vigil.kql(store, text, timeout_s=30)
    else:
        vigil.sql(store, text, timeout_s=30)


@pytest.mark.parametrize("layers", ["both", "connection only", "front only"])
@pytest.mark.parametrize(("kind", "name"), ATTACKS)
def test_the_notebook_api_refuses_every_attack_with_either_layer_alone(
        stores: tuple[Path, Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        layers: str, kind: str, name: str) -> None:
    path, other, _ = stores
    attack = _attack(tmp_path, other, kind, name)
    store = _open(path, layers, monkeypatch)
    try:
        before = fingerprint(store)
        with pytest.raises(QueryError) as refused:
            _run(store, kind, attack.text)
        if layers != "connection only":  # alone, DuckDB refuses some as unsupported rather than read-only
            assert isinstance(refused.value, RefusedQuery), refused.value
        assert "\n" not in str(refused.value)
        assert fingerprint(store) == before
        assert not any(p.exists() for p in attack.creates)
        assert store.con.sql("SELECT count(*) FROM duckdb_databases() WHERE NOT internal").fetchall() == [(1,)]
    finally:
        store.close()


@pytest.mark.parametrize(("kind", "name"), [("kql", "empty incidents"), ("kql", "forge admin token"),
                                            ("sql", "copy to a file"), ("sql", "attach another store")])
def test_with_neither_layer_the_attacks_work(stores: tuple[Path, Path, str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, kind: str, name: str) -> None:
    """The table above can fail: with both layers off, as before issue 12, these succeed."""
    path, other, _ = stores
    attack = _attack(tmp_path, other, kind, name)
    store = _open(path, "neither", monkeypatch)
    try:
        before = fingerprint(store)
        _run(store, kind, attack.text)
        attached = store.con.sql("SELECT count(*) FROM duckdb_databases() WHERE NOT internal").fetchall()[0][0]
        assert fingerprint(store) != before or any(p.exists() for p in attack.creates) or attached > 1
    finally:
        store.close()


def test_a_file_probe_says_the_same_whether_the_file_exists(stores: tuple[Path, Path, str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path, _, _ = stores
    for layers in ("connection only", "both"):
        with _open(path, layers, monkeypatch) as store:
            answers = set()
            for probe in ("/etc/passwd", "/no/such/file"):
                with pytest.raises(RefusedQuery) as refused:
                    vigil.kql(store, f'.attach database p from @"{probe}"')
                answers.add(str(refused.value).replace(probe, "PATH"))
            assert len(answers) == 1, answers


def test_legitimate_hunts_still_answer(stores: tuple[Path, Path, str]) -> None:
    path, _, _ = stores
    with open_store(path) as store:
        assert vigil.kql(store, "incidents | count").to_pylist() == [{"Count": 2}]
        assert vigil.sql(store, "SELECT count(*) AS n FROM incidents").to_pylist() == [{"n": 2}]
        assert vigil.sql(store, "SELECT ? AS v", [7]).to_pylist() == [{"v": 7}]
        store.con.execute("BEGIN TRANSACTION")  # the caller's own transaction does not meet the hunt's
        assert vigil.kql(store, "print x = 1").to_pylist() == [{"x": 1}]
        store.con.execute("COMMIT")


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    saved = sys.argv
    sys.argv = ["vigil", *args]
    try:
        with pytest.raises(SystemExit) as stopped:
            main()
    finally:
        sys.argv = saved
    return int(stopped.value.code or 0), capsys.readouterr().err


@pytest.fixture
def cli_store(stores: tuple[Path, Path, str]) -> Iterator[tuple[Path, Path]]:
    path, other, _ = stores
    before = fingerprint_of(path)
    yield path, other
    assert fingerprint_of(path) == before


@pytest.mark.parametrize(("kind", "name"), ATTACKS)
def test_the_cli_refuses_with_one_line_and_exit_2(cli_store: tuple[Path, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str], kind: str, name: str) -> None:
    path, other = cli_store
    attack = _attack(tmp_path, other, kind, name)
    code, err = _cli(["hunt" if kind == "kql" else "query", attack.text, "--db", str(path)], capsys)
    assert code == 2, err
    assert err.startswith("vigil: error: ") and err.count("\n") == 1, err
    assert not any(p.exists() for p in attack.creates)


def test_the_cli_time_limit(stores: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
                            ) -> None:
    path, _, _ = stores
    config = tmp_path / "vigil.yaml"
    config.write_text(f"store:\n  path: {path}\nhunt:\n  timeout_s: 0.5\n", encoding="utf-8")
    code, err = _cli(["query", "SELECT count(*) FROM range(10000000000000)", "--config", str(config)], capsys)
    assert code == 7 and "ran longer than the 0.5 s limit (hunt.timeout_s)" in err and err.count("\n") == 1
    long_kql = ("range x from 1 to 200000 step 1 | extend k = 1 "
                "| join kind=inner (range y from 1 to 200000 step 1 | extend k = 1) on k | count")
    code, err = _cli(["hunt", long_kql, "--config", str(config)], capsys)
    assert code == 7 and "ran longer than" in err


def test_the_installed_command_refuses(stores: tuple[Path, Path, str], tmp_path: Path) -> None:
    """The same through a real `vigil` process (what an operator types)."""
    path, _, _ = stores
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    leak = tmp_path / "leak.csv"
    for args in (["query", f"COPY incidents TO '{leak}'"], ["query", "SELECT * FROM read_text('/etc/passwd')"],
                 ["hunt", ".set-or-replace incidents <| incidents | where 1 == 0"]):
        done = subprocess.run([sys.executable, "-m", "vigil", *args, "--db", str(path)], capture_output=True,
                              text=True, env=env, timeout=120)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("vigil: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert not leak.exists()
    assert fingerprint_of(path)[0][0] == 2  # type: ignore[index]
