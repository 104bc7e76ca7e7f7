"""pyHanko time-stamps a PDF through our TSA in process, and pyHanko's validator judges it.

``InProcessTimeStamper`` hands pyHanko's queries to ``TimeStampAuthority``
without HTTP; the document time-stamp pyHanko embeds must validate with our
root CA as the only trust anchor.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import PdfTimeStamper
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.validation import validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from ca.tsa import TimeStampAuthority, TSAPolicy
from signing.pades.timestamps import InProcessTimeStamper

pytestmark = pytest.mark.interop


def _small_pdf() -> bytes:
    writer = PdfFileWriter()
    writer.insert_page(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Page"),
        pdf_name("/MediaBox"): generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 595, 842)]),
        pdf_name("/Resources"): generic.DictionaryObject(),
    }))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _asn1(certificate) -> asn1_x509.Certificate:  # noqa: ANN001 - a cryptography certificate
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _timestamp(stamper: InProcessTimeStamper) -> bytes:
    out = PdfTimeStamper(stamper).timestamp_pdf(IncrementalPdfFileWriter(io.BytesIO(_small_pdf())), "sha256")
    return out.getvalue()


def test_pyhanko_document_timestamp_validates_against_our_root(services):
    stamped = _timestamp(InProcessTimeStamper(services.tsa))
    signatures = PdfFileReader(io.BytesIO(stamped)).embedded_signatures
    assert len(signatures) == 1
    root, national = services.hierarchy.chain("national")[::-1]
    # Our certificates name live CRL and OCSP addresses; nothing serves them
    # here, so revocation is soft-fail and nothing is fetched.
    context = ValidationContext(trust_roots=[_asn1(root)], other_certs=[_asn1(national)], allow_fetching=False)
    status = validate_pdf_timestamp(signatures[0], validation_context=context)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.timestamp is not None
    assert abs(status.timestamp - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)
    assert status.signing_cert.subject == _asn1(services.tsa.certificate).subject


def test_pyhanko_sees_a_refusal_as_a_timestamp_request_error(services):
    # A TSA that takes SHA-512 imprints only refuses pyHanko's SHA-256 query.
    sha512_only = TimeStampAuthority(services.registry, services.tsa_signer, services.clock, policy=TSAPolicy(hash_algorithms=frozenset({"sha512"})))
    with pytest.raises(TimestampRequestError, match="badAlg"):
        _timestamp(InProcessTimeStamper(sha512_only))
