"""Log output of ``vigil serve``: text for a terminal, or one JSON object per line for a collector.

One ``logging.config.dictConfig`` covers vigil's loggers and uvicorn's (server and access), so
every line of the service has the same shape. Access lines carry the client, method, path,
protocol and status as fields; the query string is dropped (it may carry search terms) and no
header is ever logged.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...}`` per record; access records add their fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, http, status = record.args
            out.update(message=f"{method} {str(path).split('?', 1)[0]} {status}", client=client, method=method,
                       path=str(path).split("?", 1)[0], http=http, status=status)
        else:
            out["message"] = record.getMessage()
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def log_config(fmt: str, level: str) -> dict[str, Any]:
    """dictConfig for ``fmt`` ("text" | "json") at ``level``, for vigil and uvicorn."""
    formatter: dict[str, Any] = ({"()": JsonFormatter} if fmt == "json"
                                 else {"format": _TEXT, "datefmt": "%Y-%m-%dT%H:%M:%S%z"})
    handler = {"class": "logging.StreamHandler", "formatter": "vigil", "stream": "ext://sys.stderr"}
    loggers = {name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
               for name in ("vigil", "uvicorn", "uvicorn.error", "uvicorn.access")}
    return {"version": 1, "disable_existing_loggers": False, "formatters": {"vigil": formatter},
            "handlers": {"default": handler}, "loggers": loggers,
            "root": {"handlers": ["default"], "level": "WARNING"}}
