"""The CSC door (issue 19): what credentials/authorize plus signatures/signHash cost one hash signature.

Ours: ``CSCService.authorize`` then ``CSCService.sign_hash`` for one SHA-256 hash with a tenant's seal
(signing/requests/csc.py): the tenant checked active, the seal found, the document named checked the
tenant's, the activation row and its audit entry, then in a second unit of work the SAD's keyed hash
looked up and checked, the hash signed, the row spent and audited. Baseline: the same seal's signer
signing the same digest (``KeySigner.sign_digest``), no registry. Embedded home (SQLite, software keys,
P-256). Rounds interleaved, the median round of each reported. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.settings import Settings  # noqa: E402
from api.wiring import Services  # noqa: E402
from signing.requests.csc import Authorize, SignHash  # noqa: E402
from signing.requests.csc_credentials import Caller  # noqa: E402
from signing.tenants import NewTenant  # noqa: E402

ECDSA_SHA256, SHA256 = "1.2.840.10045.4.3.2", "2.16.840.1.101.3.4.2.1"


def run(seconds: float) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support import factories as f
    from tests.support.pdfs import contract_pdf

    home = Path(tempfile.mkdtemp(prefix="qoltanba-bench-"))
    svc = Services.build(Settings(home=home, master_key=secrets.token_hex(32)))
    svc.migrate()
    svc.bootstrap.initialise()
    svc.tenants.create("bench", NewTenant(name='ТОО "МФО Бенч"', bin="210340000013", code="bench"))
    document = svc.documents.upload("bench", "bench", contract_pdf(pages=1), f.loan_metadata(client_id_number=f.iin()))
    caller, credential = Caller("bench-backend", "bench"), "seal-bench"
    with svc.registry.transaction(readonly=True) as tx:
        signer = svc.tenant_seals.ready(svc.tenant_seals.find(tx, "bench")).signer
    csc, counter = svc.csc, iter(range(10**9))

    def digest() -> bytes:
        return hashlib.sha256(b"signed attributes %d" % next(counter)).digest()

    def baseline_once() -> None:
        signer.sign_digest(digest(), "sha256")

    def ours_once() -> None:
        hashes = [base64.b64encode(digest()).decode()]
        sad = csc.authorize(caller, Authorize(credential, 1, hashes, client_data=document.id)).sad
        csc.sign_hash(caller, SignHash(credential, sad, hashes, hash_algo=SHA256, sign_algo=ECDSA_SHA256))

    def timed(fn, seconds_each: float) -> tuple[int, float]:  # noqa: ANN001
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds_each:
            for _ in range(10):
                fn()
                count += 1
        return count, time.perf_counter() - start

    for _ in range(20):
        baseline_once()
        ours_once()
    rounds = max(3, int(seconds))
    base_rates, our_rates = [], []
    for _ in range(rounds):
        n, t = timed(baseline_once, seconds / rounds / 2)
        base_rates.append(n / t)
        n, t = timed(ours_once, seconds / rounds / 2)
        our_rates.append(n / t)
    base, ours = statistics.median(base_rates), statistics.median(our_rates)
    svc.close()
    return {"name": "CSC authorize + signHash, one hash, tenant seal (P-256)", "value": round(ours, 1),
            "unit": "signatures/s", "baseline": round(base, 1), "ratio": round(ours / base, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(json.dumps(run(args.seconds)), flush=True)


if __name__ == "__main__":
    main()
