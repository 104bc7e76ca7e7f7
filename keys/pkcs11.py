"""Keys that live on a PKCS#11 token (HSM, SoftHSM2, smart-card carriers).

Private keys are generated on the token as sensitive, non-extractable token
objects and never leave it; this module only holds PKCS#11 object handles.
A key is named by its unique CKA_LABEL: handle ``pkcs11:<label>``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import pkcs11
from asn1crypto.algos import DigestInfo
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import exceptions as p11e
from pkcs11.util.ec import encode_ecdsa_signature, encode_named_curve_parameters

from keys.backend import (
    KeyAlgorithm,
    KeyBackendUnavailable,
    KeyError_,
    KeyExists,
    KeyInfo,
    KeyNotFound,
    UnsupportedAlgorithm,
    algorithm_of,
    hash_algorithm,
)
from keys.pkcs11_ec import ec_public_key
from keys.pkcs11_session import epoch as _epoch
from keys.pkcs11_session import forget_login as _forget_login
from keys.pkcs11_session import library_lock as _library_lock
from keys.pkcs11_session import login as _login
from keys.pkcs11_session import reinitialise as _reinitialise
from keys.recent import Recent

log = logging.getLogger(__name__)
HANDLE_PREFIX = "pkcs11:"
# Attempts at one operation when the token answers CKR_GENERAL_ERROR (a token that fails for a moment).
GENERAL_ERROR_ATTEMPTS = 6
KEY_NOT_FOUND_ATTEMPTS = 4   # searches for a key before "not found" (0.3 s: another worker's new key, issue 17)
KEYS_KEPT = 4096   # keys whose objects a backend keeps found (each borrower's held key is one)

_RSA_MECHANISMS = {"sha224": Mechanism.SHA224_RSA_PKCS, "sha256": Mechanism.SHA256_RSA_PKCS,
                   "sha384": Mechanism.SHA384_RSA_PKCS, "sha512": Mechanism.SHA512_RSA_PKCS}
_CURVES = {KeyAlgorithm.EC_P256: "secp256r1", KeyAlgorithm.EC_P384: "secp384r1"}

# Errors after which the session (and any object handles from it) is dead
# but reopening may work: token re-inserted, HSM restarted, login lost.
_RECONNECT_ERRORS = (p11e.SessionClosed, p11e.SessionHandleInvalid, p11e.DeviceRemoved, p11e.TokenNotPresent,
                     p11e.UserNotLoggedIn, p11e.ObjectHandleInvalid, p11e.KeyHandleInvalid)

_T = TypeVar("_T")


@dataclass
class _TokenKey:
    private: Any
    algorithm: KeyAlgorithm
    public_key: PublicKeyTypes


class PKCS11KeyBackend:
    name = "pkcs11"

    def __init__(self, module_path: str, token_label: str, user_pin: str) -> None:
        self._module_path = module_path
        self._token_label = token_label
        self._pin = user_pin
        # Every call into the module holds its lock (keys/pkcs11_session.py); this one covers opening and
        # dropping this backend's session.
        self._lock = threading.RLock()
        self._library = _library_lock(module_path)
        self._library_path = os.path.realpath(module_path)   # the library the lock and the epoch are kept for
        self._session: Any = None
        self._epoch = 0   # keys.pkcs11_session.epoch when this backend's session was opened
        self._keys: Recent[str, _TokenKey] = Recent(KEYS_KEPT)   # the keys used lately

    # -- KeyBackend -----------------------------------------------------------

    def generate(self, algorithm: KeyAlgorithm, label: str, *, fresh: bool = False) -> KeyInfo:
        algorithm = KeyAlgorithm(algorithm)
        if algorithm.is_gost:
            # SoftHSM2 (2.6, as Debian builds it) offers no CKM_GOSTR3410* mechanism, and
            # no HSM of ours speaks the NCA's byte layout yet: GOST keys live in the
            # software backend (docs/DECISIONS.md, GOST). Refused before touching the token.
            raise UnsupportedAlgorithm(
                f"the PKCS#11 backend does not generate GOST keys ({algorithm.value}): the token offers no "
                "GOST R 34.10 mechanism; keep GOST keys in the software backend")
        if not label:
            raise ValueError("a PKCS#11 key needs a non-empty label")
        cka_id = os.urandom(16)
        # Sensitive, non-extractable, for signing only; the public half readable, for verifying only.
        private_template = {Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
                            Attribute.EXTRACTABLE: False, Attribute.SIGN: True, Attribute.DECRYPT: False,
                            Attribute.UNWRAP: False, Attribute.DERIVE: False}
        public_template = {Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.VERIFY: True,
                           Attribute.ENCRYPT: False, Attribute.WRAP: False}
        common = dict(id=cka_id, label=label, store=True, capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                      public_template=public_template, private_template=private_template)

        def run(session: Any) -> None:
            # One search for the label, of any class (SoftHSM2 looks at every object on the token for each), or
            # none for a label drawn fresh: should two ever meet, _key refuses the label as not unique.
            if not fresh and list(session.get_objects({Attribute.LABEL: label})):   # read to its end: closed
                raise KeyExists(f"token {self._token_label!r} already has a key labelled {label!r}")
            try:
                public, private = make(session)
            except p11e.GeneralError:
                # A generation the token refused (CKR_GENERAL_ERROR): what it left under this new label goes, and
                # _call tries again.
                for object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                    for leftover in session.get_objects({Attribute.CLASS: object_class, Attribute.LABEL: label}):
                        leftover.destroy()
                raise
            # The new key kept as found: its first signature needs no search of the token.
            self._keys.put(label, _TokenKey(private, algorithm, self._public_key(session, label, private, public)))

        def make(session: Any) -> tuple[Any, Any]:
            if algorithm.is_rsa:
                return session.generate_keypair(KeyType.RSA, algorithm.rsa_bits, **common)
            if algorithm in _CURVES:
                params = session.create_domain_parameters(
                    KeyType.EC,
                    {Attribute.EC_PARAMS: encode_named_curve_parameters(_CURVES[algorithm])},
                    local=True,
                )
                return params.generate_keypair(**common)
            raise UnsupportedAlgorithm(f"PKCS#11 backend cannot generate {algorithm.value}")

        self._call(run)
        return KeyInfo(handle=HANDLE_PREFIX + label, algorithm=algorithm, label=label)

    def sign(self, handle: str, data: bytes, hash_name: str) -> bytes:
        label = self._label(handle)
        digest_algorithm = hash_algorithm(hash_name)

        def run(session: Any) -> bytes:
            key = self._key(session, label)
            if key.algorithm.is_rsa:
                return key.private.sign(data, mechanism=_RSA_MECHANISMS[digest_algorithm.name])
            # Plain CKM_ECDSA over a host-side digest: combined ECDSA-SHAxxx
            # mechanisms are missing on many tokens, and hashing here is cheap.
            digest = hashes.Hash(digest_algorithm)
            digest.update(data)
            raw = key.private.sign(digest.finalize(), mechanism=Mechanism.ECDSA)
            return encode_ecdsa_signature(raw)

        return self._call(run, look_again=True)

    def sign_digest(self, handle: str, digest: bytes, hash_name: str) -> bytes:
        """The signature over ``digest``, already computed with ``hash_name`` (CSC signHash, issue 19):
        CKM_ECDSA over it, or CKM_RSA_PKCS over its DigestInfo (RFC 8017, section 9.2)."""
        label = self._label(handle)
        digest_algorithm = hash_algorithm(hash_name)
        if len(digest) != digest_algorithm.digest_size:
            raise UnsupportedAlgorithm(f"a {hash_name} digest is {digest_algorithm.digest_size} bytes, "
                                       f"not {len(digest)}")

        def run(session: Any) -> bytes:
            key = self._key(session, label)
            if key.algorithm.is_rsa:
                info = DigestInfo({"digest_algorithm": {"algorithm": digest_algorithm.name}, "digest": digest})
                return key.private.sign(info.dump(), mechanism=Mechanism.RSA_PKCS)
            return encode_ecdsa_signature(key.private.sign(digest, mechanism=Mechanism.ECDSA))

        return self._call(run, look_again=True)

    def public_key(self, handle: str) -> PublicKeyTypes:
        label = self._label(handle)
        return self._call(lambda session: self._key(session, label).public_key, look_again=True)

    def read_public_key(self, handle: str) -> PublicKeyTypes:
        """The public key read from the token now, not from this process's cache (readiness, issue 17)."""
        label = self._label(handle)

        def run(session: Any) -> PublicKeyTypes:
            private = self._find(session, label, ObjectClass.PRIVATE_KEY)
            if private is None:
                raise KeyNotFound(f"no private key labelled {label!r} on token {self._token_label!r}")
            return self._public_key(session, label, private)

        return self._call(run)

    def algorithm(self, handle: str) -> KeyAlgorithm:
        label = self._label(handle)
        return self._call(lambda session: self._key(session, label).algorithm, look_again=True)

    def owns(self, handle: str) -> bool:
        return isinstance(handle, str) and handle.startswith(HANDLE_PREFIX)

    def destroy(self, handle: str) -> None:
        """C_DestroyObject on the private key and its public key (by label, and by CKA_ID as a fallback)."""
        label = self._label(handle)

        def run(session: Any) -> None:
            private = self._find(session, label, ObjectClass.PRIVATE_KEY)
            public = self._find(session, label, ObjectClass.PUBLIC_KEY)
            if public is None and private is not None:
                try:
                    public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, id=private[Attribute.ID])
                except (p11e.NoSuchKey, p11e.MultipleObjectsReturned, p11e.AttributeTypeInvalid):
                    public = None
            if private is None and public is None:
                raise KeyNotFound(f"no key labelled {label!r} on token {self._token_label!r}")
            self._keys.pop(label)
            # The private key first: once it is gone nothing can sign, whatever happens next.
            for obj in (private, public):
                if obj is not None:
                    obj.destroy()

        self._call(run)

    # -- management -----------------------------------------------------------

    def list_keys(self) -> list[KeyInfo]:
        def run(session: Any) -> list[KeyInfo]:
            labels = {
                obj[Attribute.LABEL]
                for obj in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
            }
            infos = []
            for label in sorted(labels):
                try:
                    algorithm = self._key(session, label).algorithm
                except (UnsupportedAlgorithm, KeyError_):
                    continue  # keys of other applications or types we do not sign with
                infos.append(KeyInfo(HANDLE_PREFIX + label, algorithm, label))
            return infos

        return self._call(run)

    def close(self) -> None:
        """Close this backend's session; the process-wide login stays."""
        with self._lock:
            session, self._session = self._session, None
            self._keys.clear()
        if session is not None:
            try:
                with self._library:
                    if self._epoch == _epoch(self._library_path):   # else its number may be another's session now
                        session.close()
            except p11e.PKCS11Error:
                pass

    # -- internals ------------------------------------------------------------

    def _label(self, handle: str) -> str:
        if not self.owns(handle) or len(handle) == len(HANDLE_PREFIX):
            raise KeyNotFound(f"not a PKCS#11 key handle: {handle!r}")
        return handle[len(HANDLE_PREFIX):]

    def call(self, fn: Callable[[Any], _T]) -> _T:
        """Run ``fn(session)`` on the token (keys.envelope's KEKs); reopen once if the token dropped the session."""
        return self._call(fn)

    def _call(self, fn: Callable[[Any], _T], *, look_again: bool = False) -> _T:
        """Run ``fn(session)`` under the module's lock; reopen once if the token dropped the session; again, with
        the keys found anew, when the token answers CKR_GENERAL_ERROR (the sleep between tries outside the lock).
        ``look_again``: ``fn`` uses a key another worker may have just made, and SoftHSM2 may not show it yet; a
        key not found is looked for again, the second time after initialising the module again."""
        reconnected = general = missing = 0
        while True:
            try:
                with self._library:
                    if self._session is not None and self._epoch != _epoch(self._library_path):
                        self._reset()   # the module was initialised again: these handles may name others now
                    return fn(self._open())
            except KeyNotFound:
                missing += 1
                if not look_again or missing == KEY_NOT_FOUND_ATTEMPTS:
                    raise
                if missing == 2:   # still not there: the module's view of the token read anew (the next try
                    log.warning("PKCS#11 token %r: a key was not found twice; initialising the module again",
                                self._token_label)   # sees the new epoch and opens a new session)
                    with self._library:
                        _reinitialise(self._module_path)
                time.sleep(0.05 * missing)
            except _RECONNECT_ERRORS as exc:
                self._reset()
                reconnected += 1
                if reconnected == 2:
                    raise KeyBackendUnavailable(f"PKCS#11 token {self._token_label!r} unavailable: {exc!r}") from exc
            except p11e.GeneralError as exc:
                general += 1
                if general == GENERAL_ERROR_ATTEMPTS:
                    raise KeyError_(f"PKCS#11 error on token {self._token_label!r}: {exc!r}") from exc
                log.warning("PKCS#11 token %r answered CKR_GENERAL_ERROR; trying again", self._token_label)
                self._reset()   # a new session, the keys found anew
                time.sleep(0.05 * general)
            except p11e.PKCS11Error as exc:
                raise KeyError_(f"PKCS#11 error on token {self._token_label!r}: {exc!r}") from exc

    def _open(self) -> Any:
        session = self._session
        if session is not None:
            return session
        with self._lock:
            if self._session is not None:
                return self._session
            try:
                lib = pkcs11.lib(self._module_path)
                token = lib.get_token(token_label=self._token_label)
                _login(token, self._module_path, self._token_label, self._pin)
                # The PIN-less session's user_type is "nobody", so closing it
                # later does not C_Logout the whole process.
                self._session = token.open(rw=True)
                self._epoch = _epoch(self._library_path)
            except p11e.NoSuchToken:
                raise KeyBackendUnavailable(
                    f"no PKCS#11 token labelled {self._token_label!r} in {self._module_path}"
                ) from None
            except (p11e.PinIncorrect, p11e.PinLocked, p11e.PinExpired) as exc:
                raise KeyBackendUnavailable(
                    f"PKCS#11 token {self._token_label!r} rejected the user PIN: {type(exc).__name__}"
                ) from None
            except p11e.PKCS11Error as exc:
                raise KeyBackendUnavailable(
                    f"cannot open PKCS#11 module {self._module_path}: {exc!r}"
                ) from exc
            return self._session

    def _reset(self) -> None:
        with self._lock:
            self._session = None
            self._keys.clear()
        _forget_login(self._module_path, self._token_label)

    @staticmethod
    def _find(session: Any, label: str, object_class: ObjectClass) -> Any:
        try:
            return session.get_key(object_class=object_class, label=label)
        except p11e.NoSuchKey:
            return None
        except p11e.MultipleObjectsReturned:
            raise KeyError_(f"label {label!r} is not unique on the token") from None

    def _key(self, session: Any, label: str) -> _TokenKey:
        key = self._keys.get(label)
        if key is not None:
            return key
        # Both halves in one search: SoftHSM2 looks at every object on the token for each.
        found: dict[Any, list[Any]] = {}
        for obj in session.get_objects({Attribute.LABEL: label}):
            found.setdefault(obj.object_class, []).append(obj)
        privates, publics = found.get(ObjectClass.PRIVATE_KEY, []), found.get(ObjectClass.PUBLIC_KEY, [])
        if len(privates) > 1 or len(publics) > 1:
            raise KeyError_(f"label {label!r} is not unique on the token")
        if not privates:
            raise KeyNotFound(f"no private key labelled {label!r} on token {self._token_label!r}")
        private = privates[0]
        public_key = self._public_key(session, label, private, publics[0] if publics else None)
        algorithm = algorithm_of(public_key)
        key = _TokenKey(private, algorithm, public_key)
        self._keys.put(label, key)
        return key

    def _public_key(self, session: Any, label: str, private: Any, public: Any = None) -> PublicKeyTypes:
        public = public if public is not None else self._find(session, label, ObjectClass.PUBLIC_KEY)
        if public is None:
            try:
                public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, id=private[Attribute.ID])
            except (p11e.NoSuchKey, p11e.MultipleObjectsReturned, p11e.AttributeTypeInvalid):
                public = None
        key_type = private.key_type
        if key_type == KeyType.RSA:
            # RSA private objects carry the public parts, which covers tokens
            # that keep no separate public-key object.
            source = public if public is not None else private
            n = int.from_bytes(source[Attribute.MODULUS], "big")
            e = int.from_bytes(source[Attribute.PUBLIC_EXPONENT], "big")
            return rsa.RSAPublicNumbers(e, n).public_key()
        if key_type == KeyType.EC:
            if public is None:
                raise KeyNotFound(f"no public key object for EC key {label!r}")
            return ec_public_key(public)
        raise UnsupportedAlgorithm(f"key {label!r} has unsupported type {key_type!r}")
