"""Key custody: the only package that touches private keys or PKCS#11 handles.

Everything else names a key by its handle and asks a backend to sign.
Importing the package registers the GOST and Kazakh OIDs with asn1crypto
(``keys.gost``), so every layer above parses GOST material alike.
"""

import keys.gost  # noqa: F401 - registers the GOST OIDs with asn1crypto (keys/gost/oids.py)

from keys.backend import (
    KeyAlgorithm,
    KeyBackend,
    KeyBackendUnavailable,
    KeyError_,
    KeyExists,
    KeyInfo,
    KeyNotFound,
    MasterKeyError,
    MasterKeyMismatch,
    SignatureCheckFailed,
    UnsupportedAlgorithm,
    VerifiedSignature,
    WrongPassword,
    algorithm_of,
    hash_algorithm,
    normalise_hash_name,
    verify_signature,
)
from keys.carrier import CarrierKey, load_pkcs12
from keys.master import load_master_key
from keys.pkcs11 import PKCS11KeyBackend
from keys.secretbox import SecretBox, SecretUnreadable, derive_key
from keys.simulator import load_simulator_key, simulator_key, simulator_key_pem
from keys.signer import KeyDestroyer, KeyGenerator, KeySigner
from keys.software import SoftwareKeyBackend
from keys.x509sign import (
    certificate_public_key,
    hash_for,
    key_identifier,
    placeholder_public_key,
    public_key_from_spki,
    sign_certificate,
    sign_tbs,
    signature_algorithm_der,
    spki_of,
)

__all__ = [
    "CarrierKey",
    "KeyAlgorithm",
    "KeyBackend",
    "KeyBackendUnavailable",
    "KeyError_",
    "KeyExists",
    "KeyDestroyer",
    "KeyGenerator",
    "KeyInfo",
    "KeyNotFound",
    "KeySigner",
    "MasterKeyError",
    "MasterKeyMismatch",
    "PKCS11KeyBackend",
    "SecretBox",
    "SecretUnreadable",
    "SignatureCheckFailed",
    "SoftwareKeyBackend",
    "UnsupportedAlgorithm",
    "VerifiedSignature",
    "WrongPassword",
    "algorithm_of",
    "certificate_public_key",
    "derive_key",
    "hash_algorithm",
    "hash_for",
    "key_identifier",
    "load_master_key",
    "load_pkcs12",
    "load_simulator_key",
    "normalise_hash_name",
    "placeholder_public_key",
    "public_key_from_spki",
    "sign_certificate",
    "sign_tbs",
    "signature_algorithm_der",
    "simulator_key",
    "simulator_key_pem",
    "spki_of",
    "verify_signature",
]
