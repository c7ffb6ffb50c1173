"""Tables that fit the terminal: the renderer, and every listing command at 80 and 200 columns.

A column narrower than ``READABLE`` may only hold values that fit it; a value may only be shortened
with an ellipsis (never folded over lines or cut silently); no line is wider than the terminal.
"""
from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_commands import ARGS, JSON, NOT_RUN, World, _args, _run, world  # noqa: F401 -- the fixture
from vigil.cli import _common
from vigil.cli._table import ELLIPSIS, READABLE, WIDE, Col, cell_text, plural, show

WIDTHS = (80, 200)


def _tables(out: str) -> list[tuple[list[int], list[list[str]]]]:
    """Each box table in ``out``: its column widths and its body rows (cells stripped)."""
    found: list[tuple[list[int], list[list[str]]]] = []
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("┏"):
            continue
        widths = [len(seg) - 2 for seg in line.strip()[1:-1].split("┳")]
        body: list[list[str]] = []
        j = i + 1
        while j < len(lines) and not lines[j].startswith("└"):
            if lines[j].startswith("│"):
                body.append([c.strip() for c in lines[j].strip()[1:-1].split("│")])
            j += 1
        found.append((widths, body))
    return found


def _values(data: Any) -> set[str]:
    """Every value in a JSON document, as text (as stored, and as the tables print it)."""
    out: set[str] = set()
    if isinstance(data, dict):
        out.add(cell_text(data))
        out |= {str(k) for k in data}
        for v in data.values():
            out |= _values(v)
    elif isinstance(data, list):
        out.add(cell_text(data))
        for v in data:
            out |= _values(v)
    elif data is not None:
        out |= {str(data), cell_text(data)}
    return out


def check_output(out: str, width: int, values: set[str] | None = None) -> None:
    for line in out.splitlines():
        assert len(line) <= width, f"a line wider than {width} columns:\n{line}"
    for widths, body in _tables(out):
        for row in body:
            assert len(row) == len(widths), f"a row that does not line up with its header: {row}"
            for w, cell in zip(widths, row, strict=True):
                if cell.endswith(ELLIPSIS):
                    assert w >= READABLE, f"a value cut in a {w}-column column (under {READABLE}): {cell!r}"
                elif values is not None and len(cell) >= READABLE and cell not in values:
                    longer = [v for v in values if v.startswith(cell)]
                    assert not longer, f"a value shortened without an ellipsis: {cell!r} (of {longer[0]!r})"


# -- the renderer ------------------------------------------------------------------------------


def test_cell_text_reads_like_prose() -> None:
    assert cell_text({"move_to": None, "from": "FI", "speed_kmh": 912.3456}) == "from: FI, speed_kmh: 912.346"
    assert cell_text('{"a": 1, "b": [1, 2]}') == "a: 1, b: 1, 2"
    assert cell_text('["x", "y"]') == "x, y"
    assert cell_text(datetime(2026, 1, 9, 18, 12, 49, 926923, tzinfo=UTC)) == "2026-01-09 18:12:49"
    assert cell_text(True) == "yes" and cell_text(None) == "" and cell_text(3.0) == "3"
    assert cell_text("two\nlines") == "two lines"
    assert plural(1, "row") == "1 row" and plural(1204, "row") == "1,204 rows"
    assert plural(2, "policy", "policies") == "2 policies"


ROWS = [{"user": f"someone.with.a.long.name{i}@contoso.example", "id": f"s:{i:08d}-6ad2-471f-9038-455e4e29cebc",
         "reason": "a long free-text explanation " * 6, "n": i, "tiny": "x"} for i in range(3)]


def test_ranked_columns_fit_and_identifiers_stay_whole(capsys: pytest.CaptureFixture[str]) -> None:
    show(ROWS, [Col("user", priority=0), Col("id", priority=2), Col("reason", priority=1), Col("n"), Col("tiny")],
         title="t", width=80)
    out = capsys.readouterr().out
    check_output(out, 80, {str(v) for r in ROWS for v in r.values()})
    (widths, body), = _tables(out)
    assert body[0][0] == ROWS[0]["user"]  # the identifier is whole
    assert body[0][1].endswith(ELLIPSIS) and ROWS[0]["reason"].startswith(body[0][1][:-1])
    assert "more column" in out and "id" in out.split("more column")[1]  # the hidden column is named


def test_unranked_result_too_wide_is_printed_per_record(capsys: pytest.CaptureFixture[str]) -> None:
    show(ROWS, None, title=plural(len(ROWS), "row"), width=80)
    out = capsys.readouterr().out
    assert "┏" not in out and "── 1 " in out and ROWS[2]["id"] in out
    check_output(out, 80)


