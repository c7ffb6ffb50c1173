"""Hostile files, generated here: ingest never crashes and never lies, and the counts always add up.

Each case checks the store against the reported counts (read = stored + duplicate + quarantined)
and that the next file is still read; the CLI cases check the exit code and the one-line message.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, REPO
from vigil.settings import Settings
from vigil.sources._reader import CUT_REASON
from vigil.sources.ingest import IngestResult, ingest_paths
from vigil.store import Store

LA = FIXTURES / "sources" / "entra" / "SigninLogs.ndjson"
DEEP = 100_000


def _records(n: int) -> list[dict[str, Any]]:
    first = json.loads(LA.read_bytes().splitlines()[0])
    # a digest per record keeps the compressed size roughly proportional (cuts land mid-file)
    return [{**first, "Id": f"id-{i}", "CorrelationId": hashlib.sha256(str(i).encode()).hexdigest()}
            for i in range(n)]


def _ndjson(n: int) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in _records(n))


def _cut_gzip(data: bytes, fraction: float) -> tuple[bytes, bytes]:
    """A gzip stream cut short, and every byte a decompressor can still get out of it."""
    packed = gzip.compress(data)[: int(len(gzip.compress(data)) * fraction)]
    return packed, zlib.decompressobj(31).decompress(packed)


def _ingest(store: Store, settings: Settings, *paths: Path) -> list[IngestResult]:
    results = ingest_paths(store, list(paths), settings)
    for r in results:
        assert r.read == r.stored + r.duplicate + r.quarantined, r
        n_quarantined = store.scalar("select count(*) from quarantine where source_file = ?", [r.path])
        assert n_quarantined == r.quarantined, r
    assert store.scalar("select count(*) from ingest_runs where status = 'running'") == 0
    return results


def _quarantine(store: Store, path: Path) -> list[dict[str, Any]]:
    return store.query("select line, byte_offset, reason, raw from quarantine where source_file = ? order by line",
                       [str(path)]).to_pylist()


@pytest.mark.parametrize("fraction", [0.3, 0.93])
def test_truncated_gzip_keeps_every_complete_record_and_quarantines_the_tail(store, settings, tmp_path, fraction):
    packed, recoverable = _cut_gzip(_ndjson(100), fraction)
    complete = recoverable.count(b"\n")
    assert 0 < complete < 100
    path = tmp_path / "cut.json.gz"
    path.write_bytes(packed)
    nxt = tmp_path / "next.json"
    nxt.write_bytes(_ndjson(103)[len(_ndjson(100)):])
    cut, after = _ingest(store, settings, path, nxt)
    assert (cut.read, cut.stored, cut.quarantined) == (complete + 1, complete, 1)
    assert cut.error and "truncated gzip stream" in cut.error and str(path) in cut.error
    assert "records before the damage were read" in cut.error and "ingested" not in cut.error
    [tail] = _quarantine(store, path)
    assert tail["reason"] == CUT_REASON
    assert tail["byte_offset"] == recoverable.rindex(b"\n") + 1 and tail["line"] == complete + 1
    assert recoverable.endswith(tail["raw"].encode())
    assert (after.stored, after.error) == (3, None)


def test_truncated_gzip_pretty_json_and_csv(store, settings, tmp_path):
    packed, recoverable = _cut_gzip(json.dumps(_records(100), indent=2).encode(), 0.6)
    doc = tmp_path / "doc.json.gz"
    doc.write_bytes(packed)
    complete = recoverable.count(b'\n  }')  # each closed record of the indented array
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["TimeGenerated", "Id", "UserPrincipalName", "IPAddress", "AppDisplayName", "Type"])
    for i in range(3000):
        writer.writerow([f"2026-03-02T09:{i % 60:02d}:00Z", f"row-{i}", "u@contoso.com", "1.2.3.4", "OfficeHome",
                         "SigninLogs"])
    packed_csv, recoverable_csv = _cut_gzip(buf.getvalue().encode(), 0.5)
    table = tmp_path / "rows.csv.gz"
    table.write_bytes(packed_csv)
    r_doc, r_csv = _ingest(store, settings, doc, table)
    assert (r_doc.stored, r_doc.quarantined) == (complete, 1) and r_doc.error
    # the row cut mid-line is quarantined, never stored as a shorter row
    assert (r_csv.stored, r_csv.quarantined) == (recoverable_csv.count(b"\n") - 1, 1) and r_csv.error
    assert [q["reason"] for q in _quarantine(store, table)] == [CUT_REASON]


@pytest.mark.parametrize("shape", ["array", "object"])
def test_deeply_nested_record_is_quarantined_and_the_files_go_on(store, settings, tmp_path, shape):
    deep = b"[" * DEEP + b"]" * DEEP if shape == "array" else b'{"a":' * DEEP + b"1" + b"}" * DEEP
    good = _ndjson(4).splitlines()
    alone = tmp_path / "alone.json"
    alone.write_bytes(deep + b"\n")
    mixed = tmp_path / "mixed.json"
    mixed.write_bytes(b"\n".join([good[0], good[1], deep, good[2]]) + b"\n")
    nxt = tmp_path / "next.json"
    nxt.write_bytes(good[3] + b"\n")
    r_alone, r_mixed, r_next = _ingest(store, settings, alone, mixed, nxt)
    reason = "nested deeper than the 256-level limit"
    assert (r_alone.read, r_alone.quarantined, r_alone.reasons, r_alone.error) == (1, 1, {reason: 1}, None)
    assert (r_mixed.stored, r_mixed.quarantined, r_mixed.reasons) == (3, 1, {reason: 1})
    assert _quarantine(store, mixed)[0]["line"] == 3
    assert r_next.stored == 1


def test_depth_limit_counts_structure_not_brackets_in_strings(store, settings, tmp_path):
    settings.ingest.max_record_depth = 8
    [first] = _records(1)
    brackets = {**first, "Id": "strings", "Note": "[{" * 5000}  # deep-looking text, shallow record
    nested: Any = 1
    for _ in range(9):
        nested = {"n": nested}
    deep = {**first, "Id": "deep", "Extra": nested}
    path = tmp_path / "depth.json"
    path.write_text(json.dumps([brackets, deep], indent=1))
    [r] = _ingest(store, settings, path)
    assert (r.stored, r.quarantined, r.reasons) == (1, 1, {"nested deeper than the 8-level limit": 1})


def test_one_record_over_the_size_limit_is_quarantined(store, settings, tmp_path):
    settings.ingest.max_record_bytes = 1024 * 1024  # the 60 MB of the report, scaled to the test
    huge = b'{"Type": "SigninLogs", "Blob": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    for name, data in (("one.json", huge), ("one-line.ndjson", huge + b"\n"), ("array.json", b"[" + huge + b"]")):
        path = tmp_path / name
        path.write_bytes(data)
        [r] = _ingest(store, settings, path)
        assert (r.read, r.stored, r.quarantined, r.error) == (1, 0, 1, None), name
        assert r.reasons == {"record is longer than the 1,048,576-byte limit": 1}
        [q] = _quarantine(store, path)
        assert q["byte_offset"] in (0, 1) and len(q["raw"]) <= 64 * 1024
    assert store.scalar("select count(*) from ingest_runs where source_format is null and status = 'complete'") == 3


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_detected(store, settings, tmp_path, codec):
    path = tmp_path / f"{codec}.json"
    path.write_bytes(_ndjson(5).decode().encode(codec))
    gz = tmp_path / f"{codec}.json.gz"
    gz.write_bytes(gzip.compress(json.dumps(_records(7)).encode(codec)))
    r, r_gz = _ingest(store, settings, path, gz)
    assert (r.stored, r.error) == (5, None)
    assert (r_gz.stored, r_gz.duplicate, r_gz.error) == (2, 5, None)


def test_nul_bytes_that_are_not_utf16_are_named(store, settings, tmp_path):
    path = tmp_path / "utf32.json"
    path.write_bytes(_ndjson(2).decode().encode("utf-32-le"))
    [r] = ingest_paths(store, [path], settings)
    assert r.error and str(path) in r.error and "without a byte-order mark" in r.error and "\n" not in r.error


def test_a_nul_first_line_is_a_bad_record_not_a_refused_file(store, settings, tmp_path):
    # hypothesis found it: a lone NUL before valid records used to refuse the whole file as "UTF-16 or UTF-32"
    path = tmp_path / "nul.json"
    path.write_bytes(b"\x00\n" + _ndjson(2))
    [r] = ingest_paths(store, [path], settings)
    assert (r.error, r.read, r.stored, r.quarantined) == (None, 3, 2, 1)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "vigil", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300, check=False)


def test_cli_hostile_files(tmp_path):
    db = str(tmp_path / "v.duckdb")
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * DEEP + b"]" * DEEP + b"\n")
    nxt = tmp_path / "next.json"
    nxt.write_bytes(_ndjson(2))
    done = _cli("ingest", str(deep), str(nxt), "--db", db, "--json", cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    r_deep, r_next = json.loads(done.stdout)
    assert (r_deep["quarantined"], r_next["stored"]) == (1, 2)
    strict = _cli("ingest", str(deep), "--db", db, "--strict", cwd=tmp_path)
    assert strict.returncode == 9
    packed, _ = _cut_gzip(_ndjson(100), 0.5)
    cut = tmp_path / f"[bold]{'long-name-' * 6}.json.gz"  # not rich markup, and longer than the terminal
    cut.write_bytes(packed)
    done = _cli("ingest", str(cut), "--db", db, cwd=tmp_path)
    assert done.returncode == 3
    [line] = [x for x in done.stderr.splitlines() if x.strip()]
    assert line.startswith(f"vigil: error: {cut}: truncated gzip stream")
