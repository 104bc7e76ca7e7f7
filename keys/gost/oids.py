"""GOST object identifiers, and teaching them to asn1crypto: the one place.

:func:`register` runs when ``keys.gost`` is imported, which ``keys`` does
at its own import, so any code of the project that parses certificates,
CRLs or CMS sees readable names for the Kazakh (DOMAIN.md KZ-3..KZ-5) and
TC26 OIDs. It adds entries to asn1crypto's public OID maps and parameter
specs and wraps the public key's spec method (its inner structure, an
OCTET STRING for GOST keys) in a way that composes with
pyhanko-certvalidator's own wrapper; no library file is changed.
Registration is idempotent.
"""

from __future__ import annotations

from asn1crypto import algos, core, x509
from asn1crypto import keys as asn1_keys

# --- Kazakhstan, DOMAIN.md KZ-5 -------------------------------------------------
KZ_GOST34310_2004_KEY = "1.2.398.3.10.1.1.1.1"
KZ_GOST34310_2004_SIGNATURE = "1.2.398.3.10.1.1.1.2"  # with GOST 34.311-95
KZ_GOST2015_256_KEY = "1.2.398.3.10.1.1.2.1"
KZ_GOST2015_512_KEY = "1.2.398.3.10.1.1.2.2"
KZ_GOST2015_256_SIGNATURE = "1.2.398.3.10.1.1.2.3.1"  # with ST RK GOST R 34.11-2015, 256
KZ_GOST2015_512_SIGNATURE = "1.2.398.3.10.1.1.2.3.2"  # with ST RK GOST R 34.11-2015, 512
KZ_GOST34311_95 = "1.2.398.3.10.1.3.1"
KZ_STREEBOG256 = "1.2.398.3.10.1.3.2"
KZ_STREEBOG512 = "1.2.398.3.10.1.3.3"
KZ_GOST34311_95_PARAMS = "1.2.398.3.10.1.3.1.1.0"
KZ_PARAMSET_2004_A = "1.2.398.3.10.1.1.1.1.1"
KZ_PARAMSET_2015_256_A = "1.2.398.3.10.1.1.2.1.1"
KZ_PARAMSET_2015_512_A = "1.2.398.3.10.1.1.2.2.1"

# --- TC26 (RFC 9215, RFC 7836) and CryptoPro (RFC 4357) -------------------------
TC26_GOST3410_12_256 = "1.2.643.7.1.1.1.1"
TC26_GOST3410_12_512 = "1.2.643.7.1.1.1.2"
TC26_STREEBOG256 = "1.2.643.7.1.1.2.2"
TC26_STREEBOG512 = "1.2.643.7.1.1.2.3"
TC26_SIGNWITHDIGEST_256 = "1.2.643.7.1.1.3.2"
TC26_SIGNWITHDIGEST_512 = "1.2.643.7.1.1.3.3"
TC26_PARAMSET_256_A = "1.2.643.7.1.2.1.1.1"
TC26_PARAMSET_256_B = "1.2.643.7.1.2.1.1.2"
TC26_PARAMSET_256_C = "1.2.643.7.1.2.1.1.3"
TC26_PARAMSET_256_D = "1.2.643.7.1.2.1.1.4"
TC26_PARAMSET_512_A = "1.2.643.7.1.2.1.2.1"
TC26_PARAMSET_512_B = "1.2.643.7.1.2.1.2.2"
TC26_PARAMSET_512_C = "1.2.643.7.1.2.1.2.3"
CRYPTOPRO_PARAMSET_A = "1.2.643.2.2.35.1"
CRYPTOPRO_PARAMSET_B = "1.2.643.2.2.35.2"
CRYPTOPRO_PARAMSET_C = "1.2.643.2.2.35.3"
CRYPTOPRO_PARAMSET_XCH_A = "1.2.643.2.2.36.0"
CRYPTOPRO_PARAMSET_XCH_B = "1.2.643.2.2.36.1"

