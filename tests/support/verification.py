"""Set-ups for verification tests: signed contracts in every state a verifier meets.

A contract is signed with the service's own helpers (tests/support/signing.py);
the spoilers change one thing each: a byte, a page added after the seal, a
signer revoked before signing. CMS signatures are made with our own CMS
builder (signing/pades/signed_data.py), detached or with the content attached.
"""

from __future__ import annotations

import io

from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.pades.engine import BackendKey
from signing.pades import Level
from signing.requests.service import CLIENT_FIELD
from signing.pades.signed_data import SignerIdentity, digest
from signing.verification import Verifier
from signing.verification.context import TrustAnchors
from tests.support.signing import TENANT, authorise, client_with_held_key, latest_pdf, sign_client_and_seal, upload


def anchors_of(services) -> TrustAnchors:
    root = services.hierarchy.chain("national")[-1]
    return TrustAnchors.from_der([root.public_bytes(serialization.Encoding.DER)])


def verifier_of(services) -> Verifier:
    return Verifier(anchors_of(services), clock=services.clock)


def signed_contract(services, level: str = "B-LT", *, pages: int = 2):
    """(final PDF, client, document view) of a contract the client signed and the MFO sealed."""
    client = client_with_held_key(services)
    document = upload(services, client.iin, pages=pages)
    sign_client_and_seal(services, client, document.id, level=level)
    return latest_pdf(services, document.id), client, document


def client_signed(services, client, document_id: str, level: str = "B-LT") -> bytes:
    auth = authorise(services, document_id, client.serial)
    services.signing.sign_with_client_key("mfo-backend", TENANT, document_id, authorisation=auth.id, level=level)
    return latest_pdf(services, document_id)


def sign_with_revoked_certificate(services, client, pdf: bytes, document_id: str, level: str = "B-LT") -> bytes:
    """What the service refuses to do (its registry knows the revocation), done with the engine directly.

    The revocation data embedded for B-LT is our responder's answer at
    signing time: "revoked", with the revocation time.
    """
    chain = tuple(services.hierarchy.chain("national"))
    job = services.signing.job_for(client.certificate, chain, level=Level(level), field_name=CLIENT_FIELD, index=0,
                                   document_id=document_id, role="Client")
    return services.signing_engine.sign(pdf, job, BackendKey(services.backend, client.key_handle))


def tampered(pdf: bytes, marker: bytes = b"Microcredit contract") -> bytes:
    """One byte changed inside the signed content ('M' becomes 'm')."""
    data = bytearray(pdf)
    data[data.index(marker)] ^= 0x20
    return bytes(data)


def with_page_added(pdf: bytes) -> bytes:
    """An incremental update appending a blank page: what a forger would do after the seal."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    content = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 770 Td (Extra terms) Tj ET"))
    writer.insert_page(generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Page"),
        generic.pdf_name("/MediaBox"): generic.ArrayObject([generic.NumberObject(x) for x in (0, 0, 595, 842)]),
        generic.pdf_name("/Contents"): content}))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def our_cms(key, certificate, chain, content: bytes, *, attached: bool = False) -> bytes:
    """A CMS SignedData over ``content`` built by signing/pades/signed_data.py (detached, or with eContent added).

    The hash is the signer's: SHA-256, or for a GOST key its Streebog (DOMAIN.md KZ-5).
    """
    identity = SignerIdentity(certificate, tuple(chain))
    attributes = identity.signed_attributes(digest(identity.hash_name, content))
    der = identity.signed_data(attributes, key.sign(attributes, identity.hash_name))
    if not attached:
        return der
    info = asn1_cms.ContentInfo.load(der)
    info["content"]["encap_content_info"] = {"content_type": "data", "content": content}
    return info.dump()


def gost_cms(certificate_der: bytes, content: bytes) -> bytes:
    """A CMS in the shape NCANode gives for GOST R 34.10-2015 (512): attached content, the NCA's OIDs.

    The message digest and the signature value are random: a forgery, which
    the report must call broken (HASH_FAILURE) now that GOST is checked.
    """
    import os

    from asn1crypto import x509 as asn1_x509

    cert = asn1_x509.Certificate.load(certificate_der)
    digest, mechanism = "1.2.398.3.10.1.3.3", "1.2.398.3.10.1.1.2.3.2"   # DOMAIN.md KZ-5
    attributes = asn1_cms.CMSAttributes([{"type": "content_type", "values": ["data"]},
                                         {"type": "message_digest", "values": [os.urandom(64)]}])
    signer = asn1_cms.SignerInfo({
        "version": "v1", "digest_algorithm": {"algorithm": digest}, "signed_attrs": attributes,
        "sid": asn1_cms.SignerIdentifier({"issuer_and_serial_number": {"issuer": cert.issuer,
                                                                        "serial_number": cert.serial_number}}),
        "signature_algorithm": {"algorithm": mechanism}, "signature": os.urandom(128)})
    signed = asn1_cms.SignedData({"version": "v1", "digest_algorithms": [{"algorithm": digest}],
                                  "encap_content_info": {"content_type": "data", "content": content},
                                  "certificates": [cert], "signer_infos": [signer]})
    return asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


__all__ = ["gost_cms", "anchors_of", "client_signed", "our_cms", "sign_with_revoked_certificate", "signed_contract", "tampered",
           "verifier_of", "with_page_added"]
