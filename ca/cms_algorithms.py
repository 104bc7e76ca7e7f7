"""Which CMS digest and signature algorithms we accept: the one place to extend (RFC 5652, KZ-5).

RSA (PKCS#1 v1.5 and PSS), ECDSA and the Kazakh GOST algorithms, the last
checked by ``keys.gost.GOST_SIGNATURE_VALIDATOR``. ``SIGNATURE_VERIFIER`` is
the table every verification uses (ca/cms.py for revocation applications,
signing/verification for any report), so adding an algorithm here adds it
everywhere. A signature we cannot accept raises ``CMSVerificationError``
with one English sentence.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from asn1crypto import algos, cms
from asn1crypto import keys as asn1_keys
from cryptography.exceptions import UnsupportedAlgorithm
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_SIGNATURE_VALIDATOR,
    DEFAULT_VALIDATION_CONTEXT,
    SignatureValidationContext,
    SignatureValidator,
)

from ca.errors import QoltanbaError
from keys.gost import GOST_SIGNATURE_VALIDATOR, new_gost_hash
from keys.gost import oids as gost

class CMSVerificationError(QoltanbaError):
    """A CMS signature that cannot be accepted; the detail is one English sentence saying why."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid-signature", detail, [])


# --- the algorithms we accept: the one place to extend ----------------------

# Digest algorithms by asn1crypto name. SHA-1 and MD5 are left out on purpose:
# a revocation application is a new signature, and RFC 5754 / RFC 8933 give no
# reason to accept a collision-prone digest for it.
DIGESTS = {
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


def signer_digest_name(signer_info: cms.SignerInfo) -> str:
    algorithm = signer_info["digest_algorithm"]["algorithm"]
    if algorithm.native not in DIGESTS:
        raise CMSVerificationError(f"the digest algorithm {algorithm.dotted} is not supported")
    return algorithm.native


def signer_mechanism(signer_info: cms.SignerInfo, digest: str) -> _Mechanism:
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
        # Revocation applications check the OID in mechanism first; the
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
    return name in DIGESTS


_VERIFIER = _SignatureVerifier()
# The same table for every signature a verification report checks (issue 6):
# adding GOST to _MECHANISMS adds it there too.
SIGNATURE_VERIFIER: SignatureValidator = _VERIFIER
