"""Changing the signing policy in force (issue 8): a dual-controlled action, its file, its audit entry.

An administrator asks with the whole new policy; the check loads it with
the strict loader (signing/policies/loader.py), so a bad policy is refused
when asked and never waits for approval. When a second administrator
approves, the policy is written to its file atomically and audited by its
fingerprint. The wiring (api/wiring/) registers :func:`policy_action`
with the centres' actions (ca/dual_control.py) and rebuilds the services
that hold the old policy; other serving processes read the file when they
start and audit the new fingerprint then.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from ca.approvals import Action, Approval, DualControlRequired
from ca.clock import Clock
from ca.errors import InvalidInput, Problem
from registry import Registry
from signing.policies.policy import SigningPolicies
from signing.policies.loader import PolicyError, load_policies

SIGNING_POLICY_CHANGE = "signing-policy.change"
POLICY_CHANGED = "signing.policy_changed"


def check_policy(params: dict, by: str) -> tuple[str, dict]:
    """The request's subject and the parameters kept with it: the policy and its fingerprint."""
    if set(params) != {"policy"}:
        raise InvalidInput("the policy change cannot be asked for",
                           [Problem("policy", "give the whole signing policy (JSON object) as policy")])
    try:
        policies = load_policies(params["policy"])
    except PolicyError as error:
        raise InvalidInput("the signing policy is refused",
                           [Problem("policy", problem) for problem in error.problems]) from None
    return "signing-policy", {"policy": params["policy"], "fingerprint": policies.fingerprint}


def policy_action(change: Callable[[object, Approval], dict]) -> Action:
    """The ``signing-policy.change`` action; ``change(policy, approval)`` puts the policy in force."""
    return Action(SIGNING_POLICY_CHANGE, "change the signing policy", check_policy,
                  lambda params, approval: change(params["policy"], approval))


def put_in_force(path: Path, policy: object, approval: Approval) -> SigningPolicies:
    """Check the approval, load the policy and write it to ``path``; the loaded policy is returned."""
    if not approval.covers(SIGNING_POLICY_CHANGE, approval.requested_by):
        raise DualControlRequired(SIGNING_POLICY_CHANGE, "changing the signing policy needs a second "
                                                         "administrator's approval")
    policies = load_policies(policy)
    write_policy_file(path, policy)
    return policies


def write_policy_file(path: os.PathLike, policy: object) -> None:
    """Atomically: a reader (another process starting) sees the old file or the new one."""
    text = json.dumps(policy, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    tmp = f"{os.fspath(path)}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def record_policy(registry: Registry, clock: Clock, policies: SigningPolicies, source: str,
                  actor: str = "system") -> bool:
    """An audit entry when the policy in force differs from the last one recorded; False when it does not."""
    with registry.transaction() as tx:
        last = tx.audit.latest(POLICY_CHANGED)
        previous = last.details.get("fingerprint") if last is not None else None
        if previous == policies.fingerprint:
            return False
        tx.audit.append(at=clock.now(), actor=actor, action=POLICY_CHANGED, subject="signing-policy", details={
            "fingerprint": policies.fingerprint, "previous": previous, "source": source,
            "rules": [r.name for r in policies.rules]})
    return True


__all__ = ["POLICY_CHANGED", "SIGNING_POLICY_CHANGE", "check_policy", "policy_action", "put_in_force",
           "record_policy", "write_policy_file"]
