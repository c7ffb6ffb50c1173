from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from vigil.cae.events import new_event
from vigil.cae.keys import _generate
from vigil.cae.sets import (ASSURANCE_LEVEL_CHANGE, CREDENTIAL_CHANGE, DEVICE_COMPLIANCE_CHANGE, SESSION_REVOKED,
                            SetInvalid, build_set, caep_event, events_from_set, structure_problems, sub_id_for)

KEYS = _generate()
ISS = "https://vigil.test"


@pytest.mark.parametrize("etype, scope, uri, required", [
    ("password_reset", "user", CREDENTIAL_CHANGE, {"credential_type": "password", "change_type": "update"}),
    ("mfa_registered", "user", CREDENTIAL_CHANGE, {"change_type": "create"}),
    ("user_disabled", "user", SESSION_REVOKED, {}),
    ("user_risk_high", "user", SESSION_REVOKED, {"initiating_entity": "policy"}),
    ("session_revoked", "session", SESSION_REVOKED, {}),
    ("device_noncompliant", "device", DEVICE_COMPLIANCE_CHANGE,
     {"previous_status": "compliant", "current_status": "not-compliant"}),
    ("assurance_level_decreased", "user", ASSURANCE_LEVEL_CHANGE, {"namespace": "NIST-AAL", "change_direction": "decrease"}),
])
def test_each_critical_event_becomes_a_caep_event_and_back(etype: str, scope: str, uri: str, required: dict) -> None:
    ev = new_event(etype, scope=scope, subject="subj-1", source="cli", revoked_at=1_700_000_000,
                   user_id="u-1" if scope != "user" else None, reason="because")
    got_uri, body = caep_event(ev)
    assert got_uri == uri and body["event_timestamp"] == 1_700_000_000 and body["reason_admin"] == {"en": "because"}
    assert required.items() <= body.items()
    token, claims = build_set(KEYS, issuer=ISS, audience="urn:rx", event_uri=got_uri, event_body=body,
                              sub_id=sub_id_for(ev, ISS), txn=ev.event_key)
    assert token.count(".") == 2
    assert structure_problems({"typ": "secevent+jwt", "alg": "ES256"}, claims) == []
    assert set(claims) == {"iss", "iat", "jti", "aud", "sub_id", "events", "txn"}
    back, notes = events_from_set(claims, source_key="t")
    assert notes == [] and len(back) == 1
    assert (back[0].scope, back[0].subject, back[0].source) == (scope, "subj-1", "ssf")
    assert back[0].revoked_at == 1_700_000_000


def test_sub_id_formats() -> None:
    assert sub_id_for(new_event("password_reset", subject="u1", source="cli"), ISS) == \
        {"format": "iss_sub", "iss": ISS, "sub": "u1"}
    assert sub_id_for(new_event("password_reset", subject="a@x.com", source="cli"), ISS) == \
        {"format": "email", "email": "a@x.com"}
    s = sub_id_for(new_event("session_revoked", scope="session", subject="s1", user_id="u1", source="cli"), ISS)
    assert s == {"format": "complex", "session": {"format": "opaque", "id": "s1"},
                 "user": {"format": "iss_sub", "iss": ISS, "sub": "u1"}}


def test_structure_problems_rfc8417() -> None:
    claims = {"iss": ISS, "iat": 1, "jti": "j", "aud": "a", "events": {SESSION_REVOKED: {}}}
    assert structure_problems({"typ": "secevent+jwt", "alg": "ES256"}, claims) == []
    bad = structure_problems({"typ": "JWT", "alg": "none"},
                             {"iss": "", "iat": "x", "aud": 3, "sub": "u", "exp": 9, "events": {}})
    text = " | ".join(bad)
    for needle in ("header.typ", "header.alg", "iss must", "jti must", "iat must", "aud must", "sub must not",
                   "exp must not", "events must"):
        assert needle in text


