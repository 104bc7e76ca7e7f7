"""GOST keys and signatures inside X.509, CMS and PKCS#8 structures.

One table, :data:`SCHEMES`, maps every GOST signature algorithm OID we know
to its digest, key size and signature layout; verification of any signed
structure (certificate, CRL, OCSP response, CMS signer info) goes through
:func:`verify`. The Kazakh OIDs use the NCA's byte layout, the TC26 OIDs
RFC 4491's (see keys/gost/signature.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import algos, core
from asn1crypto import keys as asn1_keys
from cryptography.exceptions import InvalidSignature

from keys import der
import keys.gost.curves as curves
import keys.gost.oids as oids
from keys.gost.curves import Curve
from keys.gost.hashes import digest as hash_digest
from keys.gost.signature import NCA, RFC4491, GostPrivateKey, GostPublicKey


class UnsupportedGostAlgorithm(ValueError):
    """An OID or parameter set this module does not implement."""


@dataclass(frozen=True)
class Scheme:
    name: str
    signature_oid: str
    hash_name: str  # streebog256, streebog512, gost34311
    size: int  # bytes per coordinate
    layout: str
    key_oids: frozenset[str]


SCHEMES = {
    s.signature_oid: s
    for s in (
        Scheme("GOST R 34.10-2015 512 with GOST R 34.11-2015 512 (KZ)", oids.KZ_GOST2015_512_SIGNATURE,
               "streebog512", 64, NCA, frozenset({oids.KZ_GOST2015_512_KEY})),
        Scheme("GOST R 34.10-2015 256 with GOST R 34.11-2015 256 (KZ)", oids.KZ_GOST2015_256_SIGNATURE,
               "streebog256", 32, NCA, frozenset({oids.KZ_GOST2015_256_KEY})),
        Scheme("GOST 34.310-2004 with GOST 34.311-95 (KZ)", oids.KZ_GOST34310_2004_SIGNATURE,
               "gost34311", 32, NCA, frozenset({oids.KZ_GOST34310_2004_KEY})),
        Scheme("GOST R 34.10-2012 512 with GOST R 34.11-2012 512 (TC26)", oids.TC26_SIGNWITHDIGEST_512,
               "streebog512", 64, RFC4491, frozenset({oids.TC26_GOST3410_12_512})),
        Scheme("GOST R 34.10-2012 256 with GOST R 34.11-2012 256 (TC26)", oids.TC26_SIGNWITHDIGEST_256,
               "streebog256", 32, RFC4491, frozenset({oids.TC26_GOST3410_12_256})),
    )
}

CURVE_OIDS: dict[str, Curve] = {
    oids.KZ_PARAMSET_2015_512_A: curves.TC26_512_A,
    oids.KZ_PARAMSET_2015_256_A: curves.TC26_256_A,
    oids.KZ_PARAMSET_2004_A: curves.CRYPTOPRO_A,
    oids.TC26_PARAMSET_256_A: curves.TC26_256_A,
    oids.TC26_PARAMSET_256_B: curves.TC26_256_B,
    oids.TC26_PARAMSET_256_C: curves.TC26_256_C,
    oids.TC26_PARAMSET_256_D: curves.TC26_256_D,
    oids.TC26_PARAMSET_512_A: curves.TC26_512_A,
    oids.TC26_PARAMSET_512_B: curves.TC26_512_B,
    oids.TC26_PARAMSET_512_C: curves.TC26_512_C,
    oids.CRYPTOPRO_PARAMSET_A: curves.TC26_256_B,
    oids.CRYPTOPRO_PARAMSET_B: curves.TC26_256_C,
    oids.CRYPTOPRO_PARAMSET_C: curves.TC26_256_D,
    oids.CRYPTOPRO_PARAMSET_XCH_A: curves.TC26_256_B,
    oids.CRYPTOPRO_PARAMSET_XCH_B: curves.TC26_256_D,
}

# Which key OID and parameters we write for a curve (the NCA's own choices, DOMAIN.md KZ-5).
_KZ_KEY_FOR_CURVE = {
    curves.TC26_512_A.name: (oids.KZ_GOST2015_512_KEY, oids.KZ_PARAMSET_2015_512_A, oids.KZ_STREEBOG512,
                             oids.KZ_GOST2015_512_SIGNATURE),
    curves.TC26_256_A.name: (oids.KZ_GOST2015_256_KEY, oids.KZ_PARAMSET_2015_256_A, oids.KZ_STREEBOG256,
                             oids.KZ_GOST2015_256_SIGNATURE),
}

GOST_KEY_OIDS = frozenset(oids.KEY_ALGORITHMS)
GOST_DIGEST_NAMES = {
    oids.KZ_GOST34311_95: "gost34311",
    oids.KZ_STREEBOG256: "streebog256",
    oids.KZ_STREEBOG512: "streebog512",
    oids.TC26_STREEBOG256: "streebog256",
    oids.TC26_STREEBOG512: "streebog512",
}


def is_gost_signature(signature_oid: str) -> bool:
    return signature_oid in SCHEMES


def is_gost_key(public_key_info: asn1_keys.PublicKeyInfo) -> bool:
    return public_key_info["algorithm"]["algorithm"].dotted in GOST_KEY_OIDS


def _parameters(algorithm: asn1_keys.PublicKeyAlgorithm) -> oids.GostPublicKeyParameters:
    params = algorithm["parameters"]
    if not isinstance(params, oids.GostPublicKeyParameters):
        params = oids.GostPublicKeyParameters.load(params.dump())
    return params


def curve_of(public_key_info: asn1_keys.PublicKeyInfo) -> Curve:
    algorithm = public_key_info["algorithm"]
    if algorithm["algorithm"].dotted not in GOST_KEY_OIDS:
        raise UnsupportedGostAlgorithm(f"{algorithm['algorithm'].dotted} is not a GOST key")
    param_set = _parameters(algorithm)["public_key_param_set"].dotted
    try:
        return CURVE_OIDS[param_set]
    except KeyError:
        raise UnsupportedGostAlgorithm(f"unknown GOST parameter set {param_set}") from None


def public_key(public_key_info: asn1_keys.PublicKeyInfo | bytes) -> GostPublicKey:
    """The GOST public key of a SubjectPublicKeyInfo (DER or parsed)."""
    if isinstance(public_key_info, (bytes, bytearray)):
        public_key_info = asn1_keys.PublicKeyInfo.load(bytes(public_key_info))
    curve = curve_of(public_key_info)
    # The BIT STRING's contents are its unused-bits octet, then a DER OCTET STRING.
    inner = core.OctetString.load(public_key_info["public_key"].contents[1:])
    return GostPublicKey.from_bytes(curve, inner.native)


def verify(public_key_info: asn1_keys.PublicKeyInfo, signature_oid: str, signature: bytes, data: bytes,
           *, prehashed: bool = False) -> None:
    """Raise InvalidSignature unless ``signature`` is a GOST signature over ``data``.

    ``prehashed``: ``data`` is already the digest (CMS without signed attributes).
    """
    scheme = SCHEMES.get(signature_oid)
    if scheme is None:
        raise UnsupportedGostAlgorithm(f"{signature_oid} is not a GOST signature algorithm")
    key_oid = public_key_info["algorithm"]["algorithm"].dotted
    if key_oid not in scheme.key_oids:
        raise InvalidSignature(f"a {key_oid} key does not make {scheme.name} signatures")
    key = public_key(public_key_info)
    if key.curve.size != scheme.size:
        raise InvalidSignature(f"a {key.curve.name} key does not make {scheme.name} signatures")
    digest = bytes(data) if prehashed else hash_digest(scheme.hash_name, data)
    key.verify_digest(signature, digest, scheme.layout)


def scheme_oid_for(public_key_info: asn1_keys.PublicKeyInfo, algorithm_oid: str) -> str:
    """The signature scheme a GOST key makes when a structure names only the key algorithm.

    Some CMS producers put the key's OID in SignerInfo.signatureAlgorithm; the
    key's own OID family and size then decide.
    """
    key_oid = public_key_info["algorithm"]["algorithm"].dotted
    if algorithm_oid != key_oid:
        raise UnsupportedGostAlgorithm(f"{algorithm_oid} is not a signature algorithm for a {key_oid} key")
    for scheme in SCHEMES.values():
        if key_oid in scheme.key_oids:
            return scheme.signature_oid
    raise UnsupportedGostAlgorithm(f"no signature scheme for a {key_oid} key")


def scheme_for(curve: Curve) -> Scheme:
    """The Kazakh signature scheme we use for keys on ``curve``."""
    try:
        return SCHEMES[_KZ_KEY_FOR_CURVE[curve.name][3]]
    except KeyError:
        raise UnsupportedGostAlgorithm(f"no Kazakh GOST key type for {curve.name}") from None


def _kz_algorithm(curve: Curve) -> asn1_keys.PublicKeyAlgorithm:
    try:
        key_oid, param_oid, digest_oid, _sig = _KZ_KEY_FOR_CURVE[curve.name]
    except KeyError:
        raise UnsupportedGostAlgorithm(f"no Kazakh GOST key type for {curve.name}") from None
    return asn1_keys.PublicKeyAlgorithm({
        "algorithm": key_oid,
        "parameters": oids.GostPublicKeyParameters({"public_key_param_set": param_oid,
                                                    "digest_param_set": digest_oid}),
    })


def spki_der(key: GostPublicKey) -> bytes:
    """SubjectPublicKeyInfo as the NCA writes it: Kazakh key OID, parameter set, digest parameter."""
    # RFC 4491 §2.3.2: the BIT STRING holds the DER OCTET STRING of X ‖ Y.
    return der.sequence(_kz_algorithm(key.curve).dump(), der.tlv(0x03, b"\x00" + der.octet_string(key.to_bytes())))


def signature_algorithm_der(curve: Curve) -> bytes:
    """AlgorithmIdentifier of our signatures: the Kazakh OID with NULL parameters, byte for byte the NCA's."""
    return der.sequence(der.oid(scheme_for(curve).signature_oid), b"\x05\x00")


