"""Point arithmetic on the GOST curves, tuned for CPython's big integers.

Measured first (benchmarks/gost.py): at 512 bits a modular inversion costs
as much as ~40 multiplications, so the affine textbook formulas (one
inversion per addition, as gostcrypto does) are what makes verification
slow. Here points stay in Jacobian coordinates (X/Z², Y/Z³) and only the
result is converted back, with:

- a fixed-base table per curve for multiples of the base point P: for
  every 6-bit window i the affine points j·2^(6i)·P, so k·P is about
  ⌈bits/6⌉ mixed additions and no doublings (the table is built lazily,
  once per process and curve, with one batched inversion per window);
- width-5 NAF for a variable point Q (public key), with its odd multiples
  made affine by a batched inversion.

Verification computes z1·P + z2·Q as the sum of the two. Python's integers
are not constant time: signing with these routines leaks timing, which the
decision record (docs/DECISIONS.md, "GOST") accepts for the software
backend only, like the rest of that backend's pure-software custody.
"""

from __future__ import annotations

import threading

from keys.gost.curves import Curve

Jacobian = tuple[int, int, int]
Affine = tuple[int, int]

_WINDOW = 6
_NAF_WIDTH = 5
_tables: dict[str, list[list[Affine]]] = {}
_tables_lock = threading.Lock()


def _double(point: Jacobian, p: int, a: int, a_is_minus_3: bool) -> Jacobian:
    x, y, z = point
    if not y or not z:
        return (1, 1, 0)
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    if a_is_minus_3:
        m = 3 * (x - zz) * (x + zz) % p
    else:
        m = (3 * x * x + a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    return x3, (m * (s - x3) - 8 * yy * yy) % p, 2 * y * z % p


def _add_affine(point: Jacobian, x2: int, y2: int, p: int, a: int, a_is_minus_3: bool) -> Jacobian:
    """Jacobian + affine ("mixed") addition; handles P = ±Q and infinity."""
    x1, y1, z1 = point
    if not z1:
        return x2, y2, 1
    z1z1 = z1 * z1 % p
    h = (x2 * z1z1 - x1) % p
    r = (y2 * z1 * z1z1 - y1) % p
    if not h:
        if not r:
            return _double((x2, y2, 1), p, a, a_is_minus_3)
        return (1, 1, 0)
    hh = h * h % p
    hhh = h * hh % p
    v = x1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - y1 * hhh) % p, z1 * h % p


def _add(p1: Jacobian, p2: Jacobian, p: int, a: int, a_is_minus_3: bool) -> Jacobian:
    """General Jacobian addition (used only while building tables)."""
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if not z1:
        return p2
    if not z2:
        return p1
    z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
    u1, u2 = x1 * z2z2 % p, x2 * z1z1 % p
    s1, s2 = y1 * z2 * z2z2 % p, y2 * z1 * z1z1 % p
    h, r = (u2 - u1) % p, (s2 - s1) % p
    if not h:
        return _double(p1, p, a, a_is_minus_3) if not r else (1, 1, 0)
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - s1 * hhh) % p, z1 * z2 * h % p


def _to_affine_many(points: list[Jacobian], p: int) -> list[Affine]:
    """Affine forms of finite points with one inversion (Montgomery's trick)."""
    prefix = []
    acc = 1
    for _x, _y, z in points:
        prefix.append(acc)
        acc = acc * z % p
    inverse = pow(acc, -1, p)
    out: list[Affine] = [(0, 0)] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        z_inv = inverse * prefix[i] % p
        inverse = inverse * z % p
        zz = z_inv * z_inv % p
        out[i] = (x * zz % p, y * zz * z_inv % p)
    return out


def to_affine(point: Jacobian, p: int) -> Affine | None:
    x, y, z = point
    if not z:
        return None
    z_inv = pow(z, -1, p)
    zz = z_inv * z_inv % p
    return x * zz % p, y * zz * z_inv % p


def _base_table(curve: Curve) -> list[list[Affine]]:
    table = _tables.get(curve.name)
    if table is not None:
        return table
    with _tables_lock:
        table = _tables.get(curve.name)
        if table is None:
            table = _build_base_table(curve)
            _tables[curve.name] = table
    return table


def _build_base_table(curve: Curve) -> list[list[Affine]]:
    p, a = curve.p, curve.a
    minus3 = a == p - 3
    windows = (curve.q.bit_length() + _WINDOW - 1) // _WINDOW
    table = []
    base: Jacobian = (curve.x, curve.y, 1)
    for _ in range(windows):
        row = [base]
        for _j in range(2, 1 << _WINDOW):
            row.append(_add(row[-1], base, p, a, minus3))
        affine = _to_affine_many(row, p)
        table.append(affine)
        # The next window's base is 2^w times this one.
        bx, by = affine[0]
        base = (bx, by, 1)
        for _k in range(_WINDOW):
            base = _double(base, p, a, minus3)
    return table


def multiply_base(curve: Curve, k: int) -> Jacobian:
    """k·P for the curve's base point P (0 <= k < 2^bits(q))."""
    p, a = curve.p, curve.a
    minus3 = a == p - 3
    mask = (1 << _WINDOW) - 1
    acc: Jacobian = (1, 1, 0)
    for row in _base_table(curve):
        digit = k & mask
        k >>= _WINDOW
        if digit:
            x2, y2 = row[digit - 1]
            acc = _add_affine(acc, x2, y2, p, a, minus3)
    if k:
        raise ValueError("scalar larger than the base-point table")
    return acc


def _naf(k: int, width: int) -> list[int]:
    digits = []
    full, half = 1 << width, 1 << (width - 1)
    while k:
        if k & 1:
            d = k & (full - 1)
            if d >= half:
                d -= full
            k -= d
        else:
            d = 0
        digits.append(d)
        k >>= 1
    return digits


def multiply(curve: Curve, k: int, x: int, y: int) -> Jacobian:
    """k·Q for an affine point Q on the curve."""
    p, a = curve.p, curve.a
    minus3 = a == p - 3
    q1: Jacobian = (x, y, 1)
    twice = _double(q1, p, a, minus3)
    odd = [q1]
    for _ in range((1 << (_NAF_WIDTH - 2)) - 1):
        odd.append(_add(odd[-1], twice, p, a, minus3))
    if any(not z for _x, _y, z in odd):
        # Only a point of tiny order gets here; the plain ladder handles it.
        return _multiply_plain(curve, k, x, y)
    table = _to_affine_many(odd, p)
    acc: Jacobian = (1, 1, 0)
    for d in reversed(_naf(k, _NAF_WIDTH)):
        acc = _double(acc, p, a, minus3)
        if d > 0:
            tx, ty = table[d >> 1]
            acc = _add_affine(acc, tx, ty, p, a, minus3)
        elif d < 0:
            tx, ty = table[(-d) >> 1]
            acc = _add_affine(acc, tx, p - ty, p, a, minus3)
    return acc


def _multiply_plain(curve: Curve, k: int, x: int, y: int) -> Jacobian:
    p, a = curve.p, curve.a
    minus3 = a == p - 3
    acc: Jacobian = (1, 1, 0)
    for bit in bin(k)[2:]:
        acc = _double(acc, p, a, minus3)
        if bit == "1":
            acc = _add_affine(acc, x, y, p, a, minus3)
    return acc


def add(curve: Curve, p1: Jacobian, p2: Jacobian) -> Jacobian:
    p, a = curve.p, curve.a
    return _add(p1, p2, p, a, a == p - 3)
