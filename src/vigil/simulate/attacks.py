"""Attack campaigns: named, parameterised, every event labelled with its campaign and ATT&CK technique.

Each campaign runs on its scheduled day after the benign day is generated (so it can ride on a victim's
real session) and records the victim's compromised window, closed by the administrator's remediation
(password reset and refresh-token revocation in AuditLogs) when the campaign is detected.
"""
from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vigil.simulate import catalog as cat
from vigil.simulate.geography import Geography
from vigil.simulate.rand import guid, rng_for
from vigil.simulate.records import Access, Net, with_port
from vigil.simulate.tenant import DOMAIN, Device, User
from vigil.simulate.world import AUDIT, DAY_US, NONINTERACTIVE, O365, SIGNIN, World

H = 3_600_000_000
M = 60_000_000
S = 1_000_000

#: campaign type -> (headline ATT&CK technique, one-line description)
CAMPAIGNS: dict[str, tuple[str, str]] = {
    "password_spray": ("T1110.003", "low-and-slow spray over rotating hosting/VPN IPs and ASNs; a few valid passwords"),
    "credential_stuffing": ("T1110.004", "burst of leaked user:password pairs from residential proxies"),
    "brute_force": ("T1110.001", "one account, one IP, many passwords until smart lockout"),
    "mfa_fatigue": ("T1621", "push bombing with a valid password until the user approves"),
    "aitm_phishing": ("T1557", ("sign-in through a reverse proxy on a hosting ASN, stolen cookie replayed "
                                "abroad, inbox forwarding rule and mail access")),
    "token_replay": ("T1550.001", "the victim's refresh token replayed from another device and country"),
    "impossible_travel_compromise": ("T1078.004", "valid credentials + MFA from a residential proxy abroad"),
    "anonymizer_signin": ("T1090.003", "sign-in from a Tor exit, then from an anonymising VPN"),
    "leaked_credentials": ("T1078", "leaked password of an MFA-excluded account used over ROPC"),
    "mass_download": ("T1530", "post-compromise bulk FileDownloaded from SharePoint"),
    "cookie_replay_residential": ("T1539", ("the victim's session cookie replayed through a residential proxy in "
                                            "the victim's own country, another browser, no device id, while the "
                                            "victim keeps working")),
    "legacy_brute_force_slow": ("T1110.001", ("dozens of IMAP / SMTP AUTH password failures spread over hours from "
                                              "one network, then a success and mail access")),
    "mfa_fatigue_quiet": ("T1621", "two MFA prompts denied, then an approval from a new country and device"),
    "device_code_phishing": ("T1528", ("a device-code sign-in from a hosting network (the victim typed the "
                                       "attacker's code), then token refreshes and mail access from there")),
    "carrier_travel": ("T1078.004", ("valid credentials + MFA from a mobile carrier in a country the victim was "
                                     "never in, shortly after working at home")),
}

LINUX_DEVICE = Device("", "", "Linux", "Chrome 130.0.0", cat.UA_CHROME_LINUX, "", False, False, "attacker")


#: the SOC's automation (a Logic App's managed identity) that remediates some campaigns
PLAYBOOK = ("8f3c1a52-6e0b-4b7d-9a41-2c5e7d90b3f4", "Sentinel-Playbook-Remediate-User")


@dataclass
class Campaign:
    campaign_id: str
    type: str
    day: int
    params: dict[str, Any] = field(default_factory=dict)


