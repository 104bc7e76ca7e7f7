"""GOST keys in PKCS#12 files: reading the NCA's carriers, writing ours.

The NCA's carriers are PKCS#12 (RFC 7292) with the key in a
pkcs8ShroudedKeyBag under pbeWithSHA1And3-KeyTripleDES-CBC and the
certificates under pbeWithSHA1And40BitRC2-CBC. OpenSSL (and so
``cryptography``) can neither read nor write a GOST key, so this module
walks the structure with asn1crypto and encrypts with ``cryptography``'s
primitives: the PKCS#12 key derivation (RFC 7292 Appendix B) is written out
here, and the MAC is checked before anything is decrypted.

The carriers we write (``dump_gost_pkcs12``) have the layout ``cryptography``
writes for our RSA/EC carriers (keys/carrier.py): PFX v3; the certificates
in an encryptedData and the key in a pkcs8ShroudedKeyBag, both PBES2 with
PBKDF2-HMAC-SHA256 and AES-256-CBC; friendlyName and localKeyId (SHA-1 of
the certificate, as OpenSSL sets it) on the key and its certificate; an
HMAC-SHA256 MAC keyed by the PKCS#12 KDF. The inner PrivateKeyInfo is the
NCA's layout (keys/gost/x509.py), so NCA-style readers find what they expect.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from asn1crypto import algos, cms, core, pkcs12, x509
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from keys.gost.signature import GostPrivateKey
from keys.gost.x509 import private_key_from_info, private_key_info_der, spki_der

_KEY, _IV, _MAC = 1, 2, 3

# What keys/carrier.py passes (its PKCS12_KDF_ROUNDS); repeated here because
# keys.gost sits below keys.carrier and imports nothing from it.
DEFAULT_ROUNDS = 600_000

# RFC 7292 B.2: (u, v) = (digest size, block size) of the KDF's hash.
_KDF_HASHES = {"sha1": (hashlib.sha1, 20, 64), "sha256": (hashlib.sha256, 32, 64),
               "sha384": (hashlib.sha384, 48, 128), "sha512": (hashlib.sha512, 64, 128)}
_PBKDF2_PRFS = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class PKCS12Error(ValueError):
    """Wrong password, or a PKCS#12 this reader does not handle."""


def _text(password: str | bytes) -> str:
    return password.decode("utf-8") if isinstance(password, bytes) else password


