"""Every command's ``--help`` works, and every ``--json`` prints JSON, over a small simulated tenant.

Commands are discovered from the click tree behind the typer app: a new command is covered by the
``--help`` test at once, and by the ``--json`` test too when it needs no arguments; one that needs
arguments fails here until ``ARGS`` gives it some (or ``NOT_RUN`` says why it cannot run in a test).
"""
from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.enrich.geoenv import write_geo_mmdb
from vigil.cli import command, main
from vigil.store import open_store


def _walk(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, cmd
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


TREE = list(_walk(command()))
LEAVES = {p: c for p, c in TREE if not hasattr(c, "commands")}
JSON = sorted(p for p, c in LEAVES.items() if any("--json" in getattr(prm, "opts", ()) for prm in c.params))


def _args(path: tuple[str, ...], extra: list[str], db: Path, config: Path) -> list[str]:
    """``vigil PATH EXTRA`` with ``--db`` / ``--config`` where the command takes them."""
    opts = {o for prm in LEAVES[path].params for o in getattr(prm, "opts", ())}
    return [*path, *extra, *(["--db", str(db)] if "--db" in opts else []),
            *(["--config", str(config)] if "--config" in opts else [])]


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["vigil", *args])
    code: Any = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return (code if isinstance(code, int) else 1), out, err


