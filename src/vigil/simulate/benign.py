"""Benign life: one user's working day, with the named scenarios that fool naive rules.

Scenarios (rates in ``engine.DEFAULT_RATES``): office days behind the corporate egress, home working on a
residential ISP, corporate VPN with egress failover mid-session, split tunnelling, phones on CGNAT
mobile carriers, several devices, travel with flight times, confidential clients replaying the original
token's IP, new joiners, dormant accounts returning, shared service accounts, benign inbox rules,
password typos and self-service password changes; evenings through iCloud Private Relay or a commercial
VPN, Microsoft services refreshing tokens from their own IPs, sign-ins with no location. The newer
scenarios draw from their own random streams, so adding them left every older tenant unchanged.
"""
from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from vigil.simulate import catalog as cat
from vigil.simulate.geography import Geography, IpRange
from vigil.simulate.rand import guid, rng_for
from vigil.simulate.records import Access, Net, iso_us, with_port
from vigil.simulate.tenant import Device, User
from vigil.simulate.world import DAY_US, SessionState, Trip, World

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
H = 3_600_000_000
M = 60_000_000


@lru_cache(maxsize=4096)
def local_midnight_us(tz: str, ordinal: int) -> int:
    """UTC microseconds of local midnight of the date with proleptic ``ordinal`` in ``tz``."""
    d = datetime.fromordinal(ordinal).replace(tzinfo=ZoneInfo(tz))
    return (d - _EPOCH) // timedelta(microseconds=1)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 12742 * math.asin(math.sqrt(h))


TRAVEL_COUNTRIES = ("GB", "US", "DE", "FR", "NL", "ES", "AE", "IN", "BR", "BG", "MX")


