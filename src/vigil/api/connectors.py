"""Connector status: every stream's last poll, records, lag behind the source and last error."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

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


@router.get("/stream", summary="Kafka stream: lag per partition, micro-batches awaiting analysis, consumer status")
def stream_status(request: Request, who: Principal = Depends(require_reader),
                  state: ServiceState = Depends(service_state)) -> dict[str, Any]:
    from vigil.stream.tables import status_rows

    with state.db.reader() as store:
        out = status_rows(store)
    runner = getattr(request.app.state, "stream_runner", None)
    out["enabled"] = state.settings.stream.enabled
    out["topics"] = state.settings.stream.topics
    out["consumer"] = runner.status() if runner is not None else None
    return out
