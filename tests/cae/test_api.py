from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import JoseError

from tests.cae.conftest import cae_settings
from tests.cae.test_sets import _json
from vigil.api.tokens import create_token
from vigil.api.cae_demo import create_demo_app
from vigil.cae.service import CaeService
from vigil.cae.keys import ALLOWED_ALGS, _generate, public_jwks, signing_key
from vigil.cae.sets import CREDENTIAL_CHANGE, EVENTS_SUPPORTED, VERIFICATION
from vigil.cae.transmitter import PUSH


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str], CaeService]]:
    settings = cae_settings(tmp_path)
    svc = CaeService(settings)
    app = create_demo_app(settings, service=svc)
    con = app.state.vigil.db.cursor()
    admin = {"Authorization": f"Bearer {create_token(con, 'admin', 'admin')[1]}"}
    reader = {"Authorization": f"Bearer {create_token(con, 'reader', 'reader')[1]}"}
    with TestClient(app) as client:
        yield client, admin, reader, svc
    svc.close()


def test_discovery_and_jwks_are_public(api) -> None:  # type: ignore[no-untyped-def]
    client, *_ = api
    conf = client.get("/.well-known/ssf-configuration").json()
    assert conf["spec_version"] == "1_0" and conf["jwks_uri"].endswith("/api/v1/ssf/jwks.json")
    assert conf["configuration_endpoint"].endswith("/api/v1/ssf/streams")
    r = client.get("/api/v1/ssf/jwks.json")
    assert r.headers["content-type"].startswith("application/jwk-set+json")
    assert all("d" not in k for k in r.json()["keys"])


