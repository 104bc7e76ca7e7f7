"""Certificates issued per second through the service layer, against raw `cryptography`.

Ours: ``Issuance.issue`` (ca/issuance.py) on an embedded home (SQLite, software
keys): subject checks, profile, build, sign, registry row, issuance-journal
row and audit entry, one committed transaction per certificate.
Baseline: ``cryptography``'s CertificateBuilder with the same CA key and the
same extensions, build and sign only, in the same process and run.
Prints one JSON line per issuing-key algorithm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from api.wiring import Services  # noqa: E402
from api.settings import Settings  # noqa: E402
from ca.issuance import IssueRequest, KeySource, new_serial  # noqa: E402
from ca.identity import make_test_iin  # noqa: E402
from ca.profiles import PROFILES  # noqa: E402
from ca.subject import SubjectData, build_name  # noqa: E402
from keys import KeyAlgorithm, hash_for  # noqa: E402


def iins(count: int) -> list[str]:
    result, serial = [], 0
    while len(result) < count:
        serial += 1
        try:
            result.append(make_test_iin(dt.date(1980, 1, 1) + dt.timedelta(days=serial // 9000),
                                        "M", serial % 9000))
        except ValueError:
            continue
    return result


def run(algorithm: KeyAlgorithm, seconds: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix="qoltanba-bench-"))
    svc = Services.build(Settings(home=home, ca_algorithm=algorithm, master_key=secrets.token_hex(32)))
    svc.migrate()
    svc.bootstrap.initialise()
    issuance = svc.issuance
    ca = svc.hierarchy.issuing_ca("national")
    profile = PROFILES["individual-sign"]
    holder_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    people = iins(200)
    subjects = [SubjectData(surname="Тестов", given_name="Тест", patronymic="Тестович", iin=i) for i in people]

    # Baseline: the same certificate, built and signed by cryptography alone.
    private_key = svc.backend._private_key(ca.key_handle)  # noqa: SLF001 - the benchmark needs the raw key
    hash_alg = hash_for(algorithm)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def raw_once(i: int) -> None:
        builder = issuance.issuer.build(ca=ca, profile=profile, subject=build_name(profile, subjects[i % 200]),
                                        public_key=holder_key, serial=new_serial(), not_before=now,
                                        not_after=now + dt.timedelta(days=365))
        builder.sign(private_key, hash_alg)

    def ours_once(i: int) -> None:
        issuance.issue(IssueRequest(centre="national", profile="individual-sign", subject=subjects[i % 200],
                                    key=KeySource(csr=b"verified-at-submission"), actor="bench"),
                       public_key=holder_key)

    def timed(fn, seconds_each: float) -> tuple[int, float, float]:  # noqa: ANN001
        count, start, cpu = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - start < seconds_each:
            for _ in range(25):
                fn(count)
                count += 1
        return count, time.perf_counter() - start, time.process_time() - cpu

    for i in range(200):   # warm-up, alike for each
        raw_once(i)
        ours_once(i)
    # Interleave short rounds of both, the order alternated, so that load from elsewhere on the machine falls on
    # both alike; report the median round of each. CPU time per certificate as well: what the other processes'
    # load disturbs least.
    rounds = max(9, int(seconds * 2))
    raw_rates, our_rates, raw_cpu, our_cpu = [], [], [], []
    for number in range(rounds):
        sides = ((raw_once, raw_rates, raw_cpu), (ours_once, our_rates, our_cpu))
        for fn, rates, cpus in sides if number % 2 == 0 else sides[::-1]:
            n, t, c = timed(fn, seconds / rounds / 2)
            rates.append(n / t)
            cpus.append(c / n)
    raw, ours = statistics.median(raw_rates), statistics.median(our_rates)
    raw_us, our_us = statistics.median(raw_cpu) * 1e6, statistics.median(our_cpu) * 1e6
    svc.close()
    cpu_line = {"name": f"issue {algorithm.value}, CPU time per certificate", "value": round(our_us, 1),
                "unit": "µs", "baseline": round(raw_us, 1), "ratio": round(raw_us / our_us, 3)}
    print(json.dumps(cpu_line, ensure_ascii=False), flush=True)
    return {"name": f"issue {algorithm.value}", "value": round(ours, 1), "unit": "certificates/s",
            "baseline": round(raw, 1), "ratio": round(ours / raw, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    for algorithm in (KeyAlgorithm.EC_P256, KeyAlgorithm.RSA_2048):
        print(json.dumps(run(algorithm, args.seconds)), flush=True)


if __name__ == "__main__":
    main()
