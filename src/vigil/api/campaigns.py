"""A tenant-level campaign (password spray, credential stuffing, brute force) as the analyst reads it:
the accounts it tried and what happened to each, the networks it came from, and its pace over time.

The campaign's attempts are the sign-ins inside the incident's first-to-last activity, against the
incident's accounts, from the source IPs its detections name (or, for a rotating campaign, carrying
the user agent that ties it together); the detections remain the evidence, these are the context.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from vigil.api.data import existing, fetch, parse_time
from vigil.store import Store

#: time line buckets: about this many across the campaign, on a whole number of minutes
BUCKETS = 48
WIDTH, HEIGHT = 1000, 70
_Cte = tuple[str, list[Any]]


def _source(incident: dict[str, Any]) -> tuple[str, str]:
    """(kind, value) of the campaign key ``spray:ip:1.2.3.4`` / ``stuffing:rotating:UA`` / ``brute:UPN``."""
    key = str(incident.get("campaign_key") or "")
    parts = key.split(":", 2)
    if parts[0] == "brute":
        return "account", key.split(":", 1)[1] if ":" in key else ""
    return (parts[1], parts[2]) if len(parts) == 3 else ("", "")


def campaign(store: Store, incident: dict[str, Any]) -> dict[str, Any] | None:
    """Accounts, source networks and time line of a campaign incident; None for other incidents."""
    if not incident.get("campaign_key") or "signins_enriched" not in existing(store):
        return None
    accounts = [str(a).lower() for a in incident.get("accounts") or []]
    ips = sorted({str(d["ipAddress"]) for d in incident.get("detections") or [] if d.get("ipAddress")})
    kind, value = _source(incident)
    start, end = _span(incident)
    # a CTE, not a temp table: the reader connection may serve several requests
    cte = ("""with _campaign as (
        select event_id, event_time, lower(user_principal_name) as account, ip, result,
               geo_country, asn_number, as_org, ip_class
        from signins_enriched
        where event_time between ? and ? and lower(user_principal_name) = any(?)
          and (ip = any(?) or (? = 'rotating' and user_agent = ?) or (? = 'ip' and ip = ?)))""",
           [start, end, accounts, ips, kind, value, kind, value])
    return {"kind": kind, "source": value, "start": start, "end": end,
            "accounts": _accounts(store, cte, incident), "networks": _networks(store, cte),
            "timeline": _timeline(store, cte, start, end)}


def _span(incident: dict[str, Any]) -> tuple[datetime, datetime]:
    """The incident's activity widened to the attempts its detections' evidence counts (each detection
    is dated by one picked attempt, the campaign ran from the first to the last)."""
    times = [parse_time(str(incident["first_activity"])), parse_time(str(incident["last_activity"]))]
    for d in incident.get("detections") or []:
        info = d.get("additionalInfo")
        evidence = info.get("evidence") if isinstance(info, dict) else None
        if isinstance(evidence, dict):
            times += [parse_time(str(evidence[k])) for k in ("first_attempt", "last_attempt") if evidence.get(k)]
    return min(times), max(times)


def _accounts(store: Store, cte: _Cte, incident: dict[str, Any]) -> list[dict[str, Any]]:
    rows = fetch(store, cte[0] + """
        select account, count(*) as attempts, count(*) filter (where result = 'success') as successes,
               count(*) filter (where result = 'interrupted') as interrupted,
               count(*) filter (where result = 'failure') as failures,
               count(distinct ip) as ips, min(event_time) as first_attempt, max(event_time) as last_attempt
        from _campaign group by account""", cte[1])
    by_account = {r["account"]: r for r in rows}
    states: dict[str, str] = {}
    for d in incident.get("detections") or []:
        upn = str(d.get("userPrincipalName") or "").lower()
        if upn:
            states[upn] = str(d.get("riskState") or "")
    out = []
    for a in (str(x).lower() for x in incident.get("accounts") or []):
        r = by_account.get(a, {"attempts": 0, "successes": 0, "interrupted": 0, "failures": 0, "ips": 0,
                               "first_attempt": None, "last_attempt": None})
        out.append({**r, "account": a, "risk_state": states.get(a)})
    # the accounts whose password was accepted first: those need a reset
    out.sort(key=lambda r: (-(r["successes"] or 0), -(r["interrupted"] or 0), -(r["attempts"] or 0), r["account"]))
    return out


def _networks(store: Store, cte: _Cte) -> list[dict[str, Any]]:
    return fetch(store, cte[0] + """
        select asn_number as asn, any_value(as_org order by event_time, event_id) as as_org,
               string_agg(distinct geo_country, ', ' order by geo_country) as countries,
               string_agg(distinct ip_class, ', ' order by ip_class) as classes,
               count(distinct ip) as ips, count(distinct account) as accounts, count(*) as attempts,
               count(*) filter (where result = 'success') as successes,
               list(distinct ip order by ip)[1:5] as sample_ips
        from _campaign group by asn_number order by attempts desc, asn nulls last""", cte[1])


def _timeline(store: Store, cte: _Cte, start: datetime, end: datetime) -> dict[str, Any]:
    """Attempts per bucket as SVG bar geometry (failures, and successes stacked on top)."""
    span_s = max((end - start).total_seconds(), 60.0)
    bucket_min = max(1, round(span_s / 60 / BUCKETS))
    rows = store.con.execute(cte[0] + f"""
        select floor(epoch(event_time - ?::TIMESTAMP) / {bucket_min * 60})::BIGINT as b,
               count(*) filter (where result = 'success') as ok, count(*) as n
        from _campaign group by b order by b""", [*cte[1], start]).fetchall()
    count = max(1, int(span_s // (bucket_min * 60)) + 1)
    peak = max((int(r[2]) for r in rows), default=0)
    bar_w = WIDTH / count
    bars = []
    for b, ok, n in rows:
        h = (HEIGHT - 6) * int(n) / peak if peak else 0.0
        h_ok = (HEIGHT - 6) * int(ok) / peak if peak else 0.0
        bars.append({"x": round(int(b) * bar_w, 1), "w": round(max(bar_w - 1, 1.0), 1),
                     "y": round(HEIGHT - 1 - h, 1), "h": round(h, 1),
                     "y_ok": round(HEIGHT - 1 - h_ok, 1), "h_ok": round(h_ok, 1),
                     "label": f"{(start + timedelta(minutes=int(b) * bucket_min)).strftime('%m-%d %H:%M')}"
                              f": {int(n)} attempt(s), {int(ok)} accepted"})
    axis = [{"x": round(WIDTH * i / 4, 1), "label": (start + (end - start) * i / 4).strftime("%m-%d %H:%M")}
            for i in range(5)]
    return {"width": WIDTH, "height": HEIGHT, "bucket_minutes": bucket_min, "peak": peak, "bars": bars,
            "axis": axis}

