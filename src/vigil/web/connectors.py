"""The connectors page: each stream's last poll, records, lag behind the source and last error."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from vigil.api.auth import get_reader, require_reader, service_state
from vigil.api.tokens import Principal
from vigil.store import Store
from vigil.web.render import page

router = APIRouter()


@router.get("/connectors")
def connectors_page(request: Request, who: Principal = Depends(require_reader),
                    store: Store = Depends(get_reader)) -> Response:
    from vigil import connectors
    from vigil.stream.tables import status_rows

    settings = service_state(request).settings
    runner = getattr(request.app.state, "stream_runner", None)
    return page(request, "connectors.html", streams=connectors.status(store),
                enabled=[c.name for c in connectors.enabled(settings)], kafka=status_rows(store),
                kafka_cfg=settings.stream, kafka_consumer=runner.status() if runner is not None else None)
