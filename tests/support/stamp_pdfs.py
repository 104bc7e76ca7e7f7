"""Test material for the signature stamp: a plain A4 contract and a throwaway PKI.

The PDF is written with pyHanko's PdfFileWriter (Helvetica, one line of
text per page); the certificates are made with cryptography: a self-signed
root and end-entity P-256 certificates for signing, enough for pyHanko's
validator to trust the root and accept the signatures.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

A4 = (595, 842)


def contract_pdf(pages: int = 2, size: tuple[float, float] = A4) -> bytes:
    """A ``pages``-page PDF ("Loan contract, page N of M"), as a contract upload would be."""
    writer = PdfFileWriter(stream_xrefs=False)
    font = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica"), pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
    }))
    resources = generic.DictionaryObject({
        pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})})
    for number in range(1, pages + 1):
        text = f"Loan contract, page {number} of {pages}".encode("ascii")
        stream = writer.add_object(generic.StreamObject(
            stream_data=b"BT /F1 12 Tf 72 %d Td (%s) Tj ET" % (int(size[1]) - 72, text)))
        writer.insert_page(PageObject(contents=stream, media_box=(0, 0, *size), resources=resources))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class Holder:
    """A signer's key and certificate (cryptography objects)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


class ThrowawayCA:
    """A self-signed root that issues signing certificates on the spot."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.now = now or dt.datetime.now(dt.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "STAMP TEST ROOT"),
                          x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(self.now - dt.timedelta(days=1))
                   .not_valid_after(self.now + dt.timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        self.root = Holder(key, builder.sign(key, hashes.SHA256()))

    def issue(self, common_name: str, *, iin: str | None = None, bin_: str | None = None,
              organisation: str | None = None) -> Holder:
        """A signing certificate; the subject follows the NCA's shape (SERIALNUMBER=IIN…, OU=BIN…)."""
        key = ec.generate_private_key(ec.SECP256R1())
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if iin:
            attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"))
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"))
        if organisation:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
        if bin_:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin_}"))
        root_key = self.root.key
        builder = (x509.CertificateBuilder().subject_name(x509.Name(attributes))
                   .issuer_name(self.root.certificate.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(self.now - dt.timedelta(hours=1))
                   .not_valid_after(self.now + dt.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=False, crl_sign=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                                  critical=False))
        return Holder(key, builder.sign(root_key, hashes.SHA256()))
