"""Okta System Log (``/api/v1/logs``) in polling mode.

The first request asks for ``since`` (the look-back, or ``--since``) with ``sortOrder=ASCENDING``
and ``limit``; every later request follows the ``next`` link of the ``Link`` header, which is the
checkpoint, committed with each page's records. Okta documents the next link as the way to
poll: re-querying with since/until skips or repeats events, so it is never done (a ``--since``
backfill starts a new link sequence; what was stored already is de-duplicated on ``uuid``).
An empty page means "caught up": its next link is kept for the next poll. 429 answers carry
``X-Rate-Limit-Reset`` (epoch seconds), which the HTTP client waits for.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from vigil.connectors.base import (
    Connector,
    PollContext,
    StreamResult,
    commit_events,
    iso,
    page_json,
    parse_time,
    utcnow,
)
from vigil.connectors.http import Http
from vigil.errors import ConfigError, ConnectorError
from vigil.settings import OktaConnectorSettings

_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')
FORMAT = "okta_system"


def next_link(link_header: str | None) -> str | None:
    for url, rel in _LINK.findall(link_header or ""):
        if rel == "next":
            return url
    return None


class OktaConnector(Connector):
    name = "okta"
    title = "Okta System Log"

    @property
    def cfg(self) -> OktaConnectorSettings:
        return self.settings.connectors.okta

    def check_config(self) -> None:
        cfg = self.cfg
        if not cfg.org_url:
            raise ConfigError("setting connectors.okta.org_url is required (https://<your org>.okta.com)")
        if not (cfg.token or cfg.token_file):
            raise ConfigError("connectors.okta: no API token; set $VIGIL_OKTA_TOKEN or connectors.okta.token_file")

    def auth(self, refresh: bool = False) -> str:
        cfg = self.cfg
        if cfg.token is not None:
            secret = cfg.token.get_secret_value()
        else:
            from pathlib import Path

            try:
                secret = Path(str(cfg.token_file)).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read the Okta token ({exc.strerror})", path=cfg.token_file) from None
        return f"{cfg.auth_scheme} {secret}"

    def streams(self) -> dict[str, Callable[[PollContext, StreamResult], None]]:
        return {"logs": self._logs}

    def _logs(self, ctx: PollContext, res: StreamResult) -> None:
        cfg = self.cfg
        cp = ctx.checkpoint("logs") or {}
        base = f"{str(cfg.org_url).rstrip('/')}/api/v1/logs"
        url: str = cp.get("next_link") or base
        params: dict[str, Any] | None = None
        if ctx.since is not None or not cp.get("next_link"):
            since: datetime = ctx.since or utcnow() - timedelta(hours=cfg.initial_lookback_hours)
            url, params = base, {"since": iso(since), "sortOrder": "ASCENDING", "limit": cfg.limit}
        high = parse_time(cp.get("high_water"))
        for _ in range(cfg.max_pages):
            resp = ctx.http.request("GET", url, auth=self.auth, params=params)
            nxt = next_link(resp.headers.get("link"))
            if nxt is None:
                raise ConnectorError(f"okta: {url.split('?')[0]} answered without a next link (not a polling request?)")
            page = page_json(ctx, res, "logs", url, resp.text, None)
            records = page[1] if page is not None else []
            times = [t for t in (parse_time(r.get("published")) if isinstance(r, dict) else None for r in records)
                     if t is not None]
            newest = max(times) if times else None
            if newest is not None and (high is None or newest > high):
                high = newest
            checkpoint = {"next_link": nxt, "high_water": iso(high) if high else None}
            commit_events(ctx, res, "logs", FORMAT, records, checkpoint, replace=False, newest=newest)
            if (page is not None and not records) or nxt == url or ctx.stop.is_set():
                return  # caught up: the next link is where the next poll starts
            url, params = nxt, None

    def test(self, http: Http) -> list[dict[str, Any]]:
        self.check_config()
        base = f"{str(self.cfg.org_url).rstrip('/')}/api/v1/logs"
        try:
            resp = http.request("GET", base, auth=self.auth,
                                params={"since": iso(utcnow() - timedelta(hours=1)), "limit": 1})
            n = len(resp.json())
            return [{"check": "logs", "ok": True, "detail": f"read {n} record(s) from /api/v1/logs"}]
        except (ConnectorError, ValueError) as exc:
            return [{"check": "logs", "ok": False, "detail": str(exc)}]
