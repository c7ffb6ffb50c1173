"""Seeded randomness: every stream is derived from (seed, purpose, ...) so output is byte-identical."""
from __future__ import annotations

import base64
import hashlib
import random
import uuid


def rng_for(seed: int, *parts: object) -> random.Random:
    """An independent generator for one purpose (e.g. ``rng_for(seed, "user-day", 17, 3)``)."""
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def uti(rng: random.Random) -> str:
    """An Entra UniqueTokenIdentifier: 16 random bytes, base64url without padding (22 chars)."""
    return base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).rstrip(b"=").decode()


def puid(rng: random.Random) -> str:
    """A Microsoft passport unique id as the unified audit log's UserKey carries it (16 hex)."""
    return "10032" + format(rng.getrandbits(44), "011X")
