"""The installable artefact: `python -m build` -> sdist + wheel carrying the UI's files, installed
into a fresh virtual environment without node on PATH, serving every asset its pages reference.

The fresh environment gets vigil only from the wheel (pip install --no-deps --no-index); its
third-party dependencies come from this interpreter's site-packages through a .pth line, so the
test needs no network and no minutes of downloads. Only the wheel's own files are under test.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from vigil.api.launch import free_port, wait_until_serving
from vigil.web.assets import VENDOR_FILES

pytestmark = pytest.mark.slow

#: what a source tree needs to build (tests, node_modules, .venv stay out)
TOP_FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "NOTICE", "package.json",
             "package-lock.json")


def _build(tmp: Path) -> tuple[Path, Path]:
    src = tmp / "src-tree"
    src.mkdir()
    for name in TOP_FILES:
        shutil.copyfile(REPO / name, src / name)
    shutil.copytree(REPO / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp / "dist"
    # sdist first, then the wheel built from the unpacked sdist (build's default): the sdist must carry all
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = out.glob("vigil-*.whl")
    (sdist,) = out.glob("vigil-*.tar.gz")
    return sdist, wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("wheel")
    sdist, wheel = _build(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    # PYTHONPATH may name a checkout (a worktree's src/): pip must see only the fresh environment
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True, env=clean_env)
    # after the install: with it first, pip would see the checkout's own vigil there and install nothing
    (site / "vigil-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp), "LANG": "C.UTF-8"}
    assert shutil.which("node", path=env["PATH"]) is None and shutil.which("npm", path=env["PATH"]) is None
    return {"tmp": tmp, "sdist": sdist, "wheel": wheel, "venv": venv, "site": site, "env": env}


def test_sdist_and_wheel_carry_the_vendor_files_and_licences(installed: dict[str, Any]) -> None:
    with zipfile.ZipFile(installed["wheel"]) as zf:
        in_wheel = set(zf.namelist())
    with tarfile.open(installed["sdist"]) as tf:
        in_sdist = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for rel in VENDOR_FILES:
        assert f"vigil/web/static/vendor/{rel}" in in_wheel
        assert f"src/vigil/web/static/vendor/{rel}" in in_sdist
    assert {"package.json", "package-lock.json"} <= in_sdist


def test_the_wheel_is_what_runs(installed: dict[str, Any]) -> None:
    where = subprocess.run([str(installed["venv"] / "bin" / "python"), "-c", "import vigil; print(vigil.__file__)"],
                           capture_output=True, text=True, check=True, env=installed["env"]).stdout
    assert Path(where.strip()).is_relative_to(installed["site"])


@pytest.fixture(scope="module")
def served(installed: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A tiny analysed tenant (written with this checkout) served by the wheel's `vigil serve`."""
    from vigil.pipeline import run_stages
    from vigil.settings import load_settings
    from vigil.simulate import simulate_tenant
    from vigil.sources.ingest import ingest_paths
    from vigil.store import open_store

    tmp, env = installed["tmp"], installed["env"]
    simulate_tenant(tmp / "sim", users=5, days=2, seed=3)
    db = tmp / "vigil.duckdb"
    settings = load_settings(overrides={"store.path": str(db)}, environ={})
    with open_store(db) as store:
        ingest_paths(store, [tmp / "sim" / "SigninLogs.json", tmp / "sim" / "AuditLogs.json"], settings)
        run_stages(store, settings)
        incident, upn = store.con.execute("select incident_id, user_principal_name from incidents "
                                          "where user_principal_name is not null limit 1").fetchall()[0]
    vigil = str(installed["venv"] / "bin" / "vigil")
    made = subprocess.run([vigil, "token", "create", "--name", "wheel", "--role", "reader", "--json", "--db", str(db)],
                          capture_output=True, text=True, check=True, env=env, cwd=tmp)
    port = free_port()
    log = tmp / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([vigil, "serve", "--db", str(db), "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=tmp)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, log.read_text)
        yield {"url": url, "token": json.loads(made.stdout)["token"], "incident": incident, "upn": upn, "db": db}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _referenced(client: httpx.Client, page: str) -> set[str]:
    """/static/ paths a page references: its tags, the url()s of its CSS, the literals of its scripts."""
    resp = client.get(page)
    assert resp.status_code == 200, (page, resp.status_code)
    found = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', resp.text))
    for path in list(found):
        body = client.get(path).text
        if path.endswith(".css"):
            base = path.rsplit("/", 1)[0]
            found |= {f"{base}/{u}" for u in re.findall(r'url\(["\']?([^"\')]+\.png)', body)
                      if not u.startswith("data:")}
        elif path.endswith(".js") and "/vendor/" not in path:
            found |= set(re.findall(r'"(/static/[^"]+)"', body))
    return found


def test_every_asset_the_pages_reference_answers(served: dict[str, Any]) -> None:
    pages = ["/signin", "/incidents", f"/incidents/{served['incident']}", f"/users/{served['upn']}", "/hunt"]
    with httpx.Client(base_url=served["url"], headers={"Authorization": f"Bearer {served['token']}"},
                      timeout=30) as client:
        assets = set().union(*(_referenced(client, p) for p in pages))
        # the map's own files are among them, not only the app's
        assert {"/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
                "/static/vendor/topojson/topojson-client.min.js", "/static/vendor/world-atlas/countries-50m.json",
                "/static/vendor/leaflet/images/layers.png"} <= assets
        for path in sorted(assets):
            resp = client.get(path)
            assert resp.status_code == 200 and resp.content, (path, resp.status_code)
        atlas = client.get("/static/vendor/world-atlas/countries-50m.json").json()
        assert len(atlas["objects"]["countries"]["geometries"]) > 200


def test_serve_refuses_to_start_without_its_files(installed: dict[str, Any], served: dict[str, Any]) -> None:
    atlas = installed["site"] / "vigil" / "web" / "static" / "vendor" / "world-atlas" / "countries-50m.json"
    atlas.rename(atlas.with_suffix(".bak"))
    try:
        done = subprocess.run([str(installed["venv"] / "bin" / "vigil"), "serve", "--db", str(served["db"]) + ".x",
                               "--port", str(free_port())], capture_output=True, text=True, timeout=60,
                              env=installed["env"], cwd=installed["tmp"])
    finally:
        atlas.with_suffix(".bak").rename(atlas)
    assert done.returncode == 5
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "web UI files missing" in lines[0] and "countries-50m.json" in lines[0], done.stderr
    assert "build-web.sh" in lines[0]


def test_the_browser_draws_the_wheels_world_map(served: dict[str, Any], tmp_path: Path) -> None:
    from tests.web.conftest import CHROMIUM, _need_browser

    _need_browser()
    env = {**os.environ, "VIGIL_URL": served["url"], "VIGIL_TOKEN": served["token"], "VIGIL_CHROMIUM": str(CHROMIUM),
           "VIGIL_PAGE": f"/incidents/{served['incident']}", "VIGIL_USER_DATA_DIR": str(tmp_path / "profile")}
    done = subprocess.run(["node", str(REPO / "tests" / "web" / "map_countries.mjs")], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert "failure" not in report, report["failure"]
    assert report["countries"] > 200 and report["failed"] == [] and report["external"] == []
    assert report["pageErrors"] == []