KEY_ALGORITHMS = {
    KZ_GOST34310_2004_KEY: "kz_gost34310_2004",
    KZ_GOST2015_256_KEY: "kz_gost3410_2015_256",
    KZ_GOST2015_512_KEY: "kz_gost3410_2015_512",
    TC26_GOST3410_12_256: "gost3410_2012_256",
    TC26_GOST3410_12_512: "gost3410_2012_512",
}
SIGNATURE_ALGORITHMS = {
    KZ_GOST34310_2004_SIGNATURE: "kz_gost34311_95_gost34310_2004",
    KZ_GOST2015_256_SIGNATURE: "kz_gost3410_2015_256_streebog256",
    KZ_GOST2015_512_SIGNATURE: "kz_gost3410_2015_512_streebog512",
    TC26_SIGNWITHDIGEST_256: "gost3410_2012_256_streebog256",
    TC26_SIGNWITHDIGEST_512: "gost3410_2012_512_streebog512",
}
DIGEST_ALGORITHMS = {
    KZ_GOST34311_95: "kz_gost34311_95",
    KZ_STREEBOG256: "kz_streebog256",
    KZ_STREEBOG512: "kz_streebog512",
    TC26_STREEBOG256: "streebog256",
    TC26_STREEBOG512: "streebog512",
}
PARAMETER_SETS = {
    KZ_PARAMSET_2004_A: "kz_gost34310_2004_a",
    KZ_PARAMSET_2015_256_A: "kz_gost3410_2015_256_a",
    KZ_PARAMSET_2015_512_A: "kz_gost3410_2015_512_a",
    KZ_GOST34311_95_PARAMS: "kz_gost34311_95_test_params",
    TC26_PARAMSET_256_A: "tc26_gost3410_2012_256_a",
    TC26_PARAMSET_256_B: "tc26_gost3410_2012_256_b",
    TC26_PARAMSET_256_C: "tc26_gost3410_2012_256_c",
    TC26_PARAMSET_256_D: "tc26_gost3410_2012_256_d",
    TC26_PARAMSET_512_A: "tc26_gost3410_2012_512_a",
    TC26_PARAMSET_512_B: "tc26_gost3410_2012_512_b",
    TC26_PARAMSET_512_C: "tc26_gost3410_2012_512_c",
    CRYPTOPRO_PARAMSET_A: "cryptopro_a",
    CRYPTOPRO_PARAMSET_B: "cryptopro_b",
    CRYPTOPRO_PARAMSET_C: "cryptopro_c",
    CRYPTOPRO_PARAMSET_XCH_A: "cryptopro_xch_a",
    CRYPTOPRO_PARAMSET_XCH_B: "cryptopro_xch_b",
    TC26_STREEBOG256: "streebog256",
    TC26_STREEBOG512: "streebog512",
    KZ_STREEBOG256: "kz_streebog256",
    KZ_STREEBOG512: "kz_streebog512",
}
# DOMAIN.md KZ-3 and KZ-4.
POLICIES = {
    "1.2.398.3.3.1.1": "kz_nca_intermediate",
    "1.2.398.3.3.2.1": "kz_legal_entity_signing",
    "1.2.398.3.3.2.2": "kz_legal_entity_auth",
    "1.2.398.3.3.2.3": "kz_individual_signing",
    "1.2.398.3.3.2.4": "kz_individual_auth",
    "1.2.398.3.3.2.6.1": "kz_tsa",
}
KEY_PURPOSES = {
    "1.2.398.3.3.4.1.1": "kz_individual",
    "1.2.398.3.3.4.1.2": "kz_organisation",
    "1.2.398.3.3.4.1.2.1": "kz_first_head",
    "1.2.398.3.3.4.1.2.2": "kz_may_sign",
    "1.2.398.3.3.4.1.2.3": "kz_may_sign_financial",
    "1.2.398.3.3.4.1.2.4": "kz_hr",
    "1.2.398.3.3.4.1.2.5": "kz_employee",
}


class GostParameterSetId(core.ObjectIdentifier):
    _map = PARAMETER_SETS


class GostPublicKeyParameters(core.Sequence):
    """GostR3410-2012-PublicKeyParameters (RFC 9215 §4.2.3; RFC 4491 §2.3.1), as the NCA uses it."""

    _fields = [
        ("public_key_param_set", GostParameterSetId),
        ("digest_param_set", GostParameterSetId, {"optional": True}),
        ("encryption_param_set", GostParameterSetId, {"optional": True}),
    ]


_registered = False


def register() -> None:
    """Teach asn1crypto the OIDs above (idempotent)."""
    global _registered
    if _registered:
        return
    for oid_map, names in (
        (asn1_keys.PublicKeyAlgorithmId._map, KEY_ALGORITHMS),
        (algos.SignedDigestAlgorithmId._map, SIGNATURE_ALGORITHMS),
        (algos.DigestAlgorithmId._map, DIGEST_ALGORITHMS),
        (x509.PolicyIdentifier._map, POLICIES),
        (x509.KeyPurposeId._map, KEY_PURPOSES),
    ):
        oid_map.update(names)
    for cls in (asn1_keys.PublicKeyAlgorithmId, algos.SignedDigestAlgorithmId, algos.DigestAlgorithmId,
                x509.PolicyIdentifier, x509.KeyPurposeId):
        # asn1crypto builds the reverse map lazily and caches it.
        cls._reverse_map = None
    for name in KEY_ALGORITHMS.values():
        asn1_keys.PublicKeyAlgorithm._oid_specs[name] = GostPublicKeyParameters
    # pyhanko-certvalidator wraps the same callback at its import (for ML-DSA keys),
    # so it is imported first and both paths end in the method patched here.
    import pyhanko_certvalidator.asn1_types  # noqa: F401

    original = asn1_keys.PublicKeyInfo._public_key_spec
    gost_names = frozenset(KEY_ALGORITHMS.values())

    def public_key_spec(info: asn1_keys.PublicKeyInfo):
        # RFC 4491 §2.3.2 / RFC 9215 §4.3: the BIT STRING holds a DER OCTET STRING X ‖ Y.
        if info["algorithm"]["algorithm"].native in gost_names:
            return core.OctetString
        return original(info)

    def callback(info: asn1_keys.PublicKeyInfo):
        try:
            return info._public_key_spec()
        except KeyError:
            # An algorithm nobody knows stays an opaque bit string, as pyhanko-certvalidator has it.
            return core.OctetBitString, None

    asn1_keys.PublicKeyInfo._public_key_spec = public_key_spec
    asn1_keys.PublicKeyInfo._spec_callbacks["public_key"] = callback
    _registered = True
