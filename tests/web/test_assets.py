"""The UI's third-party files: the list, the copy, the build step without npm, the serve check."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from vigil.cli.serve import check_web_assets
from vigil.errors import ConfigError
from vigil.web import assets


def _fake_node_modules(root: Path) -> Path:
    nm = root / "node_modules"
    for src in assets.VENDOR_FILES.values():
        (nm / src).parent.mkdir(parents=True, exist_ok=True)
        (nm / src).write_text(f"contents of {src}")
    return nm


def test_copy_from_node_modules_then_nothing_missing(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    assert assets.missing(vendor) == list(assets.VENDOR_FILES)
    assets.copy_from(_fake_node_modules(tmp_path), vendor)
    assert assets.missing(vendor) == []
    assert (vendor / "leaflet" / "LICENSE").read_text() == "contents of leaflet/LICENSE"
    (vendor / "topojson" / "topojson-client.min.js").write_text("")  # an empty file is as bad as none
    assert assets.missing(vendor) == ["topojson/topojson-client.min.js"]


def test_copy_refuses_an_incomplete_node_modules(tmp_path: Path) -> None:
    nm = _fake_node_modules(tmp_path)
    (nm / "world-atlas" / "LICENSE").unlink()
    with pytest.raises(FileNotFoundError, match="world-atlas/LICENSE"):
        assets.copy_from(nm, tmp_path / "vendor")


def _setup_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("vigil_setup_py", REPO / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # __name__ is not __main__: setup() does not run
    return module


def test_build_without_npm_and_without_files_stops_with_one_line(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "tree"
    (root / "src" / "vigil" / "web").mkdir(parents=True)
    shutil.copyfile(REPO / "src" / "vigil" / "web" / "assets.py", root / "src" / "vigil" / "web" / "assets.py")
    shutil.copyfile(REPO / "package-lock.json", root / "package-lock.json")
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm anywhere
    with pytest.raises(SystemExit) as err:
        _setup_module().ensure_web_assets(root)
    msg = str(err.value)
    assert "\n" not in msg and "npm is not on PATH" in msg and "leaflet/leaflet.js" in msg
    assert "scripts/build-web.sh" in msg


def test_build_with_the_files_present_needs_no_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "tree"
    (root / "src" / "vigil" / "web").mkdir(parents=True)
    shutil.copyfile(REPO / "src" / "vigil" / "web" / "assets.py", root / "src" / "vigil" / "web" / "assets.py")
    assets.copy_from(_fake_node_modules(tmp_path), root / "src" / "vigil" / "web" / "static" / "vendor")
    monkeypatch.setenv("PATH", str(tmp_path))
    _setup_module().ensure_web_assets(root)  # nothing to fetch


def test_serve_check_names_the_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vigil.web

    monkeypatch.setattr(vigil.web, "STATIC_DIR", tmp_path)
    with pytest.raises(ConfigError) as err:
        check_web_assets()
    assert f"{tmp_path}/vendor/leaflet/leaflet.js and {len(assets.VENDOR_FILES) - 1} more" in str(err.value)
