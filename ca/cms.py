"""Verifying a CMS SignedData (RFC 5652): which bytes were signed, and by whom.

A holder applies for revocation by sending the application signed with their
own EDS as a CMS signature (DOMAIN flow 2, "EDS-signed document"). This module
answers two questions only: is the signature intact, and which carried
certificate made it. Whether that certificate is trusted, current and
unrevoked is the caller's business: it looks the signer up in the registry.

Parsing is asn1crypto's. The integrity check itself is pyHanko's
``validate_sig_integrity`` (synchronous, no trust decisions), which also
enforces the ESS signing-certificate attribute (RFC 5035) and CMS algorithm
protection (RFC 6211) when present. Before calling it we check the things we
want to report in our own words, and we pass it ``SIGNATURE_VERIFIER`` (ca/cms_algorithms.py), the
one place that decides which signature algorithms we accept: RSA, ECDSA and
the Kazakh GOST algorithms (DOMAIN.md KZ-5), the latter checked by
``keys.gost.GOST_SIGNATURE_VALIDATOR``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from pyhanko.sign.general import MultivaluedAttributeError, NonexistentAttributeError, find_unique_cms_attribute
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_sig_integrity

from ca.cms_algorithms import (
    DIGESTS,
    SIGNATURE_VERIFIER,
    CMSVerificationError,
    signer_digest_name,
    signer_mechanism,
    digest_algorithm_accepted,
    signature_algorithm_name,
)
from keys.gost import oids as gost

__all__ = ["CMSVerificationError", "SIGNATURE_VERIFIER", "SignedDocument", "digest_algorithm_accepted",
           "signature_algorithm_name", "verify_signed_document"]


@dataclass(frozen=True)
class SignedDocument:
    content: bytes
    signer: x509.Certificate
    certificates: tuple[x509.Certificate, ...]
    signing_time: datetime | None
    digest_algorithm: str


# --- reading the input --------------------------------------------------------

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_PEM_LABELS = {b"CMS", b"PKCS7"}


def _der(data: bytes) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CMSVerificationError("the signature must be given as bytes")
    data = bytes(data)
    # DER starts with a SEQUENCE tag (0x30); base64 of DER starts with "M", so
    # the two cannot be confused, and DER is not stripped (0x20 may end it).
    if data[:1] == b"\x30":
        return data
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        match = _PEM.fullmatch(text)
        if match is None or match.group(1) not in _PEM_LABELS:
            raise CMSVerificationError("the PEM data is not a single CMS or PKCS7 block")
        text = match.group(2)
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CMSVerificationError("the signature is neither DER, PEM nor base64") from None


def _signed_data(der: bytes) -> cms.SignedData:
    info = cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != "signed_data":
        raise CMSVerificationError("the data is not a CMS SignedData")
    return info["content"]


def _content(signed_data: cms.SignedData, detached: bytes | None) -> bytes:
    encapsulated = signed_data["encap_content_info"]["content"]
    if isinstance(encapsulated, core.Void):
        if detached is None:
            raise CMSVerificationError("the signature is detached and no content was given to check it against")
        return bytes(detached)
    if detached is not None:
        raise CMSVerificationError("the signature carries its own content, so no detached content may be given")
    # RFC 5652 §5.2: eContent is an OCTET STRING. (PKCS #7 allowed any type
    # there; asn1crypto reads a version 1 SignedData that way, so check.)
    if not isinstance(encapsulated, (core.OctetString, core.ParsableOctetString)):
        raise CMSVerificationError("the encapsulated content is not an OCTET STRING")
    # bytes() joins the chunks of a BER constructed OCTET STRING (openssl streams those).
    return bytes(encapsulated)


def _certificates(signed_data: cms.SignedData) -> list[tuple[asn1_x509.Certificate, x509.Certificate]]:
    pairs = []
    # Attribute and "other" certificate choices cannot sign, so they are skipped.
    for choice in signed_data["certificates"] or ():
        if choice.name != "certificate":
            continue
        der = choice.chosen.dump()
        try:
            pairs.append((choice.chosen, x509.load_der_x509_certificate(der)))
        except (ValueError, x509.InvalidVersion):
            raise CMSVerificationError("a certificate carried in the signature cannot be read") from None
    return pairs


def _signer(
    signer_info: cms.SignerInfo, certificates: list[tuple[asn1_x509.Certificate, x509.Certificate]]
) -> tuple[asn1_x509.Certificate, x509.Certificate]:
    # RFC 5652 §5.3: the sid names the signer's certificate by issuer and
    # serial number or by its subjectKeyIdentifier extension.
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer, serial = sid.chosen["issuer"], sid.chosen["serial_number"].native

        def matches(cert: asn1_x509.Certificate) -> bool:
            return cert.serial_number == serial and cert.issuer == issuer
    else:
        key_id = sid.chosen.native

        def matches(cert: asn1_x509.Certificate) -> bool:
            return cert.key_identifier == key_id

    # Keyed by encoding, so the same certificate carried twice is one match.
    found = {asn1.dump(): (asn1, crypto) for asn1, crypto in certificates if matches(asn1)}
    if not found:
        raise CMSVerificationError("the signer's certificate is not among the certificates carried in the signature")
    if len(found) > 1:
        raise CMSVerificationError("more than one carried certificate matches the signer identifier")
    return next(iter(found.values()))


# --- the signature --------------------------------------------------------------


def _unique_attribute(signed_attrs: cms.CMSAttributes, name: str, label: str) -> object | None:
    try:
        return find_unique_cms_attribute(signed_attrs, name)
    except NonexistentAttributeError:
        return None
    except MultivaluedAttributeError:
        # RFC 5652 §11: content-type, message-digest and signing-time are single-valued.
        raise CMSVerificationError(f"the {label} attribute must have exactly one value") from None


def _check_signed_attributes(signer_info: cms.SignerInfo, content_type: core.ObjectIdentifier) -> None:
    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        # RFC 5652 §5.3: signed attributes may be left out only for id-data content.
        if content_type.native != "data":
            raise CMSVerificationError("a signature over content other than id-data must have signed attributes")
        return
    # RFC 5652 §5.3: with signed attributes, content-type and message-digest must be there.
    attested = _unique_attribute(signed_attrs, "content_type", "content-type")
    if attested is None:
        raise CMSVerificationError("the signed attributes have no content-type attribute")
    if attested.dotted != content_type.dotted:
        raise CMSVerificationError("the content-type attribute does not match the signed content's type")
    if _unique_attribute(signed_attrs, "message_digest", "message-digest") is None:
        raise CMSVerificationError("the signed attributes have no message-digest attribute")


def _signing_time(signer_info: cms.SignerInfo) -> datetime | None:
    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        return None
    value = _unique_attribute(signed_attrs, "signing_time", "signing-time")
    if value is None:
        return None
    moment = value.native
    # asn1crypto returns its own extended_datetime for year 0, which no real signature has.
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise CMSVerificationError("the signing-time attribute is not a valid time")
    return moment.astimezone(timezone.utc)


def _check_signature(
    signer_info: cms.SignerInfo, signer: asn1_x509.Certificate, content_type: str, digest: bytes
) -> None:
    try:
        intact, valid = validate_sig_integrity(signer_info, signer, content_type, digest, sig_validator=SIGNATURE_VERIFIER)
    except SignatureValidationError as exc:
        # What is left for pyHanko to refuse: a signing-certificate attribute
        # naming another certificate (RFC 5035) or an algorithm-protection
        # attribute contradicting the algorithms used (RFC 6211).
        raise CMSVerificationError(
            f"the signed attributes contradict the signature ({exc.failure_message.rstrip('.')})"
        ) from None
    if not intact:
        raise CMSVerificationError("the signature does not match the document")
    if not valid:
        raise CMSVerificationError("the signature does not match the signed attributes")


# Everything asn1crypto, cryptography and pyHanko raise for malformed input that
# is not one of our own checks. asn1crypto parses lazily, so these can surface
# anywhere while reading the structure, not only in load().
_MALFORMED = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, UnsupportedAlgorithm)


def verify_signed_document(data: bytes, *, detached_content: bytes | None = None) -> SignedDocument:
    """The signed bytes and the signer's certificate of a CMS SignedData with one signer.

    ``data`` is DER, PEM (``CMS`` or ``PKCS7``) or base64 of DER. Raises
    ``CMSVerificationError`` for anything that is not an intact signature by
    one of the carried certificates; it does not validate the certificate.
    """
    der = _der(data)
    try:
        return _verify(_signed_data(der), detached_content)
    except CMSVerificationError:
        raise
    except _MALFORMED:
        raise CMSVerificationError("the signature is not a well-formed CMS SignedData") from None


def _verify(signed_data: cms.SignedData, detached_content: bytes | None) -> SignedDocument:
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise CMSVerificationError(f"the signature must have exactly one signer, not {len(signer_infos)}")
    signer_info = signer_infos[0]
    digest_name = signer_digest_name(signer_info)
    mechanism = signer_mechanism(signer_info, digest_name)
    content = _content(signed_data, detached_content)
    certificates = _certificates(signed_data)
    signer_asn1, signer = _signer(signer_info, certificates)
    key_algorithm = signer_asn1.public_key.algorithm
    if key_algorithm not in mechanism.key_algorithms:
        raise CMSVerificationError(f"the signer's {key_algorithm} key does not fit the {mechanism.name} algorithm")
    content_type = signed_data["encap_content_info"]["content_type"]
    _check_signed_attributes(signer_info, content_type)
    # Without signed attributes pyHanko verifies the signature over this
    # digest (prehashed), which is the same as over the content (RFC 5652 §5.4).
    digest = DIGESTS[digest_name](content).digest()
    _check_signature(signer_info, signer_asn1, content_type.native, digest)
    return SignedDocument(
        content=content,
        signer=signer,
        certificates=tuple(crypto for _, crypto in certificates),
        signing_time=_signing_time(signer_info),
        digest_algorithm=digest_name,
    )
