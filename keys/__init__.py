"""Key custody: the only package that touches private keys or PKCS#11 handles.

Everything else names a key by its handle and asks a backend to sign.
Importing the package registers the GOST and Kazakh OIDs with asn1crypto
(``keys.gost``), so every layer above parses GOST material alike.

The GOST registration is imported with the package, as ever; every other name below is imported
from its module when first used (PEP 562), so the settings naming a ``KeyAlgorithm`` do not import
PKCS#11 or the software keys (start-up, issue 21).
"""

from __future__ import annotations

import lazy_loader

import keys.gost  # noqa: F401 - imported for its side effect, see above

# Where each exported name lives (its submodule); imported when the name is first used (PEP 562,
# through lazy_loader).
_EXPORTS = {
    "backend": (
        "KeyAlgorithm", "KeyBackend", "KeyBackendUnavailable", "KeyError_", "KeyExists", "KeyInfo",
        "KeyNotFound", "MasterKeyError", "MasterKeyMismatch", "SignatureCheckFailed",
        "UnsupportedAlgorithm", "VerifiedSignature", "WrongPassword", "algorithm_of", "hash_algorithm",
        "normalise_hash_name", "verify_signature",
    ),
    "carrier": (
        "CarrierKey", "load_pkcs12",
    ),
    "envelope": (
        "DataUnreadable", "KekMaker", "KeyEncryptionKey", "Pkcs11KekMaker", "SoftwareKekMaker", "lookup_digest",
        "open_object", "rewrap", "seal_object",
    ),
    "master": (
        "load_master_key",
    ),
    "pkcs11": (
        "PKCS11KeyBackend",
    ),
    "secretbox": (
        "SecretBox", "SecretUnreadable", "derive_key",
    ),
    "simulator": (
        "load_simulator_key", "simulator_key", "simulator_key_pem",
    ),
    "signer": (
        "KeyDestroyer", "KeyGenerator", "KeySigner",
    ),
    "software": (
        "SoftwareKeyBackend",
    ),
    "x509sign": (
        "certificate_public_key", "hash_for", "key_identifier", "placeholder_public_key",
        "public_key_from_spki", "sign_certificate", "sign_tbs", "signature_algorithm_der", "spki_of",
    ),
}

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs=_EXPORTS)
