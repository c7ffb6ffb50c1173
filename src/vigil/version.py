"""vigil's version, from one source: the installed package's metadata (pyproject.toml's version).

The CLI (`vigil --version`), the API (GET /api/v1/version), the web UI's footer, the store
(``vigil_meta``) and backup manifests all report this value.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

#: reported when the code runs from a source tree that was never installed (no metadata to read)
UNINSTALLED = "0+uninstalled"


def version() -> str:
    try:
        return _dist_version("vigil")
    except PackageNotFoundError:
        return UNINSTALLED
