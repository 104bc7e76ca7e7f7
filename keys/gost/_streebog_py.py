"""Streebog in pure Python: the slow fallback, about 0.5 MB/s.

Used only when the native module (``keys.gost._native``, built by the
install) is missing; ``keys.gost.streebog.NATIVE`` tells which one runs.
The state is kept as eight 64-bit little-endian words, the layout the
precomputed LPS tables are made for.
"""

from __future__ import annotations

from keys.gost._streebog_tables import ITERATION, LPS

_MASK = (1 << 512) - 1
_ITERATION_WORDS = tuple(
    tuple(int.from_bytes(c[8 * i:8 * i + 8], "little") for i in range(8)) for c in ITERATION
)
_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7 = LPS


def _words(block: bytes) -> list[int]:
    return [int.from_bytes(block[8 * i:8 * i + 8], "little") for i in range(8)]


def _lps(w: list[int]) -> list[int]:
    w0, w1, w2, w3, w4, w5, w6, w7 = w
    out = []
    for shift in range(0, 64, 8):
        out.append(_T0[(w0 >> shift) & 255] ^ _T1[(w1 >> shift) & 255] ^ _T2[(w2 >> shift) & 255]
                   ^ _T3[(w3 >> shift) & 255] ^ _T4[(w4 >> shift) & 255] ^ _T5[(w5 >> shift) & 255]
                   ^ _T6[(w6 >> shift) & 255] ^ _T7[(w7 >> shift) & 255])
    return out


def _g(h: list[int], n: list[int], m: list[int]) -> list[int]:
    """The compression function g_N(h, m) of GOST R 34.11-2012 §7."""
    k = _lps([a ^ b for a, b in zip(h, n)])
    state = [a ^ b for a, b in zip(k, m)]
    for c in _ITERATION_WORDS:
        state = _lps(state)
        k = _lps([a ^ b for a, b in zip(k, c)])
        state = [a ^ b for a, b in zip(state, k)]
    return [s ^ a ^ b for s, a, b in zip(state, h, m)]


def _int_words(value: int) -> list[int]:
    return [(value >> (64 * i)) & 0xFFFFFFFFFFFFFFFF for i in range(8)]


def _words_int(words: list[int]) -> int:
    return sum(w << (64 * i) for i, w in enumerate(words))


class Streebog:
    """hashlib-style Streebog-256/512 (``digest_size`` 32 or 64)."""

    block_size = 64

    def __init__(self, digest_size: int = 64, data: bytes = b"") -> None:
        if digest_size not in (32, 64):
            raise ValueError("Streebog digest size is 32 or 64 bytes")
        self.digest_size = digest_size
        self._h = [0x0101010101010101] * 8 if digest_size == 32 else [0] * 8
        self._n = 0
        self._sigma = 0
        self._buffer = b""
        if data:
            self.update(data)

    @property
    def name(self) -> str:
        return f"streebog{self.digest_size * 8}"

    def update(self, data: bytes) -> None:
        data = self._buffer + bytes(data)
        full = len(data) - len(data) % 64
        h, n, sigma = self._h, self._n, self._sigma
        for pos in range(0, full, 64):
            block = data[pos:pos + 64]
            h = _g(h, _int_words(n), _words(block))
            n = (n + 512) & _MASK
            sigma = (sigma + int.from_bytes(block, "little")) & _MASK
        self._h, self._n, self._sigma = h, n, sigma
        self._buffer = data[full:]

    def copy(self) -> "Streebog":
        other = Streebog.__new__(Streebog)
        other.digest_size = self.digest_size
        other._h, other._n, other._sigma, other._buffer = list(self._h), self._n, self._sigma, self._buffer
        return other

    def digest(self) -> bytes:
        # §8.1: pad with 1 then zeros, process with the bit length, then N and Σ with N = 0.
        tail = self._buffer
        block = tail + b"\x01" + bytes(63 - len(tail))
        h = _g(self._h, _int_words(self._n), _words(block))
        n = (self._n + 8 * len(tail)) & _MASK
        sigma = (self._sigma + int.from_bytes(block, "little")) & _MASK
        zero = [0] * 8
        h = _g(h, zero, _int_words(n))
        h = _g(h, zero, _int_words(sigma))
        out = _words_int(h).to_bytes(64, "little")
        return out[64 - self.digest_size:]

    def hexdigest(self) -> str:
        return self.digest().hex()
