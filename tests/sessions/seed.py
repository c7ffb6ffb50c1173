"""The seed case of issue 4, as canonical rows: a VPN egress failover, and its hijack variant."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.builders import row
from tests.enrich.geoenv import ip_in

SESSION = "8f2c4b1e-6a3d-4f0e-9c1b-2d7e5a9f3c01"
DEVICE = "d6c1f3a2-0b7e-4c55-8a91-3e2f4b6d7c80"
USER = "alice@contoso.com"
T0 = datetime(2026, 1, 5, 9, 2, tzinfo=UTC)
CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")
OUTLOOK_WIN = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)"
CHROME_LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/119.0.0.0 Safari/537.36")

HOME_GB = "86.128.0.20"  # BT, London
EGRESS_BG = ip_in("212.39.70.64", role="vpn_gateway")
EGRESS_BR = ip_in("200.155.80.64", role="vpn_gateway")
HOSTING_US = "159.89.10.20"  # DigitalOcean, New York


def _signin(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(user_id="u-alice", user_principal_name=USER, result="success", session_id=SESSION,
                                device_id=DEVICE, device_managed=True, device_os="Windows 10", tenant_id="t1",
                                source_table="AADNonInteractiveUserSignInLogs", is_interactive=False)
    base.update(kw)
    return row("signins", **base)


def failover() -> list[dict[str, Any]]:
    """GB interactive MFA -> Exchange Online from BG egress -> SharePoint from BR egress, minutes apart."""
    return [
        _signin(event_time=T0, is_interactive=True, source_table="SigninLogs", app_name="Microsoft Edge",
                resource_name="Office 365", ip=HOME_GB, country="GB", city="London", latitude=51.5074,
                longitude=-0.1278, mfa_satisfied=True, auth_requirement="multiFactorAuthentication",
                user_agent=CHROME_WIN, device_browser="Chrome 120.0", unique_token_id="uti-root"),
        _signin(event_time=T0 + timedelta(minutes=3), app_name="Microsoft Office", resource_name="Office 365 Exchange"
                " Online", ip=EGRESS_BG, user_agent=OUTLOOK_WIN, mfa_satisfied=True, unique_token_id="uti-exo"),
        _signin(event_time=T0 + timedelta(minutes=7), app_name="Microsoft Edge",
                resource_name="Office 365 SharePoint Online", ip=EGRESS_BR, user_agent=CHROME_WIN, mfa_satisfied=True,
                unique_token_id="uti-spo"),
    ]


def failover_activity() -> dict[str, Any]:
    """The SharePoint file access that the BR token made (linked by UniqueTokenId only)."""
    return row("activities", event_time=T0 + timedelta(minutes=8), user_id=USER, user_principal_name=USER,
               workload="SharePoint", operation="FileAccessed", ip=EGRESS_BR, user_agent=CHROME_WIN,
               unique_token_id="uti-spo", result_status="Succeeded")


def hijacked() -> list[dict[str, Any]]:
    """The same sequence with the BR step replaced by the session reused from a hosting IP."""
    rows = failover()[:2]
    rows.append(_signin(event_time=T0 + timedelta(minutes=7), app_name="Microsoft Edge",
                        resource_name="Office 365 SharePoint Online", ip=HOSTING_US, user_agent=CHROME_LINUX,
                        device_id=None, device_managed=False, device_os=None, unique_token_id="uti-attacker"))
    return rows


def colleagues(n: int = 6) -> list[dict[str, Any]]:
    """``n`` other users on managed devices with MFA using the BG and BR gateways (for egress learning)."""
    out = []
    for i in range(n):
        for k, ip in enumerate((ip_in("212.39.70.64", role="vpn_gateway", offset=10 + i),
                                ip_in("200.155.80.64", role="vpn_gateway", offset=10 + i))):
            out.append(row("signins", event_time=T0 - timedelta(days=2, hours=k * 3 + i), user_id=f"u-{i}",
                           user_principal_name=f"user{i}@contoso.com", result="success", is_interactive=True,
                           mfa_satisfied=True, device_managed=True, device_id=f"dev-{i}", ip=ip,
                           session_id=f"sess-{i}-{k}", user_agent=CHROME_WIN))
    return out
