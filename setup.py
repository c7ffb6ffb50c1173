"""Build step that puts the web UI's third-party files into the sdist and the wheel.

The metadata is in pyproject.toml; this file only adds the step. When
src/vigil/web/static/vendor/ is incomplete, it runs ``npm ci`` (pinned by
package-lock.json) in a temporary folder and copies the served files with their
licences (the list is src/vigil/web/assets.py). The files are never committed.
Without npm and without the files the build stops with a one-line reason.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
VENDOR = ROOT / "src" / "vigil" / "web" / "static" / "vendor"


def _assets_module():  # type: ignore[no-untyped-def]
    # loaded by path: the package itself (and its dependencies) is not importable at build time
    spec = importlib.util.spec_from_file_location("_vigil_web_assets", ROOT / "src" / "vigil" / "web" / "assets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_web_assets(root: Path = ROOT, npm: str | None = None) -> None:
    assets = _assets_module()
    vendor = root / "src" / "vigil" / "web" / "static" / "vendor"
    absent = assets.missing(vendor)
    if not absent:
        return
    npm = npm or shutil.which("npm")
    lock = root / "package-lock.json"
    if npm is None or not lock.is_file():
        why = "npm is not on PATH" if npm is None else f"{lock} is missing"
        raise SystemExit(
            f"vigil build: web UI files missing ({vendor / absent[0]} and {len(absent) - 1} more) and {why}; "
            "install Node.js and npm (Debian: apt-get install npm) or run scripts/build-web.sh, then build again")
    with tempfile.TemporaryDirectory(prefix="vigil-web-") as tmp:
        shutil.copyfile(root / "package.json", Path(tmp) / "package.json")
        shutil.copyfile(lock, Path(tmp) / "package-lock.json")
        print(f"vigil build: npm ci (package-lock.json) for the web UI's files into {vendor}", flush=True)
        proc = subprocess.run([npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund",
                               "--loglevel=error"], cwd=tmp, capture_output=True, text=True,
                              env={**os.environ, "npm_config_update_notifier": "false"})
        if proc.returncode != 0:
            last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            raise SystemExit(f"vigil build: `npm ci` failed for the web UI's files: {last}")
        assets.copy_from(Path(tmp) / "node_modules", vendor)


class BuildPy(build_py):
    def run(self) -> None:
        ensure_web_assets()
        self.data_files = self._get_data_files()  # the file list may predate the copy
        super().run()


class Sdist(sdist):
    def run(self) -> None:
        ensure_web_assets()
        super().run()


if __name__ == "__main__":
    setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
