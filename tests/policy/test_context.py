from __future__ import annotations

import pytest

from vigil.errors import InputError
from vigil.policy.context import (
    context_from_mapping, normalize_client_app, normalize_method, normalize_platform, normalize_risk, transfer_method,
)


@pytest.mark.parametrize("raw, expected", [
    ("Windows10", "windows"), ("Windows 11", "windows"), ("Ios 18.1.1", "iOS"), ("iPadOS", "iOS"),
    ("Android 14", "android"), ("MacOs", "macOS"), ("Mac OS X", "macOS"), ("Linux", "linux"),
    ("Windows Phone 8", "windowsPhone"), ("BeOS", None), (None, None),
])
def test_platforms(raw: str | None, expected: str | None) -> None:
    assert normalize_platform(raw) == expected


def test_client_apps_legacy_protocols_are_other() -> None:
    assert normalize_client_app("Browser") == "browser"
    assert normalize_client_app("Mobile Apps and Desktop clients") == "mobileAppsAndDesktopClients"
    assert normalize_client_app("Exchange ActiveSync") == "exchangeActiveSync"
    for legacy in ("IMAP4", "POP3", "Authenticated SMTP", "Exchange Web Services", "Other clients"):
        assert normalize_client_app(legacy) == "other"
    with pytest.raises(InputError, match="client app type"):
        normalize_client_app("IMAP4", strict=True)


def test_risk_methods_flows() -> None:
    assert normalize_risk("High") == "high" and normalize_risk(None) == "none"
    with pytest.raises(InputError):
        normalize_risk("severe")
    assert normalize_method("Mobile app notification") == "microsoftAuthenticatorPush"
    assert normalize_method("fido2") == "fido2"
    with pytest.raises(InputError, match="authentication method"):
        normalize_method("carrier pigeon")
    assert transfer_method("deviceCode") == "deviceCodeFlow" and transfer_method("oAuth2") == "none"


def test_context_from_mapping_validates() -> None:
    ctx = context_from_mapping({"user_id": "u", "groups": ["g"], "platform": "ios", "country": "de",
                                "authentication_methods": ["Password", "SMS"], "sign_in_risk": "MEDIUM"})
    assert ctx.platform == "iOS" and ctx.country == "DE" and ctx.sign_in_risk == "medium"
    assert ctx.groups == frozenset({"g"}) and ctx.authentication_methods == {"password", "sms"}
    with pytest.raises(InputError, match="unknown sign-in context field"):
        context_from_mapping({"usr": "x"})
    with pytest.raises(InputError, match="platform"):
        context_from_mapping({"platform": "BeOS"})
    with pytest.raises(InputError, match="user_action"):
        context_from_mapping({"user_action": "urn:user:x"})
