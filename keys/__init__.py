"""Key custody: the only package that touches private keys or PKCS#11 handles.

Everything else names a key by its handle and asks a backend to sign.
Importing the package registers the GOST and Kazakh OIDs with asn1crypto
(``keys.gost``), so every layer above parses GOST material alike.

The GOST registration is imported with the package, as ever; every other name below is imported
from its module when first used (PEP 562), so the settings naming a ``KeyAlgorithm`` do not import
PKCS#11 or the software keys (start-up, issue 21).
"""

from __future__ import annotations

import importlib
from typing import Any

import keys.gost  # noqa: F401 - imported for its side effect, see above

# Where each exported name lives; its module is imported when the name is first used (PEP 562).
_EXPORTS = {
    "keys.backend": (
        "KeyAlgorithm", "KeyBackend", "KeyBackendUnavailable", "KeyError_", "KeyExists", "KeyInfo",
        "KeyNotFound", "MasterKeyError", "MasterKeyMismatch", "SignatureCheckFailed",
        "UnsupportedAlgorithm", "VerifiedSignature", "WrongPassword", "algorithm_of", "hash_algorithm",
        "normalise_hash_name", "verify_signature",
    ),
    "keys.carrier": (
        "CarrierKey", "load_pkcs12",
    ),
    "keys.master": (
        "load_master_key",
    ),
    "keys.pkcs11": (
        "PKCS11KeyBackend",
    ),
    "keys.secretbox": (
        "SecretBox", "SecretUnreadable", "derive_key",
    ),
    "keys.simulator": (
        "load_simulator_key", "simulator_key", "simulator_key_pem",
    ),
    "keys.signer": (
        "KeyDestroyer", "KeyGenerator", "KeySigner",
    ),
    "keys.software": (
        "SoftwareKeyBackend",
    ),
    "keys.x509sign": (
        "certificate_public_key", "hash_for", "key_identifier", "placeholder_public_key",
        "public_key_from_spki", "sign_certificate", "sign_tbs", "signature_algorithm_der", "spki_of",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


__all__ = sorted(_MODULE_OF)
