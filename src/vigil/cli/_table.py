"""Tables that fit the terminal.

Every listing command prints through :func:`show`. Cells are one line each: identifiers (values
without spaces: UPNs, ids, IPs, keys) and numbers and times are never broken or cut; free text is
cut with an ellipsis when its column is narrow. When the columns do not all fit, a command that
ranked its columns (``Col.priority``) shows the most important ones that fit and names the rest; a
result without a ranking (a hunt, a query) is printed as one record per block instead. ``--wide``
(added to every command that has ``--json``) prints every column at its full width.
"""
from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import orjson
from rich.console import Console
from rich.text import Text

#: the CLI's output and error streams (re-exported by cli/_common.py; `vigil serve` sets their width to the
#: width of the terminal of a CLI that handed it a command)
console = Console()
err_console = Console(stderr=True)
#: set by ``--wide``: every column, nothing cut
WIDE: ContextVar[bool] = ContextVar("vigil_wide_tables", default=False)
#: no column narrower than this (unless its widest value and header are narrower)
READABLE = 8
ELLIPSIS = "…"
#: a value longer than this is text, even without spaces (a blob of JSON, a URL with a query)
ID_MAX = 64


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,204 rows``."""
    return f"{n:,} {noun if n == 1 else (many or noun + 's')}"


def cell_text(v: Any) -> str:
    """A value as a person reads it: times to the second, lists comma-separated, records as
    ``key: value`` pairs (empty ones left out), JSON text decoded the same way."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, datetime):
        if v.tzinfo is not None and v.utcoffset() == timedelta(0):
            v = v.replace(tzinfo=None)
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, (date, time)):
        return v.isoformat() if isinstance(v, date) else v.isoformat(timespec="seconds")
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else str(round(v, 3))
    if isinstance(v, (int, Decimal, timedelta)):
        return str(v)
    if isinstance(v, (list, tuple, set)):
        return ", ".join(t for t in (cell_text(x) for x in v) if t)
    if isinstance(v, dict):
        parts = []
        for k, x in v.items():
            t = cell_text(x)
            if t:
                parts.append(f"{k}: ({t})" if isinstance(x, dict) else f"{k}: {t}")
        return ", ".join(parts)
    if isinstance(v, bytes):
        return v.hex()
    s = str(v)
    stripped = s.strip()
    if stripped[:1] in ("[", "{") and stripped[-1:] in ("]", "}"):
        try:
            return cell_text(orjson.loads(stripped))
        except orjson.JSONDecodeError:
            pass
    return " ".join(s.split())


@dataclass(frozen=True)
class Col:
    """One column of a listing: the row key, its header, its rank (lower is kept first when the
    terminal is narrow; by default the column's position) and how to print its values."""

    key: str
    header: str = ""
    priority: int | None = None
    fmt: Callable[[Any], str] | None = None
    justify: str = ""  # "right" for figures; default: right when every value is a number
    ident: bool | None = None  # never cut (True), cut with an ellipsis (False); default: no spaces in any value
    min_width: int = READABLE  # the least a text column gets (the story of an incident wants room)


@dataclass
class _Column:
    header: str
    cells: list[str]
    priority: int
    kind: str  # "id" (never cut), "text" (cut with an ellipsis)
    justify: str
    least: int = READABLE

    @property
    def natural(self) -> int:
        return max([len(self.header), *(len(c) for c in self.cells)])

    @property
    def minimum(self) -> int:
        widest = max([0, *(len(c) for c in self.cells)])
        if self.kind == "id":
            return max(widest, min(self.natural, READABLE))
        return min(self.natural, max(READABLE, self.least))


def terminal_width() -> int:
    return max(20, console.width)


def _columns(rows: Sequence[dict[str, Any]], cols: Sequence[Col]) -> list[_Column]:
    out = []
    for i, c in enumerate(cols):
        values = [r.get(c.key) for r in rows]
        cells = [(c.fmt or cell_text)(v) for v in values]
        numeric = all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in values
                      if v is not None)
        timeish = all(isinstance(v, (datetime, date, time)) for v in values if v is not None)
        ident = all(" " not in t and len(t) <= ID_MAX for t in cells)
        kind = "id" if c.ident or (c.ident is None and (numeric or timeish or ident)) else "text"
        justify = c.justify or ("right" if numeric and any(v is not None for v in values) else "left")
        out.append(_Column(c.header or c.key, cells, i if c.priority is None else c.priority, kind, justify,
                           c.min_width))
    return out


def _overhead(n: int) -> int:
    return 3 * n + 1  # a border and one space of padding either side of each column


