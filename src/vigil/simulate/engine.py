"""Running a simulation: rates and presets, the day loop, and the files it writes."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from vigil.errors import InputError
from vigil.simulate import identities
from vigil.simulate.attacks import CAMPAIGNS, Attacks
from vigil.simulate.benign import Benign, local_midnight_us
from vigil.simulate.geography import load_geography
from vigil.simulate.rand import rng_for
from vigil.simulate.tenant import build_tenant, directory_documents
from vigil.simulate.world import FILES, World

DEFAULT_START = date(2026, 1, 5)

#: benign scenario -> probability (per user, per user-day or per sign-in as documented in docs/simulate.md)
DEFAULT_RATES: dict[str, float] = {
    "vpn_users": 0.3,            # per user: works from home through the corporate VPN
    "vpn_failover": 0.05,        # per VPN home day: the tunnel fails over to other egress gateways
    "split_tunnel": 0.15,        # per VPN user: Teams/Outlook bypass the tunnel (direct home ISP)
    "home_days": 0.4,            # per weekday: works from home
    "mobile_users": 0.6,         # per user: has a phone with Outlook Mobile (CGNAT carrier IPs)
    "multi_device": 0.25,        # per user: also uses a personal Mac in the evening
    "travel": 0.04,              # per user-week: takes one business trip abroad
    "confidential_client": 0.03, # per weekday: a confidential client logs the original token's IP
    "new_joiners": 0.02,         # share of users created during the window
    "dormant_return": 0.01,      # share of users whose first activity is mid-window after 200+ days
    "shared_accounts": 0.01,     # shared service accounts per user
    "leavers": 0.01,             # share of users disabled then deleted during the window
    "ipv6_home": 0.2,            # per user: the home ISP / mobile carrier hands out IPv6 (where it has a range)
    "password_typo": 0.03,       # per new session: a 50126 before the right password
    "password_change": 0.003,    # per user-day: self-service "Change user password"
    "benign_inbox_rule": 0.002,  # per office day: a harmless New-InboxRule (move newsletters)
    "renames": 0.03,             # share of members renamed (new UPN and display name) mid-window
    "okta_users": 0.25,          # per member: also signs in to Okta (OktaSystemLog.json)
    "okta_other_login": 0.2,     # per Okta user: an Okta login that is not the UPN (no automatic link)
    "consumer_vpn": 0.3,         # per Mac user: evenings through iCloud Private Relay or a commercial VPN
    "ms_service_ip": 0.02,       # per laptop day: a Microsoft service refreshes a token, its own IP logged
    "no_location": 0.01,         # per phone day: a sign-in Entra could not locate (empty LocationDetails)
}
#: attack campaign -> number of campaigns
DEFAULT_CAMPAIGNS: dict[str, int] = {name: 1 for name in CAMPAIGNS}
PRESETS: dict[str, dict[str, Any]] = {
    "demo": {"users": 40, "days": 7, "seed": 7},
    "small": {"users": 200, "days": 14, "seed": 1},
    "standard": {"users": 2000, "days": 30, "seed": 1},
}


@dataclass
class SimulationSummary:
    out_dir: str
    users: int
    days: int
    seed: int
    start: str
    files: dict[str, int]
    campaigns: list[dict[str, Any]]
    compromised_users: list[str]
    scenarios: dict[str, int]
    labelled_events: int
    seconds: float
    rates: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_rates(pairs: list[str]) -> dict[str, float]:
    """``["vpn_failover=0.2", "mfa_fatigue=2"]`` -> dict; unknown names raise InputError naming them."""
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or name not in DEFAULT_RATES and name not in DEFAULT_CAMPAIGNS:
            raise InputError(f"--rate {pair!r}: expected NAME=NUMBER with NAME one of "
                             f"{', '.join([*DEFAULT_RATES, *DEFAULT_CAMPAIGNS])}")
        try:
            out[name] = float(value)
        except ValueError:
            raise InputError(f"--rate {pair!r}: {value!r} is not a number") from None
    return out


def simulate_tenant(out_dir: str | Path, *, users: int = 40, days: int = 7, seed: int = 7,
                    start: date | None = None, rates: dict[str, float] | None = None, compress: bool = False,
                    on_day: Callable[[int, int], None] | None = None) -> SimulationSummary:
    """Simulate a tenant and write its logs, directory, policies and ground truth into ``out_dir``."""
    if users < 5:
        raise InputError(f"--users {users}: need at least 5 users (victims, admins, the VPN seed case)")
    if days < 1:
        raise InputError(f"--days {days}: need at least 1 day")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    overrides = rates or {}
    benign_rates = {k: float(overrides.get(k, v)) for k, v in DEFAULT_RATES.items()}
    counts = {k: int(overrides.get(k, v)) for k, v in DEFAULT_CAMPAIGNS.items()}
    start = start or DEFAULT_START
    start_dt = datetime(start.year, start.month, start.day, tzinfo=UTC)
    geo = load_geography()
    tenant = build_tenant(geo, users=users, days=days, seed=seed, start=start_dt, rates=benign_rates)
    _plan_leavers(tenant, benign_rates, seed, days)
    start_us = local_midnight_us("UTC", start.toordinal())
    world = World(tenant, out, start_us=start_us, compress=compress)
    for u in tenant.users:  # who works how: the ground truth behind every benign pattern
        world.scenario("user_profile", u, None, kind=u.kind, country=u.country, city=u.city.name,
                       home_isp=u.home.asn.org if u.home else None, home_asn=u.home.asn.number if u.home else None,
                       home_ip=u.home_ip or None, home_city=u.home.city.name if u.home else None,
                       mobile_carrier=u.mobile.asn.org if u.mobile and u.phone else None,
                       vpn_gateway=u.vpn_gateway or None, devices=[{"kind": d.kind, "device_id": d.device_id,
                                                                    "trust_type": d.trust_type} for d in u.devices],
                       traits=sorted(u.traits), active_from_day=u.active_from_day, leave_day=u.leave_day)
    benign = Benign(world, geo, benign_rates, seed, days)
    attacks = Attacks(world, geo, seed, days, counts)
    ids = identities.plan(tenant, benign_rates, seed, days)
    for u in tenant.users:
        if u.idx in ids.okta:
            okta_id, login = ids.okta[u.idx]
            world.scenario("okta_account", u, None, okta_id=okta_id, login=login or u.upn,
                           same_login=not login)
    try:
        for day in range(days):
            for u in tenant.users:
                if u.leave_day is not None and day > u.leave_day:
                    continue
                if u.idx in ids.renames and ids.renames[u.idx][0] == day:
                    identities.rename(world, u, day, *ids.renames[u.idx][1:], seed, start_us)
                benign.user_day(u, day, rng_for(seed, "user-day", u.idx, day))
                if u.idx in ids.okta:
                    identities.okta_evening(world, u, day, start, *ids.okta[u.idx], rng_for(seed, "okta", u.idx, day))
                if u.leave_day == day:
                    _leave(world, tenant, u, day, seed, start_us)
            if day == min(2, days - 1):
                benign.role_assignment(day)
            attacks.run_day(day)
            world.flush_until(day)
            if on_day:
                on_day(day + 1, days)
    finally:
        world.close()
    for name, doc in directory_documents(tenant).items():
        (out / name).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    (out / "leaked_credentials.txt").write_text("".join(h + "\n" for h in attacks.leaked), encoding="ascii")
    scen: dict[str, int] = {}
    for s in world.scenarios:
        scen[s["scenario"]] = scen.get(s["scenario"], 0) + 1
    files = {p.name: n for p, n in zip(world.paths, world.counts, strict=True)}
    return SimulationSummary(
        out_dir=str(out), users=len(tenant.users), days=days, seed=seed, start=start.isoformat(), files=files,
        campaigns=[{"campaign_id": c.campaign_id, "type": c.type, "technique": CAMPAIGNS[c.type][0],
                    "day": c.day, **c.params} for c in attacks.plan],
        compromised_users=sorted(set(attacks.compromised)), scenarios=scen,
        labelled_events=sum(1 for x in world.labels if x["kind"] == "event"),
        seconds=round(time.perf_counter() - started, 2), rates=benign_rates)


def _plan_leavers(tenant: Any, rates: dict[str, float], seed: int, days: int) -> None:
    rng = rng_for(seed, "leavers")
    pool = [u for u in tenant.users if u.kind == "member" and u.idx != 0 and not u.traits]
    rng.shuffle(pool)
    n = max(1, round(len(tenant.users) * rates["leavers"])) if rates["leavers"] > 0 else 0
    for u in pool[: n if days > 3 else 0]:
        u.leave_day = rng.randrange(1, days - 2)
        u.traits.add("leaver")


def _leave(world: World, tenant: Any, u: Any, day: int, seed: int, start_us: int) -> None:
    rng = rng_for(seed, "leaver", u.idx)
    admin = next((x for x in tenant.users if x.kind == "admin"), tenant.users[0])
    ip = tenant.offices["GB"].address(3)
    us = start_us + day * 86_400_000_000 + 86_400_000_000 - 3_600_000_000  # 23:00 UTC
    world.audit(rng, us=us, activity_name="Disable account", category="UserManagement", service="Core Directory",
                op_type="Update", actor=admin, actor_ip=ip, target=u,
                modified=[{"displayName": "AccountEnabled", "oldValue": "[true]", "newValue": "[false]"}])
    world.audit(rng, us=us + 40 * 1_000_000, activity_name="Delete user", category="UserManagement",
                service="Core Directory", op_type="Delete", actor=admin, actor_ip=ip, target=u)
    world.scenario("leaver", u, us, disabled=True, deleted=True)
    u.enabled = False


__all__ = ["DEFAULT_CAMPAIGNS", "DEFAULT_RATES", "FILES", "PRESETS", "SimulationSummary", "parse_rates",
           "simulate_tenant"]
