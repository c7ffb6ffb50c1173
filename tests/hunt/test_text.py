from __future__ import annotations

from vigil.hunt.text import find_calls, first_word, split_top


def test_split_top_ignores_strings_brackets_and_comments() -> None:
    q = 'T | where a == "x|y" and b == @\'p|q\' // c | d\n| join (S | where z) on k'
    assert [p.split()[0] for p in split_top(q, "|")] == ["T", "where", "join"]
    assert split_top("let a = 1; let b = 'x;y'; T", ";") == ["let a = 1", " let b = 'x;y'", " T"]


def test_find_calls_balanced_and_outside_strings() -> None:
    q = "extend a = prev(f(x), 2), s = 'prev(no)', b = myprev(y)"
    assert find_calls(q, "prev") == [(11, 24, "f(x), 2")]


def test_first_word() -> None:
    assert first_word("  // note\n  project-away x") == "project-away"
    assert first_word(" order by t") == "order"
