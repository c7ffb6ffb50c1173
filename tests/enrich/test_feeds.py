"""feeds.py: packaged defaults, user overrides, validation naming file and line, all-or-nothing update."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from vigil.enrich import feeds
from vigil.errors import InputError
from vigil.settings import load_settings


def _settings(tmp: Path, feeds_dir: Path | None = None):  # type: ignore[no-untyped-def]
    over = {"enrich.data_dir": str(tmp / "data")}
    if feeds_dir:
        over["enrich.feeds_dir"] = str(feeds_dir)
    return load_settings(overrides=over, environ={}).enrich


def test_defaults_are_loaded(tmp_path: Path) -> None:
    loaded = feeds.load(_settings(tmp_path))
    assert loaded.asn_classes[16509][0] == "hosting"
    assert loaded.asn_classes[2856][0] == "residential"
    assert loaded.asn_classes[9009][0] == "vpn"
    assert all(p.startswith(str(feeds.default_dir())) for p in loaded.files.values())


def test_user_file_replaces_default_of_same_name(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    user.mkdir()
    (user / "hosting-asns.txt").write_text("AS64511 Example Cloud\n")
    loaded = feeds.load(_settings(tmp_path, user))
    hosting = {a for a, v in loaded.asn_classes.items() if v[0] == "hosting"}
    assert hosting == {64511}
    assert loaded.files["hosting-asns.txt"] == str(user / "hosting-asns.txt")


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"bad-feeds/vpn-asns.txt: line 2: 'AS12x' is not an AS number"):
        feeds.update(_settings(tmp_path), FIXTURES / "enrich" / "bad-feeds")
    assert not (tmp_path / "data" / "feeds").exists()  # nothing installed


def test_unknown_file_and_bad_cidr_rejected(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "tor-exits.txt").write_text("185.220.101.1\n300.1.1.1\n")
    with pytest.raises(InputError, match="line 2"):
        feeds.update(_settings(tmp_path), src)
    (src / "tor-exits.txt").write_text("185.220.101.1\n")
    (src / "notes.txt").write_text("hello\n")
    with pytest.raises(InputError, match="unknown feed file"):
        feeds.update(_settings(tmp_path), src)


def test_update_installs_validated_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "tor-exits.txt").write_text("# exits\n185.220.101.1\n2a0b:f4c2::1\n")
    (src / "asn-ranges.csv").write_text('1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."\n2001:db8::,2001:db8::ffff,64496,Doc\n')
    result = feeds.update(_settings(tmp_path), src)
    assert result["files"] == {"asn-ranges.csv": 2, "tor-exits.txt": 2}
    loaded = feeds.load(_settings(tmp_path))
    asn = loaded.asn_ranges_table().to_pylist()
    assert asn[0] == {"family": 4, "start_key": 16777216, "end_key": 16777471, "asn": 13335,
                      "as_org": "Cloudflare, Inc."}
    assert asn[1]["family"] == 6
    assert loaded.ranges["kind"].count("tor") == 2


def test_asn_range_errors(tmp_path: Path) -> None:
    bad = tmp_path / "asn-ranges.csv"
    bad.write_text("1.0.0.0,1.0.0.255,13335,ok\n1.0.1.0,zzz,1,x\n")
    with pytest.raises(InputError, match="asn-ranges.csv: line 2"):
        feeds.parse_file(bad, feeds.Feeds())
    bad.write_text("1.0.1.0,1.0.0.0,1,x\n")
    with pytest.raises(InputError, match="line 1: range ends before it starts"):
        feeds.parse_file(bad, feeds.Feeds())
