"""The ingest engine on damaged and unusual input: nothing lost, nothing silent, counts add up."""
from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, REPO
from tests.sources.vendor_support import ingest_one, quarantine_reasons
from vigil.errors import UnknownFormatError
from vigil.sources import ingest as engine
from vigil.sources.ingest import ingest_paths
from vigil.store import open_store

LA = FIXTURES / "sources" / "entra" / "SigninLogs.ndjson"


def _good_lines() -> list[bytes]:
    return [line for line in LA.read_bytes().splitlines()[:4]]


def test_gzip_is_read_transparently(store, settings, tmp_path):
    gz = tmp_path / "SigninLogs.json.gz"
    gz.write_bytes(gzip.compress(LA.read_bytes()))
    r = ingest_one(store, settings, gz)
    assert (r.stored, r.duplicate, r.quarantined) == (4, 1, 3)


def test_truncated_gzip_keeps_what_was_read_and_names_the_problem(store, settings, tmp_path):
    lines = [json.dumps({**json.loads(_good_lines()[0]), "Id": f"id-{i}"}).encode() for i in range(3000)]
    data = gzip.compress(b"\n".join(lines) + b"\n")
    bad = tmp_path / "cut.json.gz"
    bad.write_bytes(data[: len(data) // 2])
    settings.ingest.batch_bytes = 64 * 1024
    [r] = ingest_paths(store, [bad], settings)
    assert r.error and "truncated gzip" in r.error and str(bad) in r.error
    assert 0 < r.stored < 3000 and r.read == r.stored + r.duplicate + r.quarantined
    assert store.count("signins") == r.stored


def test_invalid_utf8_record_is_quarantined_and_the_rest_stored(store, settings, tmp_path):
    good = _good_lines()
    path = tmp_path / "mixed.json"
    path.write_bytes(good[0] + b"\n" + good[1].replace(b"Alice Smith", b"Alice \xff\xfe Smith") + b"\n" + good[2] + b"\n")
    r = ingest_one(store, settings, path)
    assert (r.stored, r.quarantined) == (2, 1)
    [reason] = quarantine_reasons(store, path)
    assert reason.startswith("invalid UTF-8 at byte")
    assert store.query("select line from quarantine").to_pylist()[0]["line"] == 2


def test_fifty_megabyte_line_is_quarantined_without_stopping_the_file(store, settings, tmp_path):
    good = _good_lines()
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.write(good[0] + b"\n")
        f.write(b'{"Type": "SigninLogs", "Blob": "' + b"x" * (50 * 1024 * 1024) + b'"}\n')
        f.write(good[2] + b"\n")
    r = ingest_one(store, settings, path)
    assert (r.stored, r.quarantined) == (2, 1)
    [reason] = quarantine_reasons(store, path)
    assert "longer than the 16,777,216-byte limit" in reason
    raw_len = store.query("select length(raw) n from quarantine").to_pylist()[0]["n"]
    assert raw_len <= 64 * 1024  # only the start of a huge record is kept


def test_utf16_export_with_bom(store, settings, tmp_path):
    path = tmp_path / "utf16.json"
    path.write_bytes(b"\xff\xfe" + LA.read_text(encoding="utf-8").encode("utf-16-le"))
    r = ingest_one(store, settings, path)
    assert (r.stored, r.duplicate, r.quarantined) == (4, 1, 3)


def test_json_array_and_concatenated_documents(store, settings, tmp_path):
    recs = [json.loads(x) for x in _good_lines()]
    arr = tmp_path / "array.json"
    arr.write_text(json.dumps(recs, indent=2))
    assert ingest_one(store, settings, arr).stored == 4
    cat = tmp_path / "concatenated.json"
    cat.write_text("\n".join(json.dumps(r, indent=1) for r in recs))
    assert ingest_one(store, settings, cat).duplicate == 4


def test_csv_row_with_wrong_cell_count(store, settings, tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("TimeGenerated,Id,UserPrincipalName,IPAddress,AppDisplayName,Type\n"
                    "2026-03-02T09:00:00Z,a1,u@contoso.com,1.2.3.4,OfficeHome,SigninLogs\n"
                    "2026-03-02T09:01:00Z,a2,u@contoso.com,1.2.3.4\n"
                    "\"2026-03-02T09:02:00Z\",a3,u@contoso.com,1.2.3.5,\"Office\nHome\",SigninLogs\n")
    r = ingest_one(store, settings, path)
    assert (r.stored, r.quarantined) == (2, 1)
    assert quarantine_reasons(store, path) == ["row has 4 cells but the header has 6"]
    assert store.query("select line from quarantine").to_pylist()[0]["line"] == 3


def test_unknown_format_names_the_file(store, settings, tmp_path):
    path = tmp_path / "weird.csv"
    path.write_text("a,b,c\n1,2,3\n")
    [r] = ingest_paths(store, [path], settings)
    assert r.error and "no adapter recognises this content" in r.error and str(path) in r.error
    with pytest.raises(UnknownFormatError):
        engine.detect_format(path, "csv", b"")


def _crash_on_batch(monkeypatch: pytest.MonkeyPatch, n: int) -> Any:
    """The ``n``-th batch stored raises; returns the real ``_map_batch`` to put back."""
    real = engine.Ingestor._map_batch
    calls = {"n": 0}

    def crash(self, *a, **k):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == n:
            raise RuntimeError("simulated crash")
        return real(self, *a, **k)

    monkeypatch.setattr(engine.Ingestor, "_map_batch", crash)
    return real


def test_crash_mid_file_leaves_whole_batches_and_a_rerun_completes(store, settings, tmp_path, monkeypatch):
    lines = [json.dumps({**json.loads(_good_lines()[0]), "Id": f"id-{i}"}).encode() for i in range(2000)]
    path = tmp_path / "big.json"
    path.write_bytes(b"\n".join(lines) + b"\n")
    settings.ingest.batch_bytes = 256 * 1024
    real = _crash_on_batch(monkeypatch, 3)
    with pytest.raises(RuntimeError):
        ingest_paths(store, [path], settings)
    partial = store.count("signins")
    assert 0 < partial < 2000 and store.count("raw_records") == partial
    assert store.scalar("select status || ': ' || error from ingest_runs") == "failed: RuntimeError: simulated crash"
    monkeypatch.setattr(engine.Ingestor, "_map_batch", real)
    [r] = ingest_paths(store, [path], settings)
    assert (r.stored, r.duplicate) == (2000 - partial, partial)
    assert store.count("signins") == 2000
    assert store.scalar("select count(*) from ingest_runs where status = 'failed'") == 1
    assert store.scalar("select count(distinct event_id) from signins") == 2000


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vigil", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_errors_are_one_line_with_documented_exit_codes(tmp_path):
    db = str(tmp_path / "v.duckdb")
    missing = _cli("ingest", str(tmp_path / "nope.json"), "--db", db, cwd=tmp_path)
    assert missing.returncode == 3
    assert missing.stderr.strip().count("\n") == 0 and "nope.json: no such file or folder" in missing.stderr
    (tmp_path / "weird.csv").write_text("a,b\n1,2\n")
    unknown = _cli("ingest", str(tmp_path / "weird.csv"), "--db", db, cwd=tmp_path)
    assert unknown.returncode == 4 and "Traceback" not in unknown.stderr
    ok = _cli("ingest", str(LA), "--db", db, "--json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    [res] = json.loads(ok.stdout)
    assert (res["read"], res["stored"], res["duplicate"], res["quarantined"]) == (8, 4, 1, 3)
    # the bad lines are quarantined again on every read of the file: --strict reports them
    strict = _cli("ingest", str(LA), "--db", db, "--strict", "--json", cwd=tmp_path)
    assert strict.returncode == 9


def test_a_run_killed_mid_file_is_failed_with_how_far_it_got_at_the_next_start(tmp_path):
    first = json.loads(_good_lines()[0])
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        for i in range(10_000):
            f.write(json.dumps({**first, "Id": f"id-{i}"}).encode() + b"\n")
    small = tmp_path / "small-batches.yaml"
    small.write_text("ingest:\n  batch_bytes: 65536\n")  # many small commits, so there is a middle to kill in
    db = tmp_path / "v.duckdb"
    wal = tmp_path / "v.duckdb.wal"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    child = subprocess.Popen([sys.executable, "-m", "vigil", "ingest", str(path), "--db", str(db), "--config",
                              str(small), "--json"],
                             cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # DuckDB locks the store against other processes: watch its write-ahead log grow instead
        deadline = time.monotonic() + 120
        while child.poll() is None and time.monotonic() < deadline:
            if wal.exists() and wal.stat().st_size > 512 * 1024:
                break
            time.sleep(0.02)
        assert child.poll() is None, "the ingest finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    store = open_store(db)  # the next start
    try:
        [run] = store.query("select * from ingest_runs").to_pylist()
        assert run["status"] == "failed" and run["finished_at"] is None
        stored = store.count("signins")
        assert 0 < run["records_read"] < 10_000 and run["records_stored"] == stored > 0
        assert run["error"] == (f"interrupted (the process was killed or crashed) after {run['records_read']} "
                                f"records read: {stored} stored, 0 duplicate, 0 quarantined; re-run the file "
                                "to complete it")
    finally:
        store.close()
    again = _cli("ingest", str(path), "--db", str(db), "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("["), again.stdout[:300]  # nothing else on stdout (DuckDB progress bars)
    [res] = json.loads(again.stdout)
    assert (res["stored"], res["duplicate"]) == (10_000 - stored, stored)


def test_the_most_complete_copy_of_a_record_exported_twice_is_kept(store, settings, tmp_path):
    # the same sign-in (same Id and time) exported twice, only the second copy carrying AuthenticationRequirement:
    # keep that one, whether both copies are in one file or the fuller one arrives later
    full = json.loads(_good_lines()[0])
    full["AuthenticationRequirement"] = "multiFactorAuthentication"
    thin = {k: v for k, v in full.items() if k != "AuthenticationRequirement"}
    one = tmp_path / "one.json"
    one.write_text(json.dumps(thin) + "\n" + json.dumps(full) + "\n")
    r = ingest_one(store, settings, one)
    assert (r.stored, r.duplicate) == (1, 1)
    req = "SELECT auth_requirement FROM signins"
    assert store.rows(req) == [("multiFactorAuthentication",)]

    store.execute("DELETE FROM signins")
    store.execute("DELETE FROM raw_records")
    first, later = tmp_path / "first.json", tmp_path / "later.json"
    first.write_text(json.dumps(thin) + "\n")
    later.write_text(json.dumps(full) + "\n")
    assert ingest_one(store, settings, first).stored == 1
    again = ingest_one(store, settings, later)
    assert (again.stored, again.duplicate) == (1, 0)  # the fuller copy replaced the stored one
    assert store.count("signins") == 1
    assert store.rows(req) == [("multiFactorAuthentication",)]
    eid = store.scalar("SELECT event_id FROM signins")
    assert json.loads(store.raw([eid])[eid])["AuthenticationRequirement"] == "multiFactorAuthentication"
    # and the thinner copy read again changes nothing
    assert ingest_one(store, settings, first).duplicate == 1
    assert store.rows(req) == [("multiFactorAuthentication",)]


# -- several files mapped by workers ---------------------------------------------------------------------------

#: columns that name a run or a moment, not content: they differ between any two runs
_RUN_COLUMNS = {"ingest_id", "block_id", "started_at", "finished_at", "quarantined_at"}


def _many(path: Path, ids: range, garbage_every: int = 0) -> Path:
    """Sign-ins with ids ``id-<i>``, a damaged line every ``garbage_every`` records."""
    base = json.loads(_good_lines()[0])
    lines = []
    for i in ids:
        lines.append(json.dumps({**base, "Id": f"id-{i}"}))
        if garbage_every and i % garbage_every == 0:
            lines.append('{"Id": "cut-' + str(i))
    path.write_text("\n".join(lines) + "\n")
    return path


def _files(tmp_path: Path) -> list[Path]:
    """Records repeated within and across files (across batch boundaries too), a fuller copy of a stored record in
    a later file, bad records, formats whose records partly go to a fallback format, an empty and an unknown file."""
    src = FIXTURES / "sources"
    full = {**json.loads(_good_lines()[0]), "Id": "fuller", "AuthenticationRequirement": "multiFactorAuthentication"}
    thin = {k: v for k, v in full.items() if k != "AuthenticationRequirement"}
    (tmp_path / "thin.json").write_text(json.dumps(thin) + "\n")
    (tmp_path / "full.json").write_text(json.dumps(full) + "\n")
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "weird.csv").write_text("a,b,c\n1,2,3\n")
    return [LA, _many(tmp_path / "a.json", range(0, 300), garbage_every=47), tmp_path / "thin.json",
            src / "okta" / "system_log_page.json", _many(tmp_path / "b.json", range(200, 500), garbage_every=41),
            tmp_path / "empty.json", src / "gws" / "login_activities_page.json", LA, tmp_path / "weird.csv",
            tmp_path / "full.json", src / "entra" / "AuditLogs.json", src / "o365" / "management_api.jsonl",
            next((src / "cloudtrail").glob("*.json.gz")), src / "defender" / "advanced_hunting_export.json"]


def _contents(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows (run ids and times left out), and every stored record's raw text."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with open_store(path, read_only=True) as s:
        for (table,) in s.rows("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"):
            cols = [c for (c,) in s.rows("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND "
                                         "table_name = ? ORDER BY column_index", [table]) if c not in _RUN_COLUMNS]
            out[table] = s.rows(f"SELECT {', '.join(s.ident(c) for c in cols)} FROM {s.ident(table)} "
                                f"ORDER BY ALL")
        ids = [r[0] for r in s.rows("SELECT event_id FROM raw_records")]
        out["(raw texts)"] = sorted(s.raw(ids).items())
    return out


@pytest.mark.parametrize("workers", [1, 3])
def test_files_mapped_by_workers_store_exactly_what_a_serial_run_stores(settings, tmp_path, workers):
    files = _files(tmp_path)
    runs = {}
    for n in (0, workers):
        settings.ingest.map_workers = n
        settings.ingest.batch_bytes = 128 * 1024  # several batches (transactions) per file
        db = tmp_path / f"w{n}.duckdb"
        with open_store(db) as s:
            results = ingest_paths(s, files, settings)
        runs[n] = ([(r.path, r.source_format, r.read, r.stored, r.duplicate, r.quarantined, r.error, r.reasons)
                    for r in results], _contents(db))
    serial, parallel = runs[0], runs[workers]
    assert parallel[0] == serial[0]
    assert set(parallel[1]) == set(serial[1])
    for table in serial[1]:
        assert parallel[1][table] == serial[1][table], table
    by_file = {p: (stored, dup, quar, err) for p, _, _, stored, dup, quar, err, _ in serial[0]}
    # the case is what it claims: cross-file duplicates, a fuller copy replacing a stored one, bad records, an error
    assert by_file[str(tmp_path / "b.json")][1] == 100 and by_file[str(LA)][1] >= 4
    assert by_file[str(tmp_path / "full.json")][0] == 1 and by_file[str(tmp_path / "a.json")][2] > 0
    assert "no adapter recognises" in (by_file[str(tmp_path / "weird.csv")][3] or "")
    assert len(serial[1]["signins"]) > 500 and serial[1]["quarantine"]


def test_a_crash_while_workers_map_ahead_stops_them_and_keeps_whole_batches(store, settings, tmp_path,
                                                                             monkeypatch):
    settings.ingest.map_workers = 2
    settings.ingest.batch_bytes = 128 * 1024
    files = [_many(tmp_path / f"{k}.json", range(k * 150, k * 150 + 150)) for k in range(4)]
    real = _crash_on_batch(monkeypatch, 5)
    with pytest.raises(RuntimeError):
        ingest_paths(store, files, settings)
    assert not [t for t in threading.enumerate() if t.name.startswith("vigil-map")]
    partial = store.count("signins")
    assert 0 < partial < 600 and store.count("raw_records") == partial
    monkeypatch.setattr(engine.Ingestor, "_map_batch", real)
    results = ingest_paths(store, files, settings)
    assert sum(r.stored for r in results) == 600 - partial and store.count("signins") == 600