def test_wide_prints_every_column_whole(capsys: pytest.CaptureFixture[str]) -> None:
    token = WIDE.set(True)
    try:
        show(ROWS, [Col("user", priority=0), Col("reason"), Col("id")], width=80)
    finally:
        WIDE.reset(token)
    out = capsys.readouterr().out
    assert ROWS[0]["reason"].strip() in out and ROWS[0]["id"] in out and ELLIPSIS not in out


def test_narrow_columns_are_never_cut(capsys: pytest.CaptureFixture[str]) -> None:
    show([{"a": "yes", "b": "a value that is long " * 10}], [Col("a"), Col("b")], width=40)
    out = capsys.readouterr().out
    check_output(out, 40)
    (widths, body), = _tables(out)
    assert body[0][0] == "yes" and body[0][1].endswith(ELLIPSIS)


# -- every listing command ---------------------------------------------------------------------

LISTINGS = [p for p in JSON if p not in NOT_RUN]
#: commands that print one value to be copied as it is (a token, a raw vendor record): never wrapped
VERBATIM = {("cae", "token"), ("raw",)}
#: listings that change the store or write beside it: each gets its own copy of the tenant (one for its three
#: runs). The others all read the module's one tenant in place: a copy of the store for each run of each listing
#: was 2.6 GB of temporary files per test run. (`token list` creates the tokens table when it is missing.)
WRITES = {
    ("analyze",), ("backup",), ("cae", "check"), ("cae", "record"), ("cae", "revoke"), ("detections", "import-sentinel"),
    ("detections", "import-sigma"), ("detections", "run"), ("directory", "ingest"), ("egress", "accept"),
    ("egress", "reject"), ("enrich",), ("identity", "link"), ("identity", "unlink"), ("incident", "comment"),
    ("incident", "set-status"), ("ingest",), ("load",), ("policy", "load"), ("restore",), ("risk", "confirm-compromised"),
    ("risk", "confirm-safe"), ("risk", "dismiss"), ("risk", "import"), ("ssf", "deliver"), ("ssf", "receivers", "add"),
    ("ssf", "receivers", "remove"), ("ssf", "transmitters", "add"), ("ssf", "transmitters", "remove"),
    ("token", "create"), ("token", "list"), ("token", "revoke"), ("ueba", "run"), ("watchlist", "import"), ("watchlist", "show"),
}


def _fingerprint(root: Path) -> list[tuple[str, int, int]]:
    """Every file under the shared tenant's folder, with its size and modification time."""
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
                  if p.is_file())


@pytest.mark.parametrize("path", LISTINGS, ids=[" ".join(p) for p in LISTINGS])
def test_listing_fits_80_and_200_columns(path: tuple[str, ...], world: World, tmp_path: Path,  # noqa: F811
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    values: set[str] | None = None
    shared = _fingerprint(world.root)
    db = tmp_path / "vigil.duckdb" if path in WRITES else world.db
    if path in WRITES:
        shutil.copyfile(world.db, db)
    for width in (None, *WIDTHS):  # the JSON first (the values a table may show), then the tables
        # each run with its own arguments and folder
        root = tmp_path / str(width)
        root.mkdir()
        w = World(root, world.sim, db, root / "vigil.yaml")
        w.config.write_text(f"store:\n  path: {w.db}\nenrich:\n  data_dir: {root / 'data'}\n", encoding="utf-8")

        def run(args: list[str], parse: bool = True) -> Any:
            code, out, err = _run(monkeypatch, capsys, args)
            assert code == 0, f"vigil {' '.join(args)}: exit {code}: {err.strip()}"
            return json.loads(out) if parse else out

        extra = ARGS.get(path, lambda w, run: [])(w, run)
        if width is None:
            values = _values(run(_args(path, [*extra, "--json"], w.db, w.config)))
        else:
            monkeypatch.setattr(_common.console, "_width", width)
            monkeypatch.setattr(_common.err_console, "_width", width)
            args = _args(path, extra, w.db, w.config)
            code, out, err = _run(monkeypatch, capsys, args)
            assert code == 0, f"vigil {' '.join(args)} at {width} columns: exit {code}: {err.strip()}"
            if path not in VERBATIM:
                check_output(out, width, values)
        assert _fingerprint(world.root) == shared, f"`vigil {' '.join(path)}` changed the shared tenant: add it to WRITES"
