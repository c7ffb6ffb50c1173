"""Local stand-ins for the tenant APIs, served over HTTPS on 127.0.0.1, behaving as documented.

The real APIs cannot be reached from test machines; everything on vigil's side of the wire is
real (msal, httpx, the store). One server answers for Entra ID (OIDC discovery + client
credentials token endpoint), Microsoft Graph (paged with ``@odata.nextLink``), the Office 365
Management Activity API (subscriptions, content lists with ``NextPageUri``, blobs) and the
Okta System Log (``Link: <...>; rel="next"`` polling). Faults are queued per path:
429/503 with Retry-After or X-Rate-Limit-Reset, 5xx, timeouts, malformed pages, expired
tokens. Run it by hand for a newcomer's tour: ``python -m tests.connectors.fakes`` (see
docs/connectors.md).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import secrets
import socket
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "22222222-3333-4444-5555-666666666666"
CLIENT_SECRET = "fake-secret-never-real"
OKTA_TOKEN = "fake-okta-token"


def iso(t: dt.datetime, digits: int = 7) -> str:
    frac = f"{t.microsecond:06d}" + "0" * max(0, digits - 6)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac[:digits]}" if digits else "") + "Z"


def parse(text: str) -> dt.datetime:
    t = text.strip().replace("Z", "")
    if "." in t:
        head, frac = t.split(".", 1)
        t = f"{head}.{frac[:6]}"
    return dt.datetime.fromisoformat(t)


# ---------------------------------------------------------------- records


def signin(i: int, when: dt.datetime, *, event_type: str = "interactiveUser", user: int | None = None,
           mfa: str | None = None) -> dict[str, Any]:
    u = i % 7 if user is None else user
    return {
        "id": str(uuid.UUID(int=0x5161 << 96 | i)), "createdDateTime": iso(when),
        "userDisplayName": f"User {u}", "userPrincipalName": f"user{u}@contoso.com",
        "userId": str(uuid.UUID(int=0xA000 << 96 | u)), "appId": "4765445b-32c6-49b0-83e6-1d93765276ca",
        "appDisplayName": "OfficeHome", "ipAddress": f"81.2.69.{10 + u}", "clientAppUsed": "Browser",
        "correlationId": str(uuid.UUID(int=0xC000 << 96 | i)), "conditionalAccessStatus": "success",
        "isInteractive": event_type == "interactiveUser", "signInEventTypes": [event_type],
        "riskLevelDuringSignIn": "none", "riskState": "none", "authenticationRequirement": "singleFactorAuthentication",
        "status": {"errorCode": 0, "failureReason": None},
        "mfaDetail": {"authMethod": mfa} if mfa else None,
        "deviceDetail": {"deviceId": f"dev-{u}", "operatingSystem": "Windows 10", "browser": "Edge 120.0.0",
                         "isCompliant": True, "isManaged": True},
        "location": {"city": "London", "state": "England", "countryOrRegion": "GB",
                     "geoCoordinates": {"latitude": 51.5072, "longitude": -0.1276}},
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Edg/120.0",
        "sessionId": f"sess-{u}", "homeTenantId": TENANT,
    }


def audit(i: int, when: dt.datetime) -> dict[str, Any]:
    return {
        "id": f"Directory_{uuid.UUID(int=0xAD00 << 96 | i)}", "category": "UserManagement",
        "correlationId": str(uuid.UUID(int=0xCA00 << 96 | i)), "result": "success", "resultReason": "",
        "activityDisplayName": "Update user", "activityDateTime": iso(when), "loggedByService": "Core Directory",
        "operationType": "Update",
        "initiatedBy": {"user": {"id": str(uuid.UUID(int=0xA000 << 96 | 1)), "userPrincipalName": "admin@contoso.com",
                                 "ipAddress": "81.2.69.1"}, "app": None},
        "targetResources": [{"id": str(uuid.UUID(int=0xA000 << 96 | (i % 7))), "type": "User",
                             "userPrincipalName": f"user{i % 7}@contoso.com", "modifiedProperties": []}],
        "additionalDetails": [],
    }


def risk_detection(i: int, when: dt.datetime) -> dict[str, Any]:
    return {
        "id": f"rd-{i:06d}", "requestId": str(uuid.UUID(int=0xEE00 << 96 | i)), "correlationId": None,
        "riskEventType": "unfamiliarFeatures", "riskState": "atRisk", "riskLevel": "medium",
        "riskDetail": "none", "source": "IdentityProtection", "detectionTimingType": "realtime",
        "activity": "signin", "ipAddress": "198.51.100.7", "activityDateTime": iso(when),
        "detectedDateTime": iso(when), "lastUpdatedDateTime": iso(when),
        "userId": str(uuid.UUID(int=0xA000 << 96 | (i % 7))), "userDisplayName": f"User {i % 7}",
        "userPrincipalName": f"user{i % 7}@contoso.com", "additionalInfo": "[]",
        "location": {"city": "Lagos", "countryOrRegion": "NG"},
    }


def risky_user(i: int, when: dt.datetime) -> dict[str, Any]:
    return {"id": str(uuid.UUID(int=0xA000 << 96 | i)), "isDeleted": False, "isProcessing": False,
            "riskLastUpdatedDateTime": iso(when), "riskLevel": "medium", "riskState": "atRisk",
            "riskDetail": "none", "userDisplayName": f"User {i}", "userPrincipalName": f"user{i}@contoso.com"}


def okta_event(i: int, when: dt.datetime) -> dict[str, Any]:
    u = i % 7
    return {
        "uuid": str(uuid.UUID(int=0x0C7A << 96 | i)), "published": iso(when, 3), "eventType": "user.session.start",
        "version": "0", "severity": "INFO", "legacyEventType": "core.user_auth.login_success",
        "displayMessage": "User login to Okta",
        "actor": {"id": f"00u{u:017d}", "type": "User", "alternateId": f"user{u}@contoso.com",
                  "displayName": f"User {u}", "detailEntry": None},
        "client": {"userAgent": {"rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) Safari/605.1.15",
                                 "os": "Mac OS X", "browser": "SAFARI"},
                   "zone": "null", "device": "Computer", "id": None, "ipAddress": f"203.0.113.{20 + u}",
                   "geographicalContext": {"city": "Lyon", "state": "Auvergne-Rhone-Alpes", "country": "France",
                                           "postalCode": "69002", "geolocation": {"lat": 45.75, "lon": 4.85}}},
        "authenticationContext": {"externalSessionId": f"idx{u}", "rootSessionId": f"root{u}"},
        "outcome": {"result": "SUCCESS", "reason": None},
        "securityContext": {"asNumber": 3215, "asOrg": "orange s.a.", "isp": "orange", "domain": "orange.fr",
                            "isProxy": False},
        "transaction": {"type": "WEB", "id": f"tx{i}"}, "target": [],
    }


def o365_record(i: int, when: dt.datetime) -> dict[str, Any]:
    u = i % 7
    return {"CreationTime": when.strftime("%Y-%m-%dT%H:%M:%S"), "Id": str(uuid.UUID(int=0x0365 << 96 | i)),
            "Operation": "FileAccessed", "OrganizationId": TENANT, "RecordType": 6, "ResultStatus": "Succeeded",
            "UserKey": f"key{u}", "UserType": 0, "Version": 1, "Workload": "SharePoint",
            "UserId": f"user{u}@contoso.com", "ClientIP": f"81.2.69.{10 + u}", "ObjectId": f"https://x/doc{i}.docx",
            "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0"}


# ---------------------------------------------------------------- the server


@dataclass
class Fault:
    path: str  # substring of the request path
    kind: str  # "429" | "503" | "500" | "timeout" | "malformed" | "expire" (the next token is refused: 401)
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0  # matching requests answered normally before this fault fires


class FakeTenant:
    """State of the fake tenant: records per API, issued tokens, queued faults, a request log."""

    def __init__(self) -> None:
        self.signins: list[dict[str, Any]] = []
        self.audits: list[dict[str, Any]] = []
        self.risk_detections: list[dict[str, Any]] = []
        self.risky_users: list[dict[str, Any]] = []
        self.policies: list[dict[str, Any]] = []
        self.named_locations: list[dict[str, Any]] = []
        self.okta: list[dict[str, Any]] = []
        self.o365: dict[str, list[tuple[str, dt.datetime, list[dict[str, Any]]]]] = defaultdict(list)
        self.subscriptions: dict[str, str] = {}
        self.tokens: dict[str, float] = {}  # token -> expiry (epoch)
        self.token_requests = 0
        self.faults: list[Fault] = []
        self.requests: list[str] = []
        self.times: list[float] = []  # when each request arrived (epoch), in the order of ``requests``
        self.lock = threading.Lock()
        self.hang_s = 3.0
        self.delay_s = 0.0  # every answer takes this long (a slow API: lets a test kill vigil mid-poll)
        self.base = ""

    def fault(self, path: str, kind: str, times: int = 1, after: int = 0, **headers: str) -> None:
        with self.lock:
            self.faults.append(Fault(path, kind, times, headers, after))

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.path in path and f.times > 0:
                    if f.after > 0:
                        f.after -= 1
                        return None
                    f.times -= 1
                    if f.times == 0:
                        self.faults.remove(f)
                    return f
        return None

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = {k: 0.0 for k in self.tokens}

    def add_blob(self, content_type: str, created: dt.datetime, records: list[dict[str, Any]]) -> str:
        cid = f"{content_type}-{len(self.o365[content_type]):05d}-{secrets.token_hex(4)}"
        self.o365[content_type].append((cid, created, records))
        return cid


def _page_link(request: Request, **params: Any) -> str:
    q = dict(request.query_params)
    q.update({k: str(v) for k, v in params.items()})
    from urllib.parse import urlencode

    return f"{request.url.scheme}://{request.url.netloc}{request.url.path}?{urlencode(q)}"


_GE = re.compile(r"(\w+) ge (\S+)")


def _out(request: Request, body: Any, headers: dict[str, str] | None = None) -> Response:
    data = orjson.dumps(body)
    if getattr(request.state, "malformed", False):
        data = data[: max(1, len(data) // 2)]
    return Response(data, media_type="application/json", headers=headers)


def build_app(t: FakeTenant) -> Starlette:
    async def guard(request: Request, bearer: bool = True) -> Response | None:
        path = request.url.path
        t.requests.append(f"{request.method} {path}?{request.url.query}")
        t.times.append(time.time())
        if t.delay_s:
            await asyncio.sleep(t.delay_s)
        f = t._take_fault(path)
        if f is not None:
            if f.kind == "timeout":
                await asyncio.sleep(t.hang_s)
                return Response("late", status_code=504)
            if f.kind == "malformed":
                request.state.malformed = True  # answered, then cut in the middle (headers intact)
            elif f.kind == "expire":
                t.expire_tokens()
            else:
                return JSONResponse({"error": {"code": "fault", "message": f"injected {f.kind}"}},
                                    status_code=int(f.kind), headers=f.headers)
        if bearer:
            auth = request.headers.get("authorization", "")
            if path.startswith("/api/v1/logs"):
                if auth != f"SSWS {OKTA_TOKEN}":
                    return JSONResponse({"errorCode": "E0000011", "errorSummary": "Invalid token provided"}, 401)
                return None
            token = auth.removeprefix("Bearer ")
            if t.tokens.get(token, 0) < time.time():
                return JSONResponse({"error": {"code": "InvalidAuthenticationToken",
                                               "message": "Lifetime validation failed, the token is expired."}}, 401)
        return None

    async def openid(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        base = f"{request.url.scheme}://{request.url.netloc}/{tenant}"
        return JSONResponse({"token_endpoint": f"{base}/oauth2/v2.0/token",
                             "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                             "issuer": f"{base}/v2.0", "jwks_uri": f"{base}/discovery/v2.0/keys"})

    async def token(request: Request) -> Response:
        if (r := await guard(request, bearer=False)) is not None:
            return r
        form = await request.form()
        t.token_requests += 1
        ok = form.get("client_id") == CLIENT_ID and (
            form.get("client_secret") == CLIENT_SECRET or bool(form.get("client_assertion")))
        if form.get("grant_type") != "client_credentials" or not ok:
            return JSONResponse({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"},
                                status_code=401)
        tok = secrets.token_urlsafe(24)
        t.tokens[tok] = time.time() + 3600
        return JSONResponse({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": tok})

    def graph_list(rows_of: str, time_field: str | None) -> Any:
        async def handler(request: Request) -> Response:
            if (r := await guard(request)) is not None:
                return r
            rows = list(getattr(t, rows_of))
            flt = request.query_params.get("$filter", "")
            m = _GE.search(flt)
            if time_field and m:
                start = parse(m.group(2))
                rows = [x for x in rows if parse(x[time_field]) >= start]
            if "signInEventTypes" in flt:
                wanted = set(re.findall(r"t eq '(\w+)'", flt))
                rows = [x for x in rows if set(x.get("signInEventTypes") or ["interactiveUser"]) & wanted]
            elif rows_of == "signins":  # beta without the filter: interactive only, as documented
                rows = [x for x in rows if "interactiveUser" in (x.get("signInEventTypes") or [])]
            if time_field:
                rows.sort(key=lambda x: (x[time_field], str(x.get("id"))), reverse=True)  # newest first
            top = int(request.query_params.get("$top", 100))
            skip = int(request.query_params.get("$skiptoken", 0))
            body: dict[str, Any] = {"@odata.context": f"https://graph/{rows_of}", "value": rows[skip:skip + top]}
            if skip + top < len(rows):
                body["@odata.nextLink"] = _page_link(request, **{"$skiptoken": skip + top})
            return _out(request, body)
        return handler

    async def okta_logs(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        q = request.query_params
        limit = min(int(q.get("limit", 100)), 1000)
        rows = sorted(t.okta, key=lambda x: (x["published"], x["uuid"]))
        after = q.get("after")
        if after is not None:  # the cursor: (published, uuid) of the last event returned
            cursor = tuple(after.split("|", 1))
            page = [x for x in rows if (x["published"], x["uuid"]) > cursor][:limit]
        else:
            since = parse(q.get("since", "1970-01-01T00:00:00Z"))
            page = [x for x in rows if parse(x["published"]) >= since][:limit]
            cursor = ("", "")
        last = (page[-1]["published"], page[-1]["uuid"]) if page else cursor
        if not page and after is None:
            last = (iso(parse(q.get("since", "1970-01-01T00:00:00Z")), 3), "")
        nxt = _page_link(request, after="|".join(last))
        nxt = re.sub(r"[?&]since=[^&]*", "", nxt).replace("logs&", "logs?")
        return _out(request, page, {"link": f'<{nxt}>; rel="next"'})

    async def subs_list(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        return JSONResponse([{"contentType": k, "status": v, "webhook": None} for k, v in t.subscriptions.items()])

    async def subs_start(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        ct = request.query_params.get("contentType", "")
        t.subscriptions[ct] = "enabled"
        return JSONResponse({"contentType": ct, "status": "enabled", "webhook": None})

    async def content(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        q = request.query_params
        ct = q.get("contentType", "")
        if t.subscriptions.get(ct) != "enabled":
            return JSONResponse({"error": {"code": "AF20022", "message": "No subscription found"}}, 400)
        start, end = parse(q["startTime"]), parse(q["endTime"])
        if end - start > dt.timedelta(hours=24) or end <= start:
            return JSONResponse({"error": {"code": "AF20055", "message": "Start time and end time must both be "
                                           "specified, with end time no more than 24 hours after start time"}}, 400)
        if start < dt.datetime.utcnow() - dt.timedelta(days=7):
            return JSONResponse({"error": {"code": "AF20055", "message": "start time older than 7 days"}}, 400)
        blobs = [(cid, c) for cid, c, _ in t.o365[ct] if start <= c < end]
        skip = int(q.get("nextPage", 0))
        page = blobs[skip:skip + 3]
        base = f"{request.url.scheme}://{request.url.netloc}"
        body = [{"contentType": ct, "contentId": cid, "contentCreated": iso(c, 3),
                 "contentUri": f"{base}/api/v1.0/{TENANT}/activity/feed/audit/{cid}",
                 "contentExpiration": iso(c + dt.timedelta(days=7), 3)} for cid, c in page]
        headers = {"NextPageUri": _page_link(request, nextPage=skip + 3)} if skip + 3 < len(blobs) else {}
        return _out(request, body, headers)

    async def blob(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        cid = request.path_params["cid"]
        for blobs in t.o365.values():
            for c, _, records in blobs:
                if c == cid:
                    return _out(request, records)
        return JSONResponse({"error": {"code": "AF20051", "message": "content not found"}}, 404)

    feed = "/api/v1.0/{tenant}/activity/feed"
    return Starlette(routes=[
        Route("/{tenant}/v2.0/.well-known/openid-configuration", openid),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        Route("/beta/auditLogs/signIns", graph_list("signins", "createdDateTime")),
        Route("/v1.0/auditLogs/directoryAudits", graph_list("audits", "activityDateTime")),
        Route("/v1.0/identityProtection/riskDetections", graph_list("risk_detections", "lastUpdatedDateTime")),
        Route("/v1.0/identityProtection/riskyUsers", graph_list("risky_users", "riskLastUpdatedDateTime")),
        Route("/v1.0/identity/conditionalAccess/policies", graph_list("policies", None)),
        Route("/v1.0/identity/conditionalAccess/namedLocations", graph_list("named_locations", None)),
        Route("/api/v1/logs", okta_logs),
        Route(feed + "/subscriptions/list", subs_list),
        Route(feed + "/subscriptions/start", subs_start, methods=["POST"]),
        Route(feed + "/subscriptions/content", content),
        Route(feed + "/audit/{cid}", blob),
    ])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, generated now (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil fake tenant")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fake-cert.pem", folder / "fake-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class FakeServer:
    """The fake tenant served by uvicorn in a thread (``with FakeServer(folder) as fake: fake.url``)."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.tenant = FakeTenant()
        self.cert, self.key = self_signed(folder)
        if not port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
        self.port = port
        self.url = f"https://127.0.0.1:{port}"
        self.tenant.base = self.url
        config = uvicorn.Config(build_app(self.tenant), host="127.0.0.1", port=port, log_level="warning",
                                ssl_certfile=str(self.cert), ssl_keyfile=str(self.key), lifespan="off",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="fake-tenant")

    def __enter__(self) -> FakeServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("fake tenant server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.server.force_exit = True  # open keep-alive connections (msal's session) must not hold the exit
        self.thread.join(timeout=10)

    def settings(self, store_path: str | Path, **extra: Any) -> dict[str, Any]:
        """Settings (as a dict for load_settings' data) pointing every connector here."""
        common = {"ca_bundle": str(self.cert), "backoff_s": 0.05, "timeout_s": 1.0, "max_attempts": 4}
        entra = {**common, "tenant_id": TENANT, "client_id": CLIENT_ID, "authority_host": self.url}
        return {
            "store": {"path": str(store_path)},
            "connectors": {
                "graph": {**entra, "graph_url": self.url, "page_size": 50, **extra.get("graph", {})},
                "o365": {**entra, "manage_url": self.url, **extra.get("o365", {})},
                "okta": {**common, "org_url": self.url, "limit": 50, **extra.get("okta", {})},
            },
        }


def config_yaml(server: FakeServer, store_path: str | Path) -> str:
    import yaml

    data = server.settings(store_path)
    for name in ("graph", "o365", "okta"):
        data["connectors"][name]["enabled"] = True
        data["connectors"][name]["interval_s"] = 10
    return yaml.safe_dump(data, sort_keys=False)


def seed(t: FakeTenant, n: int, now: dt.datetime | None = None) -> None:
    """``n`` records per API over the last hour (sign-ins of every event type)."""
    now = now or dt.datetime.utcnow()
    types = ("interactiveUser", "nonInteractiveUser", "servicePrincipal", "managedIdentity")
    for i in range(n):
        when = now - dt.timedelta(seconds=3600 * (n - i) / n)
        t.signins.append(signin(i, when, event_type=types[i % 4]))
        t.audits.append(audit(i, when))
        t.okta.append(okta_event(i, when))
    for i in range(max(1, n // 50)):
        when = now - dt.timedelta(minutes=30 - i % 30)
        t.risk_detections.append(risk_detection(i, when))
        t.risky_users.append(risky_user(i % 7, when))
    for k in range(0, n, 100):
        when = now - dt.timedelta(seconds=3600 * (n - k) / n)
        t.add_blob("Audit.SharePoint", when, [o365_record(i, when) for i in range(k, min(n, k + 100))])
    t.named_locations = [{"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "0a0a0a0a-0000-4000-8000-00000000a001",
                          "displayName": "HQ", "isTrusted": True,
                          "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "81.2.69.0/24"}]}]
    t.policies = [{"id": "0b0b0b0b-0000-4000-8000-00000000b001", "displayName": "Require MFA outside HQ", "state": "enabled",
                   "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                                  "locations": {"includeLocations": ["All"], "excludeLocations": ["0a0a0a0a-0000-4000-8000-00000000a001"]},
                                  "clientAppTypes": ["all"]},
                   "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}]


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Serve a fake tenant (Entra, Graph, O365, Okta) on 127.0.0.1 over HTTPS")
    ap.add_argument("--port", type=int, default=9443)
    ap.add_argument("--records", type=int, default=500, help="records per API to start with")
    ap.add_argument("--every", type=float, default=10.0, help="seconds between new sign-ins (0: none)")
    ap.add_argument("--store", default="vigil.duckdb", help="store path written into the printed config")
    ap.add_argument("--dir", default=None, help="folder for the certificate (default: a temporary one)")
    args = ap.parse_args()
    folder = Path(args.dir or tempfile.mkdtemp(prefix="vigil-fake-"))
    folder.mkdir(parents=True, exist_ok=True)
    with FakeServer(folder, args.port) as server:
        seed(server.tenant, args.records)
        cfg = folder / "vigil-fake.yaml"
        cfg.write_text(config_yaml(server, Path(args.store).resolve()), encoding="utf-8")
        print(f"fake tenant on {server.url}; config for vigil: {cfg}")
        print(f"  export VIGIL_GRAPH_CLIENT_SECRET={CLIENT_SECRET} VIGIL_O365_CLIENT_SECRET={CLIENT_SECRET} "
              f"VIGIL_OKTA_TOKEN={OKTA_TOKEN}")
        print(f"  vigil serve --config {cfg}")
        i = args.records
        try:
            while True:
                time.sleep(args.every or 3600)
                if args.every:
                    now = dt.datetime.utcnow()
                    server.tenant.signins.append(signin(i, now))
                    server.tenant.okta.append(okta_event(i, now))
                    i += 1
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
