"""``CAEMiddleware``: continuous access evaluation for any ASGI app (Starlette, FastAPI).

Each request's bearer JWT is validated (signature, iss, aud, exp, nbf), then checked against
the revocation state (user ``oid`` / ``sub`` / ``upn``, session ``sid``, device ``deviceid``;
the token counts as issued at ``max(iat, nbf)``) and, in strict-location mode, the caller's IP
must be inside one of the allowed IP named locations.

Failures answer 401 with ``WWW-Authenticate``:

* revoked or outside the allowed locations, client declared ``cp1`` (``xms_cc``): the CAE claims
  challenge (``error="insufficient_claims"``, ``claims`` asks for ``nbf`` >= the event time), so
  the client re-authenticates silently and comes back with a fresh token;
* the same for a client without ``cp1``: plain ``error="invalid_token"`` -- such a client cannot
  answer a claims challenge (it would loop), so it is told the token is dead and must sign in;
* a missing token: ``Bearer realm=""`` (no error, RFC 6750 §3.1); an invalid token: ``invalid_token``.

The JSON body always says which check failed and why. The validated claims are put in
``scope["state"]["cae"]`` for the app.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from vigil.cae import challenge
from vigil.cae.state import RevocationState
from vigil.cae.tokens import TokenRejected, TokenValidator, has_cp1, issued_at
from vigil.locations.named import IpNamedLocation

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    check: str  # ok | no_token | invalid_token | revoked | location
    claims: dict[str, Any] | None = None
    www_authenticate: str | None = None

    def body(self) -> dict[str, Any]:
        return {"error": "unauthorized", "check": self.check, "reason": challenge.body_text(self.reason)}


class Enforcer(Protocol):
    """What :class:`CAEMiddleware` asks: allow this request or not, and why."""

    def decide(self, authorization: str | None, client_ip: str | None) -> Decision: ...


class CAEEnforcer:
    """The decision itself, independent of ASGI (the middleware and the bench call it)."""

    def __init__(self, *, state: RevocationState, validator: TokenValidator, authorization_uri: str,
                 strict_location: bool = False, allowed_locations: Sequence[IpNamedLocation] = ()) -> None:
        if strict_location and not allowed_locations:
            # fail closed is still a failure nobody would debug: refuse the configuration instead
            raise ValueError("strict-location mode needs at least one allowed IP named location")
        self.state = state
        self.validator = validator
        self.authorization_uri = authorization_uri
        self.strict_location = strict_location
        self.allowed_locations = tuple(allowed_locations)

    def decide(self, authorization: str | None, client_ip: str | None) -> Decision:
        if not authorization:
            return Decision(False, "no bearer token", "no_token", None, challenge.no_token())
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return Decision(False, "Authorization must be 'Bearer <token>'", "invalid_token", None,
                            challenge.invalid_token("Authorization must be 'Bearer <token>'"))
        try:
            claims = self.validator.validate(token)
        except TokenRejected as exc:
            return Decision(False, exc.description, "invalid_token", None, challenge.invalid_token(exc.description))
        users = [u for u in (claims.get("oid"), claims.get("sub"), claims.get("upn"),
                             claims.get("preferred_username")) if isinstance(u, str)]
        sid = claims.get("sid")
        dev = claims.get("deviceid")
        when = issued_at(claims)
        hit = self.state.check(issued_at=when, users=users, session=sid if isinstance(sid, str) else None,
                               device=dev if isinstance(dev, str) else None)
        if hit is not None:
            reason = (f"{hit.scope} {hit.subject}: {hit.reason} ({hit.event_type}) at "
                      f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(hit.revoked_at))}; "
                      f"token issued {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(when))}")
            return self._deny(claims, "revoked", reason, hit.challenge_nbf)
        if self.strict_location:
            if client_ip is None or not any(loc.contains_ip(client_ip) for loc in self.allowed_locations):
                names = ", ".join(loc.display_name for loc in self.allowed_locations)
                reason = f"caller IP {client_ip or 'unknown'} is outside the allowed locations ({names})"
                return self._deny(claims, "location", reason, int(time.time()))
        return Decision(True, "ok", "ok", claims)

    def _deny(self, claims: dict[str, Any], check: str, reason: str, nbf: int) -> Decision:
        if has_cp1(claims):
            return Decision(False, reason, check, claims, challenge.claims_challenge(nbf, self.authorization_uri))
        return Decision(False, reason + " (client without cp1: no claims challenge)", check, claims,
                        challenge.invalid_token(reason))


class CAEMiddleware:
    """ASGI middleware asking ``enforcer`` (a :class:`CAEEnforcer`, usually from
    :meth:`vigil.cae.service.CaeService.middleware_options`) about every request."""

    def __init__(self, app: ASGIApp, *, enforcer: Enforcer, exclude_paths: Iterable[str] = (),
                 trust_forwarded_for: bool = False) -> None:
        self.app = app
        self.enforcer = enforcer
        self.exclude = frozenset(exclude_paths)
        self.trust_forwarded_for = trust_forwarded_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") in self.exclude:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        decision = self.enforcer.decide(headers.get("authorization"), self._client_ip(scope, headers))
        if decision.allowed:
            scope.setdefault("state", {})["cae"] = decision.claims
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # a close reason is at most 123 bytes of UTF-8: ASCII, cut well below that
            await send({"type": "websocket.close", "code": 1008, "reason": challenge.ascii_text(decision.reason, 120)})
            return
        body = orjson.dumps(decision.body())
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", (decision.www_authenticate or challenge.no_token()).encode("ascii")),
            (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})

    def _client_ip(self, scope: Scope, headers: dict[str, str]) -> str | None:
        if self.trust_forwarded_for and headers.get("x-forwarded-for"):
            return headers["x-forwarded-for"].split(",")[0].strip()
        client = scope.get("client")
        return str(client[0]) if client else None
