"""Where the software backend's master key comes from.

The master key lives outside the database on purpose: a database dump plus a
key directory must not be enough to recover private keys.

Sources, first match wins:

1. ``env_value`` (e.g. from ``QOLTANBA_MASTER_KEY``): hex, or base64 when the
   text is not pure hex. A 64-character hex string is always read as hex.
2. ``path``: a text file holding the key as hex (64 hex digits for the
   generated 32-byte key) plus an optional newline. Hex rather than raw bytes
   so the same value can be pasted into an environment variable or a secret
   store and survives editors that add or strip a trailing newline.

With ``create=True`` (the embedded, single-host default) a missing file is
created with 32 random bytes, mode 0600, in a directory made 0700.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import tempfile
from pathlib import Path

from keys.backend import MasterKeyError
from keys.software import MIN_MASTER_KEY_BYTES, check_master_key

_HEX_RE = re.compile(r"(?:[0-9a-fA-F]{2})+")


def decode_master_key(text: str, source: str) -> bytes:
    value = "".join(text.split())
    if not value:
        raise MasterKeyError(f"master key from {source} is empty")
    if _HEX_RE.fullmatch(value):
        key = bytes.fromhex(value)
    else:
        try:
            key = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise MasterKeyError(
                f"master key from {source} is neither hex nor base64"
            ) from None
    try:
        check_master_key(key)
    except MasterKeyError as exc:
        raise MasterKeyError(f"master key from {source}: {exc}") from None
    return key


def load_master_key(path: Path | None, env_value: str | None, create: bool) -> bytes:
    """Return the master key (at least 32 bytes) or raise :class:`MasterKeyError`."""
    if env_value is not None and env_value.strip():
        return decode_master_key(env_value, "the environment")
    if path is None:
        raise MasterKeyError("no master key configured: set a key file or the environment value")
    path = Path(path)
    try:
        text = path.read_text("ascii")
    except FileNotFoundError:
        if not create:
            raise MasterKeyError(f"master key file {path} does not exist") from None
        return _create(path)
    except (UnicodeDecodeError, OSError) as exc:
        raise MasterKeyError(f"cannot read master key file {path}: {exc}") from None
    return decode_master_key(text, str(path))


def _create(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(MIN_MASTER_KEY_BYTES)
    # Written in full to a 0600 temp file, then hard-linked into place: link()
    # fails if the name exists, so two processes starting together agree on
    # one key and neither can read a half-written file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write((key.hex() + "\n").encode("ascii"))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return decode_master_key(path.read_text("ascii"), str(path))
    finally:
        os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return key
