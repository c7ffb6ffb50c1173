"""The simulated tenant: users and their devices, networks and habits; groups; named locations; CA policies."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vigil.simulate import catalog as cat
from vigil.simulate.geography import City, Geography, IpRange
from vigil.simulate.rand import guid, puid, rng_for

DOMAIN = "contoso.com"


@dataclass(frozen=True)
class Device:
    device_id: str  # "" for unregistered browsers
    name: str
    os: str
    browser: str
    user_agent: str
    trust_type: str
    compliant: bool
    managed: bool
    kind: str  # laptop | mac | phone


@dataclass
class User:
    idx: int
    id: str
    upn: str
    display_name: str
    department: str
    job_title: str
    city: City
    created: datetime
    puid: str
    kind: str = "member"  # member | service | admin
    manager_id: str | None = None
    enabled: bool = True
    home: IpRange | None = None
    home_ip: str = ""
    mobile: IpRange | None = None
    vpn_gateway: str = ""  # country of the user's VPN gateway ("" = no VPN)
    devices: list[Device] = field(default_factory=list)
    traits: set[str] = field(default_factory=set)
    active_from_day: int = 0  # new joiners and dormant accounts start later
    leave_day: int | None = None  # leavers: disabled that evening, deleted two days later
    password: str = ""  # only for campaign victims of leaked credentials

    @property
    def country(self) -> str:
        return self.city.country

    @property
    def laptop(self) -> Device:
        return self.devices[0]

    @property
    def phone(self) -> Device | None:
        return next((d for d in self.devices if d.kind == "phone"), None)


@dataclass
class Tenant:
    tenant_id: str
    workspace_id: str
    start: datetime
    days: int
    users: list[User]
    groups: list[dict[str, object]]
    named_locations: list[dict[str, object]]
    policies: list[dict[str, object]]
    offices: dict[str, IpRange]  # country -> office egress range
    gateways: dict[str, IpRange]  # country -> VPN gateway range
    trusted_cidrs: tuple[str, ...]

    def by_upn(self, upn: str) -> User:
        return next(u for u in self.users if u.upn == upn)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _device(rng: random.Random, kind: str, owner: str) -> Device:
    if kind == "laptop":
        ua, browser, os_ = rng.choice((cat.UA_EDGE_WIN, cat.UA_EDGE_WIN, cat.UA_CHROME_WIN))
        return Device(guid(rng), f"CONTOSO-LT-{rng.randrange(10000):04d}", os_, browser, ua,
                      "Azure AD joined", True, True, kind)
    if kind == "mac":
        ua, browser, os_ = cat.UA_SAFARI_MAC
        return Device(guid(rng), f"{owner}'s MacBook Pro", os_, browser, ua, "Azure AD registered",
                      False, False, kind)
    ua, browser, os_ = rng.choice((cat.UA_OUTLOOK_IOS, cat.UA_OUTLOOK_IOS, cat.UA_OUTLOOK_ANDROID))
    name = f"{owner}'s iPhone" if "iOS" in ua else f"{owner}'s Pixel"
    return Device(guid(rng), name, os_, browser, ua, "Azure AD registered", True, True, kind)


def build_tenant(geo: Geography, *, users: int, days: int, seed: int, start: datetime,
                 rates: dict[str, float]) -> Tenant:
    """Draw the tenant's people, devices and habits (deterministic for ``seed``)."""
    rng = rng_for(seed, "tenant")
    offices = {cc: geo.ranges_where(type="corporate", country=cc, role="office")[0] for cc in cat.OFFICES}
    gateways = {cc: geo.ranges_where(type="corporate", country=cc, role="vpn_gateway")[0] for cc in cat.VPN_ORDER}
    countries = list(cat.OFFICES)
    weights = [cat.OFFICES[c][1] for c in countries]
    people: list[User] = []
    taken: set[str] = set()
    for i in range(users):
        urng = rng_for(seed, "user", i)
        cc = countries[0] if i == 0 else urng.choices(countries, weights)[0]
        first, last = urng.choice(cat.FIRST[cc]), urng.choice(cat.LAST[cc])
        base = f"{first}.{last}".lower()
        upn = f"{base}@{DOMAIN}"
        n = 1
        while upn in taken:
            n += 1
            upn = f"{base}{n}@{DOMAIN}"
        taken.add(upn)
        dept = urng.choice(list(cat.DEPARTMENTS))
        created = start - timedelta(days=urng.randrange(120, 2400), seconds=urng.randrange(86400))
        u = User(i, guid(urng), upn, f"{first} {last}", dept, urng.choice(cat.DEPARTMENTS[dept]),
                 geo.city(cc, cat.OFFICES[cc][0]), created, puid(urng))
        homes = geo.ranges_where(type="isp", country=cc)
        homes6 = geo.ranges_where(type="isp", country=cc, version=6)
        u.home = urng.choice(homes6) if homes6 and urng.random() < rates.get("ipv6_home", 0.0) else urng.choice(homes)
        u.city = u.home.city if urng.random() < 0.3 else u.city  # some live outside the office city
        u.home_ip = u.home.address(urng.getrandbits(32))
        mobiles = geo.ranges_where(type="mobile", country=cc)
        mobiles6 = geo.ranges_where(type="mobile", country=cc, version=6)
        u.mobile = (urng.choice(mobiles6) if mobiles6 and urng.random() < rates.get("ipv6_home", 0.0)
                    else urng.choice(mobiles) if mobiles else None)
        short = first
        u.devices.append(_device(urng, "laptop", short))
        if urng.random() < rates["mobile_users"] and u.mobile is not None:
            u.devices.append(_device(urng, "phone", short))
        if urng.random() < rates["multi_device"]:
            u.devices.append(_device(urng, "mac", short))
        if urng.random() < rates["vpn_users"]:
            u.vpn_gateway = cc if cc in gateways else "GB"
            if urng.random() < rates["split_tunnel"]:
                u.traits.add("split_tunnel")
        if dept == "IT" and urng.random() < 0.3:
            u.kind = "admin"
        people.append(u)
    # Guaranteed cases, so even the demo tenant shows every scenario: user 0 is the GB VPN user of the
    # seed failover case, user 1 travels, user 2 split-tunnels, user 3 has a phone and a Mac.
    people[0].vpn_gateway = "GB"
    people[0].traits.discard("split_tunnel")
    if len(people) > 3:
        people[2].vpn_gateway = people[2].country if people[2].country in gateways else "GB"
        people[2].traits.add("split_tunnel")
        kinds = {d.kind for d in people[3].devices}
        urng = rng_for(seed, "user-extra", 3)
        if "phone" not in kinds and people[3].mobile is not None:
            people[3].devices.insert(1, _device(urng, "phone", people[3].display_name.split()[0]))
        if "mac" not in kinds:
            people[3].devices.append(_device(urng, "mac", people[3].display_name.split()[0]))
    _assign_lifecycle(people, rng, rates, days, start)
    _assign_managers(people, rng)
    _add_service_accounts(people, geo, seed, start, max(1, round(users * rates["shared_accounts"])))
    groups = _groups(people, rng, start)
    trusted = tuple(r.cidr for r in geo.corporate_ranges())
    named, policies = _policies(rng, start, offices, gateways, geo, groups)
    return Tenant(guid(rng), guid(rng), start, days, people, groups, named, policies, offices, gateways, trusted)


