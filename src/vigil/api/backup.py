"""POST /api/v1/backup: a consistent backup while the service runs (admin only).

``vigil serve`` holds the DuckDB store, so a backup taken while it runs goes through it: the
snapshot reads one MVCC snapshot on a cursor of the service's own connection while reads go on
(writers wait for the copy, a fraction of the backup's time). The caller names a new folder
inside ``service.backup_dir``, never a path: an API token cannot make the service write elsewhere.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.auth import require_admin, service_state
from vigil.api.state import ServiceState
from vigil.api.tokens import Principal
from vigil.backup import backup_dir, staged, write_backup
from vigil.store.snapshot import snapshot_connection

router = APIRouter()
_running = threading.Lock()  # one backup at a time per process


class BackupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
                      description="new folder inside service.backup_dir")


@router.post("/backup", status_code=201, summary="Back up the store, CAE journal, signing keys and settings "
             "into a new folder of service.backup_dir")
def backup(body: BackupRequest, who: Principal = Depends(require_admin),
           state: ServiceState = Depends(service_state)) -> dict[str, Any]:
    folder = backup_dir(state.settings)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _running.acquire(blocking=False):
        raise HTTPException(409, detail="a backup is already running")
    def copy(target: Path) -> None:
        # Writers pause for the copy (reads go on): the copy attaches and writes its target file,
        # a write transaction, which would make an ingest's CHECKPOINT fail if one ran beside it.
        with state.db.writer() as store:
            snapshot_connection(store.con, target)

    try:
        manifest = write_backup(state.settings, folder / body.name,
                                snapshot_store=staged(state.settings.store.path, copy))
    finally:
        _running.release()
    return {"path": str(folder / body.name), "manifest": manifest, "by": who.name}
