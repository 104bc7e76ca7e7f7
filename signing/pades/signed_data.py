"""CMS SignedData for PAdES signatures, built straight from DER.

pyHanko builds the CMS with asn1crypto, which re-serialises every
certificate on every signature; on this machine that alone limits a 2-page
contract to about 40 RSA signatures a second. Everything that does not
change between signatures of one signer (its certificate, issuer and
serial, ESSCertIDv2, algorithm identifiers, the certificates field) is
encoded once in :class:`SignerIdentity`; a signature then costs a handful
of concatenations around the key operation.

GOST keys (ST RK GOST R 34.10-2015, DOMAIN.md KZ-5) get what the NCA's
own tools write: digest algorithm Streebog under the Kazakh OID
(1.2.398.3.10.1.3.2 / .3.3), signature algorithm the Kazakh GOST 2015 OID
with NULL parameters, and the signature value in the NCA's byte layout
(keys/gost/signature.py), which the backend already returns.

The structure follows ETSI EN 319 142-1 (PAdES baseline) over RFC 5652:
detached ``id-data`` content, signed attributes contentType, messageDigest,
signingCertificateV2 (RFC 5035) and CMSAlgorithmProtection (RFC 6211), no
signing-time attribute (the PDF's /M carries the claimed time), and the
signature time-stamp (RFC 3161 token) as an unsigned attribute for B-T.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from asn1crypto import algos
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as CryptographyUnsupported
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from keys import KeyAlgorithm, algorithm_of, normalise_hash_name, signature_algorithm_der
from keys.backend import GOST_HASHES
from keys.der import der_set, integer, octet_string, oid, read_tlv, sequence, tlv
from keys.gost import GostPublicKey, gost_digest, is_gost_key
from keys.gost import public_key as gost_public_key
from keys.gost.oids import KZ_STREEBOG256, KZ_STREEBOG512

SIGNED_DATA = "1.2.840.113549.1.7.2"
DATA = "1.2.840.113549.1.7.1"
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
CMS_ALGORITHM_PROTECTION = "1.2.840.113549.1.9.52"
SIGNATURE_TIME_STAMP = "1.2.840.113549.1.9.16.2.14"

DIGEST_OIDS = {
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
    # DOMAIN.md KZ-5: the NCA's own OIDs for ST RK GOST R 34.11-2015, as its tools write them.
    "streebog256": KZ_STREEBOG256,
    "streebog512": KZ_STREEBOG512,
}


def digest_algorithm_der(hash_name: str) -> bytes:
    """AlgorithmIdentifier of a hash; parameters absent as RFC 5754 §2 prefers."""
    name = normalise_hash_name(hash_name)
    try:
        return sequence(oid(DIGEST_OIDS[name]))
    except KeyError:
        raise ValueError(f"no digest algorithm identifier for {name}") from None


def pyhanko_digest_name(hash_name: str) -> str:
    """asn1crypto's (and so pyHanko's) name of the digest OID we write for ``hash_name``."""
    return algos.DigestAlgorithmId(DIGEST_OIDS[normalise_hash_name(hash_name)]).native


def digest(hash_name: str, data: bytes) -> bytes:
    """``data`` hashed with one of our hash names (SHA-2 or Streebog)."""
    name = normalise_hash_name(hash_name)
    if name in GOST_HASHES:
        return gost_digest(name, data)
    return hashlib.new(name, data).digest()


def certificate_public_key(certificate: x509.Certificate) -> PublicKeyTypes | GostPublicKey:
    """The certificate's public key; ``cryptography`` cannot read a GOST one, keys.gost does."""
    try:
        return certificate.public_key()
    except CryptographyUnsupported:
        info = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)).public_key
        if not is_gost_key(info):
            raise
        return gost_public_key(info)


def attribute(type_oid: str, *values: bytes) -> bytes:
    return sequence(oid(type_oid), der_set(*values))


def issuer_and_serial(certificate_der: bytes) -> tuple[bytes, bytes]:
    """The issuer Name exactly as encoded in the certificate, and the serial INTEGER.

    Taken from the certificate's own bytes rather than re-encoded, because
    verifiers match IssuerAndSerialNumber byte for byte.
    """
    _tag, start, _end = read_tlv(certificate_der)          # Certificate
    _tag, pos, tbs_end = read_tlv(certificate_der, start)  # TBSCertificate
    tag, _s, end = read_tlv(certificate_der, pos)
    if tag == 0xA0:                                         # [0] version
        pos = end
        tag, _s, end = read_tlv(certificate_der, pos)
    serial = certificate_der[pos:end]
    _tag, _s, pos = read_tlv(certificate_der, end)          # signature AlgorithmIdentifier
    _tag, _s, issuer_end = read_tlv(certificate_der, pos)
    return certificate_der[pos:issuer_end], serial


