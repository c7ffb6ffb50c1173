"""Where a store's runtime files live: the CAE journal and signing keys, the running service's hand-over file.

They go in a state folder beside the store, ``<folder of the store>/.vigil/`` (created ``0700``; git-ignored
by the repository's ``.gitignore``), not loose beside it in a working tree. A file a vigil before this layout
left beside the store keeps being used, so an upgrade loses neither the revocation journal nor its keys.
"""
from __future__ import annotations

from pathlib import Path

STATE_DIR = ".vigil"


def runtime_file(store_path: str | Path, name: str) -> Path:
    """``<store folder>/.vigil/<name>``, or ``<store folder>/<name>`` where that file already exists."""
    folder = Path(store_path).parent
    legacy = folder / name
    if legacy.exists():
        return legacy
    return folder / STATE_DIR / name


def ensure_parent(path: Path) -> Path:
    """Create the state folder (owner only) before the first file is written into it."""
    if path.parent.name == STATE_DIR and not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
