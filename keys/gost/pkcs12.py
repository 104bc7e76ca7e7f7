"""Reading a GOST key from an NCA-style PKCS#12 file.

The NCA's carriers are PKCS#12 (RFC 7292) with the key in a
pkcs8ShroudedKeyBag under pbeWithSHA1And3-KeyTripleDES-CBC and the
certificates under pbeWithSHA1And40BitRC2-CBC. OpenSSL (and so
``cryptography``'s loader) refuses the GOST key, so this module walks the
structure with asn1crypto and decrypts with ``cryptography``'s primitives:
the PKCS#12 key derivation (RFC 7292 Appendix B) is written out here, and
the MAC is checked before anything is decrypted.
"""

from __future__ import annotations

import hashlib
import hmac

from asn1crypto import core, pkcs12, x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from keys.gost.signature import GostPrivateKey
from keys.gost.x509 import private_key_from_info

_KEY, _IV, _MAC = 1, 2, 3


class PKCS12Error(ValueError):
    """Wrong password, or a PKCS#12 this reader does not handle."""


def pkcs12_kdf(password: str, salt: bytes, iterations: int, purpose: int, length: int) -> bytes:
    """RFC 7292 Appendix B.2 with SHA-1 (u = 20, v = 64), password as BMPString with a trailing zero."""
    u, v = 20, 64
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
            a = hashlib.sha1(a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        for j in range(0, len(i), v):
            block = (int.from_bytes(i[j:j + v], "big") + b + 1) % (1 << (8 * v))
            i[j:j + v] = block.to_bytes(v, "big")
    return out[:length]


def _decrypt(algorithm: core.Sequence, ciphertext: bytes, password: str) -> bytes:
    name = algorithm["algorithm"].native
    params = algorithm["parameters"]
    salt, iterations = params["salt"].native, params["iterations"].native
    if name == "pkcs12_sha1_tripledes_3key":
        cipher = TripleDES(pkcs12_kdf(password, salt, iterations, _KEY, 24))
    else:
        raise PKCS12Error(f"unsupported PKCS#12 encryption {name}")
    decryptor = Cipher(cipher, modes.CBC(pkcs12_kdf(password, salt, iterations, _IV, 8))).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1] if padded else 0
    if not 1 <= pad <= 8 or padded[-pad:] != bytes([pad]) * pad:
        raise PKCS12Error("could not decrypt the PKCS#12 bag: wrong password?")
    return padded[:-pad]


def _check_mac(pfx: pkcs12.Pfx, content: bytes, password: str) -> None:
    mac_data = pfx["mac_data"]
    if mac_data.native is None:
        return
    if mac_data["mac"]["digest_algorithm"]["algorithm"].native != "sha1":
        raise PKCS12Error("unsupported PKCS#12 MAC digest")
    key = pkcs12_kdf(password, mac_data["mac_salt"].native, mac_data["iterations"].native, _MAC, 20)
    if not hmac.compare_digest(hmac.new(key, content, hashlib.sha1).digest(), mac_data["mac"]["digest"].native):
        raise PKCS12Error("the PKCS#12 MAC does not match: wrong password or a damaged file")


def load_gost_pkcs12(data: bytes, password: str) -> tuple[GostPrivateKey, list[x509.Certificate]]:
    """The GOST private key and the certificates of a PKCS#12 file.

    Certificates in a bag encrypted with 40-bit RC2 are not returned (see below).
    """
    pfx = pkcs12.Pfx.load(data)
    auth_safe = pfx["auth_safe"]
    if auth_safe["content_type"].native != "data":
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


__all__ = ["PKCS12Error", "load_gost_pkcs12", "pkcs12_kdf"]
