"""vigil's import graph, read from the source with ``ast`` (nothing is imported or executed).

Every ``import`` and ``from ... import`` counts: module level, inside functions, under
``if TYPE_CHECKING:``. ``tests/test_layers.py`` checks the graph against ``LAYERS``;
``python -m tests.layers`` prints it (package -> package edges, with how many module imports
each edge stands for; ``--modules`` prints module -> module edges instead; ``--src DIR`` reads
another checkout's ``src``, e.g. an older commit's from ``git archive``)::

    python -m tests.layers
"""
from __future__ import annotations

import ast
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "vigil"

#: Lowest first: a module imports modules of its own unit and of units listed before it, nothing
#: else. A unit is a top-level module or package of vigil; ``vigil`` is the package's
#: ``__init__`` (the notebook API, re-exported), ``__main__`` is ``python -m vigil``. The
#: developers' guide groups some units ("errors, settings", "sources, simulate", "ueba, hunt",
#: "pipeline, notebook"); within a group the order here holds (settings raises errors' errors,
#: hunt reads ueba's views, notebook runs the pipeline).
LAYERS: tuple[str, ...] = (
    "errors", "settings", "version",
    "locations",
    "store",
    "sources", "simulate",
    "identity",
    "enrich",
    "sessions",
    "ueba", "hunt",
    "detections",
    "risk",
    "incidents",
    "policy",
    "cae",
    "connectors",
    "pipeline", "notebook",
    "stream",
    "backup",
    "vigil",
    "api",
    "web",
    "cli",
    "__main__",
)


@dataclass(frozen=True)
class Edge:
    src: str  # importing module, dotted
    dst: str  # imported module, dotted (the deepest module the statement names)
    where: str  # file:line of the import statement


def modules(src: Path = SRC) -> dict[str, Path]:
    """Every module of the package: dotted name -> file (``pkg/__init__.py`` is ``pkg``)."""
    out: dict[str, Path] = {}
    for path in sorted((src / ROOT).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The deepest in-tree module that ``name`` names (``vigil.a.b.func`` -> ``vigil.a.b``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of a relative import's base."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def edges(src: Path = SRC) -> Iterator[Edge]:
    """Every in-tree import, one edge per imported module per statement."""
    known = modules(src)
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = _absolute(module, is_package, node.level, node.module)
                # ``from pkg import sub`` imports the submodule when there is one, else a name of pkg
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for target in dict.fromkeys(targets):
                dst = _resolve(target, known)
                if dst is not None and dst != module:
                    yield Edge(module, dst, f"{path.relative_to(src.parent)}:{node.lineno}")


def unit(module: str) -> str:
    """The layer-table name of a module: its top-level package or module below ``vigil``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def rank() -> dict[str, int]:
    return {name: i for i, name in enumerate(LAYERS)}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def violations(all_edges: Iterable[Edge]) -> list[str]:
    """One line per problem: an upward import, a unit missing from LAYERS, a cycle."""
    order = rank()
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    first: dict[tuple[str, str], Edge] = {}
    for e in all_edges:
        graph.setdefault(e.src, set()).add(e.dst)
        first.setdefault((e.src, e.dst), e)
        a, b = unit(e.src), unit(e.dst)
        for u in (a, b):
            if u not in order:
                problems.append(f"{u} is in no layer of tests/layers.py LAYERS ({e.where})")
        if a == b or a not in order or b not in order:
            continue
        if order[b] > order[a]:
            problems.append(f"upward import: {e.src} ({a}) imports {e.dst} ({b}) at {e.where}")
    for component in cycles(graph):
        members = set(component)
        links = [first[(s, d)] for s in component for d in sorted(graph[s] & members)]
        problems.append("import cycle: " + "; ".join(f"{e.src} -> {e.dst} ({e.where})" for e in links))
    return sorted(dict.fromkeys(problems))


def unit_edges(all_edges: Iterable[Edge]) -> Counter[tuple[str, str]]:
    return Counter((unit(e.src), unit(e.dst)) for e in all_edges if unit(e.src) != unit(e.dst))


def main(argv: list[str]) -> int:
    src = Path(argv[argv.index("--src") + 1]) if "--src" in argv else SRC
    all_edges = list(edges(src))
    if "--modules" in argv:
        for src, dst in sorted({(e.src, e.dst) for e in all_edges}):
            print(f"{src} -> {dst}")
    else:
        order = rank()
        for (a, b), n in sorted(unit_edges(all_edges).items(), key=lambda kv: (order.get(kv[0][0], -1), kv[0])):
            mark = "" if a in order and b in order and order[b] < order[a] else "   <-- against the layers"
            print(f"{a:>10} -> {b:<10} {n:3d}{mark}")
    problems = violations(all_edges)
    print(f"\n{len(problems)} layer violation(s)")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
