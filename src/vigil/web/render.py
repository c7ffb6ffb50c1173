"""Jinja2 environment and the common page context (who is signed in, CSRF token, nav)."""
from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from vigil import __version__
from vigil.api.auth import ui_session
from vigil.web import TEMPLATES_DIR

env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)


def _json_script(value: Any) -> Markup:
    """JSON safe inside <script type="application/json">: '<', '>' and '&' are escaped."""
    text = orjson.dumps(value, default=str).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _when(value: Any) -> str:
    if not value:
        return ""
    s = str(value)
    return s.replace("T", " ").replace("Z", "")[:19]


def _short(value: Any, n: int = 60) -> str:
    s = "" if value is None else str(value)
    return s if len(s) <= n else s[: n - 1] + "…"


env.filters.update(json_script=_json_script, when=_when, short=_short)
env.globals.update(version=__version__)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    sess = ui_session(request)
    principal = getattr(request.state, "principal", None)
    html = env.get_template(template).render(
        request=request, principal=principal, csrf=sess.csrf if sess else "",
        path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)
