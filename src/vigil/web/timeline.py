"""Geometry of the time line under the map: one tick per located sign-in, one bar per travel leg.

Computed here so the page draws it as plain SVG attributes (no inline style, no script).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.api.data import parse_time

WIDTH = 1000
PAD = 10


def _t(value: str) -> datetime:
    return parse_time(value)


def build(itinerary: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    span = max((end - start).total_seconds(), 1.0)

    def x(value: str) -> float:
        frac = (_t(value) - start).total_seconds() / span
        return round(PAD + min(max(frac, 0.0), 1.0) * (WIDTH - 2 * PAD), 1)

    ticks = [{"x": x(p["event_time"]), "result": p.get("result") or "unknown",
              "label": f"{p['event_time'][:19].replace('T', ' ')} {p.get('geo_city') or ''} "
                       f"{p.get('geo_country') or ''} {p.get('ip') or ''} {p.get('app_name') or ''}".strip()}
             for p in itinerary["points"]]
    legs = [{"x1": x(line["from_time"]), "x2": max(x(line["to_time"]), x(line["from_time"]) + 2),
             "verdict": line["verdict"],
             "label": f"{line.get('from_country')} → {line.get('to_country')}: {line['verdict']} "
                      f"({line.get('reason') or ''})"}
            for line in itinerary["lines"]]
    axis = []
    steps = 6
    for i in range(steps + 1):
        t = start + (end - start) * i / steps
        axis.append({"x": round(PAD + i / steps * (WIDTH - 2 * PAD), 1), "label": t.strftime("%m-%d %H:%M")})
    return {"width": WIDTH, "ticks": ticks, "legs": legs, "axis": axis}
