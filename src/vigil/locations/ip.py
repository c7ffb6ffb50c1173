"""IP addresses as logs write them (brackets, ports, zone ids, IPv4-mapped IPv6)."""
from __future__ import annotations

import ipaddress


def parse_ip(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address, tolerating brackets/ports/zone ids as logs write them; None when not an IP."""
    if not ip:
        return None
    text = ip.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with :port
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr
