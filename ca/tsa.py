"""The time-stamp authority (RFC 3161): decides what to stamp and stamps it.

Policy (which hashes, which policy OID, the accuracy claimed) is a frozen
``TSAPolicy``; the encoding is ca/tsp.py's. The authority adds the three
things a token needs from outside: a serial number that is never reused,
the time, and the TSA key (held by the key backend, named by the service
certificate ``tsa`` that ``qoltanba init`` issues).

Serial numbers come from the registry's named counter ``tsa``: moved on and
committed by one statement per token (``Registry.advance``) before anything
is signed, so no two processes, and no process after a restart, can hand out
the same number.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509 import ObjectIdentifier

from ca.clock import Clock
from ca.errors import QoltanbaError
from ca.profiles import POLICY_TSA
from ca.signers import Signer
from ca.tsp import (
    HASH_SIZES,
    TimeStampQuery,
    TimeStampRefused,
    TokenSigner,
    granted,
    local_query,
    parse_query,
    rejection,
    tst_info,
)
from registry import Registry

log = logging.getLogger(__name__)

SERIAL_SEQUENCE = "tsa"
SERVICE_HOLDER = "tsa"
# Hashes a policy may accept at all: SHA-1 and MD5 are collision-prone, so a
# token over one would vouch for any document with the same digest.
STRONG_HASHES = frozenset({"sha256", "sha384", "sha512"})
MAX_ACCURACY = dt.timedelta(seconds=60)
SYSTEM_FAILURE_TEXT = "the time-stamp authority cannot answer now"


class TSAUnavailable(QoltanbaError):
    """The TSA cannot stamp at all right now (for example its certificate is not valid)."""

    def __init__(self, detail: str) -> None:
        super().__init__("unavailable", detail, [])


@dataclass(frozen=True)
class TSAPolicy:
    """What the TSA grants: DOMAIN.md KZ-3's TSA policy, SHA-2 imprints, one-second accuracy."""

    policy_oid: str = POLICY_TSA
    hash_algorithms: frozenset[str] = STRONG_HASHES
    accuracy: dt.timedelta = dt.timedelta(seconds=1)

    def __post_init__(self) -> None:
        ObjectIdentifier(self.policy_oid)  # raises on a malformed OID
        object.__setattr__(self, "hash_algorithms", frozenset(self.hash_algorithms))
        if not self.hash_algorithms:
            raise ValueError("a TSA policy accepts at least one hash algorithm")
        weak = self.hash_algorithms - STRONG_HASHES
        if weak:
            raise ValueError(f"hash algorithms {sorted(weak)} are not accepted; "
                             f"choose from {sorted(STRONG_HASHES)}")
        if not dt.timedelta(0) < self.accuracy <= MAX_ACCURACY:
            raise ValueError(f"TSA accuracy must be positive and at most {MAX_ACCURACY.seconds} s")

    def check(self, query: TimeStampQuery) -> None:
        """Raise TimeStampRefused with RFC 3161's failInfo when the query cannot be granted."""
        if query.hash_algorithm not in self.hash_algorithms:
            raise TimeStampRefused("badAlg", f"hash algorithm {query.hash_algorithm} is not accepted; "
                                             f"use one of {', '.join(sorted(self.hash_algorithms))}")
        if len(query.digest) != HASH_SIZES[query.hash_algorithm]:
            # The imprint and its algorithm identifier disagree: whatever was
            # hashed, it was not hashed with the algorithm named.
            raise TimeStampRefused("badAlg", f"a {query.hash_algorithm} imprint is "
                                             f"{HASH_SIZES[query.hash_algorithm]} octets, not {len(query.digest)}")
        if query.policy is not None and query.policy != self.policy_oid:
            raise TimeStampRefused("unacceptedPolicy", f"this TSA stamps under policy {self.policy_oid} only")
        if query.extensions:
            # RFC 3161 §2.4.2: an extension the TSA does not recognise,
            # critical or not, is refused; this TSA recognises none.
            raise TimeStampRefused("unacceptedExtension", "this TSA supports no request extensions")

    def gen_time(self, now: dt.datetime) -> dt.datetime:
        """``now`` in UTC, cut to the precision the accuracy claims (seconds for one second)."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the clock must give timezone-aware times")
        now = now.astimezone(dt.timezone.utc)
        if self.accuracy >= dt.timedelta(seconds=1):
            return now.replace(microsecond=0)
        if self.accuracy >= dt.timedelta(milliseconds=1):
            return now.replace(microsecond=now.microsecond - now.microsecond % 1000)
        return now


class TimeStampAuthority:
    """Answers RFC 3161 queries and stamps digests for in-process callers."""

    def __init__(self, registry: Registry, signer: Signer, clock: Clock, policy: TSAPolicy | None = None) -> None:
        """``signer``: the TSA key's, and the only key the TSA can use (built in the wiring)."""
        self.registry = registry
        self.clock = clock
        self.policy = policy or TSAPolicy()
        self.signer = signer
        self._token_signer_: TokenSigner | None = None
        self._lock = threading.Lock()

    def respond(self, query_der: bytes) -> bytes:
        """A DER TimeStampResp for a DER TimeStampReq; never raises.

        Refusals are rejections with the failInfo RFC 3161 §2.4.2 names;
        anything else that goes wrong is systemFailure, logged here.
        """
        try:
            return granted(self._token(parse_query(query_der)))
        except TimeStampRefused as refused:
            return rejection(refused.fail_info, refused.detail)
        except TSAUnavailable as unavailable:
            log.error("time-stamp authority unavailable: %s", unavailable.detail)
            return rejection("systemFailure", SYSTEM_FAILURE_TEXT)
        except Exception as error:  # noqa: BLE001 - RFC 3161 §2.4.2: a failing TSA says systemFailure
            log.error("time-stamp authority failed: %s", type(error).__name__, exc_info=error)
            return rejection("systemFailure", SYSTEM_FAILURE_TEXT)

    def stamp(self, digest: bytes, hash_name: str = "sha256", *, nonce: int | None = None,
              cert_req: bool = True) -> bytes:
        """The TimeStampToken (DER ContentInfo) over ``digest``, for in-process callers.

        Raises TimeStampRefused (with ``fail_info``) for a digest the policy
        refuses and TSAUnavailable when the TSA cannot stamp now.
        """
        return self._token(local_query(digest, hash_name, nonce=nonce, cert_req=cert_req))

    @property
    def certificate(self) -> x509.Certificate:
        """The TSA certificate tokens are signed under."""
        return self._token_signer().certificate

    def _token(self, query: TimeStampQuery) -> bytes:
        self.policy.check(query)
        signer = self._token_signer()
        serial = self.registry.advance(SERIAL_SEQUENCE)
        # The time is read after the serial is committed: waiting for the
        # counter's lock must not age the genTime.
        gen_time = self.policy.gen_time(self.clock.now())
        if not signer.not_before <= gen_time <= signer.not_after:
            raise TSAUnavailable(f"the TSA certificate is not valid at {gen_time.isoformat()}")
        info = tst_info(policy=self.policy.policy_oid, query=query, serial=serial, gen_time=gen_time,
                        accuracy=self.policy.accuracy, tsa_name=signer.tsa_name)
        return signer.sign(info, include_certificate=query.cert_req)

    def _token_signer(self) -> TokenSigner:
        # The TSA certificate does not change while the process runs, so it
        # is read and parsed once.
        signer = self._token_signer_
        if signer is None:
            with self._lock:
                if self._token_signer_ is None:
                    # With certReq the issuing CA goes along, not the root (the verifier's anchor).
                    self._token_signer_ = TokenSigner(self.signer.key, self.signer.certificate,
                                                      chain=self.signer.chain[:-1])
                signer = self._token_signer_
        return signer
