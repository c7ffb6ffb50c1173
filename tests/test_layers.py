"""The layout follows the data flow: every import in src/vigil goes down the layers of
``tests/layers.py`` (or stays in its own package), and no modules import each other in a ring.

There is no exception list: a violation is fixed in the code, or the layer table changes (and
docs/architecture.md with it)."""
from __future__ import annotations

from pathlib import Path

from tests.layers import LAYERS, edges, modules, unit, violations


def test_imports_go_down_the_layers_without_cycles() -> None:
    found = list(edges())
    assert len(found) > 500  # the parser sees the real graph, not an empty one
    problems = violations(found)
    assert not problems, "\n".join(problems)


def test_every_unit_has_a_layer() -> None:
    units = {unit(m) for m in modules()}
    assert units <= set(LAYERS), f"not in tests/layers.py LAYERS: {sorted(units - set(LAYERS))}"
    assert len(set(LAYERS)) == len(LAYERS)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"vigil/__init__.py": "", **files}.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "src"


def test_checker_sees_every_kind_of_import_and_names_both_ends(tmp_path: Path) -> None:
    src = _tree(tmp_path, {
        "vigil/store/__init__.py": "",
        "vigil/store/db.py": "def f():\n    from vigil.enrich import views\n",  # inside a function
        "vigil/enrich/__init__.py": "",
        "vigil/enrich/views.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import vigil.api.app\n",
        "vigil/enrich/geo.py": "from . import feeds\nfrom vigil.store import db\n",  # relative, and downward
        "vigil/enrich/feeds.py": "from .geo import lookup\n",
        "vigil/api/__init__.py": "",
        "vigil/api/app.py": "from vigil.enrich import x\n",
        "vigil/shiny.py": "import vigil.errors\n",
        "vigil/errors.py": "",
    })
    problems = violations(edges(src))
    assert "upward import: vigil.store.db (store) imports vigil.enrich.views (enrich) at src/vigil/store/db.py:2" \
        in problems
    assert "upward import: vigil.enrich.views (enrich) imports vigil.api.app (api) at src/vigil/enrich/views.py:3" \
        in problems
    assert ("import cycle: vigil.enrich.feeds -> vigil.enrich.geo (src/vigil/enrich/feeds.py:1); "
            "vigil.enrich.geo -> vigil.enrich.feeds (src/vigil/enrich/geo.py:1)") in problems
    assert "shiny is in no layer of tests/layers.py LAYERS (src/vigil/shiny.py:1)" in problems
    assert not any("vigil.api.app (api) imports" in p for p in problems)  # api may read enrich
    assert len(problems) == 4, problems


def test_downward_only_tree_is_clean(tmp_path: Path) -> None:
    src = _tree(tmp_path, {"vigil/errors.py": "", "vigil/cli/__init__.py": "from vigil import errors\n"})
    assert [(e.src, e.dst) for e in edges(src)] == [("vigil.cli", "vigil.errors")]
    assert violations(edges(src)) == []
