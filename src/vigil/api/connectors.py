"""Connector status: every stream's last poll, records, lag behind the source and last error."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from vigil.api.auth import require_reader, service_state
from vigil.api.state import ServiceState
from vigil.api.tokens import Principal

router = APIRouter()


@router.get("/connectors", summary="Connector streams: last poll, records, lag behind the source (s), last error")
def connector_status(who: Principal = Depends(require_reader),
                     state: ServiceState = Depends(service_state)) -> dict[str, Any]:
    from vigil import connectors

    with state.db.reader() as store:
        rows = connectors.status(store)
    enabled = [c.name for c in connectors.enabled(state.settings)]
    return {"enabled": enabled, "streams": rows}
