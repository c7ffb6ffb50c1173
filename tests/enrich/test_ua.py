"""ua.py: ua-parser families plus vigil's classes for scripted, headless and legacy clients."""
from __future__ import annotations

import pytest

from vigil.enrich.ua import classify, classify_all

CASES = [
    ("python-requests/2.31.0", "scripted", "python"),
    ("curl/8.4.0", "scripted", "curl-wget"),
    ("Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.0", "scripted", "powershell"),
    ("Go-http-client/1.1", "scripted", "go"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
     "headless", "headless-browser"),
    ("BAV2ROPC", "legacy_protocol", "ropc-legacy-auth"),
    ("Microsoft-Server-ActiveSync/15.0", "legacy_protocol", "mail-protocol"),
    ("Outlook-iOS/709.2226530.prod.iphone (4.2350.0)", "mobile_app", "microsoft-mobile"),
    ("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)", "desktop_app", "microsoft-desktop"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36 Edg/120.0.0.0", "browser", None),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
     "Mobile/15E148 Safari/604.1", "browser", None),
    ("something-nobody-knows", "unknown", None),
]


@pytest.mark.parametrize(("ua", "cls", "rule"), CASES)
def test_classes(ua: str, cls: str, rule: str | None) -> None:
    got = classify(ua)
    assert (got["ua_class"], got["ua_rule"]) == (cls, rule)


def test_parser_fields_and_table() -> None:
    t = classify_all([CASES[-3][0], CASES[0][0]]).to_pylist()
    assert t[0]["ua_family"] == "Edge" and t[0]["ua_os_family"] == "Windows" and t[0]["ua_major"] == "120"
    assert t[1]["ua_family"] == "Python Requests"
