"""User agents: ua-parser (Rust resolver behind an S3-FIFO cache) plus vigil's client classes.

Only *distinct* user agents are parsed (the stage feeds the ones not yet in ``ua_enrichment``),
so the cost follows the number of clients, not of events. ua-parser knows browsers; it does not
say that ``python-requests`` or ``BAV2ROPC`` is a script or a legacy-protocol client, so the
rules below decide the class first, and ua-parser's family decides the rest.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pyarrow as pa
from ua_parser import BestAvailableResolver, Cache, CachingResolver, Parser, load_builtins

# (class, rule name, pattern) — first match wins, so the specific come before the broad.
RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple((c, n, re.compile(p, re.IGNORECASE)) for c, n, p in (
    ("headless", "headless-browser", r"HeadlessChrome|PhantomJS|Puppeteer|Playwright|Selenium|SlimerJS"),
    ("legacy_protocol", "ropc-legacy-auth", r"^BAV2ROPC$|^CBAInPROD$"),
    ("legacy_protocol", "mail-protocol", r"\b(IMAP|POP3?|SMTP)\b|Microsoft-Server-ActiveSync|Android-Mail|"
                                          r"ExchangeServicesClient|Apple-?Mail|iOS/[\d.]+ \(\w+\) dataaccessd|"
                                          r"Thunderbird|MacOutlook/"),
    ("scripted", "python", r"python-requests|python-urllib|aiohttp|python-httpx|^Python/|httplib2|Scrapy"),
    ("scripted", "curl-wget", r"^curl/|^Wget/|libcurl"),
    ("scripted", "powershell", r"PowerShell|WindowsPowerShell"),
    ("scripted", "go", r"Go-http-client|^Go "),
    ("scripted", "other-http-library", r"^axios/|node-fetch|^okhttp/|^Java/|Apache-HttpClient|libwww-perl|"
                                       r"PostmanRuntime|^Ruby|Faraday|^Dalvik/.* \(Linux; U; Android [\d.]+;\)$|"
                                       r"^RestSharp|^Mozilla/5\.0 \(compatible; MSAL"),
    ("scripted", "azure-cli", r"AZURECLI|azure-cli|Azure-SDK|azsdk-|MSAL\.Python|MSAL\.PS|AADInternals|ROADtools|"
                              r"TokenTactics|GraphRunner"),
    ("mobile_app", "microsoft-mobile", r"Outlook-(iOS|Android)|Microsoft ?Teams.*(iPhone|Android)|"
                                      r"Authenticator|OneDriveiOSApp|OneDrive(-Android)?/|PKeyAuth.*Android|"
                                      r"MsalBrokerAndroid|MSAuth"),
    ("desktop_app", "microsoft-desktop", r"Microsoft Office|Teams/[\d.]+.*Electron|MSTeams|OneDrive/?\d|"
                                        r"Windows-AzureAD-Authentication-Provider|Microsoft Outlook|"
                                        r"MSAL\.(Desktop|NetCore|Xplat)|Mozilla/4\.0 \(compatible; ms-office"),
))

_BROWSERS = {"Chrome", "Chromium", "Edge", "Firefox", "Safari", "Mobile Safari", "Opera", "Chrome Mobile",
             "Chrome Mobile iOS", "Chrome Mobile WebView", "Firefox Mobile", "Firefox iOS", "Edge Mobile",
             "Samsung Internet", "IE", "Yandex Browser", "Brave", "Vivaldi", "Mobile Safari UI/WKWebView",
             "Opera Mobile", "UC Browser", "Electron"}

#: ClientAppUsed values of basic-auth protocols (the UA is often absent or meaningless there)
LEGACY_CLIENT_APPS = ("Exchange ActiveSync", "IMAP4", "IMAP", "POP3", "POP", "SMTP", "Authenticated SMTP",
                      "MAPI Over HTTP", "Offline Address Book", "Exchange Web Services", "Other clients",
                      "AutoDiscover", "Outlook Anywhere (RPC over HTTP)", "Reporting Web Services",
                      "Exchange Online PowerShell")

UA_SCHEMA = pa.schema([("user_agent", pa.string()), ("ua_family", pa.string()), ("ua_major", pa.string()),
                       ("ua_os_family", pa.string()), ("ua_device_family", pa.string()),
                       ("ua_class", pa.string()), ("ua_rule", pa.string())])


@lru_cache(maxsize=1)
def parser() -> Parser:
    return Parser(CachingResolver(BestAvailableResolver(load_builtins()), Cache(4096)))


def rule_class(ua: str) -> tuple[str, str] | None:
    for cls, name, pattern in RULES:
        if pattern.search(ua):
            return cls, name
    return None


def classify(ua: str) -> dict[str, Any]:
    """One user agent's ``ua_*`` fields and class (``ua_rule`` names the vigil rule when one fired)."""
    result = parser().parse(ua)
    agent, os_, device = result.user_agent, result.os, result.device
    family = agent.family if agent and agent.family != "Other" else None
    os_family = os_.family if os_ and os_.family != "Other" else None
    device_family = device.family if device and device.family != "Other" else None
    ruled = rule_class(ua)
    if ruled is not None:
        cls, rule = ruled
    elif family in _BROWSERS or (family and family.endswith(("Mobile", "Browser"))):
        cls, rule = "browser", None
    elif device_family == "Spider":
        cls, rule = "scripted", "ua-parser-spider"
    else:
        cls, rule = "unknown", None
    return {"user_agent": ua, "ua_family": family, "ua_major": agent.major if agent else None,
            "ua_os_family": os_family, "ua_device_family": device_family, "ua_class": cls, "ua_rule": rule}


def classify_all(user_agents: list[str]) -> pa.Table:
    """Classify distinct user agents into an Arrow table shaped like ``ua_enrichment``."""
    rows = [classify(ua) for ua in user_agents]
    return pa.Table.from_pylist(rows, schema=UA_SCHEMA)
