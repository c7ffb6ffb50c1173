"""Property tests: mutated records never crash the engine, counts always add up, nothing is lost."""
from __future__ import annotations

import json

import orjson
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from tests.conftest import FIXTURES
from vigil.settings import load_settings
from vigil.sources.ingest import ingest_paths
from vigil.store import open_store

BASE: list[dict[str, Any]] = [json.loads(x) for x in (FIXTURES / "sources" / "entra" / "SigninLogs.ndjson")
                              .read_text().splitlines()[:4]]
AUDIT_BASE: list[dict[str, Any]] = json.loads((FIXTURES / "sources" / "entra" / "AuditLogs.json").read_text())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


@st.composite
def mutated_line(draw: st.DrawFn, base: list[dict[str, Any]]) -> bytes:
    rec = dict(draw(st.sampled_from(base)))
    keys = sorted(rec)
    for key in draw(st.lists(st.sampled_from(keys), max_size=4)):
        rec.pop(key, None)
    for key in draw(st.lists(st.sampled_from(keys), max_size=4)):
        rec[key] = draw(json_values)
    rec["Id"] = draw(st.text(min_size=0, max_size=12))
    line = json.dumps(rec).encode()
    damage = draw(st.sampled_from(["none", "none", "truncate", "bytes", "garbage"]))
    if damage == "truncate":
        line = line[: draw(st.integers(min_value=1, max_value=max(1, len(line) - 1)))]
    elif damage == "bytes":
        at = draw(st.integers(min_value=0, max_value=len(line)))
        line = line[:at] + draw(st.binary(min_size=1, max_size=6)).replace(b"\n", b"") + line[at:]
    elif damage == "garbage":
        line = draw(st.binary(max_size=40)).replace(b"\n", b" ")
    return line


def _is_object(line: bytes) -> bool:
    """Strict JSON, as the engine reads it (Python's json would accept Infinity / NaN)."""
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _ingest(tmp: Path, name: str, content: bytes, fmt: str) -> tuple[Any, Any]:
    path = tmp / name
    path.write_bytes(content)
    s = load_settings(overrides={"store.path": ":memory:"}, environ={})
    store = open_store(":memory:")
    [r] = ingest_paths(store, [path], s, fmt=fmt)
    return r, store


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(mutated_line(BASE), min_size=1, max_size=12))
def test_mutated_signins_always_balance(tmp_path: Path, lines: list[bytes]) -> None:
    r, store = _ingest(tmp_path, "s.json", b"\n".join(lines) + b"\n", "entra_signin_la")
    if r.error is not None:  # only when no line is JSON at all: then it is a file-level error naming the file
        assert not any(_is_object(x) for x in lines) and "s.json" in r.error
        return
    if any(_is_object(x) for x in lines):  # read as NDJSON: every non-blank line is one record
        # blank means JSON whitespace only (a line holding e.g. a vertical tab is a bad record, not blank)
        assert r.read == sum(1 for x in lines if x.strip(b" \t\r"))
    assert r.read == r.stored + r.duplicate + r.quarantined
    assert store.count("signins") == r.stored == store.count("raw_records")
    assert store.count("quarantine") == r.quarantined
    assert store.scalar("select count(*) from quarantine where reason is null or reason = ''") == 0
    # stored rows always have a time and an id
    assert store.scalar("select count(*) from signins where event_time is null or event_id is null") == 0
    store.close()


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(mutated_line(AUDIT_BASE), min_size=1, max_size=8), as_array=st.booleans())
def test_mutated_audit_records_in_arrays_and_lines_balance(tmp_path: Path, lines: list[bytes],
                                                           as_array: bool) -> None:
    content = (b"[" + b",\n".join(lines) + b"]") if as_array else b"\n".join(lines) + b"\n"
    r, store = _ingest(tmp_path, "a.json", content, "entra_audit_la")
    if r.error is None:
        assert r.read == r.stored + r.duplicate + r.quarantined
        assert store.count("directory_events") == r.stored
    else:  # a broken document is named with its file, never a crash
        assert "a.json" in r.error
    store.close()