def test_increase_and_compliant_imply_no_revocation() -> None:
    claims = {"iss": ISS, "iat": 5, "jti": "j", "aud": "a", "sub_id": {"format": "iss_sub", "iss": ISS, "sub": "u"},
              "events": {ASSURANCE_LEVEL_CHANGE: {"namespace": "NIST-AAL", "current_level": "nist-aal2",
                                                  "change_direction": "increase"}}}
    events, notes = events_from_set(claims, source_key="t")
    assert events == [] and "no revocation" in notes[0]


def test_legacy_subject_member_and_unknown_events() -> None:
    claims = {"iss": ISS, "iat": 5, "jti": "j", "aud": "a",
              "events": {SESSION_REVOKED: {"subject": {"user": {"format": "email", "email": "B@x.com"},
                                                       "session": {"format": "opaque", "id": "S9"}}}}}
    events, _ = events_from_set(claims, source_key="t")
    assert (events[0].scope, events[0].subject, events[0].user_id) == ("session", "s9", "b@x.com")
    with pytest.raises(SetInvalid, match="not supported"):
        events_from_set({**claims, "events": {"https://example/other": {}}, "sub_id": {"format": "opaque", "id": "x"}},
                        source_key="t")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                     max_leaves=10)


@settings(max_examples=60)
@given(header=st.dictionaries(st.sampled_from(["typ", "alg", "kid"]), _json),
       claims=st.dictionaries(st.sampled_from(["iss", "iat", "jti", "aud", "events", "sub_id", "sub", "exp", "txn"]),
                              _json))
def test_structure_check_never_crashes_on_arbitrary_json(header: dict, claims: dict) -> None:
    problems = structure_problems(header, claims)
    if not problems:  # whatever passes must be safe to interpret
        try:
            events_from_set(claims, source_key="t")
        except SetInvalid:
            pass


def test_unreadable_subject_values_are_refused() -> None:
    base = {"iss": ISS, "iat": 5, "jti": "j", "aud": "a", "events": {SESSION_REVOKED: {}}}
    for sub_id in ({"format": "iss_sub", "iss": ISS, "sub": 42}, {"format": "complex", "user": {"format": "email"}},
                   {"format": "did", "url": "did:x"}):
        with pytest.raises(SetInvalid, match="subject"):
            events_from_set({**base, "sub_id": sub_id}, source_key="t")
    ok, _ = events_from_set({**base, "sub_id": {"format": "account", "uri": "acct:Z@x.com"}}, source_key="t")
    assert ok[0].subject == "z@x.com"


_formats = st.sampled_from(["iss_sub", "email", "opaque", "account", "phone_number", "complex", "x"])
_sid = st.fixed_dictionaries({"format": _formats}, optional={
    k: _json | st.fixed_dictionaries({"format": _formats}, optional={m: _json for m in ("sub", "email", "id", "uri")})
    for k in ("sub", "email", "id", "uri", "user", "session", "device")})


@settings(max_examples=60)
@given(sub_id=_sid, uri=st.sampled_from([SESSION_REVOKED, CREDENTIAL_CHANGE, ASSURANCE_LEVEL_CHANGE,
                                         DEVICE_COMPLIANCE_CHANGE]),
       body=st.fixed_dictionaries({"event_timestamp": st.integers() | st.floats(allow_nan=False) | _json},
                                  optional={k: _json for k in ("reason_admin", "change_direction", "current_status",
                                                               "credential_type", "subject")}))
def test_well_formed_sets_with_arbitrary_members_apply_or_are_refused(sub_id: dict, uri: str, body: dict) -> None:
    claims = {"iss": ISS, "iat": 5, "jti": "j", "aud": "a", "sub_id": sub_id, "events": {uri: body}}
    try:
        events, _ = events_from_set(claims, source_key="t")
    except SetInvalid:
        return
    for ev in events:
        assert ev.subject and ev.revoked_at > 0


@pytest.mark.parametrize("ts", [-5, 0, "yesterday", True, 1e13])
def test_bad_event_timestamps_are_refused(ts: object) -> None:
    claims = {"iss": ISS, "iat": 5, "jti": "j", "aud": "a", "sub_id": {"format": "opaque", "id": "u"},
              "events": {SESSION_REVOKED: {"event_timestamp": ts}}}
    with pytest.raises(SetInvalid, match="event_timestamp"):
        events_from_set(claims, source_key="t")
