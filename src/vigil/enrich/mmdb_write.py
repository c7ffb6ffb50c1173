"""A small writer for the MaxMind DB format (spec: maxmind.github.io/MaxMind-DB).

vigil never ships geolocation data; tests, the simulator and benchmarks build tiny databases
with this writer so that the real reader (``maxminddb``) is exercised end to end. It writes an
IPv6 tree (IPv4 networks under ``::/96``), 24/28/32-bit records as needed, and the data types
GeoIP2 and DB-IP use (maps, arrays, strings, doubles, unsigned ints, booleans).
"""
from __future__ import annotations

import ipaddress
import struct
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_META_MARKER = b"\xab\xcd\xefMaxMind.com"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ctrl(type_no: int, size: int) -> bytes:
    if size < 29:
        first, extra = size, b""
    elif size < 285:
        first, extra = 29, bytes([size - 29])
    elif size < 65821:
        first, extra = 30, (size - 285).to_bytes(2, "big")
    else:
        first, extra = 31, (size - 65821).to_bytes(3, "big")
    if type_no <= 7:
        return bytes([(type_no << 5) | first]) + extra
    return bytes([first, type_no - 7]) + extra


class Uint:
    """An unsigned int of an exact width (libmaxminddb checks the metadata's types)."""

    def __init__(self, value: int, bits: int) -> None:
        self.value, self.type_no = value, {16: 5, 32: 6, 64: 9, 128: 10}[bits]


def encode(value: Any) -> bytes:
    """One value in the MaxMind DB data-section encoding."""
    if isinstance(value, Uint):
        raw = value.value.to_bytes((value.value.bit_length() + 7) // 8, "big") if value.value else b""
        return _ctrl(value.type_no, len(raw)) + raw
    if isinstance(value, bool):
        return _ctrl(14, int(value))
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _ctrl(2, len(raw)) + raw
    if isinstance(value, float):
        return _ctrl(3, 8) + struct.pack(">d", value)
    if isinstance(value, int):
        if value < 0:
            return _ctrl(8, 4) + struct.pack(">i", value)
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
        type_no = 5 if value < 1 << 16 else 6 if value < 1 << 32 else 9 if value < 1 << 64 else 10
        return _ctrl(type_no, len(raw)) + raw
    if isinstance(value, dict):
        body = b"".join(encode(str(k)) + encode(v) for k, v in value.items())
        return _ctrl(7, len(value)) + body
    if isinstance(value, (list, tuple)):
        return _ctrl(11, len(value)) + b"".join(encode(v) for v in value)
    raise TypeError(f"cannot encode {type(value).__name__} in a MaxMind DB")


class _Node:
    __slots__ = ("children",)

    def __init__(self) -> None:
        self.children: list[_Node | int | None] = [None, None]


def _bits(network: Network, ip_version: int = 6) -> tuple[int, int]:
    """(value, prefix) of ``network`` in the tree (IPv4 under ::/96 in an IPv6 tree)."""
    if network.version == 4 and ip_version == 6:
        return int(network.network_address), network.prefixlen + 96
    return int(network.network_address), network.prefixlen


def write_mmdb(path: str | Path, records: Iterable[tuple[str | Network, dict[str, Any]]], *,
               database_type: str = "vigil-test-City", description: str = "vigil test database",
               ip_version: int = 6) -> Path:
    """Write ``(network, record)`` pairs to ``path``; more specific networks win over broader ones.

    ``ip_version=4`` writes an IPv4-only file (every network must then be IPv4)."""
    width = 128 if ip_version == 6 else 32
    data = bytearray()
    offsets: dict[bytes, int] = {}
    root = _Node()
    items = [(ipaddress.ip_network(n, strict=False) if isinstance(n, str) else n, r) for n, r in records]
    if ip_version == 4 and any(n.version == 6 for n, _ in items):
        raise ValueError("an IPv4-only database cannot hold IPv6 networks")
    for network, record in sorted(items, key=lambda it: _bits(it[0], ip_version)[1]):  # broad first
        blob = encode(record)
        if blob not in offsets:
            offsets[blob] = len(data)
            data += blob
        value, prefix = _bits(network, ip_version)
        node = root
        for depth in range(prefix):
            bit = (value >> (width - 1 - depth)) & 1
            if depth == prefix - 1:
                node.children[bit] = -1 - offsets[blob]  # data pointers are negative until numbered
                break
            child = node.children[bit]
            if not isinstance(child, _Node):
                new = _Node()
                if isinstance(child, int):  # push the broader record down both sides
                    new.children = [child, child]
                node.children[bit] = new
                child = new
            node = child
    nodes: list[_Node] = []
    queue = [root]
    while queue:
        node = queue.pop(0)
        nodes.append(node)
        queue.extend(c for c in node.children if isinstance(c, _Node))
    index = {id(n): i for i, n in enumerate(nodes)}
    count = len(nodes)
    record_size = 24 if count + 16 + len(data) < 1 << 24 else 28 if count + 16 + len(data) < 1 << 28 else 32

    def rec(child: _Node | int | None) -> int:
        if child is None:
            return count
        if isinstance(child, _Node):
            return index[id(child)]
        return count + 16 + (-1 - child)

    tree = bytearray()
    for node in nodes:
        left, right = rec(node.children[0]), rec(node.children[1])
        if record_size == 24:
            tree += left.to_bytes(3, "big") + right.to_bytes(3, "big")
        elif record_size == 28:
            middle = ((left >> 24) << 4) | (right >> 24)
            tree += (left & 0xFFFFFF).to_bytes(3, "big") + bytes([middle]) + (right & 0xFFFFFF).to_bytes(3, "big")
        else:
            tree += left.to_bytes(4, "big") + right.to_bytes(4, "big")
    meta = {
        "node_count": Uint(count, 32), "record_size": Uint(record_size, 16), "ip_version": Uint(ip_version, 16),
        "database_type": database_type, "languages": ["en"], "binary_format_major_version": Uint(2, 16),
        "binary_format_minor_version": Uint(0, 16), "build_epoch": Uint(int(time.time()), 64),
        "description": {"en": description},
    }
    out = Path(path)
    out.write_bytes(bytes(tree) + b"\x00" * 16 + bytes(data) + _META_MARKER + encode(meta))
    return out
