"""Office 365 Management Activity API: Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint,
Audit.General.

Each poll starts the subscriptions that are not enabled (``subscriptions/list``, ``/start``),
then per content type lists content blobs created in the window, in slices of at most 24 h
inside the 7 days the API keeps (following ``NextPageUri``), fetches each blob and stores its
records (de-duplicated on ``Id``). Records arrive up to 12 h late and out of order, so the
window re-reads ``overlap_minutes`` (default 12 h) before the newest blob seen; blobs already
fetched in that span are listed in the checkpoint and skipped. The checkpoint (per content
type) is committed with each blob's records.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
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
from vigil.connectors.entra_auth import EntraToken, check
from vigil.connectors.http import Http
from vigil.errors import ConfigError, ConnectorError
from vigil.settings import O365ConnectorSettings

FORMAT = "o365_management_api"
KNOWN = ("Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General", "DLP.All")
AVAILABLE = timedelta(days=7) - timedelta(minutes=5)  # the API refuses startTime older than 7 days
SLICE = timedelta(hours=24)


class O365Connector(Connector):
    name = "o365"
    title = "Office 365 Management Activity API"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._token: EntraToken | None = None
        self._subscribed = False

    @property
    def cfg(self) -> O365ConnectorSettings:
        return self.settings.connectors.o365

    def check_config(self) -> None:
        check(self.cfg, "o365")
        unknown = set(self.cfg.content_types) - set(KNOWN)
        if unknown:
            raise ConfigError(f"connectors.o365.content_types: unknown {', '.join(sorted(unknown))}")

    def token(self) -> EntraToken:
        if self._token is None:
            self._token = EntraToken(self.cfg, "o365", f"{self.cfg.manage_url.rstrip('/')}/.default")
        return self._token

    def feed(self, path: str) -> str:
        return f"{self.cfg.manage_url.rstrip('/')}/api/v1.0/{self.cfg.tenant_id}/activity/feed/{path}"

    def streams(self) -> dict[str, Callable[[PollContext, StreamResult], None]]:
        return {ct: partial(self._content, ct=ct) for ct in self.cfg.content_types}

    def subscribe(self, http: Http) -> list[dict[str, Any]]:
        """Start every configured subscription that is not enabled; returns the list afterwards."""
        resp = http.request("GET", self.feed("subscriptions/list"), auth=self.token())
        current = {s.get("contentType"): s.get("status") for s in resp.json() if isinstance(s, dict)}
        for ct in self.cfg.content_types:
            if str(current.get(ct, "")).lower() != "enabled":
                http.request("POST", self.feed("subscriptions/start"), auth=self.token(),
                             params={"contentType": ct}, ok=(200, 201))
                current[ct] = "enabled"
        return [{"contentType": k, "status": v} for k, v in current.items()]

    def _content(self, ctx: PollContext, res: StreamResult, ct: str) -> None:
        if not self._subscribed:
            self.subscribe(ctx.http)
            self._subscribed = True
        cfg = self.cfg
        cp = ctx.checkpoint(ct) or {}
        now = utcnow().replace(microsecond=0)  # the API takes whole seconds: slices never shrink to nothing
        start = max(ctx.window_start(cp, cfg), now - AVAILABLE).replace(microsecond=0)
        high = parse_time(cp.get("high_water"))
        done: dict[str, str] = dict(cp.get("done") or {})
        slice_start = start
        while slice_start < now and not ctx.stop.is_set():
            slice_end = min(slice_start + SLICE, now)
            url: str | None = self.feed("subscriptions/content")
            params: dict[str, Any] | None = {"contentType": ct, "startTime": iso(slice_start),
                                             "endTime": iso(slice_end)}
            for _ in range(cfg.max_pages):
                if url is None:
                    break
                resp = ctx.http.request("GET", url, auth=self.token(), params=params)
                listing = page_json(ctx, res, ct, url, resp.text, None)
                if listing is None:
                    raise ConnectorError(f"o365: content list for {ct} could not be read (quarantined)")
                for blob in sorted((b for b in listing[1] if isinstance(b, dict)),
                                   key=lambda b: (str(b.get("contentCreated")), str(b.get("contentId")))):
                    cid = str(blob.get("contentId") or blob.get("contentUri"))
                    if cid in done or not blob.get("contentUri"):
                        continue
                    created = parse_time(blob.get("contentCreated")) or slice_end
                    if high is None or created > high:
                        high = created
                    self._blob(ctx, res, ct, str(blob["contentUri"]), cid, created, done, high)
                url, params = resp.headers.get("NextPageUri"), None
            slice_start = slice_end

    def _blob(self, ctx: PollContext, res: StreamResult, ct: str, uri: str, cid: str, created: datetime,
              done: dict[str, str], high: datetime) -> None:
        resp = ctx.http.request("GET", uri, auth=self.token())
        page = page_json(ctx, res, ct, uri, resp.text, None)
        records = page[1] if page is not None else []
        times = [t for t in (parse_time(r.get("CreationTime")) if isinstance(r, dict) else None for r in records)
                 if t is not None]
        done[cid] = iso(created)
        keep_after = high - timedelta(minutes=self.cfg.overlap_minutes) - timedelta(hours=1)
        for k in [k for k, v in done.items() if (parse_time(v) or high) < keep_after]:
            del done[k]  # older than any window will re-list
        checkpoint = {"high_water": iso(high), "done": dict(done)}
        commit_events(ctx, res, ct, FORMAT, records, checkpoint, replace=False, newest=max(times) if times else None)

    def test(self, http: Http) -> list[dict[str, Any]]:
        self.check_config()
        self.token()(False)
        out = [{"check": "token", "ok": True, "detail": f"app-only token from {self.cfg.authority_host}"}]
        try:
            resp = http.request("GET", self.feed("subscriptions/list"), auth=self.token())
            subs = ", ".join(f"{s.get('contentType')}={s.get('status')}" for s in resp.json()) or "none"
            out.append({"check": "subscriptions", "ok": True, "detail": subs})
        except (ConnectorError, ValueError, AttributeError) as exc:
            out.append({"check": "subscriptions", "ok": False, "detail": str(exc)})
        return out
