"""PAdES signatures per second of a 2-page contract: ours against stock pyHanko, same run.

Ours: the service's signing engine (signing/pades/engine.py) with the key already
open, as the service holds it: pyHanko lays out the field and the visible
stamp, our pre-encoded CMS is assembled around one key operation. B-LT adds
a signature time-stamp from our TSA (in-process) and the chain's OCSP
responses in the DSS, from our responder (in-process, cached).

Baseline: stock pyHanko as the issue describes it: ``signers.sign_pdf`` with
``SimpleSigner.load`` from key and certificate files for every signature
(pyHanko re-parses the key and signs twice to estimate the size), no
stamp. For B-LT the same TSA and the same revocation answers are handed to
pyHanko (a ValidationContext with them, fetching off), so both do the same
cryptography and differ only in how they assemble it.

Same certificates and keys on both sides: RSA-2048 and EC P-256 holders
issued by our national CA. Prints one JSON line per level and algorithm,
named like ``sign B-B rsa2048``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asn1crypto import crl as asn1_crl  # noqa: E402
from asn1crypto import ocsp as asn1_ocsp  # noqa: E402
from asn1crypto import x509 as asn1_x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402

from api.wiring import Services  # noqa: E402
from api.settings import Settings  # noqa: E402
from ca.issuance import IssueRequest, KeySource  # noqa: E402
from ca.subject import SubjectData  # noqa: E402
from keys import CarrierKey  # noqa: E402
from signing.pades import Level  # noqa: E402
from tests.support import factories as f  # noqa: E402
from tests.support.pdfs import contract_pdf  # noqa: E402

PEM = serialization.Encoding.PEM


def _holder(services: Services, directory: Path, name: str, key) -> tuple[Path, Path, object]:
    csr = f.csr_pem(key=key)
    issued = services.issuance.issue(IssueRequest(
        centre="national", profile="individual-sign", actor="bench", key=KeySource(csr=csr),
        subject=SubjectData(surname="Тестов", given_name="Бенчмарк", iin=f.iin())))
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    cert_file.write_bytes(issued.certificate.public_bytes(PEM))
    return key_file, cert_file, issued.certificate


def run(level: Level, name: str, services: Services, directory: Path, key, seconds: float) -> dict:
    ours_once, stock_once = signers_of(level, name, services, directory, key)

    def rate(fn, budget: float) -> float:  # noqa: ANN001
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < budget:
            fn()
            count += 1
        return count / (time.perf_counter() - start)

    # Interleaved short rounds, so load from elsewhere falls on both alike.
    rounds = max(3, int(seconds))
    stock_rates, our_rates = [], []
    for _ in range(rounds):
        stock_rates.append(rate(stock_once, seconds / rounds / 2))
        our_rates.append(rate(ours_once, seconds / rounds / 2))
    ours, stock = statistics.median(our_rates), statistics.median(stock_rates)
    return {"name": f"sign {level.value} {name}", "value": round(ours, 1), "unit": "signatures/s",
            "baseline": round(stock, 1), "ratio": round(ours / stock, 2)}


def signers_of(level: Level, name: str, services: Services, directory: Path, key):  # noqa: ANN001, ANN201
    """(ours, stock): one call each signs the 2-page contract once at ``level``, ours and pyHanko's stock
    ``sign_pdf`` (benchmarks/load.py measures the stock one as its floor), both warmed up."""
    from signing.pades.timestamps import InProcessTimeStamper

    key_file, cert_file, certificate = _holder(services, directory, f"{name}-{level.value}", key)
    ca_chain = services.hierarchy.chain("national")
    chain_file = directory / "national-chain.pem"
    chain_file.write_bytes(b"".join(c.public_bytes(PEM) for c in ca_chain))
    pdf = contract_pdf(pages=2)
    signing = services.signing
    ours_key = CarrierKey(key)
    job = signing.job_for(certificate, tuple(ca_chain), level=level, field_name="Client", index=0,
                          document_id="bench", role="Client")

    def ours_once() -> bytes:
        return signing.engine.sign(pdf, job, ours_key)

    timestamper = InProcessTimeStamper(services.tsa)
    root = asn1_x509.Certificate.load(ca_chain[-1].public_bytes(serialization.Encoding.DER))
    if level.long_term:
        data = signing.engine.validation.collect([(certificate, *ca_chain), signing.engine.tsa_chain])
        context_args = dict(trust_roots=[root], allow_fetching=False,
                            ocsps=[asn1_ocsp.OCSPResponse.load(o) for o in data.ocsp_responses],
                            crls=[asn1_crl.CertificateList.load(c) for c in data.crls],
                            other_certs=[asn1_x509.Certificate.load(c) for c in data.certificates])

    def stock_once() -> bytes:
        signer = signers.SimpleSigner.load(str(key_file), str(cert_file), ca_chain_files=(str(chain_file),))
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        if level is Level.B_B:
            meta = signers.PdfSignatureMetadata(field_name="Client")
            return signers.sign_pdf(writer, meta, signer=signer).getvalue()
        meta = signers.PdfSignatureMetadata(field_name="Client", embed_validation_info=True,
                                            validation_context=ValidationContext(**context_args),
                                            subfilter=fields.SigSeedSubFilter.PADES)
        return signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper).getvalue()

    for _ in range(3):
        ours_once()
        stock_once()
    return ours_once, stock_once


def main() -> None:
    # pyHanko warns on every stock B-LT signature that fetching is off: the
    # revocation answers are handed to it, which is the point.
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        services = Services.build(Settings(home=directory / "home", base_url="http://127.0.0.1:8000"))
        services.migrate()
        services.bootstrap.initialise()
        keys = {"rsa2048": rsa.generate_private_key(65537, 2048), "p256": ec.generate_private_key(ec.SECP256R1())}
        for level in (Level.B_B, Level.B_LT):
            for name, key in keys.items():
                print(json.dumps(run(level, name, services, directory, key, args.seconds)), flush=True)
        services.close()


if __name__ == "__main__":
    main()
