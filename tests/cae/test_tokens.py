from __future__ import annotations

import time

import pytest
from joserfc.jwk import KeySet

from vigil.cae.keys import _generate, load_or_create_signing_keys, public_jwks
from vigil.cae.sets import build_set
from vigil.cae.tokens import TokenRejected, TokenValidator, has_cp1, issue_token, issued_at

KEYS = _generate()
ISS, AUD = "https://vigil.test", "api://demo"


def _validator(keys: KeySet = KEYS) -> TokenValidator:
    return TokenValidator(KeySet.import_key_set(public_jwks(keys)), ISS, AUD, leeway_s=5)  # type: ignore[arg-type]


def _tok(**kw: object) -> str:
    args: dict = {"issuer": ISS, "audience": AUD, "user_id": "u1", "lifetime_s": 3600}
    args.update(kw)
    return issue_token(KEYS, **args)[0]


def test_valid_token_claims() -> None:
    claims = _validator().validate(_tok(session_id="s1", cp1=True, upn="a@x.com"))
    assert claims["oid"] == "u1" and claims["sid"] == "s1" and has_cp1(claims)
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize("token_kw, match", [
    ({"audience": "api://other"}, "aud"),
    ({"issuer": "https://evil"}, "iss"),
    ({"now": time.time() - 7200}, "exp"),
])
def test_rejections_name_the_check(token_kw: dict, match: str) -> None:
    with pytest.raises(TokenRejected, match=match):
        _validator().validate(_tok(**token_kw))


def test_foreign_key_and_garbage_rejected() -> None:
    with pytest.raises(TokenRejected, match="signature"):
        _validator().validate(issue_token(_generate(), issuer=ISS, audience=AUD, user_id="u", lifetime_s=60)[0])
    with pytest.raises(TokenRejected):
        _validator().validate("not.a.jwt")


def test_a_set_is_not_an_access_token() -> None:
    token, _ = build_set(KEYS, issuer=ISS, audience=AUD, event_uri="https://x/e", event_body={},
                         sub_id={"format": "opaque", "id": "u"})
    with pytest.raises(TokenRejected):
        _validator().validate(token)


def test_lifetime_is_capped_at_28_hours() -> None:
    with pytest.raises(ValueError, match="28 h"):
        _tok(lifetime_s=29 * 3600)


@pytest.mark.parametrize("cc, expected", [(["CP1"], True), (["cp1", "foo"], True), ("Cp1", True),
                                          (["cp2"], False), (None, False), ([1], False)])
def test_cp1_is_case_insensitive(cc: object, expected: bool) -> None:
    assert has_cp1({"xms_cc": cc}) is expected


def test_issued_at_honours_nbf_from_a_claims_challenge() -> None:
    _, claims = issue_token(KEYS, issuer=ISS, audience=AUD, user_id="u", lifetime_s=60, now=1000, not_before=1005)
    assert claims["nbf"] == 1005 and issued_at(claims) == 1005


def test_signing_keys_created_once_and_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "keys.json"
    a = load_or_create_signing_keys(path)
    b = load_or_create_signing_keys(path)
    assert a.keys[0].kid == b.keys[0].kid
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "d" not in public_jwks(a)["keys"][0]