@dataclass(frozen=True)
class SignerIdentity:
    """A signer's certificate and chain with everything derived from them pre-encoded."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    hash_name: str | None = None  # None: SHA-256, or the Streebog a GOST key's size fixes
    algorithm: KeyAlgorithm = field(init=False)
    certificate_der: bytes = field(init=False, repr=False)
    _sid: bytes = field(init=False, repr=False)
    _ess: bytes = field(init=False, repr=False)
    _digest_alg: bytes = field(init=False, repr=False)
    _signature_alg: bytes = field(init=False, repr=False)
    _protection: bytes = field(init=False, repr=False)
    _certificates: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        setter = object.__setattr__
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        algorithm = algorithm_of(certificate_public_key(self.certificate))
        if self.hash_name is None:
            setter(self, "hash_name", algorithm.default_hash if algorithm.is_gost else "sha256")
        elif algorithm.is_gost and normalise_hash_name(self.hash_name) != algorithm.default_hash:
            # GOST R 34.10-2015 pairs each key size with its Streebog; the backend refuses another.
            raise ValueError(f"a {algorithm.value} key signs with {algorithm.default_hash}, not {self.hash_name}")
        issuer, serial = issuer_and_serial(der)
        digest_alg = digest_algorithm_der(self.hash_name)
        signature_alg = signature_algorithm_der(algorithm, self.hash_name)
        # ESSCertIDv2 with the default hash (SHA-256) leaves hashAlgorithm out;
        # issuerSerial names the issuer as a directoryName GeneralName.
        ess_cert_id = sequence(octet_string(hashlib.sha256(der).digest()),
                               sequence(sequence(tlv(0xA4, issuer)), serial))
        setter(self, "algorithm", algorithm)
        setter(self, "certificate_der", der)
        setter(self, "_sid", sequence(issuer, serial))
        setter(self, "_ess", attribute(SIGNING_CERTIFICATE_V2, sequence(sequence(ess_cert_id))))
        setter(self, "_digest_alg", digest_alg)
        setter(self, "_signature_alg", signature_alg)
        _tag, start, end = read_tlv(signature_alg)
        setter(self, "_protection", attribute(CMS_ALGORITHM_PROTECTION,
                                              sequence(digest_alg, tlv(0xA1, signature_alg[start:end]))))
        chain_der = [c.public_bytes(serialization.Encoding.DER) for c in self.chain]
        setter(self, "_certificates", tlv(0xA0, b"".join(sorted(set([der, *chain_der])))))

    def signed_attributes(self, document_digest: bytes) -> bytes:
        """The DER SET OF Attribute that the key signs (RFC 5652 §5.4)."""
        return der_set(attribute(CONTENT_TYPE, oid(DATA)),
                       attribute(MESSAGE_DIGEST, octet_string(document_digest)),
                       self._ess, self._protection)

    def signed_data(self, signed_attributes: bytes, signature: bytes,
                    unsigned_attributes: tuple[bytes, ...] = ()) -> bytes:
        """ContentInfo(SignedData) around one SignerInfo; detached content."""
        # In the SignerInfo the signed attributes are [0] IMPLICIT instead of SET.
        signed = b"\xa0" + signed_attributes[1:]
        unsigned = tlv(0xA1, b"".join(sorted(unsigned_attributes))) if unsigned_attributes else b""
        signer_info = sequence(integer(1), self._sid, self._digest_alg, signed, self._signature_alg,
                               octet_string(signature), unsigned)
        body = sequence(integer(1), der_set(self._digest_alg), sequence(oid(DATA)),
                        self._certificates, der_set(signer_info))
        return sequence(oid(SIGNED_DATA), tlv(0xA0, body))


def with_validation_data(content_info: bytes, certificates: tuple[bytes, ...], ocsp_responses: tuple[bytes, ...],
                         crls: tuple[bytes, ...]) -> bytes:
    """A SignedData with certificates, OCSP responses and CRLs added outside the signature (CAdES-B-LT).

    ETSI EN 319 122-1 §6.3 (B-LT): the certificate and revocation values
    may sit in ``SignedData.certificates`` and ``SignedData.crls``; OCSP
    responses go there as ``id-ri-ocsp-response`` (RFC 5940). Neither field
    is signed, so the signature and its time-stamp are unchanged.
    """
    from asn1crypto import cms as asn1_cms

    info = asn1_cms.ContentInfo.load(content_info)
    signed = info["content"]
    known = {c.chosen.dump() for c in signed["certificates"] or ()}
    added = [asn1_x509.Certificate.load(der) for der in certificates if der not in known]
    if added:
        signed["certificates"] = [*(c.chosen for c in signed["certificates"] or ()), *added]
    choices = [asn1_cms.RevocationInfoChoice({"crl": asn1_crl.CertificateList.load(der)}) for der in crls]
    choices += [asn1_cms.RevocationInfoChoice({"other": {"other_rev_info_format": "1.3.6.1.5.5.7.16.2",
                                                         "other_rev_info": asn1_ocsp.OCSPResponse.load(der)}})
                for der in ocsp_responses]
    if choices:
        signed["crls"] = choices
    return info.dump()


def signature_time_stamp(token: bytes) -> bytes:
    """The unsigned attribute carrying an RFC 3161 token over the signature value."""
    return attribute(SIGNATURE_TIME_STAMP, token)
