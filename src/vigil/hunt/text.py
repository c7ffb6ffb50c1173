"""Lexical helpers for KQL text: split at top level, find function calls outside strings.

Only what the pre-translation rewrites need: statements (``;``), pipe stages (``|``) and
calls, skipping string literals ('..', "..", @'..', @"..", ```..```) and ``//`` comments.
"""
from __future__ import annotations

import re
from collections.abc import Iterator


def _scan(text: str) -> Iterator[tuple[int, str, int]]:
    """Yield (index, char, depth) for every character outside strings and comments."""
    i, depth, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            i = n if end < 0 else end + 3
            continue
        if c == "@" and i + 1 < n and text[i + 1] in "'\"":
            q = text[i + 1]
            j = i + 2
            while j < n:
                if text[j] == q and j + 1 < n and text[j + 1] == q:
                    j += 2
                    continue
                if text[j] == q:
                    break
                j += 1
            i = j + 1
            continue
        if c in "'\"":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        yield i, c, depth
        i += 1


def split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` characters that are outside strings, comments and brackets."""
    parts, start = [], 0
    for i, c, depth in _scan(text):
        if c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def first_word(stage: str) -> str:
    """The operator of a pipe stage (``order``, ``extend``, ``project-away`` ...), comment lines ignored."""
    body = re.sub(r"(?m)^\s*//.*$", "", stage).strip()
    m = re.match(r"[A-Za-z_][\w-]*", body)
    return m.group(0).lower() if m else ""


def live_positions(text: str) -> set[int]:
    """Indices of the characters outside strings and comments."""
    return {i for i, _, _ in _scan(text)}


def find_calls(text: str, name: str) -> list[tuple[int, int, str]]:
    """(start, end, argument text) of every call ``name(...)`` outside strings and comments."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}\s*\(")
    live = live_positions(text)
    out = []
    for m in pattern.finditer(text):
        if m.start() not in live:
            continue
        open_at = m.end() - 1
        depth_at_open = None
        for i, c, depth in _scan(text[open_at:]):
            if depth_at_open is None:
                depth_at_open = depth
            if c == ")" and depth == depth_at_open - 1:
                out.append((m.start(), open_at + i + 1, text[open_at + 1: open_at + i]))
                break
    return out


def mentions(text: str, name: str) -> bool:
    return bool(find_calls(text, name))
