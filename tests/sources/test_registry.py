"""Every registered format is documented and tested; the generated schema doc is current."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from vigil.sources import registry
from vigil.sources.docs import render

SOURCES_DOC = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
TESTS = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "tests" / "sources").rglob("test_*.py"))


@pytest.mark.parametrize("name", registry.names())
def test_format_is_documented(name: str) -> None:
    assert f"`{name}`" in SOURCES_DOC, f"docs/sources.md does not mention `{name}`"


@pytest.mark.parametrize("name", registry.names())
def test_format_is_tested(name: str) -> None:
    assert f'"{name}"' in TESTS, f"no test under tests/sources names the format {name!r}"


def test_names_are_unique_and_registry_matches_modules() -> None:
    modules = {p.stem for p in (REPO / "src" / "vigil" / "sources" / "formats").glob("*.py")
               if not p.stem.startswith("_")}
    assert modules == set(registry.format_modules())
    found = {spec.name for spec in registry.all_sources()}
    assert len(found) == len(registry.names())
    for module in modules:  # every format module contributes at least one format, named after it
        assert any(name.startswith(module.split("_")[0]) for name in found), (
            f"sources/formats/{module}.py registers no format named {module.split('_')[0]}_*: "
            "define SOURCE (or SOURCES) there, or prefix the module with _ if it only holds shared mappings")


def test_engine_modules_are_not_formats() -> None:
    engine = {p.stem for p in (REPO / "src" / "vigil" / "sources").glob("*.py")}
    for module in engine:  # a format put beside the engine would silently never be registered
        text = (REPO / "src" / "vigil" / "sources" / f"{module}.py").read_text(encoding="utf-8")
        assert "\nSOURCE = " not in text and "\nSOURCES = " not in text, (
            f"sources/{module}.py defines a format: move it into sources/formats/ (git mv) to register it")


def test_fallbacks_exist_and_target_activities() -> None:
    for spec in registry.all_sources():
        if spec.fallback:
            twin = registry.get(spec.fallback)
            assert twin.target == "activities" and twin.fallback is None, spec.name


def test_schema_doc_is_current() -> None:
    doc = Path(REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    assert doc == render(), "docs/schema.md is stale: run `python -m vigil.sources.docs > docs/schema.md`"
