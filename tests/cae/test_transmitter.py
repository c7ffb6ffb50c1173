from __future__ import annotations

import time

import httpx
import orjson
import pytest
from joserfc import jws

from vigil.cae.events import new_event
from vigil.cae.service import CaeService
from vigil.cae.sets import CREDENTIAL_CHANGE, SESSION_REVOKED, structure_problems
from vigil.cae.transmitter import POLL, PUSH
from vigil.errors import InputError


def _push_stream(svc: CaeService, events: list[str] | None = None) -> str:
    body = {"aud": "urn:rx", "delivery": {"method": PUSH, "endpoint_url": "http://rx.test/ssf",
                                          "authorization_header": "Bearer rx-secret"}}
    if events:
        body["events_requested"] = events
    return str(svc.transmitter.create_stream(body)["stream_id"])


def test_stream_config_and_validation(svc: CaeService) -> None:
    sid = _push_stream(svc, [CREDENTIAL_CHANGE, "https://example/unknown"])
    cfg = svc.transmitter.get_stream(sid)
    assert cfg is not None and cfg["iss"] == svc.settings.cae.issuer and cfg["aud"] == "urn:rx"
    assert cfg["events_delivered"] == [CREDENTIAL_CHANGE]
    poll = svc.transmitter.create_stream({"delivery": {"method": POLL}}, base_url="http://tx.test/api/v1")
    assert poll["delivery"]["endpoint_url"] == f"http://tx.test/api/v1/ssf/poll/{poll['stream_id']}"
    assert poll["poll_token"].startswith("ssfp_")
    assert svc.transmitter.check_poll_token(poll["stream_id"], f"Bearer {poll['poll_token']}")
    assert not svc.transmitter.check_poll_token(poll["stream_id"], "Bearer wrong")
    for body, where in [({"delivery": {"method": "smoke-signals"}}, "delivery.method"),
                        ({"delivery": {"method": PUSH}}, "endpoint_url"),
                        ({"events_requested": "all"}, "events_requested")]:
        with pytest.raises(InputError, match=where):
            svc.transmitter.create_stream(body)
    assert svc.transmitter.delete_stream(sid) and svc.transmitter.get_stream(sid) is None


def test_emit_only_requested_events(svc: CaeService) -> None:
    _push_stream(svc, [CREDENTIAL_CHANGE])
    n = svc.transmitter.emit([new_event("password_reset", subject="u", source="cli"),
                              new_event("user_disabled", subject="u", source="cli")])
    assert n == 1
    item = svc.transmitter.outbox()[0]
    assert item["event_type"] == CREDENTIAL_CHANGE and item["state"] == "pending"


def test_push_success_retry_and_permanent_failure(svc: CaeService) -> None:
    _push_stream(svc)
    seen: list[httpx.Request] = []
    answers = iter([httpx.Response(503), httpx.Response(202),
                    httpx.Response(400, json={"err": "invalid_audience", "description": "not us"})])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    svc.record([new_event("user_disabled", subject="u1", source="cli")])
    r1 = svc.transmitter.push_due(client)
    assert (r1.attempted, r1.retrying) == (1, 1)
    assert svc.transmitter.push_due(client).attempted == 0  # backoff: not due yet
    r2 = svc.transmitter.push_due(client, now=svc.transmitter.next_push_due())
    assert r2.delivered == 1
    req = seen[-1]
    assert req.headers["content-type"] == "application/secevent+jwt"
    assert req.headers["authorization"] == "Bearer rx-secret"
    header = jws.extract_compact(req.content).protected
    assert header["typ"] == "secevent+jwt"
    svc.record([new_event("user_deleted", subject="u2", source="cli")])
    r3 = svc.transmitter.push_due(client)
    assert r3.failed == 1  # 400 + err: permanent, not retried
    failed = svc.transmitter.outbox(state="failed")
    assert "invalid_audience" in failed[0]["last_error"]


def test_push_gives_up_after_max_attempts(svc: CaeService) -> None:
    _push_stream(svc)
    client = httpx.Client(transport=httpx.MockTransport(lambda r: (_ for _ in ()).throw(httpx.ConnectError("down"))))
    svc.record([new_event("user_disabled", subject="u1", source="cli")])
    for _ in range(svc.settings.cae.push_max_attempts):
        svc.transmitter.push_due(client, now=(svc.transmitter.next_push_due() or 0) + 1)
    row = svc.transmitter.outbox()[0]
    assert row["state"] == "failed" and row["attempts"] == svc.settings.cae.push_max_attempts
    assert "ConnectError" in row["last_error"]


def test_poll_ack_errors_and_more_available(svc: CaeService) -> None:
    sid = svc.transmitter.create_stream({"delivery": {"method": POLL}, "events_requested": [SESSION_REVOKED]})["stream_id"]
    svc.record([new_event("user_disabled", subject=f"u{i}", source="cli") for i in range(5)])
    first = svc.transmitter.poll(sid, {"maxEvents": 3, "returnImmediately": True})
    assert len(first["sets"]) == 3 and first["moreAvailable"] is True
    for token in first["sets"].values():
        obj = jws.extract_compact(token.encode())
        assert structure_problems(dict(obj.protected), orjson.loads(obj.payload)) == []
    jtis = list(first["sets"])
    second = svc.transmitter.poll(sid, {"maxEvents": 10, "ack": jtis[:2],
                                        "setErrs": {jtis[2]: {"err": "invalid_key", "description": "?"}}})
    assert len(second["sets"]) == 2 and second["moreAvailable"] is False
    states = {r["jti"]: r["state"] for r in svc.transmitter.outbox()}
    assert [states[j] for j in jtis] == ["acked", "acked", "failed"]
    # unacknowledged SETs are offered again after a while, never lost
    again = svc.transmitter.poll(sid, {"maxEvents": 10}, now=time.time() + 60)
    assert set(again["sets"]) == set(second["sets"])
    with pytest.raises(InputError, match="maxEvents"):
        svc.transmitter.poll(sid, {"maxEvents": -1})


def test_outbox_survives_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.cae.conftest import cae_settings

    s = cae_settings(tmp_path)
    a = CaeService(s)
    _push_stream(a)
    a.record([new_event("user_disabled", subject="u1", source="cli")])
    a.close()
    b = CaeService(s)
    assert [r["state"] for r in b.transmitter.outbox()] == ["pending"]
    assert b.state.lookup("user", "u1") is not None
    b.close()


def test_two_deliverers_do_not_push_the_same_set_twice(svc: CaeService) -> None:
    import threading

    _push_stream(svc)
    svc.record([new_event("user_disabled", subject=f"u{i}", source="cli") for i in range(40)])
    seen: list[bytes] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        time.sleep(0.002)
        with lock:
            seen.append(request.content)
        return httpx.Response(202)

    other = CaeService(svc.settings)  # a second process's view: `vigil ssf deliver` next to the service
    threads = [threading.Thread(target=s.transmitter.push_due, args=(httpx.Client(transport=httpx.MockTransport(handler)),))
               for s in (svc, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert len(seen) == 40 and len(set(seen)) == 40