def _assign_lifecycle(people: list[User], rng: random.Random, rates: dict[str, float], days: int,
                      start: datetime) -> None:
    n = len(people)
    pool = list(range(1, n))
    rng.shuffle(pool)
    joiners = pool[: max(1, round(n * rates["new_joiners"]))]
    dormant = pool[len(joiners): len(joiners) + max(1, round(n * rates["dormant_return"]))]
    for i in joiners:
        day = rng.randrange(1, max(2, days - 1)) if days > 2 else 0
        people[i].active_from_day = day
        people[i].created = start + timedelta(days=day, hours=7, minutes=rng.randrange(60))
        people[i].traits.add("new_joiner")
    for i in dormant:
        people[i].active_from_day = rng.randrange(1, max(2, days)) if days > 1 else 0
        people[i].traits.add("dormant_return")


def _assign_managers(people: list[User], rng: random.Random) -> None:
    by_dept: dict[str, list[User]] = {}
    for u in people:
        by_dept.setdefault(u.department, []).append(u)
    for members in by_dept.values():
        head = members[0]
        for u in members[1:]:
            u.manager_id = head.id


def _add_service_accounts(people: list[User], geo: Geography, seed: int, start: datetime, count: int) -> None:
    names = ("frontdesk", "warehouse-scanner", "meeting-room", "reception", "shift-lead")
    for k in range(count):
        srng = rng_for(seed, "service", k)
        cc = list(cat.OFFICES)[k % len(cat.OFFICES)]
        label = names[k % len(names)] + (str(k // len(names) + 1) if k >= len(names) else "")
        u = User(len(people), guid(srng), f"svc-{label}@{DOMAIN}", f"Shared {label.replace('-', ' ').title()}",
                 "Operations", "Shared account", geo.city(cc, cat.OFFICES[cc][0]),
                 start - timedelta(days=900 + k), puid(srng), kind="service")
        u.devices = [_device(srng, "laptop", "Shared") for _ in range(3)]
        u.traits.add("shared_account")
        people.append(u)


def _groups(people: list[User], rng: random.Random, start: datetime) -> list[dict[str, object]]:
    created = _iso(start - timedelta(days=1500))
    groups: list[dict[str, object]] = []

    def group(name: str, members: list[User], security: bool = True, mail: bool = False) -> None:
        nick = name.lower().replace(" ", "-")
        groups.append({
            "id": guid(rng), "displayName": name, "description": f"{name} ({'security' if security else 'mail'})",
            "mail": f"{nick}@{DOMAIN}" if mail else None, "mailEnabled": mail, "mailNickname": nick,
            "securityEnabled": security, "groupTypes": ["Unified"] if mail else [], "createdDateTime": created,
            "members": [{"@odata.type": "#microsoft.graph.user", "id": u.id} for u in members],
        })

    for dept in cat.DEPARTMENTS:
        group(f"{dept} Team", [u for u in people if u.department == dept and u.kind != "service"], True, True)
    for cc, (city, _) in cat.OFFICES.items():
        group(f"Office {city}", [u for u in people if u.country == cc and u.kind != "service"])
    group("VPN Users", [u for u in people if u.vpn_gateway])
    group("CA-Exclusions Shared Accounts", [u for u in people if u.kind == "service"])
    group("IT Admins", [u for u in people if u.kind == "admin"])
    return groups


def _policies(rng: random.Random, start: datetime, offices: dict[str, IpRange], gateways: dict[str, IpRange],
              geo: Geography, groups: list[dict[str, object]],
              ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    when = start - timedelta(days=400)
    created = when.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    corp = geo.corporate_ranges()

    def cidrs(role: str) -> list[dict[str, str]]:
        return [{"@odata.type": "#microsoft.graph.iPv4CidrRange" if ":" not in r.cidr
                 else "#microsoft.graph.iPv6CidrRange", "cidrAddress": r.cidr} for r in corp if r.role == role]

    offices_loc = {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": guid(rng),
                   "displayName": "Contoso offices", "createdDateTime": created, "modifiedDateTime": created,
                   "isTrusted": True, "ipRanges": cidrs("office")}
    vpn_loc = {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": guid(rng),
               "displayName": "Contoso VPN egress", "createdDateTime": created, "modifiedDateTime": created,
               "isTrusted": True, "ipRanges": cidrs("vpn_gateway")}
    blocked = {"@odata.type": "#microsoft.graph.countryNamedLocation", "id": guid(rng),
               "displayName": "Blocked countries", "createdDateTime": created, "modifiedDateTime": created,
               "countriesAndRegions": ["KP", "IR"], "includeUnknownCountriesAndRegions": False,
               "countryLookupMethod": "clientIpAddress"}
    excl = next(g["id"] for g in groups if g["displayName"] == "CA-Exclusions Shared Accounts")

    def policy(name: str, conditions: dict[str, object], grant: dict[str, object]) -> dict[str, object]:
        base: dict[str, object] = {"applications": {"includeApplications": ["All"], "excludeApplications": [],
                                 "includeUserActions": []},
                "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [], "excludeGroups": [],
                          "includeRoles": [], "excludeRoles": []},
                "clientAppTypes": ["all"], "platforms": None, "locations": None,
                "signInRiskLevels": [], "userRiskLevels": []}
        base.update(conditions)
        return {"id": guid(rng), "templateId": None, "displayName": name, "createdDateTime": created,
                "modifiedDateTime": created, "state": "enabled", "sessionControls": None,
                "conditions": base, "grantControls": {"customAuthenticationFactors": [], "termsOfUse": [], **grant}}

    users_excl = {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [], "excludeGroups": [excl],
                  "includeRoles": [], "excludeRoles": []}
    policies = [
        policy("Require MFA outside trusted locations",
               {"users": users_excl, "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}},
               {"operator": "OR", "builtInControls": ["mfa"]}),
        policy("Block legacy authentication", {"clientAppTypes": ["exchangeActiveSync", "other"]},
               {"operator": "OR", "builtInControls": ["block"]}),
        policy("Require MFA for medium and high sign-in risk", {"signInRiskLevels": ["high", "medium"]},
               {"operator": "OR", "builtInControls": ["mfa"]}),
        policy("Require password change for high user risk", {"userRiskLevels": ["high"]},
               {"operator": "AND", "builtInControls": ["mfa", "passwordChange"]}),
        policy("Block sign-ins from blocked countries",
               {"locations": {"includeLocations": [blocked["id"]], "excludeLocations": []}},
               {"operator": "OR", "builtInControls": ["block"]}),
    ]
    return [offices_loc, vpn_loc, blocked], policies


def directory_documents(t: Tenant) -> dict[str, dict[str, object]]:
    """users.json, groups.json, namedLocations.json, conditionalAccessPolicies.json as Graph list bodies."""
    users = [{
        "id": u.id, "displayName": u.display_name, "userPrincipalName": u.upn, "mail": u.upn,
        "givenName": u.display_name.split(" ")[0], "surname": u.display_name.split(" ")[-1],
        "department": u.department, "jobTitle": u.job_title, "officeLocation": u.city.name,
        "city": u.city.name, "country": u.country, "usageLocation": u.country,
        "createdDateTime": _iso(u.created), "accountEnabled": u.enabled, "userType": "Member",
        "manager": {"@odata.type": "#microsoft.graph.user", "id": u.manager_id} if u.manager_id else None,
    } for u in t.users]
    g = "https://graph.microsoft.com/v1.0/$metadata#"
    return {
        "users.json": {"@odata.context": g + "users(id,displayName,userPrincipalName,mail,givenName,surname,"
                       "department,jobTitle,officeLocation,city,country,usageLocation,createdDateTime,"
                       "accountEnabled,userType,manager(id))", "value": users},
        "groups.json": {"@odata.context": g + "groups(members(id))", "value": t.groups},
        "namedLocations.json": {"@odata.context": g + "identity/conditionalAccess/namedLocations",
                                "value": t.named_locations},
        "conditionalAccessPolicies.json": {"@odata.context": g + "identity/conditionalAccess/policies",
                                           "value": t.policies},
    }
