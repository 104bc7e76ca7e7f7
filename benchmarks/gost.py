"""GOST speed: ours (keys.gost) against gostcrypto (pure Python) in the same run.

Measures, for both implementations on the same inputs:
- verifications of a GOST R 34.10-2015 512-bit signature (paramSetA) per second;
- Streebog-512 and Streebog-256 hashing speed in MB/s (on 1 MB for gostcrypto,
  which is slow, and 32 MB for ours).
The issue's aims: verification at least 20x gostcrypto, hashing at least 50x.
The last lines are JSON, one per figure: {"name","value","unit","baseline","ratio"}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gostcrypto  # noqa: E402

from keys.gost import NATIVE_STREEBOG, TC26_512_A, GostPrivateKey, streebog256, streebog512  # noqa: E402


def rate(fn, min_seconds: float) -> float:
    """Calls per second of ``fn`` over at least ``min_seconds`` (and at least 3 calls)."""
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and count >= 3:
            return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()

    key = GostPrivateKey.generate(TC26_512_A)
    public = key.public_key()
    digest = streebog512(b"benchmark document").digest()
    signature = key.sign_digest(digest)
    public.verify_digest(signature, digest)  # builds the base-point table outside the timing
    theirs = gostcrypto.gostsignature.new(
        gostcrypto.gostsignature.MODE_512,
        gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019["id-tc26-gost-3410-12-512-paramSetA"])
    their_key = bytearray(public.x.to_bytes(64, "big") + public.y.to_bytes(64, "big"))
    their_digest = bytearray(digest[::-1])
    their_signature = bytearray(signature[64:] + signature[:64])[::-1]
    assert theirs.verify(their_key, their_digest, their_signature)

    results = []
    ours = rate(lambda: public.verify_digest(signature, digest), args.seconds)
    base = rate(lambda: theirs.verify(their_key, their_digest, their_signature), args.seconds)
    results.append(("verify gost2015-512", ours, "verifications/s", base))

    small, big = os.urandom(1 << 20), os.urandom(32 << 20)
    for bits, ours_fn in ((512, streebog512), (256, streebog256)):
        name = f"streebog{bits}"
        assert ours_fn(small).digest() == bytes(gostcrypto.gosthash.new(name, data=small).digest())
        ours = rate(lambda: ours_fn(big).digest(), args.seconds) * len(big) / 1e6
        base = rate(lambda: gostcrypto.gosthash.new(name, data=small).digest(), args.seconds) * len(small) / 1e6
        results.append((f"{name}{'' if NATIVE_STREEBOG else ' (pure Python fallback)'}", ours, "MB/s", base))

    for name, value, unit, base in results:
        print(f"{name:32} ours {value:10.2f} {unit:16} gostcrypto {base:8.3f}  ratio {value / base:7.1f}")
    for name, value, unit, base in results:
        print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "baseline": round(base, 4),
                          "ratio": round(value / base, 1)}))


if __name__ == "__main__":
    main()
