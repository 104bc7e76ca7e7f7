"""Write the verification workers' warm-up sample (signing/verification/samples/, issue 14, worker rate).

The fork server the verification workers come from verifies this file once
before it forks any of them (signing/verification/warm.py), so each worker
starts with what a first verification builds: asn1crypto's specs set up,
regular expressions compiled, the lazily imported modules loaded. The
sample is a 2-page contract a made-up client signed and the MFO sealed at
B-LT, made with the service's own signing helpers (tests/support/signing.py)
on a throwaway home, and the root of that home's hierarchy; no real person
or key is in it. It needs no rewriting when its certificates age: the
warm-up verifies it at an hour after the root was made.

Run from the repository's root: ``.venv/bin/python scripts/make_warmup_sample.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from cryptography.hazmat.primitives import serialization

    from signing.verification.warm import SAMPLE_PDF, SAMPLE_ROOT, warm_up
    from tests.support.signing import embedded_services
    from tests.support.verification import signed_contract

    with tempfile.TemporaryDirectory() as tmp, embedded_services(Path(tmp) / "home", "5a" * 32) as services:
        pdf = signed_contract(services, "B-LT")[0]
        root = services.hierarchy.chain("national")[-1].public_bytes(serialization.Encoding.DER)
    SAMPLE_PDF.write_bytes(pdf)
    SAMPLE_ROOT.write_bytes(root)
    print(f"{SAMPLE_PDF.relative_to(ROOT)}: {len(pdf)} bytes; {SAMPLE_ROOT.relative_to(ROOT)}: {len(root)} bytes; "
          f"the warm-up's verdict: {warm_up()}")


if __name__ == "__main__":
    main()
