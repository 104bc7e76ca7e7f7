"""Streebog, GOST R 34.11-2012 / ST RK GOST R 34.11-2015, 256 and 512 bit.

hashlib-style objects. Digests are byte strings in the order every
implementation outputs them (RFC 6986 §10 writes the same values as
big-endian numbers, so a test vector there reads reversed).

The block function runs in the native module ``keys.gost._native`` built
by the install (setup.py); without it the pure-Python fallback in
``_streebog_py`` runs, about a hundred times slower. ``NATIVE`` says which.
"""

from __future__ import annotations

try:
    import keys.gost._native as _native
except ImportError:  # the optional extension was not built
    _native = None

NATIVE = _native is not None

_IV_256 = bytes([1]) * 64 + bytes(128)


class _NativeStreebog:
    block_size = 64

    __slots__ = ("digest_size", "_state", "_buffer")

    def __init__(self, digest_size: int = 64, data: bytes = b"") -> None:
        if digest_size not in (32, 64):
            raise ValueError("Streebog digest size is 32 or 64 bytes")
        self.digest_size = digest_size
        self._state = bytearray(_IV_256 if digest_size == 32 else bytes(192))
        self._buffer = b""
        if data:
            self.update(data)

    @property
    def name(self) -> str:
        return f"streebog{self.digest_size * 8}"

    def update(self, data: bytes) -> None:
        data = memoryview(data).cast("B")
        if self._buffer:
            need = 64 - len(self._buffer)
            head, data = bytes(data[:need]), data[need:]
            self._buffer += head
            if len(self._buffer) < 64:
                return
            _native.streebog_update(self._state, self._buffer)
            self._buffer = b""
        used = _native.streebog_update(self._state, data)
        self._buffer = bytes(data[used:])

    def copy(self) -> "_NativeStreebog":
        other = _NativeStreebog(self.digest_size)
        other._state[:] = self._state
        other._buffer = self._buffer
        return other

    def digest(self) -> bytes:
        h = _native.streebog_final(bytes(self._state), self._buffer)
        return h[64 - self.digest_size:]

    def hexdigest(self) -> str:
        return self.digest().hex()


if NATIVE:
    Streebog = _NativeStreebog
else:   # imported only without the extension: its tables cost every process a few ms to load (start-up, issue 21)
    import keys.gost._streebog_py as _streebog_py

    Streebog = _streebog_py.Streebog  # type: ignore[misc,assignment]


def new(name: str, data: bytes = b""):
    """``streebog256`` or ``streebog512``, like ``hashlib.new``."""
    sizes = {"streebog256": 32, "streebog512": 64}
    try:
        return Streebog(sizes[name], data)
    except KeyError:
        raise ValueError(f"unknown Streebog variant {name!r}") from None


def streebog256(data: bytes = b""):
    return Streebog(32, data)


def streebog512(data: bytes = b""):
    return Streebog(64, data)