def private_key_info_der(key: GostPrivateKey) -> bytes:
    """PKCS#8 PrivateKeyInfo as in the NCA's PKCS#12: an OCTET STRING of the little-endian key inside."""
    return der.sequence(der.integer(0), _kz_algorithm(key.curve).dump(),
                        der.octet_string(der.octet_string(key.to_bytes())))


def private_key_from_info(der: bytes) -> GostPrivateKey:
    """Read a GOST PKCS#8 PrivateKeyInfo (the NCA's layout, or a bare OCTET STRING / INTEGER inside)."""
    outer = core.Sequence.load(der)
    algorithm = asn1_keys.PublicKeyAlgorithm.load(outer[1].dump())
    if algorithm["algorithm"].dotted not in GOST_KEY_OIDS:
        raise UnsupportedGostAlgorithm(f"{algorithm['algorithm'].dotted} is not a GOST key")
    curve = CURVE_OIDS.get(_parameters(algorithm)["public_key_param_set"].dotted)
    if curve is None:
        raise UnsupportedGostAlgorithm("unknown GOST parameter set")
    private = outer[2].native  # the privateKey OCTET STRING's contents
    inner = core.Asn1Value.load(private)
    if isinstance(inner, core.OctetString) or inner.tag == 4:
        return GostPrivateKey.from_bytes(curve, inner.contents)
    if inner.tag == 2:  # INTEGER, big-endian (RFC 9215 §5 also allows it)
        return GostPrivateKey(curve, int.from_bytes(inner.contents, "big", signed=False) % curve.q)
    raise UnsupportedGostAlgorithm("unrecognised GOST private key encoding")
