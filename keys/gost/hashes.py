"""The GOST digests by name: streebog256, streebog512, gost34311."""

from __future__ import annotations

from keys.gost.gost94 import GOST94
from keys.gost.streebog import Streebog

DIGEST_SIZES = {"streebog256": 32, "streebog512": 64, "gost34311": 32}


def new(name: str, data: bytes = b""):
    """A hashlib-style object for a GOST digest name."""
    if name == "streebog256":
        return Streebog(32, data)
    if name == "streebog512":
        return Streebog(64, data)
    if name == "gost34311":
        return GOST94(data)
    raise ValueError(f"unknown GOST digest {name!r}")


def digest(name: str, data: bytes) -> bytes:
    return new(name, data).digest()
