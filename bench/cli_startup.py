"""CLI start-up: wall and CPU time of `vigil --help` and light commands, each a fresh process.

Same-run baselines: an empty Python process, and one that imports only the CLI framework (typer, rich) — the
floor any typer command pays. CPU seconds (user + system of the child, from ``getrusage``) move less with the
machine's load than wall time does; both are printed, with the load average before and after.

    .venv/bin/python bench/cli_startup.py [--repeat 9] [--src DIR ...] [--json]

``--src`` (repeatable) times another checkout's ``src`` in the same run (e.g. main's, for before / after).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

COMMANDS: list[tuple[str, list[str]]] = [
    ("baseline: python -c pass", ["-c", "pass"]),
    ("baseline: import typer, rich.console", ["-c", "import typer, rich.console"]),
    ("vigil --help", ["-m", "vigil", "--help"]),
    ("vigil --version", ["-m", "vigil", "--version"]),
    ("vigil formats", ["-m", "vigil", "formats"]),
    ("vigil ingest --help", ["-m", "vigil", "ingest", "--help"]),
    ("vigil detections list", ["-m", "vigil", "detections", "list"]),
]


def _run(args: list[str], src: str, cwd: Path) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": src}
    env.pop("VIGIL_CONFIG", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--src", action="append", default=None, help="a checkout's src folder (default: this one's)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    srcs = a.src or [str(Path(__file__).resolve().parents[1] / "src")]
    cwd = Path(__file__).resolve().parent  # no vigil.yaml here
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    for name, args in COMMANDS:
        for src in srcs if args[0] == "-m" else srcs[:1]:
            walls, cpus = [], []
            for _ in range(a.repeat):  # interleaving the sources would be fairer; the baselines show the drift
                w, c = _run(args, src, cwd)
                walls.append(w)
                cpus.append(c)
            rows.append({"command": name, "src": src, "wall_min_s": min(walls), "wall_median_s": statistics.median(walls),
                         "cpu_median_s": statistics.median(cpus)})
    load_after = os.getloadavg()[0]
    if a.json:
        print(orjson.dumps({"load": [load_before, load_after], "rows": rows}, option=orjson.OPT_INDENT_2).decode())
        return
    print(f"load average {load_before:.1f} -> {load_after:.1f}, {a.repeat} runs each")
    print(f"{'command':38} {'src':28} {'wall min':>9} {'wall med':>9} {'CPU med':>9}")
    for r in rows:
        print(f"{r['command']:38} {r['src'][-28:]:28} {r['wall_min_s']:9.3f} {r['wall_median_s']:9.3f} "
              f"{r['cpu_median_s']:9.3f}")


if __name__ == "__main__":
    main()
