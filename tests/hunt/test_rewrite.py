"""Text rewrites before translation: each keeps KQL's meaning."""
from __future__ import annotations

import pytest

from vigil.errors import QueryError
from vigil.hunt.rewrite import rewrite, watchlist_relation


def test_deprecated_names_become_current_ones_outside_strings() -> None:
    text = rewrite("T | summarize makeset(a), x = argmin(t, *) | where s == 'makeset(a)'").text
    assert "make_set(a)" in text and "arg_min(t, *)" in text and "'makeset(a)'" in text


def test_tabular_function_is_expanded_at_each_call_with_table_of_a_literal() -> None:
    kql = ('let f = (tableName:string){ table(tableName) | where ResultType == "0" };\n'
           'let a = f("SigninLogs");\nlet b = f("AADNonInteractiveUserSignInLogs");\nunion a, b')
    text = rewrite(kql).text
    assert "table(" not in text and "let f" not in text
    assert "(SigninLogs | where ResultType == \"0\")" in text
    assert "(AADNonInteractiveUserSignInLogs | where ResultType == \"0\")" in text


def test_view_with_a_comment_before_it_and_a_scalar_parameter() -> None:
    kql = "// helper\nlet ev = view (lookback:timespan) { AuditLogs | where TimeGenerated > ago(lookback); };\nev(14d) | count"
    text = rewrite(kql).text
    assert "ago((14d))" in text or "ago(14d)" in text
    assert "view" not in text


def test_table_needs_a_literal_name() -> None:
    with pytest.raises(QueryError, match="literal string"):
        rewrite("let f = (t:string) { table(strcat(t, 'x')) | take 1 }; f('A')")


def test_typed_extract_json_and_indexed_split() -> None:
    text = rewrite("T | extend a = extractjson('$.x', s, typeof(long)), b = split(u, '@', 1)").text
    assert "tolong(extract_json('$.x', s))" in text
    assert "pack_array(split(u, '@')[1])" in text


def test_count_of_a_column_and_path_and_trailing_comma() -> None:
    text = rewrite("T | summarize count(App), n = count(t), make_set(x), by bin(t, 1h) | extend y = d.[0]").text
    assert "count_App = countif(isnotnull(App))" in text and "n = countif(isnotnull(t))" in text
    assert "make_set(x) by" in text and "d[0]" in text


def test_timespan_arithmetic_is_folded() -> None:
    text = rewrite("let w = 10m; let half = w / 2.0; let q = 20min / 2; T | where d < half").text
    assert "let half = 300s" in text and "let q = 600s" in text


def test_watchlists_are_collected_and_renamed() -> None:
    r = rewrite("let v = _GetWatchlist('VIPUsers') | project SearchKey; T | where u in (v)")
    assert r.watchlists == ["VIPUsers"] and watchlist_relation("VIPUsers") in r.text


def test_function_body_with_its_own_lets_and_range_bounds() -> None:
    kql = ("let f = (t:string, start:datetime, end:datetime) { let seen = table(t) | where x between (start..end); "
           "table(t) | join seen on id };\nf('SigninLogs', ago(2d), now())")
    text = rewrite(kql).text
    assert "between ((ago(2d))..(now()))" in text
    assert "let seen" not in text and "_seen = SigninLogs | where" in text


def test_tabular_parameter_takes_a_table_or_an_expression() -> None:
    text = rewrite("let g = (T:(u:string), n:long) { T | take n }; g(AuditLogs | extend u = Identity, 3)").text
    assert "= AuditLogs | extend u = Identity" in text and "| take 3" in text and "(AuditLogs" not in text
