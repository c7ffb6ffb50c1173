"""Identity scenarios: users renamed during the window, and users who also sign in to Okta.

* ``renames``: a share of members get a new UPN and display name (a marriage, a domain change) on a day
  in the second half of the window: an Entra ``Update user`` audit record whose modified properties
  change ``UserPrincipalName`` (as the portal writes it), then every later record carries the new name
  (sessions opened before it go on under the new name). users.json ends with the new name.
* ``okta_users``: a share of users also sign in to Okta (``OktaSystemLog.json``, the System Log API's
  LogEvent shape), each active weekday evening from home; ``okta_other_login`` of them use an Okta login
  that is not their UPN (no automatic link: one person only when linked by hand).

Ground truth: ``scenarios.jsonl`` ``rename`` (old and new UPN, time, audit record id) and ``okta_account``
(Okta user id, login, whether it matches the UPN).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from vigil.simulate import records as rec
from vigil.simulate.benign import H, local_midnight_us
from vigil.simulate.rand import guid, rng_for
from vigil.simulate.tenant import DOMAIN, Tenant, User
from vigil.simulate.world import OKTA, World

#: new surnames for renamed users (deterministic by seed)
SURNAMES = ("Smith", "Okafor", "Novak", "Haddad", "Lindqvist", "Moreau", "Tanaka", "Pereira", "Kowalski", "Ivanova")
COUNTRY_NAMES = {"GB": "United Kingdom", "US": "United States", "IN": "India", "BG": "Bulgaria", "DE": "Germany",
                 "BR": "Brazil"}


@dataclass
class IdentityPlan:
    renames: dict[int, tuple[int, str, str]] = field(default_factory=dict)  # user idx -> (day, new upn, name)
    okta: dict[int, tuple[str, str]] = field(default_factory=dict)  # user idx -> (okta id, login)


def plan(tenant: Tenant, rates: dict[str, float], seed: int, days: int) -> IdentityPlan:
    """Who is renamed (and when), who has an Okta account. A campaign's victim may be renamed too: the
    labels name records by id and users by object id as well as by the name they had then."""
    out = IdentityPlan()
    rng = rng_for(seed, "identities")
    pool = [u for u in tenant.users if u.kind == "member" and u.idx > 2 and u.leave_day is None
            and u.active_from_day == 0]
    rng.shuffle(pool)
    n = max(1, round(len(tenant.users) * rates["renames"])) if rates["renames"] > 0 and days >= 2 else 0
    for u in pool[:n]:
        surname = SURNAMES[rng.randrange(len(SURNAMES))]
        first = u.upn.split("@")[0].split(".")[0]
        new_upn = f"{first}.{surname.lower()}{u.idx}@{DOMAIN}"
        day = days // 2 + rng.randrange(max(1, days - days // 2))
        out.renames[u.idx] = (min(day, days - 1), new_upn, f"{u.display_name.split(' ')[0]} {surname}")
    for u in tenant.users:
        r = rng_for(seed, "okta-user", u.idx)
        if u.kind != "member" or u.home is None or r.random() >= rates["okta_users"]:
            continue
        okta_id = "00u" + "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(17))
        other = r.random() < rates["okta_other_login"]
        out.okta[u.idx] = (okta_id, f"{u.upn.split('@')[0]}@okta.{DOMAIN}" if other else "")
    return out


def rename(world: World, u: User, day: int, new_upn: str, new_name: str, seed: int, start_us: int) -> None:
    """The admin renames ``u`` at 03:00 UTC of ``day``; later records carry the new name."""
    rng = rng_for(seed, "rename", u.idx)
    admin = next((x for x in world.t.users if x.kind == "admin"), world.t.users[0])
    us = start_us + day * 86_400_000_000 + 3 * H
    old = u.upn
    row = world.audit(rng, us=us, activity_name="Update user", category="UserManagement", service="Core Directory",
                      op_type="Update", actor=admin, actor_ip=world.t.offices["GB"].address(3), target=u,
                      modified=[{"displayName": "UserPrincipalName", "oldValue": f'["{old}"]',
                                 "newValue": f'["{new_upn}"]'},
                                {"displayName": "DisplayName", "oldValue": f'["{u.display_name}"]',
                                 "newValue": f'["{new_name}"]'},
                                {"displayName": "Included Updated Properties", "oldValue": None,
                                 "newValue": '"UserPrincipalName, DisplayName"'}])
    # the portal's record names the target by its new UPN
    row["TargetResources"][0]["userPrincipalName"] = new_upn
    u.upn, u.display_name = new_upn, new_name
    world.scenario("rename", u, us, old_upn=old, new_upn=new_upn, user_id=u.id, record_id=row["Id"])


def okta_evening(world: World, u: User, day: int, start: date, okta_id: str, login: str,
                 rng: random.Random) -> None:
    """An Okta sign-in (``user.session.start``) from home in the evening of an active weekday."""
    st = world.state[u.idx]
    today = start + timedelta(days=day)
    if u.home is None or not u.home_ip or st.trip is not None or day < u.active_from_day or today.weekday() >= 5:
        return
    us = local_midnight_us(u.city.timezone, today.toordinal()) + int((19 + rng.random() * 2) * H)
    city = u.home.city
    name = login or u.upn
    record = {
        "uuid": guid(rng), "published": rec.iso_us(us)[:23] + "Z", "eventType": "user.session.start",
        "version": "0", "severity": "INFO", "legacyEventType": "core.user_auth.login_success",
        "displayMessage": "User login to Okta",
        "actor": {"id": okta_id, "type": "User", "alternateId": name, "displayName": u.display_name,
                  "detailEntry": None},
        "client": {"userAgent": {"rawUserAgent": u.laptop.user_agent, "os": u.laptop.os,
                                 "browser": u.laptop.browser.upper()},
                   "zone": "null", "device": "Computer", "id": None, "ipAddress": u.home_ip,
                   "geographicalContext": {"city": city.name, "state": city.state,
                                           "country": COUNTRY_NAMES.get(city.country, city.country),
                                           "postalCode": None,
                                           "geolocation": {"lat": city.latitude, "lon": city.longitude}}},
        "device": None,
        "authenticationContext": {"authenticationProvider": None, "credentialProvider": None,
                                  "credentialType": None, "issuer": None, "interface": None,
                                  "authenticationStep": 0,
                                  "externalSessionId": "102" + guid(rng).replace("-", "")[:22]},
        "outcome": {"result": "SUCCESS", "reason": None},
        "securityContext": {"asNumber": u.home.asn.number, "asOrg": u.home.asn.org, "isp": u.home.asn.org,
                            "domain": None, "isProxy": False},
        "debugContext": {"debugData": {"requestId": guid(rng).replace("-", ""), "requestUri": "/idp/idx/identify",
                                       "url": "/idp/idx/identify?"}},
        "transaction": {"type": "WEB", "id": guid(rng).replace("-", "")[:20], "detail": {}},
        "request": {"ipChain": [{"ip": u.home_ip, "version": "V4" if "." in u.home_ip else "V6"}]},
        "target": None,
    }
    world.put(OKTA, us, record)