def test_roles(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, reader, _ = api
    body = {"event_type": "password_reset", "user": "u1"}
    assert client.post("/api/v1/cae/events", json=body).status_code == 401
    assert client.post("/api/v1/cae/events", json=body, headers=reader).status_code == 403
    assert client.post("/api/v1/cae/events", json=body, headers=admin).json()["recorded"] == 1
    assert client.get("/api/v1/cae/status", headers=reader).json()["revocations"] == 1
    rows = client.get("/api/v1/cae/revocations", params={"subject": "U1"}, headers=reader).json()
    assert [r["event_type"] for r in rows] == ["password_reset"]
    assert client.post("/api/v1/ssf/streams", json={}, headers=reader).status_code == 403


def test_bad_bodies_name_the_field(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, *_ = api
    r = client.post("/api/v1/cae/events", json={"events": [{"event_type": "password_reset", "user": "u"},
                                                           {"event_type": "nope", "user": "u"}]}, headers=admin)
    assert r.status_code == 400 and "body.events[1].event_type" in r.json()["detail"]
    r = client.post("/api/v1/cae/events", content=b"{not json", headers=admin)
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = client.post("/api/v1/ssf/streams", json={"delivery": {"method": PUSH}}, headers=admin)
    assert r.status_code == 400 and "endpoint_url" in r.json()["detail"]


def test_stream_lifecycle_and_verification(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, reader, svc = api
    created = client.post("/api/v1/ssf/streams", headers=admin, json={
        "aud": "urn:rx", "events_requested": [CREDENTIAL_CHANGE],
        "delivery": {"method": PUSH, "endpoint_url": "http://127.0.0.1:9/none"}})
    assert created.status_code == 201
    sid = created.json()["stream_id"]
    assert client.get("/api/v1/ssf/streams", params={"stream_id": sid}, headers=reader).json()["aud"] == "urn:rx"
    assert client.get("/api/v1/ssf/status", params={"stream_id": sid}, headers=reader).json()["status"] == "enabled"
    assert client.post("/api/v1/ssf/verify", json={"stream_id": sid, "state": "abc"}, headers=admin).status_code == 204
    assert svc.transmitter.outbox()[0]["event_type"] == VERIFICATION
    assert client.delete("/api/v1/ssf/streams", params={"stream_id": sid}, headers=admin).status_code == 204
    assert client.get("/api/v1/ssf/streams", params={"stream_id": sid}, headers=reader).status_code == 404
    assert client.delete("/api/v1/ssf/streams", params={"stream_id": sid}, headers=admin).status_code == 404


def test_receive_authenticates_first_then_needs_secevent_content_type(receiving) -> None:  # type: ignore[no-untyped-def]
    client, _, reg = receiving
    url = f"/api/v1/ssf/receive/{reg['transmitter_id']}"
    for ctype in ("application/json", "application/secevent+jwt"):
        r = client.post(url, content=b"x.y.z", headers={"Content-Type": ctype, "Authorization": "Bearer x"})
        assert r.status_code == 401 and r.json()["err"] == "authentication_failed"
        assert r.headers["www-authenticate"] == 'Bearer realm="ssf"'
    r = client.post(url, content=b"x.y.z", headers={"Content-Type": "application/json",
                                                     "Authorization": reg["authorization_header"]})
    assert r.status_code == 400 and r.json()["err"] == "invalid_request"


# -- hostile SET fields at the push endpoint: always an RFC 8935 answer, never a 500 ---------------
_SET_ERRS = {"invalid_request", "invalid_key", "invalid_issuer", "invalid_audience", "authentication_failed",
             "access_denied"}
_text = st.text(st.characters(codec=None), max_size=40) | st.sampled_from(
    ["l\u2019admin", "a\r\nX-Injected: 1", "\ud800", '"\\', "\u0130" * 300])
_value = _json | _text
_subject = st.fixed_dictionaries({"format": st.sampled_from(["iss_sub", "email", "opaque", "complex"]) | _text},
                                 optional={k: _value for k in ("iss", "sub", "email", "id", "user", "session")})
_event_body = st.fixed_dictionaries({}, optional={
    "event_timestamp": _value | st.integers(0, 2**40), "reason_admin": _value | st.dictionaries(_text, _text),
    "change_direction": st.just("decrease") | _text, "current_status": st.just("not-compliant") | _text,
    "credential_type": _value, "subject": _subject, "sub_id": _subject})


@pytest.fixture
def receiving(api):  # type: ignore[no-untyped-def]
    client, admin, _, _ = api
    keys = _generate()
    reg = client.post("/api/v1/ssf/transmitters", headers=admin, json={
        "issuer": "https://tx.test", "jwks": public_jwks(keys), "audience": "urn:vigil:rx"}).json()
    return client, keys, reg


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kid=st.none() | _text, typ=st.sampled_from(["secevent+jwt", "JWT"]) | _text,
       iss=st.just("https://tx.test") | _text, aud=st.just("urn:vigil:rx") | _value, jti=st.just("j") | _value,
       iat=st.integers(1, 2**33) | _value, sub_id=st.none() | _subject,
       events=st.dictionaries(st.sampled_from(EVENTS_SUPPORTED) | _text, _event_body, max_size=2),
       extra=st.dictionaries(_text, _value, max_size=2), authorization=st.none() | _text)
def test_hostile_set_fields_get_an_rfc8935_answer(receiving, kid, typ, iss, aud, jti, iat, sub_id,  # type: ignore[no-untyped-def]
                                                 events, extra, authorization) -> None:
    client, keys, reg = receiving
    key = signing_key(keys)
    header = {"alg": key.get("alg") or "ES256", "typ": typ, **({"kid": kid} if kid is not None else {"kid": key.kid})}
    claims = {**extra, "iss": iss, "aud": aud, "jti": jti, "iat": iat, "events": events,
              **({"sub_id": sub_id} if sub_id is not None else {})}
    try:  # json, not orjson: lone surrogates go out as \ud800 escapes, as a hostile transmitter would send them
        token = jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=ALLOWED_ALGS)
    except (ValueError, TypeError, JoseError):
        return  # joserfc refuses to sign this header itself
    auth = reg["authorization_header"] if authorization is None else f"Bearer {authorization}"
    r = client.post(f"/api/v1/ssf/receive/{reg['transmitter_id']}", content=token.encode(),
                    headers={"Content-Type": "application/secevent+jwt",
                             # raw bytes, as a server hands them over (h11 refuses CR, LF and NUL itself)
                             "Authorization": re.sub(rb"[\r\n\0]", b"", auth.encode("utf-8", "surrogatepass"))})
    assert r.status_code in (202, 400, 401, 403), r.text
    if r.status_code != 202:
        assert r.json()["err"] in _SET_ERRS and isinstance(r.json()["description"], str)
    if r.status_code == 401:
        assert r.headers["www-authenticate"] == 'Bearer realm="ssf"'
