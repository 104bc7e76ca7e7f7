"""Encrypted PKCS#8 for GOST private keys (RFC 5958 EncryptedPrivateKeyInfo, RFC 8018 PBES2).

``cryptography`` cannot serialise a GOST key, so the software backend's
key files for GOST keys are written here in the same format it writes for
RSA and EC keys: PEM "ENCRYPTED PRIVATE KEY", PBES2 with PBKDF2-HMAC-SHA256
and AES-256-CBC. The inner PrivateKeyInfo is the NCA's layout
(keys/gost/x509.py).
"""

from __future__ import annotations

import os

from asn1crypto import algos, pem
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

# The password is a 256-bit derived value (keys/software.py), so the round
# count only has to be a token; it matches what cryptography writes.
_ROUNDS = 10_000
_LABEL = "ENCRYPTED PRIVATE KEY"


def _kdf(password: bytes, salt: bytes, rounds: int) -> bytes:
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=rounds).derive(password)


def encrypt(private_key_info: bytes, password: bytes) -> bytes:
    salt, iv = os.urandom(16), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(private_key_info) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_kdf(password, salt, _ROUNDS)), modes.CBC(iv)).encryptor()
    info = asn1_keys.EncryptedPrivateKeyInfo({
        "encryption_algorithm": {
            "algorithm": "pbes2",
            "parameters": {
                "key_derivation_func": {"algorithm": "pbkdf2", "parameters": {
                    "salt": algos.Pbkdf2Salt(name="specified", value=salt), "iteration_count": _ROUNDS,
                    "prf": {"algorithm": "sha256"}}},
                "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
            },
        },
        "encrypted_data": encryptor.update(plain) + encryptor.finalize(),
    })
    return pem.armor(_LABEL, info.dump())


def decrypt(data: bytes, password: bytes) -> bytes:
    """The PrivateKeyInfo DER; ValueError for a wrong password or another format."""
    kind, _headers, der = pem.unarmor(data)
    if kind != _LABEL:
        raise ValueError("not an encrypted PKCS#8 key")
    info = asn1_keys.EncryptedPrivateKeyInfo.load(der)
    algorithm: algos.EncryptionAlgorithm = info["encryption_algorithm"]
    if algorithm["algorithm"].native != "pbes2" or algorithm.encryption_cipher != "aes" \
            or algorithm.key_length != 32 or algorithm.kdf != "pbkdf2" or algorithm.kdf_hmac != "sha256":
        raise ValueError("unsupported key encryption")
    key = _kdf(password, algorithm.kdf_salt, algorithm.kdf_iterations)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(algorithm.encryption_iv)).decryptor()
    padded = decryptor.update(info["encrypted_data"].native) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()
