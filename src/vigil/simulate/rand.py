"""Seeded randomness: every stream is derived from (seed, purpose, ...) so output is byte-identical."""
from __future__ import annotations

import base64
import hashlib
import random


def rng_for(seed: int, *parts: object) -> random.Random:
    """An independent generator for one purpose (e.g. ``rng_for(seed, "user-day", 17, 3)``)."""
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


def guid(rng: random.Random) -> str:
    """A version-4 GUID string (what ``str(uuid.UUID(int=bits, version=4))`` gives, without the object)."""
    h = f"{(rng.getrandbits(128) & _VERSION_MASK) | _VERSION_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uti(rng: random.Random) -> str:
    """An Entra UniqueTokenIdentifier: 16 random bytes, base64url without padding (22 chars)."""
    return base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).rstrip(b"=").decode()


def puid(rng: random.Random) -> str:
    """A Microsoft passport unique id as the unified audit log's UserKey carries it (16 hex)."""
    return "10032" + format(rng.getrandbits(44), "011X")
