"""GOST 34.311-95 (GOST R 34.11-94) hash with the "test" S-box.

Kazakhstan's GOST 34.311-95 is GOST R 34.11-94 (RFC 5831); the NCA's 2004
certificates use it with the S-box of id-GostR3411-94-TestParamSet and a
zero starting value (shared/vectors/nca-rk/README.md, measured on the
certificates). Needed to verify documents and certificates signed under
the old GOST 34.310-2004 keys; pure Python, about 0.1 MB/s, which is
plenty for certificates and CRLs and slow for large archived documents.

Values are handled as integers: a 32-byte block is read little-endian, so
byte 0 holds the least significant bits, as in RFC 5831's notation of the
message as a number.
"""

from __future__ import annotations

# id-GostR3411-94-TestParamSet (RFC 5831 §7.3.1; GOST 28147-89 test S-box), K1..K8.
TEST_SBOX = (
    (4, 10, 9, 2, 13, 8, 0, 14, 6, 11, 1, 12, 7, 15, 5, 3),
    (14, 11, 4, 12, 6, 13, 15, 10, 2, 3, 8, 1, 0, 7, 5, 9),
    (5, 8, 1, 13, 10, 3, 4, 2, 14, 15, 12, 7, 6, 0, 9, 11),
    (7, 13, 10, 1, 0, 8, 9, 15, 14, 4, 6, 12, 11, 2, 5, 3),
    (6, 12, 7, 1, 5, 15, 13, 8, 4, 10, 9, 14, 0, 3, 11, 2),
    (4, 11, 10, 0, 7, 2, 1, 13, 3, 6, 8, 5, 9, 12, 15, 14),
    (13, 11, 4, 1, 3, 15, 5, 9, 0, 10, 14, 7, 6, 8, 2, 12),
    (1, 15, 13, 0, 5, 7, 10, 4, 9, 2, 3, 14, 6, 11, 8, 12),
)

_M32, _M64, _M256 = (1 << 32) - 1, (1 << 64) - 1, (1 << 256) - 1
_C3 = 0xFF00FFFF000000FFFF0000FF00FFFF0000FF00FF00FF00FFFF00FF00FF00FF00
# φ(i + 1 + 4(k - 1)) = 8i + k (RFC 5831 §6.1), as 0-based byte positions.
_P_ORDER = tuple(8 * i + k - 1 for k in range(1, 9) for i in range(4))


def _sbox_pairs(sbox: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    # Two S-boxes per byte: four byte tables instead of eight nibble lookups.
    return tuple(
        tuple(sbox[2 * j][b & 15] | (sbox[2 * j + 1][b >> 4] << 4) for b in range(256)) for j in range(4)
    )


class _Cipher:
    """GOST 28147-89 encryption of single 64-bit blocks (simple substitution mode)."""

    def __init__(self, sbox: tuple[tuple[int, ...], ...]) -> None:
        self._b0, self._b1, self._b2, self._b3 = _sbox_pairs(sbox)

    def _f(self, x: int) -> int:
        x = (self._b0[x & 255] | (self._b1[(x >> 8) & 255] << 8) | (self._b2[(x >> 16) & 255] << 16)
             | (self._b3[x >> 24] << 24))
        return ((x << 11) | (x >> 21)) & _M32

    def encrypt(self, key: int, block: int) -> int:
        k = [(key >> (32 * i)) & _M32 for i in range(8)]
        order = k * 3 + k[::-1]
        n1, n2 = block & _M32, block >> 32
        f = self._f
        for i in range(0, 32, 2):
            n2 ^= f((n1 + order[i]) & _M32)
            n1 ^= f((n2 + order[i + 1]) & _M32)
        return (n1 << 32) | n2


def _a(y: int) -> int:
    y1, y2 = y & _M64, (y >> 64) & _M64
    return (y >> 64) | ((y1 ^ y2) << 192)


def _p(w: int) -> int:
    data = w.to_bytes(32, "little")
    return int.from_bytes(bytes(data[j] for j in _P_ORDER), "little")


def _psi(y: int) -> int:
    x = y ^ (y >> 16) ^ (y >> 32) ^ (y >> 48) ^ (y >> 192) ^ (y >> 240)
    return (y >> 16) | ((x & 0xFFFF) << 240)


def _psi_n(y: int, n: int) -> int:
    for _ in range(n):
        y = _psi(y)
    return y


class GOST94:
    """hashlib-style GOST R 34.11-94 (32-byte digest); default S-box: the test set."""

    digest_size = 32
    block_size = 32
    name = "gost34311"

    def __init__(self, data: bytes = b"", sbox: tuple[tuple[int, ...], ...] = TEST_SBOX) -> None:
        self._cipher = _Cipher(sbox)
        self._h = 0
        self._sigma = 0
        self._length = 0
        self._buffer = b""
        if data:
            self.update(data)

    def _step(self, h: int, m: int) -> int:
        # RFC 5831 §6.1: key generation, encryption, shuffling.
        u, v = h, m
        keys = [_p(u ^ v)]
        for j in range(1, 4):
            u = _a(u) ^ (_C3 if j == 2 else 0)
            v = _a(_a(v))
            keys.append(_p(u ^ v))
        s = 0
        for i in range(4):
            s |= self._cipher.encrypt(keys[i], (h >> (64 * i)) & _M64) << (64 * i)
        return _psi_n(h ^ _psi(m ^ _psi_n(s, 12)), 61)

    def update(self, data: bytes) -> None:
        data = self._buffer + bytes(data)
        full = len(data) - len(data) % 32
        for pos in range(0, full, 32):
            m = int.from_bytes(data[pos:pos + 32], "little")
            self._h = self._step(self._h, m)
            self._sigma = (self._sigma + m) & _M256
            self._length += 256
        self._buffer = data[full:]

    def copy(self) -> "GOST94":
        other = GOST94.__new__(GOST94)
        other.__dict__.update(self.__dict__)
        return other

    def digest(self) -> bytes:
        h, sigma, length = self._h, self._sigma, self._length
        if self._buffer:
            m = int.from_bytes(self._buffer, "little")
            h = self._step(h, m)
            sigma = (sigma + m) & _M256
            length += 8 * len(self._buffer)
        h = self._step(h, length)
        h = self._step(h, sigma)
        return h.to_bytes(32, "little")

    def hexdigest(self) -> str:
        return self.digest().hex()


def gost34311(data: bytes = b"") -> GOST94:
    return GOST94(data)
