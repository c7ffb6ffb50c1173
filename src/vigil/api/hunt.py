"""POST /api/v1/hunt: KQL over the store, as JSON rows or a CSV download."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api import operations as ops
from vigil.api.auth import get_reader, require_reader, service_state
from vigil.api.data import jsonable, existing, naive_utc
from vigil.store import Store

router = APIRouter(dependencies=[Depends(require_reader)])


class HuntRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=100_000, description="KQL, as in Sentinel")
    now: datetime | None = Field(None, description="what now() and ago() mean (default: the wall clock); "
                                                   "set it to hunt historic logs as if they were live")


def latest_event(store: Store) -> datetime | None:
    """The newest sign-in or activity in the store: a sensible 'now' for historic data."""
    have = existing(store)
    parts = [f"select max(event_time) as t from {t}" for t in ("signins", "activities") if t in have]
    if not parts:
        return None
    rows = store.con.execute(f"select max(t) from ({' union all '.join(parts)})").fetchall()
    value = rows[0][0]
    return value if isinstance(value, datetime) else None


def run(store: Store, query: str, limit: int, now: datetime | None = None
        ) -> tuple[list[str], list[list[Any]], bool]:
    """Columns, rows (JSON-ready) and whether the row limit cut the result."""
    table: pa.Table = ops.hunt(store, query, naive_utc(now))
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


@router.post("/hunt", summary="Run a KQL hunting query", response_model=None)
def hunt(request: Request, body: HuntRequest, store: Store = Depends(get_reader),
         format: str = Query("json", pattern="^(json|csv)$")) -> dict[str, Any] | Response:
    limit = service_state(request).settings.service.hunt_row_limit
    columns, rows, truncated = run(store, body.query, limit, body.now)
    if format == "csv":
        return csv_response(columns, rows)
    return {"columns": columns, "rows": rows, "row_count": len(rows), "truncated": truncated}
