"""GOST-signed PDFs for tests: by pyHanko's PdfSigner with our GostSigner, and by our PAdES engine."""

from __future__ import annotations

import datetime as dt
import io

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from ca.clock import FrozenClock
from signing.pades.engine import PAdESSigner, SignatureJob
from signing.pades.gost_signer import GostSigner
from signing.pades import FieldPlan, Level
from signing.pades.signed_data import SignerIdentity
from tests.support.gost_pki import ISSUED_AT, to_crypto
from tests.support.pdfs import contract_pdf

SIGNED_AT = ISSUED_AT + dt.timedelta(days=30)


def pyhanko_signed_pdf(key, cert: asn1_x509.Certificate, chain=()) -> bytes:
    """A PAdES signature made entirely by pyHanko's PdfSigner, with our GostSigner for the key."""
    signer = GostSigner(key, cert, tuple(chain))
    meta = signers.PdfSignatureMetadata(field_name="Client-Signature", md_algorithm=signer.digest_algorithm,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    writer = IncrementalPdfFileWriter(io.BytesIO(contract_pdf(pages=1)))
    return signers.sign_pdf(writer, meta, signer=signer).getvalue()


def engine_signed_pdf(key, cert: asn1_x509.Certificate, chain=(), *, engine: PAdESSigner | None = None,
                      level: Level = Level.B_B) -> bytes:
    """Our own PAdES path: pyHanko lays out the field, signing/pades/signed_data.py builds the GOST CMS."""
    engine = engine or PAdESSigner(FrozenClock(SIGNED_AT))
    job = SignatureJob(SignerIdentity(to_crypto(cert), tuple(to_crypto(c) for c in chain)),
                       FieldPlan(name="Client-Signature"), level)
    return engine.sign(contract_pdf(pages=1), job, key)


__all__ = ["SIGNED_AT", "engine_signed_pdf", "pyhanko_signed_pdf"]