def _fit(columns: list[_Column], width: int) -> tuple[list[int], list[int]]:
    """Which columns to show (indexes, in their order) and their widths."""
    budget = width - 1
    shown: list[int] = []
    for i in sorted(range(len(columns)), key=lambda i: (columns[i].priority, i)):
        need = min(columns[i].minimum, width - _overhead(1)) + 3
        if need <= budget:
            shown.append(i)
            budget -= need
    shown.sort()
    widths = {i: min(columns[i].minimum, width - _overhead(1)) for i in shown}
    for i in sorted(shown, key=lambda i: (columns[i].priority, i)):  # spare room, most important first
        extra = min(budget, columns[i].natural - widths[i])
        widths[i] += extra
        budget -= extra
    return shown, [widths[i] for i in shown]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + ELLIPSIS


def _header(text: str, width: int) -> str:
    """A header longer than its column, broken at its underscores or spaces."""
    if len(text) <= width:
        return text
    pieces = text.replace("_", "_\0").replace(" ", " \0").split("\0")
    lines: list[str] = [""]
    for p in pieces:
        if lines[-1] and len(lines[-1]) + len(p.rstrip()) > width:
            lines.append("")
        lines[-1] += p
    return "\n".join(_cut(ln.rstrip(" _"), width) for ln in lines)


def _print(renderable: Any, width: int) -> None:
    Console(width=width, highlight=False, soft_wrap=False).print(renderable)


def _table(columns: list[_Column], shown: list[int], widths: list[int], nrows: int, title: str | None,
           wide: bool) -> int:
    from rich import box
    from rich.table import Table  # here: `vigil --help` never draws one

    t = Table(title=title, header_style="bold", box=box.HEAVY_HEAD, expand=False)
    for i, w in zip(shown, widths, strict=True):
        c = columns[i]
        t.add_column(Text(_header(c.header, w)), justify=c.justify,  # type: ignore[arg-type]
                     width=w, no_wrap=True, overflow="ignore" if wide else "ellipsis")
    for r in range(nrows):
        t.add_row(*[Text(columns[i].cells[r] if wide else _cut(columns[i].cells[r], w))
                    for i, w in zip(shown, widths, strict=True)])
    total = sum(widths) + _overhead(len(widths))
    _print(t, max(total, len(title or "")))
    return total


def _vertical(columns: list[_Column], nrows: int, title: str | None, width: int, numbered: bool = True) -> None:
    """One block per record: ``name  value``, the value wrapped under itself."""
    keyw = min(max(len(c.header) for c in columns), max(READABLE, width // 3))
    out: list[str] = [title] if title else []
    valw = max(READABLE, width - keyw - 2)
    for r in range(nrows):
        if numbered:
            rule = f"── {r + 1} "
            out.append(rule + "─" * max(0, width - len(rule)))
        for c in columns:
            cell = c.cells[r]
            if not cell:
                continue
            lines = textwrap.wrap(cell, valw, break_on_hyphens=False) or [""]
            head = c.header if len(c.header) <= keyw else _cut(c.header, keyw)
            out.append(f"{head:<{keyw}}  {lines[0]}")
            out.extend(" " * (keyw + 2) + ln for ln in lines[1:])
    Console(width=width, highlight=False, soft_wrap=True, markup=False).print("\n".join(out), markup=False)


def show(rows: Sequence[dict[str, Any]], cols: Sequence[Col | str] | None = None, *, title: str | None = None,
         limit: int | None = None, empty: str | None = None, width: int | None = None) -> None:
    """Print ``rows`` (dicts) as a table that fits the terminal (see the module's docstring).

    ``cols`` ranks the columns: a command that gives them keeps the first that fit and names the
    others; without them every key is a column, and a result too wide for the terminal is printed
    one record per block."""
    width = width or terminal_width()
    ranked = cols is not None
    keys: Sequence[Col | str] = cols if cols is not None else (list(rows[0].keys()) if rows else [])
    spec = [c if isinstance(c, Col) else Col(c) for c in keys]
    if not rows:
        _print(Text(empty if empty is not None else f"{title}: none" if title else "no rows"), width)
        return
    shown_rows = rows[: limit or len(rows)]
    columns = _columns(shown_rows, spec)
    if WIDE.get():
        _table(columns, list(range(len(columns))), [c.natural for c in columns], len(shown_rows), title, True)
    else:
        shown, widths = _fit(columns, width)
        if len(shown) == len(columns) or (ranked and shown):
            _table(columns, shown, widths, len(shown_rows), title, False)
            hidden = [columns[i].header for i in range(len(columns)) if i not in shown]
            if hidden:
                note = (f"{plural(len(hidden), 'more column')} at this width: {', '.join(hidden)} "
                        "(--wide shows every column, --json every value)")
                Console(width=width, highlight=False).print(Text(note, style="dim"))
        else:
            _vertical(columns, len(shown_rows), title, width)
    if limit and len(rows) > limit:
        Console(width=width, highlight=False).print(
            Text(f"… {plural(len(rows) - limit, 'more row')} (use --limit, --json or export for all)", style="dim"))


def show_record(record: dict[str, Any], *, title: str | None = None, width: int | None = None) -> None:
    """One record as ``name  value`` lines."""
    width = width or terminal_width()
    _vertical(_columns([record], [Col(k) for k in record]), 1, title, width, numbered=False)
