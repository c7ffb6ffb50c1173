"""Country names -> ISO alpha-2 (macro vigil_country) and the JSON-array lookup macro vigil_json_find."""
from __future__ import annotations

import duckdb
import pytest

from vigil.sources._countries import country_names
from vigil.sources._sql import install_macros


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    install_macros(c)
    return c


def test_every_code_is_two_upper_letters_and_names_are_unique() -> None:
    names = country_names()
    assert len(set(names.values())) == 250
    assert all(len(code) == 2 and code.isupper() for code in names.values())
    assert names["united states"] == "US" and names["türkiye"] == "TR" and names["czech republic"] == "CZ"


@pytest.mark.parametrize(("text", "code"), [
    ("United States", "US"), ("  france ", "FR"), ("Netherlands", "NL"), ("Côte d'Ivoire", "CI"),
    ("us", "US"), ("GB", "GB"), ("", None), ("null", None), ("Unknown", None), ("Atlantis", None), (None, None),
])
def test_vigil_country(con: duckdb.DuckDBPyConnection, text: str | None, code: str | None) -> None:
    assert con.execute("SELECT vigil_country(?::VARCHAR)", [text]).fetchone() == (code,)


@pytest.mark.parametrize(("arr", "found"), [
    ('[{"type": "User"}, {"type": "AppInstance", "id": "0oa1"}]', '{"type":"AppInstance","id":"0oa1"}'),
    ('[{"type": "User"}]', None), ("[]", None), ('{"type": "AppInstance"}', None), ("not json", None), (None, None),
])
def test_vigil_json_find(con: duckdb.DuckDBPyConnection, arr: str | None, found: str | None) -> None:
    assert con.execute("SELECT vigil_json_find(?::VARCHAR, 'type', 'AppInstance')", [arr]).fetchone() == (found,)
