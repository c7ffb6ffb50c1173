"""JSON lines for a SIEM, and the signed webhook against a real HTTP server on 127.0.0.1."""
from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.detections.upstream import create_upstream
from tests.risk.helpers import add_detections, detection
from vigil.errors import ConfigError
from vigil.incidents import actions, build, output
from vigil.settings import IncidentSettings
from vigil.store import Store

SECRET = "s3cret"


class Receiver:
    """A webhook receiver: answers from a script of status codes, verifies every signature."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = output.verify(SECRET, self.headers["X-Vigil-Timestamp"], body,
                                   self.headers["X-Vigil-Signature"])
                code = receiver.script.pop(0) if receiver.script else 200
                receiver.received.append({"ok": ok, "code": code, "event": self.headers["X-Vigil-Event"],
                                          "delivery": self.headers["X-Vigil-Delivery"], "body": orjson.loads(body)})
                self.send_response(code if ok else 401)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _store_with_incident(store: Store) -> str:
    create_upstream(store)
    add_detections(store, [detection(riskEventType="attackerinTheMiddle", riskLevel="high", event_id="e1")])
    build.build(store, IncidentSettings.model_validate({}))
    return str(store.con.execute("select incident_id from incidents").fetchall()[0][0])


def test_jsonl(store: Store) -> None:
    inc = _store_with_incident(store)
    buf = io.BytesIO()
    assert output.write_jsonl(output.incident_rows(store), buf) == 1
    row = orjson.loads(buf.getvalue().splitlines()[0])
    assert row["incident_id"] == inc and row["detection_ids"] and "content_hash" not in row
    assert row["first_activity"].endswith("Z")
    buf = io.BytesIO()
    assert output.write_jsonl(output.detection_rows(store), buf) == 1
    det = orjson.loads(buf.getvalue())
    assert det["riskEventType"] == "attackerinTheMiddle" and det["additionalInfo"]["evidence"] == {"x": 1}


def test_webhook_retries_signs_and_sends_updates_once(store: Store, receiver: Receiver) -> None:
    inc = _store_with_incident(store)
    s = IncidentSettings.model_validate({"webhook_url": receiver.url, "webhook_secret": SECRET,
                                         "webhook_backoff_s": 0.01})
    slept: list[float] = []
    receiver.script = [503, 429]
    out = output.send(store, s, sleep=slept.append)
    assert (out["sent"], out["failed"]) == (1, 0) and out["deliveries"][0]["attempts"] == 3
    assert slept == [0.01, 0.02]  # exponential back-off
    assert [r["code"] for r in receiver.received] == [503, 429, 200] and all(r["ok"] for r in receiver.received)
    assert len({r["delivery"] for r in receiver.received}) == 1  # one delivery id across retries
    assert receiver.received[-1]["body"]["type"] == "incident.created"
    assert output.send(store, s, sleep=slept.append)["sent"] == 0  # already delivered
    actions.set_status(store, inc, status="active", actor="ann")
    out = output.send(store, s, sleep=slept.append)
    assert out["sent"] == 1 and receiver.received[-1]["event"] == "incident.updated"
    assert receiver.received[-1]["body"]["incident"]["status"] == "active"
    assert store.count("incident_deliveries") == 2


def test_webhook_client_errors_fail_without_retry_and_wrong_secret_is_refused(store: Store,
                                                                                receiver: Receiver) -> None:
    _store_with_incident(store)
    s = IncidentSettings.model_validate({"webhook_url": receiver.url, "webhook_secret": "wrong",
                                         "webhook_backoff_s": 0.01})
    out = output.send(store, s, sleep=lambda _: None)
    assert out["failed"] == 1 and out["failures"][0]["http_status"] == 401 and out["failures"][0]["attempts"] == 1
    assert not receiver.received[0]["ok"]
    assert store.count("incident_deliveries") == 0  # not delivered: tried again next time


def test_webhook_unreachable_and_unconfigured(store: Store) -> None:
    _store_with_incident(store)
    s = IncidentSettings.model_validate({"webhook_url": "http://127.0.0.1:9/x", "webhook_secret": SECRET,
                                         "webhook_max_attempts": 2, "webhook_backoff_s": 0.01})
    out = output.send(store, s, sleep=lambda _: None)
    assert out["failed"] == 1 and "ConnectError" in out["failures"][0]["error"]
    with pytest.raises(ConfigError, match="secret"):
        output.send(store, IncidentSettings.model_validate({"webhook_url": "http://127.0.0.1:9/x"}))


def test_verify_refuses_replays() -> None:
    body = b'{"a":1}'
    sig = output.sign(SECRET, 1_000_000, body)
    assert output.verify(SECRET, "1000000", body, sig, now=1_000_010)
    assert not output.verify(SECRET, "1000000", body, sig, now=1_001_000)
    assert not output.verify(SECRET, "1000000", body + b" ", sig, now=1_000_010)



@given(st.binary(max_size=256), st.text(min_size=1, max_size=32), st.integers(0, 2**31), st.binary(min_size=1,
                                                                                                      max_size=8))
def test_signature_round_trip_and_tamper(body: bytes, secret: str, ts: int, extra: bytes) -> None:
    sig = output.sign(secret, ts, body)
    assert output.verify(secret, str(ts), body, sig, now=ts)
    assert not output.verify(secret, str(ts), body + extra, sig, now=ts)
    assert not output.verify(secret + "x", str(ts), body, sig, now=ts)
