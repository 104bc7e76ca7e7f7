"""LOAN-15: the cost of sealing per object, software backend: seal + open of a stored PDF version.

Ours: ``keys.envelope.seal_object`` then ``open_object`` (a fresh data key,
AES-256-GCM over the PDF, the data key wrapped and unwrapped by the
tenant's KEK) of a 1-page contract and of a 200 KB PDF. Baseline: the same
bytes through AES-256-GCM alone with one fixed key (no per-object key, no
wrapping): the ratio is what the envelope adds on top of the cipher itself.
Prints one JSON line per size, the last one the 200 KB figure.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from keys.envelope import SoftwareKekMaker, open_object, seal_object  # noqa: E402


def _rate(fn, seconds: float) -> float:  # noqa: ANN001
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        done += 1
    return done / (time.perf_counter() - start)


def main(seconds: float = 2.0) -> None:
    maker = SoftwareKekMaker(os.urandom(32))
    kek = maker.load("bench", 1, maker.create("bench", 1))
    cipher, nonce = AESGCM(os.urandom(32)), os.urandom(12)
    for name, size in (("1-page contract", 6_000), ("200 KB PDF", 200_000)):
        pdf, aad = os.urandom(size), b"qoltanba/loan-15/v1|bench|document_versions|1/1"

        def ours() -> None:
            wrapped, sealed = seal_object(kek, pdf, aad)
            open_object(kek, wrapped, sealed, aad)

        def baseline() -> None:
            cipher.decrypt(nonce, cipher.encrypt(nonce, pdf, aad), aad)

        value, base = _rate(ours, seconds), _rate(baseline, seconds)
        print(json.dumps({"name": f"envelope seal+open {name}", "value": round(value), "unit": "objects/s",
                          "baseline": round(base), "ratio": round(value / base, 3)}))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
