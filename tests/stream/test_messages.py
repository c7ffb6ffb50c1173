"""Message values to records per format: every wrapper and NDJSON, and what cannot be read, by position."""
from __future__ import annotations

import orjson

from vigil.stream.messages import Position, parse

SIGNIN = {"time": "2026-01-05T09:00:00Z", "category": "SignInLogs", "properties": {"id": "a"}}
AUDIT = {"time": "2026-01-05T09:00:00Z", "category": "AuditLogs", "operationName": "Reset user password",
         "properties": {"id": "b", "activityDisplayName": "Reset user password"}}


def at(offset: int) -> Position:
    return Position("t", 0, offset)


def test_wrappers_ndjson_and_formats() -> None:
    msgs = [
        (at(0), orjson.dumps({"records": [SIGNIN, AUDIT]})),
        (at(1), orjson.dumps([SIGNIN])),
        (at(2), orjson.dumps(SIGNIN) + b"\n" + orjson.dumps(SIGNIN) + b"\n"),
        (at(3), orjson.dumps(SIGNIN)),
    ]
    p = parse(msgs, 1 << 20)
    assert p.messages == 4 and not p.bad
    assert len(p.records["entra_signin_diag"]) == 5
    assert sum(len(v) for k, v in p.records.items() if k != "entra_signin_diag") == 1


def test_bad_messages_named_by_position() -> None:
    msgs = [(at(5), b""), (at(6), b"\xff\xfe"), (at(7), b"x" * 2000), (at(8), b"{oops"),
            (at(9), orjson.dumps(SIGNIN) + b"\n{cut"), (at(10), orjson.dumps({"records": [1, {"k": 1}]}))]
    p = parse(msgs, 1024)
    got = [b.describe() for b in p.bad]
    assert got[0] == "kafka t[0]@5: empty message"
    assert got[1].startswith("kafka t[0]@6: message is not UTF-8")
    assert got[2] == "kafka t[0]@7: message is longer than the 1,024-byte limit"
    assert got[3].startswith("kafka t[0]@8: message is not JSON or NDJSON")
    assert got[4].startswith("kafka t[0]@9 record 2: line is not valid JSON")
    assert got[5] == "kafka t[0]@10 record 1: record is a JSON int, not an object"
    assert got[6].startswith("kafka t[0]@10 record 2: no format recognises this record (keys: k)")
    assert p.count == 1  # the good line of the NDJSON message is kept