class Attacks:
    def __init__(self, world: World, geo: Geography, seed: int, days: int, counts: dict[str, int]) -> None:
        self.w = world
        self.geo = geo
        self.seed = seed
        self.days = days
        rng = rng_for(seed, "campaigns")
        t = world.t
        self.admin = next((u for u in t.users if u.kind == "admin"), t.users[0])
        members = [u for u in t.users if u.kind == "member" and u.active_from_day == 0 and u.idx != 0
                   and u.leave_day is None]
        rng.shuffle(members)
        self.victims = members
        self.services = [u for u in t.users if u.kind == "service"]
        plan = [name for name in CAMPAIGNS for _ in range(int(counts.get(name, 0)))]
        self.plan: list[Campaign] = []
        for k, name in enumerate(plan):
            day = min(days - 1, 1 + (k * max(1, days - 1)) // max(1, len(plan))) if days > 1 else 0
            self.plan.append(Campaign(guid(rng), name, day))
        self.leaked: list[str] = []
        self.compromised: list[str] = []

    def victim(self, k: int) -> User:
        return self.victims[k % len(self.victims)]

    def run_day(self, day: int) -> None:
        for k, c in enumerate(self.plan):
            if c.day == day:
                rng = rng_for(self.seed, "campaign", k)
                base = self.w.start_us + day * DAY_US
                handler: Callable[[Campaign, random.Random, int, int], None] = getattr(self, c.type)
                handler(c, rng, base, k)

    # helpers -------------------------------------------------------------------------------------
    def net(self, rng: random.Random, type_: str, exclude: set[str] | None = None,
            country: str | None = None) -> Net:
        ranges = [r for r in self.geo.ranges_where(type=type_, country=country)
                  if not exclude or r.country not in exclude]
        r = rng.choice(ranges)
        return Net(r.address(rng.getrandbits(32)), r)

    def lab(self, file: int, row: dict[str, Any], c: Campaign, user: User, technique: str | None = None,
            malicious: bool = True) -> None:
        self.w.label(file, row, campaign_id=c.campaign_id, campaign_type=c.type,
                     technique=technique or CAMPAIGNS[c.type][0], malicious=malicious, user=user)

    def signin(self, c: Campaign, rng: random.Random, user: User, *, us: int, net: Net, app: cat.App,
               result: str, auth: str, ua: str, interactive: bool = True, session_id: str = "",
               device: Device | None = None, technique: str | None = None, **kw: Any) -> tuple[dict[str, Any], Any]:
        row, ids = self.w.signin(rng, us=us, user=user, interactive=interactive, app=app, net=net, device=device,
                                 ua=ua, result=result, auth=auth, session_id=session_id, **kw)
        self.lab(SIGNIN if interactive else NONINTERACTIVE, row, c, user, technique)
        return row, ids

    def mail_access(self, c: Campaign, rng: random.Random, user: User, us: int, net: Net, access: Access,
                    n: int, technique: str = "T1114.002") -> int:
        for _ in range(n):
            us += rng.randrange(20, 120) * S
            row = self.w.activity(rng, us=us, user=user, operation="MailItemsAccessed", record_type=50,
                                  workload="Exchange", ip=net.ip, access=access, object_id="", extra={
                                      "ClientIPAddress": net.ip, "ClientInfoString": "Client=OWA;Action=ViaProxy",
                                      "MailboxOwnerUPN": user.upn, "LogonType": 0, "ExternalAccess": False,
                                      "OperationCount": rng.randrange(5, 40), "SessionId": access.session_id,
                                      "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"},
                                                              {"Name": "IsThrottled", "Value": "False"}]})
            self.lab(O365, row, c, user, technique)
        return us

    def downloads(self, c: Campaign, rng: random.Random, user: User, us: int, net: Net, access: Access, n: int,
                  ua: str) -> int:
        site = rng.choice(cat.SHAREPOINT_SITES)
        for i in range(n):
            us += rng.randrange(2, 12) * S
            name = f"{rng.choice(cat.FILE_NAMES).rsplit('.', 1)[0]} ({i}).{rng.choice(('xlsx', 'docx', 'pdf'))}"
            row = self.w.activity(rng, us=us, user=user, operation="FileDownloaded", record_type=6,
                                  workload="SharePoint", ip=net.ip, access=access,
                                  object_id=f"{site}/Shared Documents/{name}", ua=ua, extra={
                                      "SiteUrl": site + "/", "SourceRelativeUrl": "Shared Documents",
                                      "SourceFileName": name, "SourceFileExtension": name.rsplit(".", 1)[1],
                                      "ItemType": "File", "EventSource": "SharePoint",
                                      "ListItemUniqueId": guid(rng)})
            self.lab(O365, row, c, user, "T1530")
        return us

    def remediate(self, c: Campaign, rng: random.Random, user: User, start: int, us: int,
                  disable: bool = False) -> None:
        admin = self.admin
        ip = self.w.t.offices["GB"].address(3)
        acts = [("Reset user password", "Reset", "Core Directory"),
                ("Invalidate all refresh tokens for user", "Update", "Core Directory")]
        if disable:
            acts.append(("Disable account", "Update", "Core Directory"))
        # Half the campaigns are remediated by a SOAR playbook (an app initiator), half by the admin.
        playbook = rng.random() < 0.5
        for k, (name, op, svc) in enumerate(acts):
            mods = [{"displayName": "AccountEnabled", "oldValue": "[true]", "newValue": "[false]"}] \
                if name == "Disable account" else []
            row = self.w.audit(rng, us=us + k * 40 * S, activity_name=name, category="UserManagement", service=svc,
                               op_type=op, actor=None if playbook else admin, actor_ip=ip, target=user,
                               modified=mods, app_actor=PLAYBOOK)
            self.lab(AUDIT, row, c, user, None, malicious=False)
        self.w.compromised(user, start, us, campaign_id=c.campaign_id, campaign_type=c.type)
        self.compromised.append(user.upn)

    def ghost(self, rng: random.Random, name: str) -> User:
        """An account that does not exist in the tenant (stuffing lists hold many)."""
        city = self.geo.city("GB", "London")
        return User(-1, "", f"{name}@{DOMAIN}", "", "", "", city, datetime(2020, 1, 1), "")

    # campaigns -----------------------------------------------------------------------------------
    def password_spray(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        targets = [u for u in self.w.t.users if u.kind != "service" and u.active_from_day == 0][:60]
        rng.shuffle(targets)
        hits = {u.upn for u in targets[:2]}
        svc = self.services[0] if self.services else None
        if svc is not None:
            targets.append(svc)
            hits.add(svc.upn)
        c.params.update(targets=len(targets), rounds=3, valid=sorted(hits))
        us = base + int(rng.random() * 2 * H)
        for round_ in range(3):
            for u in targets:
                us += rng.randrange(40, 240) * S
                net = self.net(rng, rng.choice(("hosting", "vpn")))
                good = u.upn in hits and round_ == 1
                if not good:
                    result, auth = ("50053", "password_fail") if rng.random() < 0.04 else ("50126", "password_fail")
                elif u.kind == "service":
                    result, auth = "0", "password"
                else:
                    result, auth = "50076", "password"
                app = cat.OUTLOOK if good else rng.choice((cat.AAD_POWERSHELL, cat.AZURE_CLI, cat.OUTLOOK))
                row, ids = self.signin(c, rng, u, us=us, net=net, app=app, result=result, auth=auth,
                                       ua=cat.UA_ROPC, protocol="ropc", session_id=guid(rng) if good else "")
                if good and result == "0":
                    a = Access(ids.session_id, ids.uti, cat.OUTLOOK, us, ids.correlation_id)
                    end = self.mail_access(c, rng, u, us + 5 * M, net, a, 6)
                    self.remediate(c, rng, u, us, end + 20 * H)
            us += 3 * H

    def credential_stuffing(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        real = [self.victim(k + i) for i in range(12)]
        ghosts = [self.ghost(rng, f"{rng.choice(('info', 'admin', 'jsmith', 'sales', 'hr', 'test'))}{i}")
                  for i in range(12)]
        accounts = real + ghosts
        us = base + int((9 + rng.random() * 8) * H)
        hit = real[0]
        c.params.update(accounts=len(accounts), hit=hit.upn)
        for i in range(60):
            u = accounts[i % len(accounts)]
            us += rng.randrange(5, 60) * S
            net = self.net(rng, "isp", exclude={"GB", "BG", "BR", "US", "DE", "IN"})
            if u.idx < 0:
                result, auth = "50034", "password_fail"
            elif u is hit and i < len(accounts):
                result, auth = "50074", "password"
            else:
                result, auth = "50126", "password_fail"
            self.signin(c, rng, u, us=us, net=net, app=cat.OFFICE_HOME, result=result, auth=auth, ua=cat.UA_PYTHON,
                        session_id=guid(rng) if result == "50074" else "")

    def brute_force(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        net = self.net(rng, "hosting")
        us = base + int((1 + rng.random() * 5) * H)
        c.params.update(victim=u.upn, attempts=30, ip=net.ip)
        for i in range(30):
            us += rng.randrange(4, 25) * S
            result = "50126" if i < 10 else "50053"
            self.signin(c, rng, u, us=us, net=net, app=cat.OFFICE_HOME, result=result, auth="password_fail",
                        ua=cat.UA_PYTHON)

    def mfa_fatigue(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        net = self.net(rng, "vpn", exclude={u.country})
        us = base + int((20 + rng.random() * 2) * H)  # late evening UTC: the victim is tired
        pushes = 12
        c.params.update(victim=u.upn, pushes=pushes, ip=net.ip)
        for _ in range(pushes):
            us += rng.randrange(90, 300) * S
            self.signin(c, rng, u, us=us, net=net, app=cat.OFFICE_HOME, result="500121", auth="push_denied",
                        ua=cat.UA_CHROME_LINUX, session_id="")
        us += rng.randrange(60, 200) * S
        session = guid(rng)
        row, ids = self.signin(c, rng, u, us=us, net=net, app=cat.OFFICE_HOME, result="0", auth="push",
                               ua=cat.UA_CHROME_LINUX, session_id=session)
        start = us
        _, rids = self.signin(c, rng, u, us=us + 2 * M, net=net, app=cat.OWA, result="0", auth="claim_mfa",
                              ua=cat.UA_CHROME_LINUX, interactive=False, session_id=session, incoming="refreshToken",
                              technique="T1078.004")
        a = Access(session, rids.uti, cat.OWA, us + 2 * M, rids.correlation_id)
        end = self.mail_access(c, rng, u, us + 3 * M, net, a, 15)
        self.remediate(c, rng, u, start, end + 8 * H)

    def aitm_phishing(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        proxy = self.net(rng, "hosting")
        replay = self.net(rng, "isp", exclude={u.country, proxy.range.country, "GB", "US", "DE"})
        us = base + int((10 + rng.random() * 4) * H)
        session = guid(rng)
        corr = guid(rng)
        c.params.update(victim=u.upn, proxy_ip=proxy.ip, proxy_asn=proxy.range.asn.number, replay_ip=replay.ip,
                        replay_country=replay.range.country)
        first, _ = self.signin(c, rng, u, us=us, net=proxy, app=cat.OWA, result="50074", auth="password",
                               ua=u.laptop.user_agent, session_id=session, correlation_id=corr)
        us += rng.randrange(10, 40) * S
        start = us
        self.signin(c, rng, u, us=us, net=proxy, app=cat.OWA, result="0", auth="push", ua=u.laptop.user_agent,
                    session_id=session, correlation_id=corr, original_request_id=first["Id"])
        us += rng.randrange(20, 90) * M
        self.signin(c, rng, u, us=us, net=replay, app=cat.OWA, result="0", auth="claim_mfa", ua=cat.UA_CHROME_LINUX,
                    session_id=session, technique="T1550.004", mfa_required=True)
        _, ids = self.signin(c, rng, u, us=us + 40 * S, net=replay, app=cat.OWA, result="0", auth="claim_mfa",
                             ua=cat.UA_CHROME_LINUX, interactive=False, session_id=session,
                             incoming="refreshToken", technique="T1550.004", mfa_required=True)
        a = Access(session, ids.uti, cat.OWA, us + 40 * S, ids.correlation_id)
        us += 3 * M
        rule = rng.choice((".", "..", "RSS Feeds sync"))
        row = self.w.activity(rng, us=us, user=u, operation="New-InboxRule", record_type=1, workload="Exchange",
                              ip=with_port(replay.ip, rng.randrange(1024, 65535)), access=a,
                              object_id=f"{u.upn}\\{rule}",
                              extra={"Parameters": [
                                  {"Name": "Name", "Value": rule},
                                  {"Name": "SubjectOrBodyContainsWords", "Value": "invoice;payment;wire;bank"},
                                  {"Name": "ForwardTo", "Value": "ap-archive@mailbox-relay.example.net"},
                                  {"Name": "MarkAsRead", "Value": "True"},
                                  {"Name": "DeleteMessage", "Value": "True"},
                                  {"Name": "StopProcessingRules", "Value": "True"}],
                                  "SessionId": session})
        self.lab(O365, row, c, u, "T1564.008")
        us += 2 * M
        row = self.w.activity(rng, us=us, user=u, operation="Set-InboxRule", record_type=1, workload="Exchange",
                              ip=with_port(replay.ip, rng.randrange(1024, 65535)), access=a,
                              object_id=f"{u.upn}\\{rule}",
                              extra={"Parameters": [{"Name": "Identity", "Value": f"{u.upn}\\{rule}"},
                                                    {"Name": "ForwardAsAttachmentTo",
                                                     "Value": "ap-archive@mailbox-relay.example.net"}],
                                     "SessionId": session})
        self.lab(O365, row, c, u, "T1114.003")
        end = self.mail_access(c, rng, u, us, replay, a, 25)
        self.remediate(c, rng, u, start, end + 26 * H, disable=True)

    def token_replay(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        st = None
        u = self.victim(k)
        for j in range(len(self.victims)):
            cand = self.victim(k + j)
            s = self.w.state[cand.idx].sessions.get("laptop")
            if s is not None and s.started_day <= c.day:
                u, st = cand, s
                break
        if st is None:
            return
        net = self.net(rng, "hosting", exclude={u.country})
        us = base + int((14 + rng.random() * 6) * H)
        c.params.update(victim=u.upn, session_id=st.session_id, ip=net.ip)
        start = us
        access = None
        for app in (cat.OUTLOOK, cat.ONEDRIVE, cat.OUTLOOK, cat.ONEDRIVE):
            us += rng.randrange(30, 600) * S
            _, ids = self.signin(c, rng, u, us=us, net=net, app=app, result="0", auth="claim_mfa" if st.mfa else
                                 "claim_1fa", ua=cat.UA_PYTHON, interactive=False, session_id=st.session_id,
                                 device=LINUX_DEVICE, incoming="refreshToken", mfa_required=True)
            access = Access(st.session_id, ids.uti, app, us, ids.correlation_id)
            if app is cat.ONEDRIVE:
                self.downloads(c, rng, u, us, net, access, 5, cat.UA_PYTHON)
        assert access is not None
        self.remediate(c, rng, u, start, us + 30 * H)

    def impossible_travel_compromise(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        st = self.w.state[u.idx]
        net = self.net(rng, "isp", exclude={u.country, "GB", "IE", "FR", "NL", "ES", "DE", "BG"})
        after = st.last_interactive[0] if st.last_interactive and st.last_interactive[0] >= base else \
            base + 9 * H
        us = after + int((0.5 + rng.random()) * H)
        session = guid(rng)
        c.params.update(victim=u.upn, ip=net.ip, country=net.range.country)
        _, ids = self.signin(c, rng, u, us=us, net=net, app=cat.OFFICE_HOME, result="0", auth="sms",
                             ua=cat.UA_CHROME_MAC, session_id=session, technique="T1078.004")
        _, ids = self.signin(c, rng, u, us=us + M, net=net, app=cat.OWA, result="0", auth="claim_mfa",
                             ua=cat.UA_CHROME_MAC, interactive=False, session_id=session, incoming="refreshToken",
                             technique="T1090.002", mfa_required=True)
        a = Access(session, ids.uti, cat.OWA, us + M, ids.correlation_id)
        end = self.mail_access(c, rng, u, us + 2 * M, net, a, 8)
        self.remediate(c, rng, u, us, end + 10 * H)

    def cookie_replay_residential(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        # a residential proxy exit on another ISP of the victim's own country (no country change, no hosting)
        def exits(user: User) -> list[Any]:
            home_asn = user.home.asn.number if user.home else -1
            return [r for r in self.geo.ranges_where(type="isp", country=user.country) if r.asn.number != home_asn]

        def working(user: User) -> bool:  # signed in interactively today: at work, the laptop session alive
            last = self.w.state[user.idx].last_interactive
            return last is not None and last[0] >= base

        u, st = self.victim(k), None
        for want_working in (True, False):  # a victim at work that day, else any (a weekend campaign)
            for j in range(len(self.victims)):
                cand = self.victim(k + j)
                s = self.w.state[cand.idx].sessions.get("laptop")
                if s is not None and s.started_day <= c.day and exits(cand) and (working(cand) or not want_working):
                    u, st = cand, s
                    break
            if st is not None:
                break
        if st is None:
            return
        ranges = exits(u)
        r = rng.choice(ranges)
        net = Net(r.address(rng.getrandbits(32)), r)
        # while the victim keeps working: shortly after their own last sign-in of the day (their desktop
        # session goes on refreshing from the root device)
        last = self.w.state[u.idx].last_interactive
        us = last[0] + int((0.2 + rng.random() * 0.5) * H) if last is not None and last[0] >= base else \
            base + int((11 + rng.random() * 3) * H)
        c.params.update(victim=u.upn, session_id=st.session_id, ip=net.ip, asn=r.asn.number)
        start = us
        access = None
        for app in (cat.OWA, cat.OWA, cat.SHAREPOINT_WEB):
            us += rng.randrange(60, 600) * S
            _, ids = self.signin(c, rng, u, us=us, net=net, app=app, result="0",
                                 auth="claim_mfa" if st.mfa else "claim_1fa", ua=cat.UA_FIREFOX_LINUX,
                                 interactive=False, session_id=st.session_id, device=None, incoming="refreshToken",
                                 technique="T1539", mfa_required=True)
            access = Access(st.session_id, ids.uti, app, us, ids.correlation_id)
        assert access is not None
        end = self.mail_access(c, rng, u, us + M, net, access, 10)
        self.remediate(c, rng, u, start, end + 20 * H)

    def legacy_brute_force_slow(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        r = rng.choice([x for x in self.geo.ranges_where(type="hosting") if x.country != u.country])
        us = base + int(rng.random() * 2 * H)
        attempts = 36
        c.params.update(victim=u.upn, attempts=attempts, asn=r.asn.number)
        for i in range(attempts):  # one guess every ~10-25 minutes: no 10-minute burst ever forms
            us += rng.randrange(600, 1500) * S
            net = Net(r.address(rng.getrandbits(32)), r)
            proto = cat.IMAP if i % 3 else cat.SMTP_AUTH
            self.signin(c, rng, u, us=us, net=net, app=cat.EXCHANGE_LEGACY, result="50126", auth="password_fail",
                        ua=proto[1], client_app_used=proto[0])
        us += rng.randrange(600, 1500) * S
        net = Net(r.address(rng.getrandbits(32)), r)
        session = guid(rng)
        _, ids = self.signin(c, rng, u, us=us, net=net, app=cat.EXCHANGE_LEGACY, result="0", auth="password",
                             ua=cat.IMAP[1], client_app_used=cat.IMAP[0], session_id=session, mfa_required=False)
        a = Access(session, ids.uti, cat.EXCHANGE_LEGACY, us, ids.correlation_id)
        end = self.mail_access(c, rng, u, us + M, net, a, 12)
        self.remediate(c, rng, u, us, end + 12 * H)

    def mfa_fatigue_quiet(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        net = self.net(rng, "isp", exclude={u.country, "GB", "US", "DE", "BG", "BR", "IN"})
        us = base + int((19 + rng.random() * 2) * H)
        c.params.update(victim=u.upn, pushes=2, ip=net.ip, country=net.range.country)
        for _ in range(2):
            us += rng.randrange(60, 180) * S
            self.signin(c, rng, u, us=us, net=net, app=cat.OFFICE_HOME, result="500121", auth="push_denied",
                        ua=cat.UA_CHROME_LINUX, session_id="")
        us += rng.randrange(60, 200) * S
        session = guid(rng)
        self.signin(c, rng, u, us=us, net=net, app=cat.OFFICE_HOME, result="0", auth="push",
                    ua=cat.UA_CHROME_LINUX, session_id=session)
        _, ids = self.signin(c, rng, u, us=us + 2 * M, net=net, app=cat.OWA, result="0", auth="claim_mfa",
                             ua=cat.UA_CHROME_LINUX, interactive=False, session_id=session, incoming="refreshToken",
                             technique="T1078.004")
        a = Access(session, ids.uti, cat.OWA, us + 2 * M, ids.correlation_id)
        end = self.mail_access(c, rng, u, us + 3 * M, net, a, 8)
        self.remediate(c, rng, u, us, end + 10 * H)

    def device_code_phishing(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        net = self.net(rng, "hosting", exclude={u.country})
        us = base + int((13 + rng.random() * 3) * H)
        session = guid(rng)
        c.params.update(victim=u.upn, ip=net.ip)
        _, ids = self.signin(c, rng, u, us=us, net=net, app=cat.AZURE_CLI, result="0", auth="push",
                             ua=cat.UA_PYTHON, session_id=session, protocol="deviceCode")
        start = us
        access = Access(session, ids.uti, cat.OUTLOOK, us, ids.correlation_id)
        for _ in range(3):
            us += rng.randrange(40, 70) * M
            _, ids = self.signin(c, rng, u, us=us, net=net, app=cat.OUTLOOK, result="0", auth="claim_mfa",
                                 ua=cat.UA_PYTHON, interactive=False, session_id=session, incoming="refreshToken",
                                 transfer="deviceCodeFlow", technique="T1528", mfa_required=True)
            access = Access(session, ids.uti, cat.OUTLOOK, us, ids.correlation_id)
        end = self.mail_access(c, rng, u, us + M, net, access, 10)
        self.remediate(c, rng, u, start, end + 10 * H)

    def carrier_travel(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        st = self.w.state[u.idx]
        ranges = [r for r in self.geo.ranges_where(type="mobile")
                  if r.country not in {u.country, "GB", "US", "DE", "BG", "BR", "IN"}]
        if not ranges:
            return
        r = rng.choice(ranges)
        net = Net(r.address(rng.getrandbits(32)), r)
        after = st.last_interactive[0] if st.last_interactive and st.last_interactive[0] >= base else base + 9 * H
        us = after + int((0.3 + rng.random() * 0.5) * H)
        session = guid(rng)
        c.params.update(victim=u.upn, ip=net.ip, country=r.country)
        self.signin(c, rng, u, us=us, net=net, app=cat.OFFICE_HOME, result="0", auth="sms", ua=cat.UA_CHROME_MAC,
                    session_id=session)
        _, ids = self.signin(c, rng, u, us=us + M, net=net, app=cat.OWA, result="0", auth="claim_mfa",
                             ua=cat.UA_CHROME_MAC, interactive=False, session_id=session, incoming="refreshToken",
                             mfa_required=True)
        a = Access(session, ids.uti, cat.OWA, us + M, ids.correlation_id)
        end = self.mail_access(c, rng, u, us + 2 * M, net, a, 6)
        self.remediate(c, rng, u, us, end + 10 * H)

    def anonymizer_signin(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        tor = self.net(rng, "tor")
        vpn = self.net(rng, "vpn")
        us = base + int((2 + rng.random() * 4) * H)
        session = guid(rng)
        c.params.update(victim=u.upn, tor_ip=tor.ip, vpn_ip=vpn.ip)
        risk = ("medium", "medium", "atRisk", "none", ["anonymizedIPAddress"])
        corr = guid(rng)
        first, _ = self.signin(c, rng, u, us=us, net=tor, app=cat.OFFICE_HOME, result="50074", auth="password",
                               ua=cat.UA_FIREFOX_LINUX, session_id=session, risk=risk, correlation_id=corr)
        us += rng.randrange(20, 90) * S
        self.signin(c, rng, u, us=us, net=tor, app=cat.OFFICE_HOME, result="0", auth="push", ua=cat.UA_FIREFOX_LINUX,
                    session_id=session, risk=risk, correlation_id=corr, original_request_id=first["Id"])
        start = us
        us += rng.randrange(10, 40) * M
        _, ids = self.signin(c, rng, u, us=us, net=vpn, app=cat.OWA, result="0", auth="claim_mfa",
                             ua=cat.UA_FIREFOX_LINUX, session_id=session, mfa_required=True)
        a = Access(session, ids.uti, cat.OWA, us, ids.correlation_id)
        end = self.mail_access(c, rng, u, us + M, vpn, a, 6)
        self.remediate(c, rng, u, start, end + 12 * H)

    def leaked_credentials(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        target = self.services[-1] if self.services else self.victim(k)
        stale = [self.victim(k + i) for i in range(1, 4)]
        net = self.net(rng, "hosting")
        us = base + int((3 + rng.random() * 10) * H)
        c.params.update(victim=target.upn, stale=[s.upn for s in stale], ip=net.ip)
        for i, u in enumerate([*stale, target]):
            password = f"{rng.choice(('Summer', 'Winter', 'Welcome', 'Contoso'))}{2020 + rng.randrange(6)}!{i}"
            # "upn,sha256(lower(upn):password)": the address is not a secret, the password never leaves as text
            upn = u.upn.lower()
            self.leaked.append(f"{upn},{hashlib.sha256(f'{upn}:{password}'.encode()).hexdigest()}")
            us += rng.randrange(30, 300) * S
            ok = u is target
            row, ids = self.signin(c, rng, u, us=us, net=net, app=cat.OUTLOOK if ok else cat.AZURE_CLI,
                                   result="0" if ok else "50126",
                                   auth="password" if ok else "password_fail", ua=cat.UA_ROPC, protocol="ropc",
                                   session_id=guid(rng) if ok else "")
            if ok:
                a = Access(ids.session_id, ids.uti, cat.OUTLOOK, us, ids.correlation_id)
                end = self.mail_access(c, rng, u, us + 2 * M, net, a, 4)
                self.remediate(c, rng, u, us, end + 5 * H, disable=False)

    def mass_download(self, c: Campaign, rng: random.Random, base: int, k: int) -> None:
        u = self.victim(k)
        net = self.net(rng, "isp", exclude={u.country, "GB", "US", "DE", "IN", "BG", "BR"})
        us = base + int((11 + rng.random() * 6) * H)
        session = guid(rng)
        n = rng.randrange(250, 400)
        c.params.update(victim=u.upn, ip=net.ip, files=n)
        _, ids = self.signin(c, rng, u, us=us, net=net, app=cat.SHAREPOINT_WEB, result="0", auth="sms",
                             ua=cat.UA_CHROME_MAC, session_id=session, technique="T1078.004")
        _, ids = self.signin(c, rng, u, us=us + M, net=net, app=cat.SHAREPOINT_WEB, result="0", auth="claim_mfa",
                             ua=cat.UA_CHROME_MAC, interactive=False, session_id=session, incoming="refreshToken",
                             technique="T1078.004", mfa_required=True)
        a = Access(session, ids.uti, cat.SHAREPOINT_WEB, us + M, ids.correlation_id)
        end = self.downloads(c, rng, u, us + 2 * M, net, a, n, cat.UA_CHROME_MAC)
        self.remediate(c, rng, u, us, end + 6 * H, disable=True)
