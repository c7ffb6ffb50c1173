"""A small deterministic tenant for UEBA and hunting tests, built with tests/builders.py.

30 users in three departments (10 each); department groups plus two-person project groups
(small groups weigh more in TF-IDF). Each user signs in three times a day for ``days`` days
from their department's country and ISP on their own laptop, and performs one activity a day.
Injected on the last day (``ATTACK_DAY``): ``victim`` signs in from a new country, device and
ISP; ``roamer`` signs in from a new country on their usual device; ``bruteforced`` gets eight
failed logons within one hour.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from tests.builders import insert, row
from vigil.store import Store

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DEPTS = {"sales": ("US", 7018, "AT&T"), "eng": ("GB", 2856, "BT"), "hr": ("DE", 3320, "Deutsche Telekom")}
GUID = "00000000-0000-0000-0000-{:012d}"


def users() -> list[dict[str, Any]]:
    out = []
    for di, dept in enumerate(DEPTS):
        for i in range(10):
            n = di * 10 + i
            out.append(dict(id=GUID.format(n + 1), upn=f"{dept}{i}@contoso.com", name=f"{dept.title()} User {i}",
                            dept=dept, manager=None if i == 0 else f"{dept}0@contoso.com"))
    out[0]["upn"], out[0]["name"] = "victim@contoso.com", "Victor Tim"
    out[11]["upn"], out[11]["name"] = "roamer@contoso.com", "Rosa Roamer"
    out[22]["upn"], out[22]["name"] = "bruteforced@contoso.com", "Bruno Forced"
    for u in out:
        if u["manager"] and u["manager"].endswith("0@contoso.com"):
            u["manager"] = {"sales0@contoso.com": "victim@contoso.com"}.get(u["manager"], u["manager"])
    return out


def directory_csv() -> str:
    """A plain directory CSV of the tenant (groups ;-separated)."""
    lines = ["id,userPrincipalName,displayName,department,jobTitle,manager,groups,roles,accountEnabled,"
             "createdDateTime,userType"]
    for i, u in enumerate(users()):
        groups = [f"{u['dept']}-all", f"{u['dept']}-project-{i // 2}", "everyone"]
        roles = "Global Administrator" if u["upn"] == "victim@contoso.com" else ""
        lines.append(f"{u['id']},{u['upn']},{u['name']},{u['dept']},Staff,{u['manager'] or ''},"
                     f"{';'.join(groups)},{roles},true,2025-01-01T00:00:00Z,Member")
    return "\n".join(lines) + "\n"


def signin(u: dict[str, Any], when: datetime, *, country: str | None = None, asn: int | None = None,
           device: str | None = None, result: str = "success", ip: str = "203.0.113.10") -> dict[str, Any]:
    c, a, _ = DEPTS[u["dept"]]
    return row("signins", event_time=when, source_format="entra_signin", source_table="SigninLogs",
               user_id=u["id"], user_principal_name=u["upn"], user_display_name=u["name"], app_name="Office 365",
               resource_name="Office 365 Exchange Online", is_interactive=True, result=result,
               result_code="0" if result == "success" else "50126", ip=ip, country=country or c, asn=asn or a,
               device_id=device or f"dev-{u['id'][-4:]}", device_name=f"LAPTOP-{u['id'][-4:]}",
               device_os="Windows 10", device_browser="Chrome 120.0", user_agent="Mozilla/5.0 Chrome/120.0")


def build(store: Store, days: int = 20, *, attack: bool = True) -> None:
    sign, acts = [], []
    for d in range(days):
        day = START + timedelta(days=d)
        for u in users():
            for h in (8, 12, 16):
                sign.append(signin(u, day + timedelta(hours=h, minutes=int(u["id"][-2:]))))
            acts.append(row("activities", event_time=day + timedelta(hours=10), source_format="o365",
                            source_table="OfficeActivity", user_id=u["id"], user_principal_name=u["upn"],
                            workload="Exchange", operation="MailItemsAccessed", ip="203.0.113.10",
                            country=DEPTS[u["dept"]][0]))
    if attack:
        last = START + timedelta(days=days - 1)
        us = {u["upn"]: u for u in users()}
        sign.append(signin(us["victim@contoso.com"], last + timedelta(hours=3), country="RU", asn=9009,
                           device="dev-attacker", ip="198.51.100.7"))
        sign.append(signin(us["roamer@contoso.com"], last + timedelta(hours=4), country="FR"))
        for m in range(8):
            sign.append(signin(us["bruteforced@contoso.com"], last + timedelta(hours=2, minutes=m),
                               result="failure", ip="198.51.100.99", country="NL", asn=14061,
                               device="dev-bot"))
    if sign:
        insert(store, "signins", sign)
    if acts:
        insert(store, "activities", acts)