@pytest.mark.parametrize("path", [p for p, _ in TREE], ids=[" ".join(p) or "vigil" for p, _ in TREE])
def test_help(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(monkeypatch, capsys, [*path, "--help"])
    assert code == 0, err
    assert "Usage:" in out and "--help" in out


@dataclass
class World:
    """A small analysed tenant: the simulator's files, a store, a config that keeps files in ``root``."""

    root: Path
    sim: Path
    db: Path
    config: Path

    def value(self, sql: str) -> str:
        with open_store(self.db, read_only=True) as store:
            v = store.scalar(sql)
        assert v is not None, f"the test tenant has no row for: {sql}"
        return str(v)


#: commands that cannot run in a test, and why
NOT_RUN = {
    ("demo",): "the whole pipeline in one command; tests/pipeline/test_demo.py parses its --json",
    ("feeds", "update"): "downloads the feeds (network)",
    ("geo", "install"): "downloads DB-IP Lite (network)",
    ("incidents", "webhook"): "posts to a webhook URL; tests/incidents/test_output.py runs it against a local server",
    ("ssf", "poll"): "polls a remote SSF transmitter (network)",
}

Prepare = Callable[[World, Callable[[list[str]], Any]], list[str]]


def _upn(w: World) -> str:
    return w.value("select user_principal_name from signins where user_principal_name is not null "
                   "order by event_time, event_id limit 1")


def _jwks(w: World, run: Callable[[list[str]], Any]) -> str:
    path = w.root / "jwks.json"
    path.write_text(run(_args(("cae", "jwks"), [], w.db, w.config), parse=False), encoding="utf-8")
    return str(path)


#: arguments for the commands that need some (``--json``, ``--db`` and ``--config`` are added)
REPO = FIXTURES.parents[1]

ARGS: dict[tuple[str, ...], Prepare] = {
    ("backup",): lambda w, run: [str(w.root / "backup")],
    ("cae", "check"): lambda w, run: [run(_args(("cae", "token"), ["--user", "u-1", "--json"], w.db, w.config))
                                      ["access_token"]],
    ("cae", "record"): lambda w, run: [str(FIXTURES / "cae" / "events.json")],
    ("cae", "revoke"): lambda w, run: ["--user", "u-1", "--reason", "test"],
    ("cae", "token"): lambda w, run: ["--user", "u-1"],
    ("connect",): lambda w, run: ["all", "status"],
    ("detections", "import-sigma"): lambda w, run: [str(FIXTURES / "sigma")],
    ("detections", "import-sentinel"): lambda w, run: [
        str(REPO / "tests" / "hunt" / "sentinel_content" / "rules" / "DistribPassCrackAttempt.yaml")],
    ("directory", "ingest"): lambda w, run: [str(w.sim / "users.json"), str(w.sim / "groups.json")],
    ("egress", "accept"): lambda w, run: ["cidr", "198.51.100.0/24"],
    ("egress", "reject"): lambda w, run: ["cidr", "198.51.100.0/24"],
    ("evaluate",): lambda w, run: ["--labels", str(w.sim / "labels.jsonl")],
    ("export",): lambda w, run: ["signins", str(w.root / "signins.parquet")],
    ("load",): lambda w, run: run(_args(("export",), ["--lake", str(w.root / "lake"), "--json"], w.db, w.config))
    and ["--lake", str(w.root / "lake"), "signins"],
    ("geo", "lookup"): lambda w, run: [
        run(_args(("geo", "use"), [str(write_geo_mmdb(w.root / "geo.mmdb")), "--json"], w.db, w.config)) and
        w.value("select min(ip) from signins where ip is not null")],
    ("geo", "use"): lambda w, run: [str(write_geo_mmdb(w.root / "geo.mmdb"))],
    ("hunt",): lambda w, run: ["SigninLogs | take 2"],
    ("identity", "link"): lambda w, run: [_upn(w), w.value(
        "select max(identity_id) from identities where identity_id <> (select min(person_id) from identities)"),
        "--by", "tester"],
    ("identity", "show"): lambda w, run: [_upn(w)],
    ("identity", "unlink"): lambda w, run: [_upn(w), w.value(
        "select max(identity_id) from identities where identity_id <> (select min(person_id) from identities)"),
        "--by", "tester"],
    ("incident", "comment"): lambda w, run: [w.value("select min(incident_id) from incidents"), "looked at it"],
    ("incident", "set-status"): lambda w, run: [w.value("select min(incident_id) from incidents"), "active"],
    ("incident", "show"): lambda w, run: [w.value("select min(incident_id) from incidents")],
    ("ingest",): lambda w, run: [str(w.sim / "SigninLogs.json")],
    ("policy", "load"): lambda w, run: ["--policies", str(w.sim / "conditionalAccessPolicies.json"),
                                        "--locations", str(w.sim / "namedLocations.json")],
    ("policy", "whatif"): lambda w, run: ["--user", _upn(w), "--app", "00000003-0000-0000-c000-000000000000"],
    ("query",): lambda w, run: ["select 1 as one"],
    ("raw",): lambda w, run: [w.value("select min(event_id) from signins")],
    ("restore",): lambda w, run: [
        run(_args(("backup",), [str(w.root / "backup"), "--json"], w.db, w.config)) and str(w.root / "backup"),
        "--into", str(w.root / "restored")],
    ("risk", "confirm-compromised"): lambda w, run: [_upn(w), "--by", "tester"],
    ("risk", "confirm-safe"): lambda w, run: [_upn(w), "--by", "tester"],
    ("risk", "dismiss"): lambda w, run: [_upn(w), "--by", "tester"],
    ("risk", "import"): lambda w, run: [str(FIXTURES / "risk" / "aaduserriskevents-la.json")],
    ("session", "show"): lambda w, run: [w.value("select min(session_key) from sessions")],
    ("simulate",): lambda w, run: ["--out", str(w.root / "sim2"), "--preset", "small", "--users", "5", "--days", "1"],
    ("watchlist", "import"): lambda w, run: ["VIPUsers", str(REPO / "docs" / "examples" / "watchlists" / "VIPUsers.csv")],
    ("watchlist", "show"): lambda w, run: run(_args(
        ("watchlist", "import"), ["VIPUsers", str(REPO / "docs" / "examples" / "watchlists" / "VIPUsers.csv"), "--json"],
        w.db, w.config)) and ["VIPUsers"],
    ("ssf", "receivers", "add"): lambda w, run: ["--poll"],
    ("ssf", "receivers", "remove"): lambda w, run: [
        run(_args(("ssf", "receivers", "add"), ["--poll", "--json"], w.db, w.config))
        ["stream_id"]],
    ("ssf", "transmitters", "add"): lambda w, run: [
        "--issuer", "https://idp.example", "--jwks", _jwks(w, run), "--audience", "https://vigil.example"],
    ("ssf", "transmitters", "remove"): lambda w, run: [
        run(_args(("ssf", "transmitters", "add"), ["--issuer", "https://idp.example", "--jwks", _jwks(w, run),
                                                   "--audience", "https://vigil.example", "--json"], w.db, w.config))
        ["transmitter_id"]],
    ("token", "create"): lambda w, run: ["--name", "ci"],
    ("token", "revoke"): lambda w, run: [
        run(_args(("token", "create"), ["--name", "gone", "--json"], w.db, w.config))
        ["token_id"]],
    ("ueba", "peers"): lambda w, run: [_upn(w)],
}


def test_every_json_command_is_run_or_explained() -> None:
    unknown = (set(ARGS) | set(NOT_RUN)) - set(LEAVES)
    assert not unknown, f"ARGS / NOT_RUN name commands that no longer exist: {sorted(unknown)}"
    for path in JSON:
        required = [prm.name for prm in LEAVES[path].params if prm.required]
        assert not required or path in ARGS or path in NOT_RUN, (
            f"`vigil {' '.join(path)}` needs {required}: give it arguments in ARGS or a reason in NOT_RUN")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("cli")
    w = World(root, root / "sim", root / "vigil.duckdb", root / "vigil.yaml")
    w.config.write_text(f"store:\n  path: {w.db}\nenrich:\n  data_dir: {root / 'data'}\n", encoding="utf-8")
    mp = pytest.MonkeyPatch()
    try:
        for path, extra in (
            (("simulate",), ["--out", str(w.sim), "--preset", "small", "--users", "15", "--days", "3"]),
            (("ingest",), [str(w.sim / f) for f in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json",
                                                    "AuditLogs.json", "OfficeActivity_ManagementAPI.json")]),
            (("policy", "load"), ["--policies", str(w.sim / "conditionalAccessPolicies.json"),
                                  "--locations", str(w.sim / "namedLocations.json")]),
            (("analyze",), []),
        ):
            args = _args(path, extra, w.db, w.config)
            mp.setattr(sys, "argv", ["vigil", *args])
            try:
                main()
            except SystemExit as exc:
                assert not exc.code, f"setting up the test tenant: vigil {' '.join(args)} exited {exc.code}"
    finally:
        mp.undo()
    return w


@pytest.mark.parametrize("path", [p for p in JSON if p not in NOT_RUN], ids=[" ".join(p) for p in JSON
                                                                              if p not in NOT_RUN])
def test_json_output_parses(path: tuple[str, ...], world: World, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # each command works on its own copy of the tenant, from its own folder
    w = World(tmp_path, world.sim, tmp_path / "vigil.duckdb", tmp_path / "vigil.yaml")
    shutil.copyfile(world.db, w.db)
    w.config.write_text(f"store:\n  path: {w.db}\nenrich:\n  data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    def run(args: list[str], parse: bool = True) -> Any:
        code, out, err = _run(monkeypatch, capsys, args)
        assert code == 0, f"vigil {' '.join(args)}: exit {code}: {err.strip()}"
        return json.loads(out) if parse else out

    args = _args(path, [*ARGS.get(path, lambda w, run: [])(w, run), "--json"], w.db, w.config)
    code, out, err = _run(monkeypatch, capsys, args)
    assert code == 0, f"vigil {' '.join(args)}: exit {code}: {err.strip()}"
    json.loads(out)  # the whole of stdout is one JSON document
