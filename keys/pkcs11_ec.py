"""A token's EC public-key object as ``cryptography`` reads it, whichever form of CKA_EC_POINT the token keeps."""

from __future__ import annotations

from typing import Any

from asn1crypto.core import OctetString
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from pkcs11 import Attribute
from pkcs11.util.ec import encode_ec_public_key


def ec_public_key(public: Any) -> PublicKeyTypes:
    """The public key of a PKCS#11 EC public-key object (python-pkcs11's ``PublicKey``)."""
    return serialization.load_der_public_key(encode_ec_public_key(_EcPublicView(public)))


class _EcPublicView:
    """Public-key object whose CKA_EC_POINT is always the DER OCTET STRING form."""

    def __init__(self, public: Any) -> None:
        self._public = public

    def __getitem__(self, attribute: Attribute) -> Any:
        value = self._public[attribute]
        if attribute == Attribute.EC_POINT:
            return _normalise_ec_point_bytes(value)
        return value


def _normalise_ec_point_bytes(value: bytes) -> bytes:
    # PKCS#11 says DER OCTET STRING, but some tokens return the bare point.
    # A bare uncompressed point is 0x04 || X || Y with odd length; accept the
    # DER reading only if it yields exactly such a point.
    try:
        inner = bytes(OctetString.load(value, strict=True))
        if inner[:1] == b"\x04" and len(inner) % 2 == 1:
            return value
    except ValueError:
        pass
    return OctetString(value).dump()
