"""Strict reading of Graph JSON documents: every field is checked, unknown ones are rejected.

A conditional-access document the model does not understand must never be half-read, so
every accessor here raises :class:`ConfigError` naming the JSON path (``$.value[2].state``)
and, when known, the file.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from vigil.errors import ConfigError


@dataclass(frozen=True)
class Node:
    """A JSON value and where it sits (``source`` is the file or a label such as ``<request>``)."""

    value: Any
    path: str
    source: str | None = None

    def error(self, reason: str) -> ConfigError:
        where = f"{self.source}:{self.path}" if self.source else self.path
        return ConfigError(reason, path=where)

    def child(self, key: str | int) -> Node:
        sub = f"{self.path}[{key}]" if isinstance(key, int) else f"{self.path}.{key}"
        value = self.value[key] if isinstance(key, int) else self.value.get(key)
        return Node(value, sub, self.source)

    # -- shape checks -----------------------------------------------------------------------
    def obj(self, allowed: Iterable[str], *, required: Iterable[str] = ()) -> Node:
        """Assert an object whose keys are all in ``allowed`` (``@odata.*`` annotations pass)."""
        if not isinstance(self.value, dict):
            raise self.error(f"expected an object, got {_kind(self.value)}")
        allowed_set = set(allowed)
        for key in self.value:
            if key not in allowed_set and not key.startswith("@odata.") and "@odata." not in key:
                raise self.child(key).error(
                    f"unknown property {key!r} (understood here: {', '.join(sorted(allowed_set))})"
                )
        for key in required:
            if self.value.get(key) is None:
                raise self.child(key).error("required property is missing")
        return self

    def present(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def string(self, key: str, *, required: bool = False, choices: Iterable[str] | None = None,
               default: str | None = None) -> str | None:
        node = self.child(key)
        if node.value is None:
            if required:
                raise node.error("required property is missing")
            return default
        if not isinstance(node.value, str):
            raise node.error(f"expected a string, got {_kind(node.value)}")
        if choices is not None:
            opts = tuple(choices)
            if node.value not in opts:
                raise node.error(f"{node.value!r} is not one of {', '.join(opts)}")
        return node.value

    def boolean(self, key: str, *, default: bool | None = None) -> bool | None:
        node = self.child(key)
        if node.value is None:
            return default
        if not isinstance(node.value, bool):
            raise node.error(f"expected true or false, got {_kind(node.value)}")
        return node.value

    def integer(self, key: str) -> int | None:
        node = self.child(key)
        if node.value is None:
            return None
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise node.error(f"expected an integer, got {_kind(node.value)}")
        return node.value

    def strings(self, key: str, *, choices: Iterable[str] | None = None) -> tuple[str, ...]:
        """A list of strings (null or absent reads as empty); duplicates are harmless."""
        node = self.child(key)
        if node.value is None:
            return ()
        if not isinstance(node.value, list):
            raise node.error(f"expected a list, got {_kind(node.value)}")
        opts = tuple(choices) if choices is not None else None
        out = []
        for i, item in enumerate(node.value):
            if not isinstance(item, str):
                raise node.child(i).error(f"expected a string, got {_kind(item)}")
            if opts is not None and item not in opts:
                raise node.child(i).error(f"{item!r} is not one of {', '.join(opts)}")
            out.append(item)
        return tuple(out)

    def items(self, key: str) -> Iterator[Node]:
        node = self.child(key)
        if node.value is None:
            return iter(())
        if not isinstance(node.value, list):
            raise node.error(f"expected a list, got {_kind(node.value)}")
        return (node.child(i) for i in range(len(node.value)))


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def flags(node: Node, key: str, choices: Iterable[str]) -> tuple[str, ...]:
    """Graph flag enums arrive as ``"a,b"`` strings; read them as a tuple of members."""
    raw = node.string(key)
    if raw is None:
        return ()
    opts = tuple(choices)
    out = tuple(p.strip() for p in raw.split(",") if p.strip())
    for part in out:
        if part not in opts:
            raise node.child(key).error(f"{part!r} is not one of {', '.join(opts)}")
    return out


def read_json(source: str | Path) -> Any:
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read ({exc.strerror})", path=str(path)) from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON ({exc})", path=str(path)) from None


def documents(data: Any, source: str | None) -> list[Node]:
    """The entities in a Graph response: a single object, a ``value`` list, or a bare list."""
    root = Node(data, "$", source)
    if isinstance(data, list):
        return [root.child(i) for i in range(len(data))]
    if isinstance(data, dict) and "value" in data and isinstance(data["value"], list):
        extra = [k for k in data if k != "value" and not k.startswith("@odata.")]
        if extra:
            raise root.child(extra[0]).error("unknown property beside a `value` collection")
        return list(root.items("value"))
    if isinstance(data, dict):
        return [root]
    raise root.error(f"expected a Graph object or a `value` collection, got {_kind(data)}")
