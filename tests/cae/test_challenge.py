from __future__ import annotations

import base64

from hypothesis import given, strategies as st

from vigil.cae.challenge import claims_challenge, decode_claims, invalid_token, parse_challenge

MS_EXAMPLE = ("eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=")


def test_documented_form() -> None:
    value = claims_challenge(1604106651, "https://login.microsoftonline.com/common/oauth2/authorize")
    assert value.startswith('Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
                            'oauth2/authorize", error="insufficient_claims", claims="')
    params = parse_challenge(value)
    # same claims request as Microsoft's documented CAE example (whitespace aside)
    assert decode_claims(params["claims"]) == decode_claims(MS_EXAMPLE)
    base64.b64decode(params["claims"], validate=True)  # standard base64, as in the example


def test_invalid_token_escapes_quotes() -> None:
    p = parse_challenge(invalid_token('aud "x" is wrong'))
    assert p == {"realm": "", "error": "invalid_token", "error_description": 'aud "x" is wrong'}


@given(st.integers(min_value=0, max_value=2**40))
def test_claims_roundtrip(nbf: int) -> None:
    c = decode_claims(parse_challenge(claims_challenge(nbf, "https://a/b"))["claims"])
    assert c == {"access_token": {"nbf": {"essential": True, "value": str(nbf)}}}
