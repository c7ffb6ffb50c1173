"""The watchlists page: the imported watchlists, one list's rows as ``_GetWatchlist()`` answers them,
and (admins) importing a CSV file or deleting a list -- what ``vigil watchlist`` and
``/api/v1/watchlists`` do."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from vigil.api.auth import get_reader, require_admin, require_reader, service_state
from vigil.api.data import jsonable
from vigil.api.tokens import Principal
from vigil.errors import InputError, VigilError
from vigil.hunt import run_hunt
from vigil.hunt import watchlist as wl
from vigil.store import Store
from vigil.web.render import page

router = APIRouter()
#: rows shown on a watchlist's page (the API and _GetWatchlist() give them all)
SHOWN_ROWS = 500


@router.get("/watchlists")
def watchlists_page(request: Request, notice: str | None = None, who: Principal = Depends(require_reader),
                    store: Store = Depends(get_reader)) -> Response:
    return page(request, "watchlists.html", watchlists=wl.list_watchlists(store), notice=notice, error=None,
                form={})


@router.get("/watchlists/{alias}")
def watchlist_page(request: Request, alias: str, who: Principal = Depends(require_reader),
                   store: Store = Depends(get_reader)) -> Response:
    found = wl.get(store, wl.check_alias(alias))
    if found is None:
        return page(request, "error.html", status_code=404, message=f"no watchlist {alias!r}")
    table = run_hunt(store, f"_GetWatchlist('{alias}') | take {SHOWN_ROWS + 1}",
                     timeout_s=service_state(request).settings.hunt.timeout_s)
    # the list's own columns first; Sentinel's bookkeeping columns (_DTItemId, WatchlistItem ...) after
    first = [c for c in ["SearchKey", *found.columns] if c in table.column_names]
    columns = first + [c for c in table.column_names if c not in first]
    rows: list[list[Any]] = [[jsonable(r[c], False) for c in columns] for r in table.to_pylist()]
    return page(request, "watchlist.html", watchlist=found, columns=columns, rows=rows[:SHOWN_ROWS],
                more=len(rows) > SHOWN_ROWS)


@router.post("/watchlists")
async def watchlist_import(request: Request, alias: str = Form(..., max_length=64),
                           search_key: str = Form("", max_length=200), description: str = Form("", max_length=1000),
                           file: UploadFile = File(...), who: Principal = Depends(require_admin)) -> Response:
    form = {"alias": alias, "search_key": search_key, "description": description}
    try:
        data = await file.read(wl.MAX_BYTES + 1)
        if len(data) > wl.MAX_BYTES:
            raise InputError(f"{file.filename}: larger than {wl.MAX_BYTES // (1024 * 1024)} MB")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{file.filename}: not UTF-8 text") from None
        with service_state(request).db.writer() as store:
            found = wl.import_csv(store, alias, text, source=f"{file.filename} (web, by {who.name})",
                                  search_key=search_key or None, description=description)
    except VigilError as exc:
        with service_state(request).db.reader() as store:
            lists = wl.list_watchlists(store)
        return page(request, "watchlists.html", status_code=400, watchlists=lists, notice=None, error=str(exc),
                    form=form)
    return RedirectResponse(f"/watchlists?notice={quote_plus(f'imported {found.alias}: {found.item_count} rows')}",
                            status_code=303)


@router.post("/watchlists/{alias}/delete")
def watchlist_delete(request: Request, alias: str, who: Principal = Depends(require_admin)) -> Response:
    with service_state(request).db.writer() as store:
        if not wl.delete(store, wl.check_alias(alias)):
            return page(request, "error.html", status_code=404, message=f"no watchlist {alias!r}")
    return RedirectResponse(f"/watchlists?notice={quote_plus(f'deleted {alias}')}", status_code=303)
