"""Kazakhstan's GOST algorithms: ST RK GOST R 34.10-2015 / 34.11-2015 and GOST 34.310-2004 / 34.311-95.

Importing this package registers the GOST and Kazakh OIDs with asn1crypto
(see ``oids.register``) and the GOST digests with ``cryptography``'s hash
module where pyHanko looks them up (``pyca.register``) and GOST signatures
with pyhanko-certvalidator's default validator (``validator.register``); ``keys`` imports
it, so every part of the project parses GOST certificates with readable
names and pyHanko hashes CMS content with Streebog.
"""

from keys.gost import oids as _oids

_oids.register()

from keys.gost import pyca as _pyca  # noqa: E402

# The GOST digests for pyHanko's CMS hashing (see keys/gost/pyca.py).
_pyca.register()

from keys.gost.curves import CRYPTOPRO_A, CURVES, TC26_256_A, TC26_256_B, TC26_512_A, TC26_512_B, Curve  # noqa: E402
from keys.gost.gost94 import gost34311  # noqa: E402
from keys.gost.hashes import DIGEST_SIZES  # noqa: E402
from keys.gost.hashes import digest as gost_digest  # noqa: E402
from keys.gost.hashes import new as new_gost_hash  # noqa: E402
from keys.gost.signature import NCA, RFC4491, GostPrivateKey, GostPublicKey  # noqa: E402
from keys.gost.streebog import NATIVE as NATIVE_STREEBOG  # noqa: E402
from keys.gost.streebog import streebog256, streebog512  # noqa: E402
from keys.gost import validator as _validator  # noqa: E402
from keys.gost.validator import GOST_SIGNATURE_VALIDATOR, GostSignatureValidator  # noqa: E402

# pyhanko-certvalidator's own default validator learns GOST too (see keys/gost/validator.py).
_validator.register()
from keys.gost.x509 import (  # noqa: E402
    SCHEMES,
    Scheme,
    UnsupportedGostAlgorithm,
    is_gost_key,
    is_gost_signature,
    private_key_from_info,
    private_key_info_der,
    public_key,
    signature_algorithm_der,
    spki_der,
    verify,
)

__all__ = [
    "GOST_SIGNATURE_VALIDATOR", "GostSignatureValidator", "CRYPTOPRO_A", "CURVES", "Curve", "DIGEST_SIZES", "GostPrivateKey", "GostPublicKey", "NATIVE_STREEBOG", "NCA",
    "RFC4491", "SCHEMES", "Scheme", "TC26_256_A", "TC26_256_B", "TC26_512_A", "TC26_512_B",
    "UnsupportedGostAlgorithm", "gost34311", "gost_digest", "is_gost_key", "is_gost_signature", "new_gost_hash",
    "private_key_from_info", "private_key_info_der", "public_key", "signature_algorithm_der", "spki_der",
    "streebog256", "streebog512", "verify",
]