class Benign:
    """Generates each user's day into a :class:`World`."""

    def __init__(self, world: World, geo: Geography, rates: dict[str, float], seed: int, days: int) -> None:
        self.w = world
        self.geo = geo
        self.rates = rates
        self.seed = seed
        self.days = days
        self.start_date = datetime.fromtimestamp(world.start_us / 1e6, UTC).date()
        self.seed_case_day = next((d for d in range(days)
                                   if (self.start_date + timedelta(days=d)).weekday() < 5), 0)

    # helpers -------------------------------------------------------------------------------------
    def net(self, rng: random.Random, r: IpRange, offset: int | None = None) -> Net:
        return Net(r.address(rng.getrandbits(32) if offset is None else offset), r)

    def office_net(self, rng: random.Random, u: User) -> Net:
        cc = u.country if u.country in self.w.t.offices else "GB"
        return self.net(rng, self.w.t.offices[cc], rng.randrange(6))

    def gateway_net(self, rng: random.Random, cc: str) -> Net:
        return self.net(rng, self.w.t.gateways[cc], rng.randrange(6))

    def session(self, rng: random.Random, u: User, device: Device, day: int, max_age: int) -> tuple[SessionState, bool]:
        st = self.w.state[u.idx]
        s = st.sessions.get(device.kind)
        if s is None or day - s.started_day >= max_age:
            s = SessionState(guid(rng), device, day, mfa=False)
            st.sessions[device.kind] = s
            return s, True
        return s, False

    def interactive(self, rng: random.Random, u: User, s: SessionState, us: int, net: Net, app: cat.App,
                    fresh: bool) -> int:
        """An interactive sign-in (with its interrupts / typos); returns the time after it."""
        w = self.w
        dev = s.device
        ua = dev.user_agent
        corr = guid(rng)
        if fresh and rng.random() < self.rates["password_typo"]:
            w.signin(rng, us=us, user=u, interactive=True, app=app, net=net, device=dev, ua=ua, result="50126",
                     auth="password_fail", session_id="", correlation_id=corr, protocol="none")
            us += rng.randrange(15, 60) * 1_000_000
        need_mfa = not net.trusted and u.kind != "service"
        if need_mfa and not s.mfa:
            first, _ = w.signin(rng, us=us, user=u, interactive=True, app=app, net=net, device=dev, ua=ua,
                                result="50074", auth="password", session_id=s.session_id, correlation_id=corr)
            us += rng.randrange(8, 40) * 1_000_000
            w.signin(rng, us=us, user=u, interactive=True, app=app, net=net, device=dev, ua=ua, result="0",
                     auth="push", session_id=s.session_id, correlation_id=corr, original_request_id=first["Id"])
            s.mfa = True
        else:
            auth = "claim_mfa" if s.mfa and need_mfa else ("password" if fresh else "claim_1fa")
            if fresh and rng.random() < 0.05:  # Keep-me-signed-in interrupt before success
                first, _ = w.signin(rng, us=us, user=u, interactive=True, app=app, net=net, device=dev, ua=ua,
                                    result="50140", auth=auth, session_id=s.session_id, correlation_id=corr)
                us += rng.randrange(2, 10) * 1_000_000
                w.signin(rng, us=us, user=u, interactive=True, app=app, net=net, device=dev, ua=ua, result="0",
                         auth=auth, session_id=s.session_id, correlation_id=corr, original_request_id=first["Id"])
            else:
                w.signin(rng, us=us, user=u, interactive=True, app=app, net=net, device=dev, ua=ua, result="0",
                         auth=auth, session_id=s.session_id, correlation_id=corr)
        s.last_ip = net.ip
        return us + rng.randrange(1, 20) * 1_000_000

    def refresh(self, rng: random.Random, u: User, s: SessionState, us: int, net: Net, app: cat.App,
                ua: str, incoming: str = "primaryRefreshToken") -> dict[str, object]:
        need_mfa = not net.trusted and u.kind != "service"
        if need_mfa and not s.mfa:  # off the trusted network the app must prompt (interactively) first
            self.interactive(rng, u, s, us - rng.randrange(20, 90) * 1_000_000, net, app, fresh=False)
        auth = "claim_mfa" if s.mfa else "claim_1fa"
        row, ids = self.w.signin(rng, us=us, user=u, interactive=False, app=app, net=net, device=s.device, ua=ua,
                                 result="0", auth=auth, session_id=s.session_id, incoming=incoming,
                                 mfa_required=need_mfa and s.mfa)
        s.access[app.workload or app.name] = Access(s.session_id, ids.uti, app, us, ids.correlation_id)
        s.last_ip = net.ip
        return row

    def work(self, rng: random.Random, u: User, s: SessionState, us: int, net: Net) -> None:
        """Workload activity riding on the session's latest tokens."""
        w = self.w
        r = rng.random()
        if r < 0.35 and "Exchange" in s.access:
            a = s.access["Exchange"]
            w.activity(rng, us=us, user=u, operation="MailItemsAccessed", record_type=50, workload="Exchange",
                       ip=net.ip, access=a, object_id="", extra={
                           "ClientIPAddress": net.ip, "ClientInfoString": "Client=REST;Client=RESTSystem;;",
                           "MailboxOwnerUPN": u.upn, "LogonType": 0, "ExternalAccess": False,
                           "OperationCount": rng.randrange(1, 12), "SessionId": s.session_id,
                           "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"},
                                                   {"Name": "IsThrottled", "Value": "False"}]})
        elif r < 0.45 and "Exchange" in s.access:
            a = s.access["Exchange"]
            w.activity(rng, us=us, user=u, operation="Send", record_type=2, workload="Exchange", ip=net.ip,
                       access=a, object_id="", extra={
                           "ClientIPAddress": net.ip, "ClientInfoString": "Client=MSExchangeRPC",
                           "MailboxOwnerUPN": u.upn, "LogonType": 0, "SessionId": s.session_id,
                           "Item": {"Id": guid(rng), "Subject": rng.choice(("Re: weekly sync", "Invoice", "Draft",
                                                                                 "Notes", "Follow-up")),
                                    "ParentFolder": {"Name": "Sent Items", "Path": "\\Sent Items"}}})
        elif r < 0.75 and "SharePoint" in s.access:
            a = s.access["SharePoint"]
            site = rng.choice(cat.SHAREPOINT_SITES)
            name = rng.choice(cat.FILE_NAMES)
            op = rng.choices(("FileAccessed", "FileModified", "FileDownloaded", "FilePreviewed"), (6, 2, 1, 2))[0]
            w.activity(rng, us=us, user=u, operation=op, record_type=6, workload="SharePoint", ip=net.ip,
                       access=a, object_id=f"{site}/Shared Documents/{name}", ua=s.device.user_agent, extra={
                           "SiteUrl": site + "/", "SourceRelativeUrl": "Shared Documents", "SourceFileName": name,
                           "SourceFileExtension": name.rsplit(".", 1)[1], "ItemType": "File",
                           "EventSource": "SharePoint", "ListItemUniqueId": guid(rng)})
        elif "MicrosoftTeams" in s.access:
            a = s.access["MicrosoftTeams"]
            w.activity(rng, us=us, user=u, operation="MessageSent", record_type=25, workload="MicrosoftTeams",
                       ip=net.ip, access=a, object_id="", extra={
                           "CommunicationType": rng.choice(("OneOnOne", "GroupChat", "Team")),
                           "ChatThreadId": f"19:{guid(rng).replace('-', '')}@thread.v2",
                           "MessageId": str(us // 1000), "ClientApplication": "Teams"})

    # the day ---------------------------------------------------------------------------------------
    def user_day(self, u: User, day: int, rng: random.Random) -> None:
        if day < u.active_from_day:
            return
        st = self.w.state[u.idx]
        date = self.start_date + timedelta(days=day)
        if not st.seen:
            st.seen = True
            self.first_seen(u, day, rng, date)
        if u.kind == "service":
            self.service_day(u, day, rng, date)
            return
        trip = self.plan_trip(u, day, rng, date)
        tz = trip.tz if trip and trip.arrive_day <= day else u.city.timezone
        midnight = local_midnight_us(tz, date.toordinal())
        weekday = date.weekday() < 5
        start = midnight + int((8 + rng.random() * 1.5) * H)
        end = start + int((7.5 + rng.random() * 2) * H)
        if trip and day == trip.depart_day:
            end = min(end, trip.depart_us - 3 * H)
        if trip and day == trip.arrive_day:
            start = max(start, trip.arrive_us + H)
            end = max(end, start + 2 * H)
        if trip and trip.depart_day < day < trip.arrive_day:
            return  # in the air / in transit
        segments, alt = self.segments(u, day, rng, trip, weekday, start, end)
        if segments:
            self.laptop_day(u, day, rng, segments, alt, start, end)
            laptop = self.w.state[u.idx].sessions.get("laptop")
            if laptop is not None:
                self.service_refresh(u, day, laptop, start, end)
        self.phone_day(u, day, rng, midnight, trip)
        self.unlocated(u, day, midnight)
        if u.devices[-1].kind == "mac" and rng.random() < 0.25 and not trip:  # the personal Mac stays at home
            self.mac_evening(u, day, rng, midnight)
        if weekday and rng.random() < self.rates["confidential_client"] * (8 if trip else 1):
            self.confidential_client(u, day, rng, start + int(rng.random() * max(H, end - start)), segments)
        if rng.random() < self.rates["password_change"] or (u.idx == 4 and day == self.seed_case_day):
            us = start + int(rng.random() * H)
            net = segments[0][2] if segments else Net(u.home_ip, u.home)  # type: ignore[arg-type]
            self.w.audit(rng, us=us, activity_name="Change user password", category="UserManagement",
                         service="Core Directory", op_type="Update", actor=u, actor_ip=net.ip, target=u)

    def first_seen(self, u: User, day: int, rng: random.Random, date: object) -> None:
        midnight = local_midnight_us(u.city.timezone, self.start_date.toordinal() + day)
        if "new_joiner" in u.traits:
            us = midnight + int(9.2 * H)
            self.w.audit(rng, us=us, activity_name="User registered security info", category="UserManagement",
                         service="Authentication Methods", op_type="Add", actor=u, actor_ip=self.office_net(rng, u).ip,
                         target=u, reason="User registered Authenticator App with Notification and Code")
            self.w.scenario("new_joiner", u, us, created=u.created.strftime("%Y-%m-%dT%H:%M:%SZ"))
        elif "dormant_return" in u.traits:
            self.w.scenario("dormant_return", u, midnight + 8 * H, inactive_days_before=200 + u.idx % 100)

    def segments(self, u: User, day: int, rng: random.Random, trip: Trip | None, weekday: bool,
                 start: int, end: int) -> tuple[list[tuple[int, int, Net]], Net | None]:
        """Where the laptop is during the day: [(from, to, net)], plus the split-tunnel direct path."""
        home = Net(u.home_ip, u.home)  # type: ignore[arg-type]
        if trip and trip.arrive_day <= day <= trip.return_day:
            return [(start, end, self.net(rng, trip.hotel, trip.hotel_offset))], None
        seed_case = u.idx == 0 and day == self.seed_case_day
        forced = u.idx in (0, 2) and day == self.seed_case_day  # the seed case and a split-tunnel day
        if not weekday and not forced:
            return ([(start, start + 2 * H, home)], None) if rng.random() < 0.08 else ([], None)
        at_home = forced or rng.random() < self.rates["home_days"]
        if not at_home:
            return [(start, end, self.office_net(rng, u))], None
        if not u.vpn_gateway:
            return [(start, end, home)], None
        path = [u.vpn_gateway]
        if seed_case:
            path = ["GB", "BG", "BR"]
        elif rng.random() < self.rates["vpn_failover"]:
            i = cat.VPN_ORDER.index(u.vpn_gateway)
            path = [cat.VPN_ORDER[(i + k) % len(cat.VPN_ORDER)] for k in range(rng.choice((2, 3)))]
        segs: list[tuple[int, int, Net]] = []
        t = start
        switch = start + int((1 + rng.random() * 4) * H)
        for k, cc in enumerate(path):
            seg_end = end if k == len(path) - 1 else (switch if k == 0 else t + rng.randrange(3, 9) * M)
            segs.append((t, seg_end, self.gateway_net(rng, cc)))
            t = seg_end
        alt = home if "split_tunnel" in u.traits else None
        return segs, alt

    def laptop_day(self, u: User, day: int, rng: random.Random, segs: list[tuple[int, int, Net]],
                   alt: Net | None, start: int, end: int) -> None:
        w = self.w
        s, fresh = self.session(rng, u, u.laptop, day, rng.randrange(1, 6))
        net0 = segs[0][2]
        t = self.interactive(rng, u, s, start, net0, cat.OFFICE_HOME, fresh)
        failover_ids: list[str] = []
        split_ids: list[str] = []

        def net_at(us: int, app: cat.App) -> Net:
            for a, b, n in segs:
                if a <= us < b:
                    base = n
                    break
            else:
                base = segs[-1][2]
            if alt is not None and app in (cat.TEAMS, cat.OUTLOOK):
                return alt
            return base

        for app in cat.DESKTOP_APPS:
            row = self.refresh(rng, u, s, t + rng.randrange(5, 90) * 1_000_000, net_at(t, app), app, cat.UA_WAM)
            if alt is not None:
                split_ids.append(str(row["Id"]))
        # egress changes: apps re-acquire tokens within minutes of the tunnel moving
        for a, _, _n in segs[1:]:
            for app in (cat.TEAMS, cat.OUTLOOK):
                us = a + rng.randrange(20, 240) * 1_000_000
                row = self.refresh(rng, u, s, us, net_at(us, app), app, cat.UA_WAM)
                failover_ids.append(str(row["Id"]))
                self.work(rng, u, s, us + rng.randrange(5, 60) * 1_000_000, net_at(us, app))
        hour = start + H
        while hour < end:
            for app in cat.DESKTOP_APPS:
                if rng.random() < (0.3 if app is cat.ONEDRIVE else 0.6):
                    us = hour + rng.randrange(0, 3_000) * 1_000_000
                    self.refresh(rng, u, s, us, net_at(us, app), app, cat.UA_WAM)
            for _ in range(rng.randrange(1, 6)):
                us = hour + rng.randrange(0, 3_500) * 1_000_000
                self.work(rng, u, s, us, net_at(us, cat.TEAMS if rng.random() < 0.5 else cat.ONEDRIVE))
            hour += H
        if "MicrosoftTeams" in s.access:
            w.activity(rng, us=start + 5 * M, user=u, operation="TeamsSessionStarted", record_type=25,
                       workload="MicrosoftTeams", ip=net_at(start, cat.TEAMS).ip, access=s.access["MicrosoftTeams"],
                       object_id="", extra={"ClientApplication": "Teams", "DeviceId": u.laptop.device_id})
        if len(segs) > 1:
            w.scenario("vpn_egress_failover", u, segs[1][0], session_id=s.session_id,
                       device_id=u.laptop.device_id,
                       egress=[{"country": n.range.country, "ip": n.ip, "from": _iso(a)} for a, _, n in segs],
                       record_ids=failover_ids)
        if alt is not None:
            w.scenario("split_tunnel", u, start, session_id=s.session_id, vpn_ip=segs[0][2].ip, direct_ip=alt.ip,
                       record_ids=split_ids)
        forced = u.idx == 3 and day == self.seed_case_day
        if (forced or rng.random() < self.rates["benign_inbox_rule"]) and "Exchange" in s.access:
            us = start + 2 * H
            rule = "Newsletters"
            w.activity(rng, us=us, user=u, operation="New-InboxRule", record_type=1, workload="Exchange",
                       ip=with_port(segs[0][2].ip, rng.randrange(1024, 65535)), access=s.access["Exchange"],
                       object_id=f"{u.upn}\\{rule}", extra={
                           "Parameters": [{"Name": "Name", "Value": rule},
                                          {"Name": "From", "Value": "news@updates.example.org"},
                                          {"Name": "MoveToFolder", "Value": "Newsletters"},
                                          {"Name": "StopProcessingRules", "Value": "False"}],
                           "SessionId": s.session_id})
            w.scenario("benign_inbox_rule", u, us, rule=rule)

    def phone_day(self, u: User, day: int, rng: random.Random, midnight: int, trip: Trip | None) -> None:
        phone = u.phone
        if phone is None or u.mobile is None:
            return
        s, fresh = self.session(rng, u, phone, day, 90)
        carrier = u.mobile
        times = sorted(midnight + int((7 + rng.random() * 15) * H) for _ in range(rng.randrange(2, 6)))
        for k, us in enumerate(times):
            evening = (us - midnight) > 19 * H and not trip
            net = Net(u.home_ip, u.home) if evening else self.net(rng, carrier)  # type: ignore[arg-type]
            if fresh and k == 0:  # the app's first sign-in is interactive (password + Authenticator)
                self.interactive(rng, u, s, us - rng.randrange(30, 120) * 1_000_000, net, cat.OUTLOOK_MOBILE, True)
            self.refresh(rng, u, s, us, net, cat.OUTLOOK_MOBILE, phone.user_agent, incoming="refreshToken")
            if rng.random() < 0.6:
                self.work(rng, u, s, us + rng.randrange(2, 90) * 1_000_000, net)
        if day == u.active_from_day or day == 0:
            self.w.scenario("mobile_cgnat", u, midnight, carrier=carrier.asn.org, carrier_city=carrier.city.name,
                            home_city=u.city.name, distance_km=round(distance_km(
                                (carrier.city.latitude, carrier.city.longitude),
                                (u.city.latitude, u.city.longitude))))

    def role_assignment(self, day: int) -> None:
        """An administrator grants an IT colleague a directory role (AuditLogs "Add member to role")."""
        t = self.w.t
        admin = next((u for u in t.users if u.kind == "admin"), t.users[0])
        target = next((u for u in t.users if u.department == "IT" and u is not admin and u.kind != "service"),
                      t.users[1])
        rng = rng_for(self.seed, "role-assignment")
        us = self.w.start_us + day * DAY_US + int(15.5 * H)
        role = ("Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8")
        self.w.audit(rng, us=us, activity_name="Add member to role", category="RoleManagement",
                     service="Core Directory", op_type="Assign", actor=admin, actor_ip=self.office_net(rng, admin).ip,
                     target=target, modified=[
                         {"displayName": "Role.ObjectID", "oldValue": None, "newValue": f'"{guid(rng)}"'},
                         {"displayName": "Role.DisplayName", "oldValue": None, "newValue": f'"{role[0]}"'},
                         {"displayName": "Role.TemplateId", "oldValue": None, "newValue": f'"{role[1]}"'}])
        self.w.scenario("role_assignment", target, us, role=role[0], by=admin.upn)

    def mac_evening(self, u: User, day: int, rng: random.Random, midnight: int) -> None:
        mac = u.devices[-1]
        set_up = mac.kind in self.w.state[u.idx].sessions  # the Mac was used (at home) on an earlier evening
        s, fresh = self.session(rng, u, mac, day, 3)
        home = Net(u.home_ip, u.home)  # type: ignore[arg-type]
        relay = self.consumer_vpn(u, day) if set_up else None
        net = relay or home
        us = midnight + int((19 + rng.random() * 3) * H)
        us = self.interactive(rng, u, s, us, net, cat.OWA, fresh)
        row = self.refresh(rng, u, s, us, net, cat.OWA, mac.user_agent, incoming="refreshToken")
        self.work(rng, u, s, us + 30 * 1_000_000, net)
        if relay is not None:
            self.w.scenario("consumer_vpn", u, us, ip=relay.ip, as_org=relay.range.asn.org,
                            country=relay.range.country, private_relay=relay.range.asn.type == "relay",
                            device=mac.kind, record_ids=[row["Id"]])
        if day == u.active_from_day or rng.random() < 0.02:
            self.w.scenario("several_devices", u, us, devices=[d.device_id for d in u.devices])

    def consumer_vpn(self, u: User, day: int) -> Net | None:
        """Some evenings a Mac user browses through iCloud Private Relay (Safari: an exit in their own country)
        or a commercial VPN (an exit abroad): the same personal Mac, classified as an anonymiser, not travel."""
        if rng_for(self.seed, "consumer-vpn", u.idx).random() >= self.rates["consumer_vpn"]:
            return None
        rng = rng_for(self.seed, "consumer-vpn", u.idx, day)
        if rng.random() < 0.5:
            return None
        relays = self.geo.ranges_where(type="relay", country=u.country)
        keep = rng_for(self.seed, "consumer-vpn-kind", u.idx)  # one user, one provider
        pool = relays if relays and keep.random() < 0.6 else self.geo.ranges_where(type="vpn")
        return self.net(rng, pool[keep.randrange(len(pool))])

    def service_refresh(self, u: User, day: int, s: SessionState, start: int, end: int) -> None:
        """A Microsoft service acting for the user (AS8075) refreshes a token: its own IP in the log, not the
        user's location, with no device."""
        rng = rng_for(self.seed, "ms-service", u.idx, day)
        if rng.random() >= self.rates["ms_service_ip"]:
            return
        ms = [r for r in self.geo.ranges_where(type="hosting") if r.asn.number == 8075]
        if not ms:
            return
        net = self.net(rng, rng.choice(ms))
        us = start + int(rng.random() * max(H, end - start))
        row, _ = self.w.signin(rng, us=us, user=u, interactive=False, app=cat.SHAREPOINT_WEB, net=net, device=None,
                               ua="", result="0", auth="claim_mfa" if s.mfa else "claim_1fa",
                               session_id=s.session_id, incoming="refreshToken")
        self.w.scenario("microsoft_service_ip", u, us, ip=net.ip, country=net.range.country,
                        session_id=s.session_id, record_ids=[row["Id"]])

    def unlocated(self, u: User, day: int, midnight: int) -> None:
        """A phone token refresh Entra could not locate (empty LocationDetails): never a new country."""
        rng = rng_for(self.seed, "no-location", u.idx, day)
        s = self.w.state[u.idx].sessions.get("phone")
        if rng.random() >= self.rates["no_location"] or s is None or u.mobile is None or u.phone is None:
            return
        net = self.net(rng, u.mobile)
        us = midnight + int((8 + rng.random() * 12) * H)
        row, _ = self.w.signin(rng, us=us, user=u, interactive=False, app=cat.OUTLOOK_MOBILE, net=net,
                               device=u.phone, ua=u.phone.user_agent, result="0",
                               auth="claim_mfa" if s.mfa else "claim_1fa", session_id=s.session_id,
                               incoming="refreshToken", located=False)
        self.w.scenario("no_location", u, us, ip=net.ip, record_ids=[row["Id"]])

    def confidential_client(self, u: User, day: int, rng: random.Random, us: int,
                            segs: list[tuple[int, int, Net]]) -> None:
        st = self.w.state[u.idx]
        s = st.sessions.get("laptop")
        if s is None or st.last_interactive is None:
            return
        stale_ip = self.office_net(rng, u) if rng.random() < 0.5 else None
        ip = stale_ip.ip if stale_ip else st.last_interactive[1]
        rng_range = self.geo.lookup(ip)
        if rng_range is None:
            return
        net = Net(ip, rng_range)
        row, _ = self.w.signin(rng, us=us, user=u, interactive=False, app=cat.LOB_EXPENSES, net=net, device=None,
                               ua="", result="0", auth="claim_mfa" if s.mfa else "claim_1fa",
                               session_id=s.session_id, incoming="refreshToken", client_credential="clientSecret",
                               protocol="none")
        current = segs[0][2].ip if segs else None
        self.w.scenario("confidential_client_stale_ip", u, us, record_id=row["Id"], session_id=s.session_id,
                        ip_in_log=ip, caller_ip=current)

    def plan_trip(self, u: User, day: int, rng: random.Random, date: object) -> Trip | None:
        st = self.w.state[u.idx]
        trip = st.trip
        if trip and day > trip.return_day + 2:
            st.trip = trip = None
        forced = u.idx == 1 and day == self.seed_case_day  # every tenant has at least one trip
        if trip is None and st.trips_taken == 0 and day + 5 < self.days and (
                forced or rng.random() < self.rates["travel"] / 7):
            choices = [c for c in TRAVEL_COUNTRIES if c != u.country]
            cc = rng.choice(choices)
            hotel = rng.choice(self.geo.ranges_where(type="isp", country=cc))
            km = distance_km((u.city.latitude, u.city.longitude), (hotel.city.latitude, hotel.city.longitude))
            flight_h = km / 850 + 1.0
            depart = local_midnight_us(u.city.timezone, self.start_date.toordinal() + day) + int(18.5 * H)
            arrive = depart + int(flight_h * H)
            stay = rng.randrange(2, 5)
            arrive_day = (arrive - self.w.start_us) // DAY_US
            trip = Trip(hotel.city.timezone, hotel, rng.getrandbits(32), depart, arrive, day, arrive_day,
                        arrive_day + stay, round(flight_h, 1))
            st.trip = trip
            st.trips_taken += 1
            self.w.scenario("travel", u, depart, from_country=u.country, from_city=u.city.name, to_country=cc,
                            to_city=hotel.city.name, arrive=_iso(arrive), flight_hours=trip.flight_hours,
                            distance_km=round(km), return_day=trip.return_day)
        if trip and day > trip.return_day:
            return None
        return trip

    def service_day(self, u: User, day: int, rng: random.Random, date: object) -> None:
        """A shared account: used from several offices and devices, single-factor (excluded from MFA)."""
        if (self.start_date + timedelta(days=day)).weekday() >= 5:
            return
        offices = list(self.w.t.offices)
        used = []
        for k in range(rng.randrange(2, 4)):
            cc = offices[(u.idx + k) % len(offices)]
            city = self.geo.city(cc, cat.OFFICES[cc][0])
            midnight = local_midnight_us(city.timezone, self.start_date.toordinal() + day)
            dev = u.devices[k % len(u.devices)]
            s, fresh = self.session(rng, u, dev, day, 1)
            net = self.net(rng, self.w.t.offices[cc], rng.randrange(6))
            us = self.interactive(rng, u, s, midnight + int((8 + rng.random() * 6) * H), net, cat.OWA, fresh)
            self.refresh(rng, u, s, us, net, cat.OWA, dev.user_agent, incoming="refreshToken")
            self.work(rng, u, s, us + 60 * 1_000_000, net)
            used.append({"country": cc, "ip": net.ip, "device_id": dev.device_id})
        if day == u.active_from_day or rng.random() < 0.1:
            self.w.scenario("shared_account", u, local_midnight_us("UTC", self.start_date.toordinal() + day),
                            used_from=used)


_iso = iso_us
