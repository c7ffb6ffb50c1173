from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES, sample
from vigil.errors import InputError, UnknownFormatError
from vigil.ueba.directory_read import parse_bool, parse_list, parse_time, read_directory_file

F = FIXTURES / "ueba"


def test_parse_time_forms() -> None:
    assert parse_time("2021-06-17T16:41:33Z") == datetime(2021, 6, 17, 16, 41, 33)
    assert parse_time("6/4/2021, 4:00:37.371 PM") == datetime(2021, 6, 4, 16, 0, 37, 371000)
    assert parse_time("11/4/2020 21:11") == datetime(2020, 11, 4, 21, 11)
    assert parse_time("1/1/2020, 12:05:00 AM") == datetime(2020, 1, 1, 0, 5)
    assert parse_time("0001-01-01T00:00:00Z") is None  # Graph's "never"
    assert parse_time("") is None
    with pytest.raises(ValueError, match="unrecognised"):
        parse_time("yesterday")


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)))
def test_parse_time_roundtrips_iso(dt: datetime) -> None:
    assert parse_time(dt.isoformat() + "Z") == dt


def test_parse_bool_and_list() -> None:
    assert parse_bool("TRUE") is True and parse_bool("false") is False and parse_bool("") is None
    with pytest.raises(ValueError):
        parse_bool("maybe")
    assert parse_list('["a", "b"]') == ["a", "b"]
    assert parse_list("a; b|c") == ["a", "b", "c"]
    assert parse_list(None) == [] and parse_list("[]") == []


def test_graph_users_with_manager_and_memberof() -> None:
    b = read_directory_file(F / "graph_users_expand.json")
    assert b.kind == "graph_users"
    assert [u["upn"] for u in b.users] == ["ada@contoso.com", "ben@contoso.com", "cy@contoso.com"]
    ben = b.users[1]
    assert ben["manager"] == "11111111-0000-0000-0000-000000000001"
    assert ben["created"] == datetime(2025, 12, 20, 9)
    assert b.users[2]["account_enabled"] is False
    kinds = {(m["group_id"], m["kind"]) for m in b.memberships}
    assert ("r-ga", "role") in kinds and ("g-fin", "group") in kinds
    reasons = [q.reason for q in b.quarantined]
    assert "value[3]: user has neither id nor userPrincipalName" in reasons
    assert any(r.startswith("value[4]: unrecognised date/time 'yesterday'") for r in reasons)
    assert "value[5]: not a JSON object" in reasons


def test_graph_groups_with_members() -> None:
    b = read_directory_file(F / "graph_groups_members.json")
    assert b.kind == "graph_groups"
    assert [g["group_id"] for g in b.groups] == ["g-ops"]
    assert sorted(m["member_key"] for m in b.memberships) == [
        "11111111-0000-0000-0000-000000000002", "11111111-0000-0000-0000-000000000003"]  # nested group skipped
    reasons = [q.reason for q in b.quarantined]
    assert "value[0].members[3]: member has neither id nor userPrincipalName" in reasons
    assert "value[1]: group without id" in reasons


def test_members_page_takes_group_id_from_next_link() -> None:
    b = read_directory_file(F / "group_members_page.json")
    assert b.kind == "graph_members"
    assert {m["group_id"] for m in b.memberships} == {"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}
    assert len(b.memberships) == 2


def test_members_page_without_group_id_is_an_error_unless_given() -> None:
    with pytest.raises(InputError, match="--group"):
        read_directory_file(F / "members_no_group.json")
    b = read_directory_file(F / "members_no_group.json", group_id="g-x")
    assert b.memberships[0]["group_id"] == "g-x"


def test_identityinfo_export_csv() -> None:
    b = read_directory_file(F / "identityinfo_export.csv")
    assert b.kind == "identityinfo_csv"
    eve = b.users[0]
    assert eve["upn"] == "eve@fabrikam.com" and eve["groups"] == ["SecOps", "All Staff"]
    assert eve["roles"] == ["Security Administrator"] and eve["observed_at"] == datetime(2026, 1, 5, 9, 15)
    reasons = [q.reason for q in b.quarantined]
    assert "line 4, column IsAccountEnabled: not a boolean: 'maybe'" in reasons
    assert "line 5: row has neither object id nor UPN" in reasons


def test_plain_csv_quarantines_bad_cells() -> None:
    b = read_directory_file(F / "plain_directory.csv")
    assert b.kind == "directory_csv"
    assert [u["upn"] for u in b.users] == ["hal@example.org", "ida@example.org"]
    reasons = [q.reason for q in b.quarantined]
    assert "line 4, column createdDateTime: unrecognised date/time 'not-a-date'" in reasons
    assert "line 5: 4 cells, header has 8" in reasons


def test_unknown_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(UnknownFormatError, match="no user identifier"):
        read_directory_file(p)
    j = tmp_path / "x.json"
    j.write_text('{"value": [{"foo": 1}]}')
    with pytest.raises(UnknownFormatError):
        read_directory_file(j)
    j.write_text("{broken")
    with pytest.raises(InputError, match="not valid JSON"):
        read_directory_file(j)


def test_published_samples() -> None:
    users = read_directory_file(sample("directory/graph-v1_user-list_example1-response.json"))
    assert [u["upn"] for u in users.users] == ["adams@contoso.com", "admin@contoso.com"]
    guest = read_directory_file(sample("directory/graph-v1_user-list_example7-response.json")).users[1]
    assert guest["upn"] == "contosoadmin1_fabrikam.com#ext#@microsoft.onmicrosoft.com"
    assert guest["mail"] == "'contosoadmin1@fabrikam.com"  # kept as published
    ext = read_directory_file(sample("directory/graph-v1_user-list_example8-response.json")).users[0]
    assert ext["upn"] == "adelev_adatum.com#ext#@cntoso.com"  # from identities[], typo as published
    act = read_directory_file(sample("directory/graph-v1_user-list_example11-response.json")).users[0]
    assert act["last_sign_in"] == datetime(2021, 6, 17, 16, 41, 33)
    groups = read_directory_file(sample("directory/graph-v1_group-list_example1-response.json"))
    assert len(groups.groups) == 2 and not groups.memberships
    aad = read_directory_file(sample("directory/sentinel_AADUSerInfo.csv"))
    assert aad.kind == "aaduserinfo_csv" and len(aad.users) == 6 and not aad.quarantined
    jeff = next(u for u in aad.users if u["upn"] == "jeffl@domain.onmicrosoft.com")
    assert jeff["department"] == "Marketing" and jeff["created"] == datetime(2020, 11, 4, 21, 21)
    assert jeff["on_prem_sid"] == "S-1-5-21-2238293948-1392010073-595408551-1107"
