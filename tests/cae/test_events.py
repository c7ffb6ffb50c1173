from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from vigil.cae.events import EVENT_TYPES, CriticalEvent, event_from_json, new_event
from vigil.errors import InputError


def test_event_from_json_user_with_upn_alias() -> None:
    ev = event_from_json({"event_type": "password_reset", "user": "ABC-1", "upn": "Adele@Contoso.com",
                          "revoked_at": 1700000000.25, "event_key": "k1"}, source="api")
    assert (ev.scope, ev.subject, ev.subject_alt) == ("user", "abc-1", "adele@contoso.com")
    assert ev.event_key == "api:k1" and ev.challenge_nbf == 1700000001
    assert ev.reason == EVENT_TYPES["password_reset"]


@pytest.mark.parametrize("body, where", [
    ({"event_type": "nope", "user": "u"}, "body.event_type"),
    ({"event_type": "password_reset"}, "exactly one of user, session, device"),
    ({"event_type": "password_reset", "user": "u", "session": "s"}, "exactly one"),
    ({"event_type": "password_reset", "user": "u", "revoked_at": "yesterday"}, "body.revoked_at"),
    ({"event_type": "password_reset", "user": "u", "colour": "red"}, "body.colour: unknown field"),
    ({"event_type": "password_reset", "subject": "u", "scope": "tenant"}, "scope 'tenant'"),
    ([1, 2], "expected a JSON object"),
])
def test_event_from_json_rejects_with_the_field(body: object, where: str) -> None:
    with pytest.raises(InputError, match=where.replace("(", r"\(")):
        event_from_json(body, source="api")


def test_event_rejects_bad_times() -> None:
    with pytest.raises(InputError, match="revoked_at"):
        new_event("password_reset", subject="u", source="cli", revoked_at=math.nan)


@given(st.floats(min_value=1, max_value=4e9, allow_nan=False))
def test_challenge_nbf_is_never_before_the_event(t: float) -> None:
    ev = CriticalEvent("k", "password_reset", "user", "u", t, "cli", "r")
    assert ev.challenge_nbf >= t and ev.challenge_nbf - t < 1