def pkcs12_kdf(password: str, salt: bytes, iterations: int, purpose: int, length: int,
               hash_name: str = "sha1") -> bytes:
    """RFC 7292 Appendix B.2, password as BMPString with a trailing zero; SHA-1 (u = 20, v = 64) by default."""
    hash_new, u, v = _KDF_HASHES[hash_name]
    pw = (password + "\0").encode("utf-16-be") if password else b""

    def fill(data: bytes) -> bytes:
        if not data:
            return b""
        size = v * ((len(data) + v - 1) // v)
        return (data * (size // len(data) + 1))[:size]

    diversifier = bytes([purpose]) * v
    i = bytearray(fill(salt) + fill(pw))
    out = b""
    while len(out) < length:
        a = diversifier + bytes(i)
        for _ in range(iterations):
            a = hash_new(a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        for j in range(0, len(i), v):
            block = (int.from_bytes(i[j:j + v], "big") + b + 1) % (1 << (8 * v))
            i[j:j + v] = block.to_bytes(v, "big")
    return out[:length]


def _pbkdf2(password: str, salt: bytes, iterations: int, prf: str, length: int) -> bytes:
    # RFC 8018 PBES2 takes the password as octets: UTF-8, as OpenSSL and cryptography pass it.
    return PBKDF2HMAC(algorithm=_PBKDF2_PRFS[prf](), length=length, salt=salt,
                      iterations=iterations).derive(password.encode("utf-8"))


def _unpad(padded: bytes, block: int) -> bytes:
    pad = padded[-1] if padded else 0
    if not 1 <= pad <= block or padded[-pad:] != bytes([pad]) * pad:
        raise PKCS12Error("could not decrypt the PKCS#12 bag: wrong password?")
    return padded[:-pad]


def _decrypt_pbes2(algorithm: algos.EncryptionAlgorithm, ciphertext: bytes, password: str) -> bytes:
    if algorithm.kdf != "pbkdf2" or algorithm.encryption_cipher != "aes" \
            or algorithm.encryption_mode != "cbc" or algorithm.kdf_hmac not in _PBKDF2_PRFS:
        raise PKCS12Error("unsupported PBES2 scheme in the PKCS#12 file")
    key = _pbkdf2(password, algorithm.kdf_salt, algorithm.kdf_iterations, algorithm.kdf_hmac,
                  algorithm.key_length)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(algorithm.encryption_iv)).decryptor()
    return _unpad(decryptor.update(ciphertext) + decryptor.finalize(), 16)


def _decrypt(algorithm: core.Sequence, ciphertext: bytes, password: str) -> bytes:
    name = algorithm["algorithm"].native
    if name == "pbes2":
        return _decrypt_pbes2(algos.EncryptionAlgorithm.load(algorithm.dump()), ciphertext, password)
    params = algorithm["parameters"]
    salt, iterations = params["salt"].native, params["iterations"].native
    if name == "pkcs12_sha1_tripledes_3key":
        cipher = TripleDES(pkcs12_kdf(password, salt, iterations, _KEY, 24))
    else:
        raise PKCS12Error(f"unsupported PKCS#12 encryption {name}")
    decryptor = Cipher(cipher, modes.CBC(pkcs12_kdf(password, salt, iterations, _IV, 8))).decryptor()
    return _unpad(decryptor.update(ciphertext) + decryptor.finalize(), 8)


def _mac(content: bytes, password: str, salt: bytes, iterations: int, hash_name: str) -> bytes:
    hash_new, size, _v = _KDF_HASHES[hash_name]
    key = pkcs12_kdf(password, salt, iterations, _MAC, size, hash_name)
    return hmac.new(key, content, hash_new).digest()


def _check_mac(pfx: pkcs12.Pfx, content: bytes, password: str) -> None:
    mac_data = pfx["mac_data"]
    if mac_data.native is None:
        return
    hash_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    if hash_name not in _KDF_HASHES:
        raise PKCS12Error(f"unsupported PKCS#12 MAC digest {hash_name}")
    expected = _mac(content, password, mac_data["mac_salt"].native, mac_data["iterations"].native, hash_name)
    if not hmac.compare_digest(expected, mac_data["mac"]["digest"].native):
        raise PKCS12Error("the PKCS#12 MAC does not match: wrong password or a damaged file")


def load_gost_pkcs12(data: bytes, password: str | bytes) -> tuple[GostPrivateKey, list[x509.Certificate]]:
    """The GOST private key and the certificates of a PKCS#12 file (the NCA's or ours).

    Certificates in a bag encrypted with 40-bit RC2 are not returned (see below).
    """
    password = _text(password)
    try:
        pfx = pkcs12.Pfx.load(data)
        auth_safe = pfx["auth_safe"]
        kind = auth_safe["content_type"].native
    except ValueError as error:
        raise PKCS12Error(f"not a PKCS#12 file: {error}") from None
    if kind != "data":
        raise PKCS12Error("only password-integrity PKCS#12 files are supported")
    content = auth_safe["content"].native
    _check_mac(pfx, content, password)
    keys: list[GostPrivateKey] = []
    certificates: list[x509.Certificate] = []
    for info in pkcs12.AuthenticatedSafe.load(content):
        kind = info["content_type"].native
        if kind == "data":
            bags = pkcs12.SafeContents.load(info["content"].native)
        elif kind == "encrypted_data":
            encrypted = info["content"]["encrypted_content_info"]
            if encrypted["content_encryption_algorithm"]["algorithm"].native == "pkcs12_sha1_rc2_40":
                # 40-bit RC2 (the NCA's certificate bag) has no implementation in
                # cryptography; the certificates are public and come with the
                # carrier anyway, so they are skipped rather than decrypted.
                continue
            plain = _decrypt(encrypted["content_encryption_algorithm"], encrypted["encrypted_content"].native,
                             password)
            bags = pkcs12.SafeContents.load(plain)
        else:
            raise PKCS12Error(f"unsupported PKCS#12 content {kind}")
        for bag in bags:
            bag_id = bag["bag_id"].native
            if bag_id == "pkcs8_shrouded_key_bag":
                shrouded = bag["bag_value"]
                plain = _decrypt(shrouded["encryption_algorithm"], shrouded["encrypted_data"].native, password)
                keys.append(private_key_from_info(plain))
            elif bag_id == "cert_bag" and bag["bag_value"]["cert_id"].native == "x509":
                certificates.append(x509.Certificate.load(bag["bag_value"]["cert_value"].parsed.dump()))
    if len(keys) != 1:
        raise PKCS12Error(f"expected one private key in the PKCS#12 file, found {len(keys)}")
    return keys[0], certificates


# -- writing ------------------------------------------------------------------

def _pbes2(password: str, rounds: int) -> tuple[algos.EncryptionAlgorithm, bytes]:
    salt, iv = os.urandom(16), os.urandom(16)
    algorithm = algos.EncryptionAlgorithm({"algorithm": "pbes2", "parameters": {
        "key_derivation_func": {"algorithm": "pbkdf2", "parameters": {
            "salt": algos.Pbkdf2Salt(name="specified", value=salt), "iteration_count": rounds,
            "prf": {"algorithm": "sha256"}}},
        "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv}}})
    return algorithm, _pbkdf2(password, salt, rounds, "sha256", 32)


def _encrypt(plain: bytes, password: str, rounds: int) -> tuple[algos.EncryptionAlgorithm, bytes]:
    algorithm, key = _pbes2(password, rounds)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(algorithm.encryption_iv)).encryptor()
    return algorithm, encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()


def _attributes(friendly_name: str | None, local_key_id: bytes | None) -> pkcs12.Attributes:
    attributes = []
    if friendly_name:
        attributes.append({"type": "friendly_name", "values": [friendly_name]})
    if local_key_id is not None:
        attributes.append({"type": "local_key_id", "values": [local_key_id]})
    return pkcs12.Attributes(attributes)


def _certificate_der(certificate: x509.Certificate | bytes) -> bytes:
    return certificate if isinstance(certificate, bytes) else certificate.dump()


def dump_gost_pkcs12(key: GostPrivateKey, certificate: x509.Certificate | bytes,
                     chain: list[x509.Certificate | bytes], password: str | bytes, *,
                     friendly_name: str | None = None, rounds: int = DEFAULT_ROUNDS) -> bytes:
    """A password-protected PKCS#12 with the GOST key, its certificate and the chain (DER or asn1crypto).

    ``rounds`` counts PBKDF2 iterations for both encryptions and the PKCS#12
    KDF iterations of the MAC: a MAC with fewer rounds than the key would be
    the cheaper way to test guesses at the password.
    """
    password = _text(password)
    if not password:
        raise ValueError("a carrier PKCS#12 needs a non-empty password")
    if rounds < 1:
        raise ValueError("rounds must be positive")
    cert_der = _certificate_der(certificate)
    parsed = x509.Certificate.load(cert_der)
    if parsed.public_key.dump() != spki_der(key.public_key()):
        raise ValueError("certificate does not belong to this carrier key")
    local_key_id = hashlib.sha1(cert_der).digest()

    cert_bags = [pkcs12.SafeBag({
        "bag_id": "cert_bag", "bag_value": pkcs12.CertBag({"cert_id": "x509", "cert_value": parsed}),
        "bag_attributes": _attributes(friendly_name, local_key_id)})]
    for other in chain:
        cert_bags.append(pkcs12.SafeBag({"bag_id": "cert_bag", "bag_value": pkcs12.CertBag({
            "cert_id": "x509", "cert_value": x509.Certificate.load(_certificate_der(other))}),
            "bag_attributes": _attributes(None, None)}))
    cert_algorithm, cert_ciphertext = _encrypt(pkcs12.SafeContents(cert_bags).dump(), password, rounds)
    cert_info = cms.ContentInfo({"content_type": "encrypted_data", "content": cms.EncryptedData({
        "version": "v0", "encrypted_content_info": {
            "content_type": "data", "content_encryption_algorithm": cert_algorithm,
            "encrypted_content": cert_ciphertext}})})

    key_algorithm, key_ciphertext = _encrypt(private_key_info_der(key), password, rounds)
    key_bag = pkcs12.SafeBag({
        "bag_id": "pkcs8_shrouded_key_bag",
        "bag_value": asn1_keys.EncryptedPrivateKeyInfo({"encryption_algorithm": key_algorithm,
                                                        "encrypted_data": key_ciphertext}),
        "bag_attributes": _attributes(friendly_name, local_key_id)})
    key_info = cms.ContentInfo({"content_type": "data", "content": pkcs12.SafeContents([key_bag]).dump()})

    content = pkcs12.AuthenticatedSafe([cert_info, key_info]).dump()
    mac_salt = os.urandom(16)
    return pkcs12.Pfx({
        "version": "v3",
        "auth_safe": {"content_type": "data", "content": content},
        "mac_data": {"mac": {"digest_algorithm": {"algorithm": "sha256"},
                             "digest": _mac(content, password, mac_salt, rounds, "sha256")},
                     "mac_salt": mac_salt, "iterations": rounds},
    }).dump()


__all__ = ["DEFAULT_ROUNDS", "PKCS12Error", "dump_gost_pkcs12", "load_gost_pkcs12", "pkcs12_kdf"]
