"""One HTTP client for every connector: retries, throttling, token refresh, one-line errors.

* 429 and 503: wait what the server asks (``Retry-After`` seconds or HTTP date; Okta's
  ``X-Rate-Limit-Reset`` epoch seconds), at most ``max_retry_wait_s``, then try again.
* other 5xx, timeouts and connection errors: exponential backoff from ``backoff_s``.
* 401: the access token is refreshed once (an expired token), then the request is retried.
* anything else, or attempts exhausted: :class:`ConnectorError` naming the URL (without its query,
  which can carry skip tokens) and the server's own error message.

Waits end early when the ``stop`` event is set (service shutdown).
"""
from __future__ import annotations

import email.utils
import logging
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from vigil.errors import ConnectorError
from vigil.settings import ConnectorCommonSettings

log = logging.getLogger("vigil.connectors")

#: returns the Authorization header value; called with True after a 401 to get a fresh token
AuthFn = Callable[[bool], str]


def short_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def retry_after_s(resp: httpx.Response, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, from Retry-After or X-Rate-Limit-Reset."""
    now = time.time() if now is None else now
    value = resp.headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = resp.headers.get("X-Rate-Limit-Reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - now)
    return None


def _server_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].replace("\n", " ")
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or "")[:200]
        for key in ("errorSummary", "error_description", "message", "error"):
            if body.get(key):
                return str(body[key])[:200]
    return str(body)[:200]


class Http:
    """A connector's HTTP client (httpx, connection reuse, TLS verified)."""

    def __init__(self, cfg: ConnectorCommonSettings, name: str, *, stop: threading.Event | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.cfg = cfg
        self.name = name
        self.stop = stop or threading.Event()
        verify: Any = ssl.create_default_context(cafile=cfg.ca_bundle) if cfg.ca_bundle else True
        self.client = httpx.Client(timeout=cfg.timeout_s, verify=verify, transport=transport,
                                   headers={"User-Agent": "vigil-connector", "Accept": "application/json"})
        self.requests = 0
        self.throttled = 0
        self.retried = 0

    def close(self) -> None:
        self.client.close()

    def wait(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise ConnectorError(f"{self.name}: stopped while waiting to retry")

    def request(self, method: str, url: str, *, auth: AuthFn | None = None, params: dict[str, Any] | None = None,
                ok: tuple[int, ...] = (200,), json: Any = None) -> httpx.Response:
        cfg = self.cfg
        refreshed = False
        delay = cfg.backoff_s
        problem = ""
        for attempt in range(1, cfg.max_attempts + 1):
            headers = {"Authorization": auth(False)} if auth else {}
            try:
                self.requests += 1
                resp = self.client.request(method, url, params=params, headers=headers, json=json)
            except httpx.TimeoutException:
                problem = f"timed out after {cfg.timeout_s:g} s"
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__}: {str(exc)[:120]})"
            else:
                if resp.status_code in ok:
                    return resp
                if resp.status_code == 401 and auth is not None and not refreshed:
                    refreshed = True  # an expired token: a new one, and the same request again
                    auth(True)
                    log.info("%s: 401 from %s, access token refreshed", self.name, short_url(url))
                    continue
                problem = f"HTTP {resp.status_code}: {_server_message(resp)}"
                if resp.status_code in (429, 503):
                    self.throttled += 1
                    wait = retry_after_s(resp)
                    wait = delay if wait is None else wait
                    if wait > cfg.max_retry_wait_s:
                        raise ConnectorError(f"{self.name}: {short_url(url)} throttled and asks to wait {wait:.0f} s "
                                             f"(more than max_retry_wait_s {cfg.max_retry_wait_s:g})")
                    if attempt < cfg.max_attempts:
                        log.info("%s: throttled by %s, waiting %.1f s", self.name, short_url(url), wait)
                        self.wait(wait)
                        delay = min(delay * 2, cfg.max_retry_wait_s)
                        continue
                    break
                if resp.status_code < 500:
                    raise ConnectorError(f"{self.name}: {short_url(url)} {problem}")
            if attempt < cfg.max_attempts:
                self.retried += 1
                log.info("%s: %s %s (attempt %d), retrying in %.1f s", self.name, short_url(url), problem,
                         attempt, delay)
                self.wait(delay)
                delay = min(delay * 2, cfg.max_retry_wait_s)
        raise ConnectorError(f"{self.name}: {short_url(url)} {problem} (after {cfg.max_attempts} attempts)")
