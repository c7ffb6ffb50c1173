"""The analyst web UI: server-rendered Jinja2 pages with a little JavaScript, all assets local."""
from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"
