"""Seconds to encode and sign a CRL of a million entries: ca/crl.py against asn1crypto.

Ours: ``ca.crl.sign_crl`` with an EC P-256 key of the software backend,
TBSCertList encoding, signing (SHA-256 over the whole TBS) and assembly;
best of three runs. Baseline: asn1crypto's ``crl.CertificateList`` built from
the same entries, dumped, signed with the same key and dumped again, once
(on this machine ~100 s for the issue's shape, ~6 min for ours). The baseline's TBSCertList is checked to be
byte-for-byte ours.

Two shapes of entries, generated in revocation order as the registry hands
them over (RevocationRepository.crl_entries orders by sequence):
- ours (the headline): 159-bit serials as ca.issuance.new_serial() makes
  them, revocations spread over three years, a reason code on half the entries;
- issue: 64-bit random serials and no reason codes, ~28 octets an entry,
  the shape of the issue's "about 28 MB".
The last line is JSON: ``value`` is our seconds for the headline shape.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asn1crypto import algos as asn1_algos  # noqa: E402
from asn1crypto import crl as asn1_crl  # noqa: E402
from asn1crypto import x509 as asn1_x509  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from ca.crl import REASON_CODES, CRLParams, encode_tbs_crl, sign_crl  # noqa: E402
from keys import KeyAlgorithm, KeySigner, SoftwareKeyBackend, signature_algorithm_der  # noqa: E402

THIS_UPDATE = dt.datetime(2026, 11, 21, 12, 0, 0, tzinfo=dt.timezone.utc)
REASONS = [REASON_CODES[r] for r in ("key-compromise", "affiliation-changed", "superseded",
                                     "cessation-of-operation", "privilege-withdrawn")]


def entries_ours(count: int, rng: random.Random) -> list[tuple[int, int, int | None]]:
    end = int(THIS_UPDATE.timestamp())
    offsets = sorted(rng.randrange(3 * 365 * 86400) for _ in range(count))
    start = end - 3 * 365 * 86400
    return [(secrets.randbits(159) | (1 << 158), start + offset, rng.choice(REASONS) if rng.random() < 0.5 else None)
            for offset in offsets]


def entries_issue(count: int, rng: random.Random) -> list[tuple[int, int, int | None]]:
    end = int(THIS_UPDATE.timestamp())
    offsets = sorted(rng.randrange(3 * 365 * 86400) for _ in range(count))
    start = end - 3 * 365 * 86400
    return [(secrets.randbits(64) or 1, start + offset, None) for offset in offsets]


def best_of(runs: int, fn) -> tuple[float, bytes]:  # noqa: ANN001
    best, result = float("inf"), b""
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def asn1crypto_crl(backend: SoftwareKeyBackend, handle: str, params: CRLParams, entries: list) -> tuple[bytes, bytes]:
    """(TBS, CRL) through asn1crypto; same fields as ours.

    The TBS is dumped once and the outer structure built from those bytes:
    handing asn1crypto the TbsCertList object instead makes it serialise
    every entry again.
    """
    names = {code: name.replace("-", "_") for name, code in REASON_CODES.items()}
    sig_alg = asn1_algos.SignedDigestAlgorithm.load(signature_algorithm_der(KeyAlgorithm.EC_P256, "sha256"))
    revoked = []
    for serial, revoked_at, reason in entries:
        entry = {"user_certificate": serial,
                 "revocation_date": {"utc_time": dt.datetime.fromtimestamp(revoked_at, dt.timezone.utc)}}
        if reason:
            entry["crl_entry_extensions"] = [{"extn_id": "crl_reason", "extn_value": names[reason]}]
        revoked.append(entry)
    tbs_der = asn1_crl.TbsCertList({
        "version": "v2", "signature": sig_alg, "issuer": asn1_x509.Name.load(params.issuer_name_der),
        "this_update": {"utc_time": params.this_update}, "next_update": {"utc_time": params.next_update},
        "revoked_certificates": revoked,
        "crl_extensions": [
            {"extn_id": "authority_key_identifier",
             "extn_value": {"key_identifier": params.authority_key_identifier}},
            {"extn_id": "crl_number", "extn_value": params.crl_number},
            {"extn_id": "freshest_crl", "extn_value": [{"distribution_point": {"full_name": [
                asn1_x509.GeneralName(name="uniform_resource_identifier", value=params.freshest_crl_url)]}}]},
        ],
    }).dump()
    signature = backend.sign(handle, tbs_der, "sha256")
    crl = asn1_crl.CertificateList({"tbs_cert_list": asn1_crl.TbsCertList.load(tbs_der),
                                    "signature_algorithm": sig_alg, "signature": signature})
    return tbs_der, crl.dump()


def time_baseline(backend: SoftwareKeyBackend, handle: str, params: CRLParams, entries: list) -> float:
    gc.collect()
    start = time.perf_counter()
    tbs_theirs, der_theirs = asn1crypto_crl(backend, handle, params, entries)
    seconds = time.perf_counter() - start
    same = tbs_theirs == encode_tbs_crl(params, entries, signature_algorithm_der(KeyAlgorithm.EC_P256, "sha256"))
    print(f"  asn1crypto, same entries: {len(der_theirs) / 1e6:.1f} MB, {seconds:.1f} s (once); "
          f"TBSCertList identical to ours: {same}", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", choices=["ours", "issue", "both", "none"], default="ours",
                        help="which shapes asn1crypto encodes too (1M entries: ours ~6 min, issue ~2 min)")
    args = parser.parse_args()
    rng = random.Random(5280)

    backend = SoftwareKeyBackend(Path(tempfile.mkdtemp(prefix="qoltanba-bench-")) / "keys", secrets.token_bytes(32))
    handle = backend.generate(KeyAlgorithm.EC_P256, "bench CRL CA").handle
    ski = x509.SubjectKeyIdentifier.from_public_key(backend.public_key(handle))
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Qoltanba Benchmark CA")])
    params = CRLParams(issuer_name_der=name.public_bytes(), authority_key_identifier=ski.digest,
                       this_update=THIS_UPDATE, next_update=THIS_UPDATE + dt.timedelta(days=1),
                       crl_number=1000, freshest_crl_url="http://pki.example.kz/crl/bench-delta.crl")
    count = args.entries
    sig_alg = signature_algorithm_der(KeyAlgorithm.EC_P256, "sha256")

    issue = entries_issue(count, rng)
    seconds, der = best_of(args.runs, lambda: sign_crl(KeySigner(backend, handle), params, issue))
    print(f"issue shape (64-bit serials, no reasons): {count} entries, {len(der) / 1e6:.1f} MB, "
          f"ours {seconds:.3f} s (best of {args.runs})", flush=True)
    if args.baseline in ("issue", "both"):
        time_baseline(backend, handle, params, issue)
    del issue, der

    ours = entries_ours(count, rng)
    with_reason = sum(1 for e in ours if e[2] is not None)
    seconds, der = best_of(args.runs, lambda: sign_crl(KeySigner(backend, handle), params, ours))
    encode_only, _ = best_of(args.runs, lambda: encode_tbs_crl(params, ours, sig_alg))
    print(f"our shape (159-bit serials, {with_reason} with a reason code): {count} entries, "
          f"{len(der) / 1e6:.1f} MB, ours {seconds:.3f} s (encoding alone {encode_only:.3f} s; "
          f"best of {args.runs})", flush=True)
    assert len(x509.load_der_x509_crl(der)) == count
    result = {"name": "crl-1m" if count == 1_000_000 else f"crl-{count}", "value": round(seconds, 3), "unit": "s"}
    if args.baseline in ("ours", "both"):
        baseline = time_baseline(backend, handle, params, ours)
        result.update(baseline=round(baseline, 3), ratio=round(baseline / seconds, 1))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
