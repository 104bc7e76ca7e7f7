"""The key of the biometric-provider simulator: the development stand-in for an identity provider.

Embedded mode only (production refuses the simulator). The key is kept in
the home as a PKCS#8 PEM readable by its owner alone (mode 0600), so a
restarted service keeps trusting the assertions it signed before. Only this
package makes, writes and reads private keys; the simulator
(signing/factors/biometrics.py) receives the key object.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def simulator_key(path: Path | None = None) -> ec.EllipticCurvePrivateKey:
    """The simulator's EC P-256 key: a fresh one when ``path`` is None, else the one kept at ``path``.

    A missing file is created with the new key, mode 0600, atomically: two
    processes starting together end up with the same key.
    """
    if path is None:
        return ec.generate_private_key(ec.SECP256R1())
    if path.exists():
        return load_simulator_key(path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".simulator-", suffix=".pem")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(simulator_key_pem(key))
        os.link(temporary, path)   # fails if another process wrote the key first
    except FileExistsError:
        return load_simulator_key(path.read_bytes())
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return key


def simulator_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The key as an unencrypted PKCS#8 PEM (the file's mode protects it; development only)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_simulator_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    """Read a simulator key; anything but an EC P-256 private key is refused."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the simulator's key must be EC P-256")
    return key
