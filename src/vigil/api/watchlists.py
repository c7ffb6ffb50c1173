"""Watchlists over HTTP: list and read them (readers), import and delete them (admins).

``PUT /api/v1/watchlists/{alias}`` takes the CSV file itself as the body (``text/csv``), as
``vigil watchlist import`` does; hunts read the rows with ``_GetWatchlist('alias')``.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from vigil.api.auth import require_admin, require_reader, service_state
from vigil.api.data import jsonable
from vigil.api.state import ServiceState
from vigil.api.tokens import Principal
from vigil.errors import InputError
from vigil.hunt import run_hunt
from vigil.hunt import watchlist as wl

router = APIRouter()
State = Depends(service_state)


@router.get("/watchlists", summary="Watchlists: alias, search key, columns, rows")
def list_watchlists(who: Principal = Depends(require_reader), state: ServiceState = State) -> list[dict[str, Any]]:
    with state.db.reader() as store:
        return [w.to_dict() for w in wl.list_watchlists(store)]


@router.get("/watchlists/{alias}", summary="A watchlist's rows, as _GetWatchlist() answers them")
def get_watchlist(alias: str, who: Principal = Depends(require_reader),
                  state: ServiceState = State) -> dict[str, Any]:
    with state.db.reader() as store:
        found = wl.get(store, wl.check_alias(alias))
        if found is None:
            raise HTTPException(404, f"no watchlist {alias!r}")
        table = run_hunt(store, f"_GetWatchlist('{alias}')", timeout_s=state.settings.hunt.timeout_s)
    return {**found.to_dict(), "columns_returned": table.column_names,
            "rows": [[jsonable(v, False) for v in r.values()] for r in table.to_pylist()]}


@router.put("/watchlists/{alias}", summary="Import (or replace) a watchlist: the body is the CSV file",
            openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def put_watchlist(alias: str, request: Request,
                        search_key: str | None = Query(None, description="column of SearchKey (default: the first)"),
                        description: str = Query("", max_length=1000),
                        who: Principal = Depends(require_admin), state: ServiceState = State) -> dict[str, Any]:
    wl.check_alias(alias)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > wl.MAX_BYTES:
            raise InputError(f"watchlist body larger than {wl.MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("the watchlist body is not UTF-8 text") from None
    with state.db.writer() as store:
        found = wl.import_csv(store, alias, text, source=f"PUT by {who.name}", search_key=search_key,
                              description=description)
    return found.to_dict()


@router.delete("/watchlists/{alias}", summary="Delete a watchlist and its rows")
def delete_watchlist(alias: str, who: Principal = Depends(require_admin),
                     state: ServiceState = State) -> dict[str, Any]:
    with state.db.writer() as store:
        if not wl.delete(store, wl.check_alias(alias)):
            raise HTTPException(404, f"no watchlist {alias!r}")
    return {"deleted": alias, "by": who.name}
