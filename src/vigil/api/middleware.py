"""Pure-ASGI middleware: security headers on every response, request body limits."""
from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.cae.challenge import header_bytes

log = logging.getLogger("vigil.api")

# Scripts and styles only from this origin: no inline script, no CDN. Leaflet positions
# elements through the CSSOM (element.style), which style-src does not govern.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")

_COMMON = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
]


class SecurityHeaders:
    """Adds the headers above; API and page responses also get ``Cache-Control: no-store``
    (they carry tenant data), static assets may be cached.

    Outermost layer: an exception nothing else handled becomes a JSON 500 here, so 500s carry
    these headers too (Starlette's own error page sits outside every middleware). Every header
    value on its way out loses control bytes (CR/LF): a response splitting attempt or a value
    h11 would refuse (dropping the connection) cannot leave."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, header_bytes(v)) for k, v in message.get("headers", [])
                           if k.lower() not in {h for h, _ in _COMMON} and k.lower() != b"cache-control"
                           or (static and k.lower() == b"cache-control")]
                headers.extend(_COMMON)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                    headers.append((b"pragma", b"no-cache"))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("%s %s failed", scope.get("method"), scope["path"])
            if started:
                raise  # the answer is under way: the server ends the connection
            await _json_error(send_with_headers, 500, "internal error (logged by the service)")


class BodyLimit:
    """Rejects bodies over the limit with 413 before the endpoint reads them.

    ``Content-Length`` is checked up front; chunked bodies are counted as they stream
    in. ``upload_paths`` get the (larger) upload limit."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int,
                 upload_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload_bytes if scope["path"] in self.upload_paths else self.max_bytes
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    await _json_error(send, 400, "Content-Length is not a number")
                    return
                if declared > limit:
                    await _json_error(send, 413, f"request body of {declared} bytes is over the "
                                                 f"{limit}-byte limit of {scope['path']}")
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge as exc:
            if not started:
                await _json_error(send, 413, f"request body is over the {exc.limit}-byte limit "
                                             f"of {scope['path']}")


class _TooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing re-raises it as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"request body is over the {limit}-byte limit")
        self.limit = limit


async def _json_error(send: Send, status: int, detail: Any) -> None:
    body = orjson.dumps({"detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
