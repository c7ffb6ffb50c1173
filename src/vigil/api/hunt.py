"""POST /api/v1/hunt: KQL over the store, as JSON rows or a CSV download."""
from __future__ import annotations

import asyncio
import csv
import io
import logging
import math
import time
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import anyio

import orjson
import pyarrow as pa
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api import operations as ops
from vigil.hunt.clock import resolve_now
from vigil.api.auth import get_reader, require_reader, service_state
from vigil.api.data import jsonable, naive_utc
from vigil.api.state import TooManyHunts
from vigil.api.tokens import Principal
from vigil.store import Store
from vigil.store.readonly import HuntControl

log = logging.getLogger("vigil.api")
router = APIRouter(dependencies=[Depends(require_reader)])
#: how often a running hunt checks whether its client is still there
DISCONNECT_POLL_S = 0.25


class HuntRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=100_000, description="KQL, as in Sentinel")
    now: datetime | None = Field(None, description="what now() and ago() mean (default: the hunt.now setting: "
                                                   "the wall clock, or the newest event once the logs are "
                                                   "historic; docs/hunting.md)")


def run(store: Store, query: str, limit: int, now: datetime | None = None, control: HuntControl | None = None
        ) -> tuple[list[str], list[list[Any]], bool]:
    """Columns, rows (JSON-ready) and whether the row limit cut the result."""
    table: pa.Table = ops.hunt(store, query, naive_utc(now), control)
    truncated = table.num_rows > limit
    table = table.slice(0, limit)
    rows = [[jsonable(v, False) for v in r.values()] for r in table.to_pylist()]
    return table.column_names, rows, truncated


def to_csv(columns: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if v is None else v if isinstance(v, str | int | float) else orjson.dumps(v).decode()
                    for v in r])
    return buf.getvalue()


def csv_response(columns: list[str], rows: list[list[Any]]) -> Response:
    return Response(to_csv(columns, rows), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="hunt.csv"'})


async def run_guarded(request: Request, who: Principal, store: Store, query: str, now: datetime | None
                      ) -> tuple[list[str], list[list[Any]], bool]:
    """:func:`run` in a worker thread, under the token's concurrency cap and the hunt time limit,
    interrupted as soon as the client disconnects (the API and the UI's hunt form both run hunts here)."""
    state = service_state(request)
    cfg = state.settings.hunt
    control = HuntControl(cfg.timeout_s)
    started = time.monotonic()
    with ExitStack() as held:
        try:
            held.enter_context(state.hunts.slot(who.token_id, cfg.max_concurrent_per_token))
        except TooManyHunts as exc:
            raise HTTPException(429, detail=str(exc),
                                headers={"Retry-After": str(math.ceil(min(cfg.timeout_s, 5.0)))}) from None
        if now is None:  # the same clock as the CLI and the UI (hunt/clock.py)
            now = await anyio.to_thread.run_sync(lambda: resolve_now(store, cfg.now)[0])
        work = asyncio.ensure_future(anyio.to_thread.run_sync(
            run, store, query, state.settings.service.hunt_row_limit, now, control))
        while not work.done():
            await asyncio.wait({work}, timeout=DISCONNECT_POLL_S)
            if not work.done() and not control.cancelled and await request.is_disconnected():
                log.info("hunt by token %r cancelled after %.1f s: the client disconnected",
                         who.name, time.monotonic() - started)
                control.cancel()
        return work.result()  # the worker owns the cursor until here, even when cancelled


@router.post("/hunt", summary="Run a KQL hunting query", response_model=None)
async def hunt(request: Request, body: HuntRequest, store: Store = Depends(get_reader),
               who: Principal = Depends(require_reader),
               format: str = Query("json", pattern="^(json|csv)$")) -> dict[str, Any] | Response:
    columns, rows, truncated = await run_guarded(request, who, store, body.query, body.now)
    if format == "csv":
        return csv_response(columns, rows)
    return {"columns": columns, "rows": rows, "row_count": len(rows), "truncated": truncated}
