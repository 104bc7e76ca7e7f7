"""The GOST digests as ``cryptography`` hash algorithms, for pyHanko.

pyHanko and pyhanko-certvalidator turn a CMS digest algorithm into a hash in
one function, ``pyhanko_certvalidator.util.get_pyca_cryptography_hash``:
``getattr(cryptography.hazmat.primitives.hashes, name.upper())()`` with
asn1crypto's name of the OID, and then hash through ``hashes.Hash(...)``.
``cryptography``'s OpenSSL has no Streebog, so :func:`register` does two
things to that one module when ``keys.gost`` is imported, and changes no
library file:

- it adds the hash classes under the upper-cased asn1crypto names of the
  Kazakh and TC26 OIDs (``KZ_STREEBOG512`` for 1.2.398.3.10.1.3.3, ...);
- it wraps ``hashes.Hash`` so that one of these classes gets our hash
  context (the native Streebog of keys/gost/streebog.py) and every other
  algorithm ``cryptography``'s own, unchanged.

Code that imported ``Hash`` by name before this ran keeps the original and
simply cannot hash Streebog; pyHanko uses the module attribute.
"""

from __future__ import annotations

from cryptography.exceptions import AlreadyFinalized
from cryptography.hazmat.primitives import hashes

from keys.gost.hashes import new as new_gost_hash


class _GostHashAlgorithm(hashes.HashAlgorithm):
    name: str = ""
    digest_size: int = 0
    block_size: int = 64
    gost_name: str = ""  # the name keys.gost.hashes knows

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _GostHashAlgorithm) and other.gost_name == self.gost_name

    def __hash__(self) -> int:
        return hash(self.gost_name)


class Streebog256(_GostHashAlgorithm):
    name, digest_size, gost_name = "streebog256", 32, "streebog256"


class Streebog512(_GostHashAlgorithm):
    name, digest_size, gost_name = "streebog512", 64, "streebog512"


class GOST34311(_GostHashAlgorithm):
    """GOST 34.311-95 (GOST R 34.11-94 with the test S-box): the NCA's 2004 generation."""

    name, digest_size, block_size, gost_name = "gost34311", 32, 32, "gost34311"


# asn1crypto's names (keys/gost/oids.py DIGEST_ALGORITHMS), upper-cased as pyHanko looks them up.
ALGORITHMS: dict[str, type[_GostHashAlgorithm]] = {
    "KZ_STREEBOG256": Streebog256,
    "KZ_STREEBOG512": Streebog512,
    "STREEBOG256": Streebog256,
    "STREEBOG512": Streebog512,
    "KZ_GOST34311_95": GOST34311,
}


class GostHashContext(hashes.HashContext):
    def __init__(self, algorithm: _GostHashAlgorithm, _state=None) -> None:  # noqa: ANN001
        self._algorithm = algorithm
        self._state = _state if _state is not None else new_gost_hash(algorithm.gost_name)
        self._done = False

    @property
    def algorithm(self) -> hashes.HashAlgorithm:
        return self._algorithm

    def update(self, data) -> None:  # noqa: ANN001 - any buffer, like cryptography's
        if self._done:
            raise AlreadyFinalized("Context was already finalized.")
        self._state.update(bytes(data))

    def copy(self) -> "GostHashContext":
        return GostHashContext(self._algorithm, self._state.copy())

    def finalize(self) -> bytes:
        if self._done:
            raise AlreadyFinalized("Context was already finalized.")
        self._done = True
        return self._state.digest()


_original_hash = hashes.Hash


class _HashFactory(type):
    # ``hashes.Hash(algorithm)`` picks the context; isinstance accepts both kinds.
    def __call__(cls, algorithm, backend=None):  # noqa: ANN001, ANN204
        if isinstance(algorithm, _GostHashAlgorithm):
            return GostHashContext(algorithm)
        return _original_hash(algorithm) if backend is None else _original_hash(algorithm, backend)

    def __instancecheck__(cls, instance) -> bool:  # noqa: ANN001
        return isinstance(instance, (_original_hash, GostHashContext))


class Hash(metaclass=_HashFactory):
    """``cryptography``'s ``Hash``, which also hashes the GOST digests above."""


def register() -> None:
    """Make ``get_pyca_cryptography_hash`` and ``hashes.Hash`` know the GOST digests (idempotent)."""
    for name, algorithm in ALGORITHMS.items():
        setattr(hashes, name, algorithm)
    if hashes.Hash is not Hash:
        hashes.Hash = Hash


__all__ = ["ALGORITHMS", "GOST34311", "GostHashContext", "Hash", "Streebog256", "Streebog512", "register"]
