"""Microsoft Graph: sign-ins (beta, every signInEventType), directory audits, Identity Protection's
risk detections and risky users, and the tenant's conditional-access policies and named locations.

Time-windowed streams ask for ``<time> ge <window start>`` and follow ``@odata.nextLink``. The
window starts ``overlap_minutes`` (15) before the newest record seen, as sign-ins arrive minutes
late; their MFA and risk details are republished for up to 2 h, so every ``republished_every_s``
a poll goes ``republished_minutes`` (120) back instead, and the latest version of each id is kept.
While paging, the next link is the checkpoint (committed with each page's records): a crash resumes
at the next page; an expired link restarts the window (what was stored already is de-duplicated).
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
    commit_with,
    iso,
    page_json,
    parse_time,
    utcnow,
)
from vigil.connectors.entra_auth import EntraToken, check
from vigil.connectors.http import Http
from vigil.errors import ConnectorError
from vigil.settings import GraphConnectorSettings
from vigil.store import Store

#: stream -> (API path, time property filtered and ordered on, how its records are written)
WINDOWED: dict[str, tuple[str, str, str]] = {
    "signins": ("beta/auditLogs/signIns", "createdDateTime", "entra_signin_graph"),
    "directoryAudits": ("v1.0/auditLogs/directoryAudits", "activityDateTime", "entra_audit_graph"),
    "riskDetections": ("v1.0/identityProtection/riskDetections", "lastUpdatedDateTime", "risk"),
    "riskyUsers": ("v1.0/identityProtection/riskyUsers", "riskLastUpdatedDateTime", "risk"),
}
POLICY_PATHS = ("v1.0/identity/conditionalAccess/policies", "v1.0/identity/conditionalAccess/namedLocations")
#: formats whose records the API republishes with the same id (keep the latest version)
REPUBLISHED = {"entra_signin_graph"}


class GraphConnector(Connector):
    name = "graph"
    title = "Microsoft Graph (sign-ins, audits, risk, conditional access)"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._token: EntraToken | None = None

    @property
    def cfg(self) -> GraphConnectorSettings:
        return self.settings.connectors.graph

    def check_config(self) -> None:
        check(self.cfg, "graph")
        unknown = set(self.cfg.streams) - set(WINDOWED) - {"policies"}
        if unknown:
            from vigil.errors import ConfigError

            raise ConfigError(f"connectors.graph.streams: unknown {', '.join(sorted(unknown))} "
                              f"(known: {', '.join([*WINDOWED, 'policies'])})")

    def token(self) -> EntraToken:
        if self._token is None:
            self._token = EntraToken(self.cfg, "graph", f"{self.cfg.graph_url.rstrip('/')}/.default")
        return self._token

    def url(self, path: str) -> str:
        return f"{self.cfg.graph_url.rstrip('/')}/{path}"

    def streams(self) -> dict[str, Callable[[PollContext, StreamResult], None]]:
        out: dict[str, Callable[[PollContext, StreamResult], None]] = {}
        for name in self.cfg.streams:
            if name == "policies":
                out[name] = self._policies
            else:
                out[name] = partial(self._windowed, stream=name)
        return out

    def _filter(self, stream: str, start: datetime) -> str:
        time_field = WINDOWED[stream][1]
        f = f"{time_field} ge {iso(start)}"
        if stream == "signins":
            types = " or ".join(f"t eq '{t}'" for t in self.cfg.sign_in_event_types)
            f += f" and (signInEventTypes/any(t: {types}))"
        return f

    def _windowed(self, ctx: PollContext, res: StreamResult, stream: str) -> None:
        path, time_field, fmt = WINDOWED[stream]
        cfg = self.cfg
        cp = ctx.checkpoint(stream) or {}
        poll_started = utcnow()
        resuming = bool(cp.get("next_link")) and ctx.since is None
        rescanned = parse_time(cp.get("rescanned_at"))
        rescan = rescanned is None or (poll_started - rescanned).total_seconds() >= cfg.republished_every_s
        if rescan and ctx.since is None and not resuming and cp.get("high_water"):
            start = (parse_time(cp["high_water"]) or poll_started) - timedelta(minutes=cfg.republished_minutes)
        else:
            start = (parse_time(cp.get("window_start")) if resuming else None) or ctx.window_start(cp, cfg)
        high = parse_time(cp.get("high_water"))
        url: str = cp["next_link"] if resuming else self.url(path)
        params: dict[str, Any] | None = None if resuming else {"$filter": self._filter(stream, start),
                                                               "$top": cfg.page_size}
        for _ in range(cfg.max_pages):
            try:
                resp = ctx.http.request("GET", url, auth=self.token(), params=params)
            except ConnectorError:
                if not resuming:
                    raise
                # the stored next link expired: read the whole window again (stored records are duplicates)
                resuming = False
                url, params = self.url(path), {"$filter": self._filter(stream, start), "$top": cfg.page_size}
                continue
            resuming = False
            page = page_json(ctx, res, stream, url, resp.text, "value")
            if page is None:
                res.error = f"{url.split('?')[0]}: a page could not be read (quarantined); the next poll retries it"
                return
            doc, records = page
            times = [t for t in (parse_time(r.get(time_field)) if isinstance(r, dict) else None for r in records)
                     if t is not None]
            newest = max(times) if times else None
            if newest is not None and (high is None or newest > high):
                high = newest
            next_link = doc.get("@odata.nextLink") if isinstance(doc, dict) else None
            checkpoint = {"window_start": iso(start), "next_link": next_link,
                          "high_water": iso(high) if high else None, "rescanned_at": cp.get("rescanned_at")}
            if not next_link:  # the window is complete: the next poll starts from the newest record seen
                checkpoint = {"next_link": None, "high_water": iso(high or poll_started),
                              "rescanned_at": iso(poll_started) if rescan else cp.get("rescanned_at")}
            if fmt == "risk":
                self._commit_risk(ctx, res, stream, url, records, checkpoint, newest)
            else:
                commit_events(ctx, res, stream, fmt, records, checkpoint, replace=fmt in REPUBLISHED, newest=newest)
            if not next_link or ctx.stop.is_set():
                return
            url, params = str(next_link), None

    def _commit_risk(self, ctx: PollContext, res: StreamResult, stream: str, url: str, records: list[Any],
                     checkpoint: dict[str, Any], newest: datetime | None) -> None:
        from vigil.risk.vendor import import_records

        def write(store: Store) -> tuple[int, int, int]:
            r = import_records(store, [(i + 1, f"$.value[{i}]", rec) for i, rec in enumerate(records)],
                               f"graph:{stream}")
            return len(records), r.detections + r.users, r.quarantined

        commit_with(ctx, res, stream, checkpoint, write, newest)

    def _read_all(self, http: Http, path: str) -> list[Any]:
        url: str | None = self.url(path)
        out: list[Any] = []
        for _ in range(self.cfg.max_pages):
            if url is None:
                break
            resp = http.request("GET", url, auth=self.token())
            try:
                doc = resp.json()
            except ValueError:
                raise ConnectorError(f"graph: {path}: page is not valid JSON") from None
            if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
                raise ConnectorError(f"graph: {path}: page has no 'value' array")
            out.extend(doc["value"])
            url = doc.get("@odata.nextLink")
        return out

    def _policies(self, ctx: PollContext, res: StreamResult) -> None:
        """The tenant's policies and named locations replace the stored ones (validated first, all or nothing)."""
        from vigil.locations.named import parse_named_locations
        from vigil.policy.evaluate import PolicySet
        from vigil.policy.parse import parse_policies
        from vigil.policy.tables import save

        pol_docs = self._read_all(ctx.http, POLICY_PATHS[0])
        loc_docs = self._read_all(ctx.http, POLICY_PATHS[1])
        ps = PolicySet(parse_policies(pol_docs, "graph:conditionalAccess/policies"),
                       parse_named_locations(loc_docs, "graph:conditionalAccess/namedLocations"),
                       mfa_trusted_ips=self.settings.policy.mfa_trusted_ips,
                       allow_unresolved=self.settings.policy.allow_unresolved_locations)

        def write(store: Store) -> tuple[int, int, int]:
            counts = save(store, ps, transaction=False)
            n = counts["policies"] + counts["named_locations"]
            return n, n, 0

        commit_with(ctx, res, "policies", {"synced_at": iso(utcnow())}, write, None)

    def test(self, http: Http) -> list[dict[str, Any]]:
        self.check_config()
        token = self.token()
        token(False)
        out = [{"check": "token", "ok": True, "detail": f"app-only token from {self.cfg.authority_host}"}]
        paths = {s: WINDOWED[s][0] for s in self.cfg.streams if s in WINDOWED}
        if "policies" in self.cfg.streams:
            paths.update({"policies": POLICY_PATHS[0], "namedLocations": POLICY_PATHS[1]})
        for stream, path in paths.items():
            try:
                resp = http.request("GET", self.url(path), auth=token, params={"$top": 1})
                n = len(resp.json().get("value") or [])
                out.append({"check": stream, "ok": True, "detail": f"read {n} record(s) from {path}"})
            except (ConnectorError, ValueError, AttributeError) as exc:
                out.append({"check": stream, "ok": False, "detail": str(exc)})
        return out
