"""The CAE fast lane's byte prefilter lets every audit record through (and skips sign-ins)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson

from tests.conftest import FIXTURES
from tests.stream.test_e2e import _password_reset
from vigil.sources._reader import sniff
from vigil.sources.ingest import detect_format
from vigil.stream.critical import may_hold_audit
from vigil.stream.messages import Position, parse


def _values(path: Path) -> list[bytes]:
    doc = orjson.loads(path.read_bytes()) if path.suffix == ".json" and path.read_bytes().lstrip()[:1] in b"[{" \
        and b"\n{" not in path.read_bytes().strip() else None
    if isinstance(doc, dict):
        doc = doc.get("value") or doc.get("records") or [doc]
    if isinstance(doc, list):
        return [orjson.dumps(r) for r in doc]
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def test_every_audit_record_passes_the_prefilter() -> None:
    values = [_password_reset("u", "u@contoso.com", datetime(2026, 1, 5))]
    for path in sorted((FIXTURES / "sources").rglob("*.json*")):
        kind, head = sniff(path)
        try:
            spec = detect_format(path, kind, head)
        except Exception:
            continue
        if spec is not None and spec.target == "directory_events":
            values += _values(path)
    audit = parse([(Position("t", 0, i), v) for i, v in enumerate(values)], 1 << 24, targets={"directory_events"})
    assert audit.count >= 3
    assert all(may_hold_audit(v) for v in values)


def test_sign_ins_are_not_parsed() -> None:
    lines = (FIXTURES / "sources/entra/SigninLogs.ndjson").read_bytes().splitlines()
    assert lines and not any(may_hold_audit(v) for v in lines)
