"""A tenant's seal (issue 15): what finding and checking each tenant's own seal costs a seal signature.

Ours: ``SigningService.seal_detached(tenant, content)`` (signing/requests/sealing.py), what seals
each evidence report: the tenant read and checked active, its seal certificate read and checked
valid in the registry, the seal's own signer, then the detached CMS with our TSA's time-stamp.
Baseline: the same CMS over the same content by the same signer and TSA, with the certificate and
chain already in hand (no registry read): what the installation's single seal cost before.
Both on an embedded home (SQLite, software keys, P-256 seal). Rounds are interleaved and the median
round of each reported. Prints one JSON line.
"""

from __future__ import annotations

import argparse
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
from signing.pades.signed_data import SignerIdentity, digest, signature_time_stamp  # noqa: E402
from signing.tenants import NewTenant  # noqa: E402


def run(seconds: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix="qoltanba-bench-"))
    svc = Services.build(Settings(home=home, master_key=secrets.token_hex(32)))
    svc.migrate()
    svc.bootstrap.initialise()
    svc.tenants.create("bench", NewTenant(name='ТОО "МФО Бенч"', bin="210340000013", code="bench"))
    signing = svc.signing
    with svc.registry.transaction(readonly=True) as tx:
        ready = svc.tenant_seals.ready(svc.tenant_seals.find(tx, "bench"))
    identity = SignerIdentity(ready.certificate, ready.chain)
    content = b'{"evidence": "a signing request\'s record, about 2 KB"}' * 40

    def baseline_once() -> None:
        attributes = identity.signed_attributes(digest(identity.hash_name, content))
        signature = ready.signer.sign(attributes, identity.hash_name)
        token = signing.engine.time_stamp_token(signature, identity.hash_name)
        identity.signed_data(attributes, signature, (signature_time_stamp(token),))

    def ours_once() -> None:
        signing.seal_detached("bench", content)

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
    return {"name": "tenant seal, detached CMS (P-256, TSA)", "value": round(ours, 1), "unit": "signatures/s",
            "baseline": round(base, 1), "ratio": round(ours / base, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(json.dumps(run(args.seconds)), flush=True)


if __name__ == "__main__":
    main()
