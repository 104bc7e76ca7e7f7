"""The CA key ceremony after ``init``: new CA keys and their retirement, each under dual control.

The hierarchy's first keys are made by ``init`` (ca/bootstrap.py) before any
administrator exists; every later CA key needs a second administrator's
approval to be made (``ca-key.create``) and to be destroyed
(``ca-key.retire``, ca/approvals.py). The ceremony holds the key backend
to make and destroy keys; it signs nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ca.approvals import Approval, DualControlRequired
from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, NotInitialised, Problem
from ca.policy import CENTRES, HierarchyPolicy
from keys import KeyAlgorithm, KeyBackend, KeyNotFound, spki_of
from registry import CaKeyRetirementRow, Conflict, Registry, RegistryTransaction

CA_KEY_CREATION = "ca-key.create"   # dual-controlled (issue 8, ca/approvals.py)
CA_KEY_RETIREMENT = "ca-key.retire"  # dual-controlled too: the key is destroyed in its backend


@dataclass(frozen=True)
class CAKey:
    """A CA key as the approver and the audit log see it: by handle and public-key digest."""

    centre: str
    handle: str
    algorithm: str
    public_key_sha256: str

    def as_json(self) -> dict[str, str]:
        return {"centre": self.centre, "handle": self.handle, "algorithm": self.algorithm,
                "public_key_sha256": self.public_key_sha256}


@dataclass(frozen=True)
class RetirableCAKey(CAKey):
    """A CA key that may be retired, and the centre row it belongs to."""

    centre_id: int


@dataclass(frozen=True)
class RetiredCAKey(CAKey):
    retired_at: str

    def as_json(self) -> dict[str, str]:
        return {**super().as_json(), "retired_at": self.retired_at}


class CAKeyCeremony:
    """Creates and retires CA keys in the key backend once a second administrator approved."""

    def __init__(self, registry: Registry, clock: Clock, policy: HierarchyPolicy, backend: KeyBackend) -> None:
        self.registry = registry
        self.clock = clock
        self.policy = policy
        self._backend = backend

    def check_ca_key(self, code: str, algorithm: str | None) -> KeyAlgorithm:
        """The algorithm a new CA key for ``code`` gets (the centre's own by default); refuses unknowns."""
        problems = []
        if code not in CENTRES:
            problems.append(Problem("centre", f"unknown centre {code!r}; known: {', '.join(CENTRES)}"))
        chosen: KeyAlgorithm | None = None
        try:
            chosen = KeyAlgorithm(algorithm) if algorithm else None
        except ValueError:
            problems.append(Problem("algorithm", f"unknown algorithm {algorithm!r}; known: "
                                                 f"{', '.join(a.value for a in KeyAlgorithm)}"))
        if problems:
            raise InvalidInput("the CA key cannot be created", problems)
        return chosen or self.policy.centre(code).algorithm

    def create_ca_key(self, code: str, algorithm: str | None, actor: str, approval: Approval | None) -> CAKey:
        """Generate a new key pair for a centre in the key backend: the key ceremony's first step.

        The hierarchy's first keys are made by ``initialise`` before any
        administrator exists (bootstrap); every later CA key needs a second
        administrator's approval. The key is recorded in the audit log by its
        handle and public-key digest; certifying a centre onto it (rollover)
        is a separate step, not built yet.
        """
        chosen = self.check_ca_key(code, algorithm)
        if approval is None or not approval.covers(CA_KEY_CREATION, actor, centre=code):
            raise DualControlRequired(CA_KEY_CREATION, "creating a CA key needs a second administrator's approval "
                                                       "(dual control): ask with POST /approvals")
        info = self._backend.generate(chosen, f"ca-{code}-{approval.id}")
        spki = spki_of(self._backend.public_key(info.handle))
        created = CAKey(centre=code, handle=info.handle, algorithm=chosen.value,
                        public_key_sha256=hashlib.sha256(spki).hexdigest())
        with self.registry.transaction() as tx:
            tx.audit.append(at=self.clock.now(), actor=actor, action="ca_key.created", subject=code,
                            details={**created.as_json(), "approval": approval.id,
                                     "approved_by": approval.approved_by})
        return created

    def check_ca_key_retirement(self, code: object, handle: object) -> RetirableCAKey:
        """What retiring ``handle`` of centre ``code`` would destroy; refuses (every problem at once) otherwise.

        The handle must name a CA key made for that centre (``ca_key.created``
        in the audit log, or the centre's own key from ``init``), not yet
        retired, and not the key the centre signs with: retiring that one is
        stopping the centre (``centre.stop``), 409.
        """
        with self.registry.transaction(readonly=True) as tx:
            return self._retirement(tx, code, handle)

    def _retirement(self, tx: RegistryTransaction, code: object, handle: object) -> RetirableCAKey:
        problems = []
        if not isinstance(code, str) or code not in CENTRES:
            problems.append(Problem("centre", f"unknown centre {code!r}; known: {', '.join(CENTRES)}"))
        if not isinstance(handle, str) or not handle or len(handle) > 200:
            problems.append(Problem("handle", "the CA key's handle (as ca-key.create returned it) is required"))
        if problems:
            raise InvalidInput("the CA key cannot be retired", problems)
        assert isinstance(code, str) and isinstance(handle, str)
        row = tx.centres.by_code(code)
        if row is None:
            raise NotInitialised()
        known = {e.details.get("handle") for e in tx.audit.of("ca_key.created", code)}
        known |= {e.details.get("key_handle") for e in tx.audit.of("centre.created", code)}
        if handle == row.key_handle:
            raise ConflictError(f"{handle} is the key the {code} centre signs with; retiring it is stopping the "
                                "centre, which is its own dual-controlled action (centre.stop)")
        if handle not in known:
            raise InvalidInput("the CA key cannot be retired",
                               [Problem("handle", f"no CA key {handle!r} was created for the {code} centre")])
        retired = tx.ca_key_retirements.by_handle(handle)
        if retired is not None:
            raise ConflictError(f"the CA key {handle} was already retired on {retired.retired_at.isoformat()}")
        try:
            spki = spki_of(self._backend.public_key(handle))
            algorithm = self._backend.algorithm(handle)
        except KeyNotFound:
            raise ConflictError(f"the CA key {handle} is no longer in the {self._backend.name} key backend") from None
        return RetirableCAKey(centre=code, handle=handle, algorithm=algorithm.value,
                              public_key_sha256=hashlib.sha256(spki).hexdigest(), centre_id=row.id)

    def retire_ca_key(self, code: str, handle: str, actor: str, approval: Approval | None) -> RetiredCAKey:
        """Destroy a CA key in its backend for good, once a second administrator approved.

        Checked again now (the centre may have moved onto the key meanwhile),
        and the key must still be the one the approver saw (same public-key
        digest). The retirement row, the destruction and the audit entry are
        one unit of work: if the backend refuses, nothing is recorded; the
        unique handle makes a second retirement fail (409).
        """
        if approval is None or not approval.covers(CA_KEY_RETIREMENT, actor, centre=code, handle=handle):
            raise DualControlRequired(CA_KEY_RETIREMENT, "retiring a CA key needs a second administrator's "
                                                         "approval (dual control): ask with POST /approvals")
        now = self.clock.now()
        try:
            with self.registry.transaction() as tx:
                key = self._retirement(tx, code, handle)
                expected = approval.params.get("public_key_sha256")
                if expected is not None and expected != key.public_key_sha256:
                    raise ConflictError(f"the handle {handle} names another key than the one approved "
                                        f"(public key SHA-256 {key.public_key_sha256}, approved {expected})")
                tx.ca_key_retirements.add(CaKeyRetirementRow(
                    handle=handle, centre_id=key.centre_id, algorithm=key.algorithm,
                    public_key_sha256=key.public_key_sha256, retired_at=now, retired_by=actor,
                    approval=approval.id, approved_by=approval.approved_by))
                try:
                    self._backend.destroy(handle)
                except KeyNotFound:
                    raise ConflictError(f"the CA key {handle} is no longer in the {self._backend.name} "
                                        "key backend") from None
                tx.audit.append(at=now, actor=actor, action="ca_key.retired", subject=code,
                                details={**key.as_json(), "approval": approval.id,
                                         "approved_by": approval.approved_by})
        except Conflict as conflict:
            raise ConflictError(f"the CA key {handle} was already retired ({conflict.constraint})") from conflict
        return RetiredCAKey(centre=key.centre, handle=key.handle, algorithm=key.algorithm,
                            public_key_sha256=key.public_key_sha256, retired_at=now.isoformat())
