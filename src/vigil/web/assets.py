"""The web UI's third-party files: which npm files are served, where from, and a check.

This module imports nothing from vigil: ``setup.py`` loads it by path at build time to
copy the files into the package (the wheel and sdist carry them; they are never
committed), and ``scripts/build-web.sh`` runs it after ``npm ci`` for a checkout.
``vigil serve`` calls :func:`missing` at start and refuses to serve a broken UI.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

#: file under static/vendor/ -> file under node_modules/ (versions pinned by package-lock.json)
VENDOR_FILES: dict[str, str] = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images/layers.png": "leaflet/dist/images/layers.png",
    "leaflet/images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "leaflet/images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "leaflet/LICENSE": "leaflet/LICENSE",
    "topojson/topojson-client.min.js": "topojson-client/dist/topojson-client.min.js",
    "topojson/LICENSE": "topojson-client/LICENSE",
    "world-atlas/countries-50m.json": "world-atlas/countries-50m.json",
    "world-atlas/LICENSE": "world-atlas/LICENSE",
}

HOW_TO_BUILD = "run scripts/build-web.sh in a checkout, or install a wheel built with `python -m build`"


def missing(vendor_dir: Path) -> list[str]:
    """Vendor files absent (or empty) under ``vendor_dir``, as paths relative to it."""
    return [rel for rel in VENDOR_FILES if not (vendor_dir / rel).is_file() or (vendor_dir / rel).stat().st_size == 0]


def copy_from(node_modules: Path, vendor_dir: Path) -> None:
    """Replace ``vendor_dir`` with the files of :data:`VENDOR_FILES` taken from ``node_modules``."""
    absent = [src for src in VENDOR_FILES.values() if not (node_modules / src).is_file()]
    if absent:
        raise FileNotFoundError(f"{node_modules}: {absent[0]} not found (did `npm ci` run?)")
    tmp = vendor_dir.with_name(vendor_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for dest, src in VENDOR_FILES.items():
        (tmp / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / src, tmp / dest)
    shutil.rmtree(vendor_dir, ignore_errors=True)
    tmp.rename(vendor_dir)


if __name__ == "__main__":  # python src/vigil/web/assets.py NODE_MODULES VENDOR_DIR
    copy_from(Path(sys.argv[1]), Path(sys.argv[2]))
    for rel in VENDOR_FILES:
        print(Path(sys.argv[2]) / rel)
