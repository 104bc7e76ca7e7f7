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
want to report in our own words, and we pass it ``_SignatureVerifier``, the
one place that decides which signature algorithms we accept: RSA, ECDSA and
the Kazakh GOST algorithms (DOMAIN.md KZ-5), the latter checked by
``keys.gost.GOST_SIGNATURE_VALIDATOR``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from asn1crypto import algos, cms, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from pyhanko.sign.general import MultivaluedAttributeError, NonexistentAttributeError, find_unique_cms_attribute
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_sig_integrity
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_SIGNATURE_VALIDATOR,
    DEFAULT_VALIDATION_CONTEXT,
    SignatureValidationContext,
    SignatureValidator,
)

from ca.errors import QoltanbaError
from keys.gost import GOST_SIGNATURE_VALIDATOR, new_gost_hash
from keys.gost import oids as gost

__all__ = ["CMSVerificationError", "SIGNATURE_VERIFIER", "SignedDocument", "digest_algorithm_accepted",
           "signature_algorithm_name", "verify_signed_document"]


class CMSVerificationError(QoltanbaError):
    """A CMS signature that cannot be accepted; the detail is one English sentence saying why."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid-signature", detail, [])


@dataclass(frozen=True)
class SignedDocument:
    content: bytes
    signer: x509.Certificate
    certificates: tuple[x509.Certificate, ...]
    signing_time: datetime | None
    digest_algorithm: str


# --- the algorithms we accept: the one place to extend ----------------------

# Digest algorithms by asn1crypto name. SHA-1 and MD5 are left out on purpose:
# a revocation application is a new signature, and RFC 5754 / RFC 8933 give no
# reason to accept a collision-prone digest for it.
_DIGESTS = {
    "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512,
    # DOMAIN.md KZ-5: ST RK GOST R 34.11-2015 under the NCA's OIDs and TC26's (RFC 6986),
    # and GOST 34.311-95 for the NCA's 2004 generation.
    "kz_streebog256": lambda data=b"": new_gost_hash("streebog256", data),
    "kz_streebog512": lambda data=b"": new_gost_hash("streebog512", data),
    "streebog256": lambda data=b"": new_gost_hash("streebog256", data),
    "streebog512": lambda data=b"": new_gost_hash("streebog512", data),
    "kz_gost34311_95": lambda data=b"": new_gost_hash("gost34311", data),
}


@dataclass(frozen=True)
class _Mechanism:
    name: str
    key_algorithms: frozenset[str]  # asn1crypto PublicKeyInfo.algorithm values the mechanism fits
    digest: str | None  # the hash the OID fixes; None when it comes from digestAlgorithm or parameters
    verifier: SignatureValidator


_PSS = "1.2.840.113549.1.1.10"
_RSA = frozenset({"rsa"})
_EC = frozenset({"ec"})
_MECHANISMS = {
    # RFC 3370 §3.2: plain rsaEncryption takes its hash from digestAlgorithm.
    "1.2.840.113549.1.1.1": _Mechanism("rsaEncryption", _RSA, None, DEFAULT_SIGNATURE_VALIDATOR),
    # RFC 5754 §3.2.
    "1.2.840.113549.1.1.11": _Mechanism("sha256WithRSAEncryption", _RSA, "sha256", DEFAULT_SIGNATURE_VALIDATOR),
    "1.2.840.113549.1.1.12": _Mechanism("sha384WithRSAEncryption", _RSA, "sha384", DEFAULT_SIGNATURE_VALIDATOR),
    "1.2.840.113549.1.1.13": _Mechanism("sha512WithRSAEncryption", _RSA, "sha512", DEFAULT_SIGNATURE_VALIDATOR),
    # RFC 4056: the hash is in the parameters; a PSS-only key (RFC 4055 §1.2) is fine too.
    _PSS: _Mechanism("RSASSA-PSS", frozenset({"rsa", "rsassa_pss"}), None, DEFAULT_SIGNATURE_VALIDATOR),
    # RFC 5753 §2.1.1, RFC 5754 §3.3.
    "1.2.840.10045.4.3.2": _Mechanism("ecdsa-with-SHA256", _EC, "sha256", DEFAULT_SIGNATURE_VALIDATOR),
    "1.2.840.10045.4.3.3": _Mechanism("ecdsa-with-SHA384", _EC, "sha384", DEFAULT_SIGNATURE_VALIDATOR),
    "1.2.840.10045.4.3.4": _Mechanism("ecdsa-with-SHA512", _EC, "sha512", DEFAULT_SIGNATURE_VALIDATOR),
    # DOMAIN.md KZ-5: the NCA's GOST algorithms, each with the one digest its tools pair it with
    # (Kalkan, NCANode), and TC26's (RFC 9215) for GOST R 34.10-2012 keys.
    gost.KZ_GOST2015_512_SIGNATURE: _Mechanism("GOST R 34.10-2015 (512) with GOST R 34.11-2015",
                                               frozenset({"kz_gost3410_2015_512"}), "kz_streebog512",
                                               GOST_SIGNATURE_VALIDATOR),
    gost.KZ_GOST2015_256_SIGNATURE: _Mechanism("GOST R 34.10-2015 (256) with GOST R 34.11-2015",
                                               frozenset({"kz_gost3410_2015_256"}), "kz_streebog256",
                                               GOST_SIGNATURE_VALIDATOR),
    gost.KZ_GOST34310_2004_SIGNATURE: _Mechanism("GOST 34.310-2004 with GOST 34.311-95",
                                                 frozenset({"kz_gost34310_2004"}), "kz_gost34311_95",
                                                 GOST_SIGNATURE_VALIDATOR),
    gost.TC26_SIGNWITHDIGEST_512: _Mechanism("GOST R 34.10-2012 (512) with Streebog-512",
                                             frozenset({"gost3410_2012_512"}), "streebog512",
                                             GOST_SIGNATURE_VALIDATOR),
    gost.TC26_SIGNWITHDIGEST_256: _Mechanism("GOST R 34.10-2012 (256) with Streebog-256",
                                             frozenset({"gost3410_2012_256"}), "streebog256",
                                             GOST_SIGNATURE_VALIDATOR),
}


def _digest_name(signer_info: cms.SignerInfo) -> str:
    algorithm = signer_info["digest_algorithm"]["algorithm"]
    if algorithm.native not in _DIGESTS:
        raise CMSVerificationError(f"the digest algorithm {algorithm.dotted} is not supported")
    return algorithm.native


def _mechanism(signer_info: cms.SignerInfo, digest: str) -> _Mechanism:
    algorithm = signer_info["signature_algorithm"]
    oid = algorithm["algorithm"].dotted
    mechanism = _MECHANISMS.get(oid)
    if mechanism is None:
        raise CMSVerificationError(f"the signature algorithm {oid} is not supported")
    signature_digest = mechanism.digest
    if oid == _PSS:
        signature_digest = _pss_digest(algorithm["parameters"])
    # RFC 8933 §3: the content and the signed attributes are hashed with the
    # same algorithm, so a signature algorithm naming another hash is refused.
    if signature_digest is not None and signature_digest != digest:
        raise CMSVerificationError(
            f"the signature algorithm {mechanism.name} does not use the digest algorithm {digest}"
        )
    return mechanism


def _pss_digest(parameters: object) -> str:
    # RFC 4055 §3.1 recommends MGF1 with the message's hash; we accept only
    # that, so the hash pyHanko later reads from the parameters is one we know.
    if not isinstance(parameters, algos.RSASSAPSSParams):
        raise CMSVerificationError("the RSA-PSS signature has no parameters")
    digest = parameters["hash_algorithm"]["algorithm"].native
    mask = parameters["mask_gen_algorithm"]
    if mask["algorithm"].native != "mgf1" or mask["parameters"]["algorithm"].native != digest:
        raise CMSVerificationError("the RSA-PSS parameters use a mask generation other than MGF1 with the same hash")
    return digest


class _SignatureVerifier(SignatureValidator):
    """pyHanko's hook for the signature maths, routed through ``_MECHANISMS``."""

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: asn1_keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        # Revocation applications check the OID in _mechanism first; the
        # verification reports (signing/verification*.py) meet certificates,
        # OCSP responses and time-stamps of any issuer, and algorithms outside
        # the table go to pyHanko's default, which refuses what it cannot do.
        mechanism = _MECHANISMS.get(signature_algorithm["algorithm"].dotted)
        # The GOST validator hands everything that is not GOST to pyHanko's default;
        # it also reads a GOST signer info that names the key's OID instead of the signature's.
        verifier = mechanism.verifier if mechanism is not None else GOST_SIGNATURE_VALIDATOR
        try:
            verifier.validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            # cryptography raises these for a key it cannot load or a curve it
            # does not support; InvalidSignature passes through to pyHanko.
            raise CMSVerificationError("the signer's public key cannot be used to check the signature") from exc


def signature_algorithm_name(oid: str) -> str | None:
    """The name of a signature algorithm in our table, or None when we do not accept it."""
    mechanism = _MECHANISMS.get(oid)
    return mechanism.name if mechanism is not None else None


def digest_algorithm_accepted(name: str) -> bool:
    """Whether a digest algorithm (asn1crypto's name) is one we hash with."""
    return name in _DIGESTS


_VERIFIER = _SignatureVerifier()
# The same table for every signature a verification report checks (issue 6):
# adding GOST to _MECHANISMS adds it there too.
SIGNATURE_VERIFIER: SignatureValidator = _VERIFIER


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
        intact, valid = validate_sig_integrity(signer_info, signer, content_type, digest, sig_validator=_VERIFIER)
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
    digest_name = _digest_name(signer_info)
    mechanism = _mechanism(signer_info, digest_name)
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
    digest = _DIGESTS[digest_name](content).digest()
    _check_signature(signer_info, signer_asn1, content_type.native, digest)
    return SignedDocument(
        content=content,
        signer=signer,
        certificates=tuple(crypto for _, crypto in certificates),
        signing_time=_signing_time(signer_info),
        digest_algorithm=digest_name,
    )
