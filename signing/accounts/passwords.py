"""The borrower's password: argon2id through argon2-cffi (RFC 9106), as the console's staff passwords are."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """argon2-cffi's defaults (RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes), or cheaper ones
    for tests through ``hasher``."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._decoy = self.hasher.hash("a password nobody has")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` is the one ``stored`` hashes; an argon2 verification is run even without a hash,
        so an unknown borrower costs the same time."""
        try:
            return self.hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


__all__ = ["Passwords"]
