"""The dual-controlled actions of the centres (issue 8), bound to the services that carry them out.

The mechanism (pending, approve once, reject, expiry, audit) is
ca/approvals.py; here each action gets its check, run when an administrator
asks, and its run, given the approval when a second one agrees:

- ``ca-certificate.revoke``: revoke a CA certificate (ROOT-6), directly or
  by approving a CA's revocation application;
- ``centre.stop``: a centre stops work (NAT-5): everything it issued and its
  own certificate are revoked;
- ``ca-key.create``: a new key pair for a centre in the key backend;
- ``ca-key.retire``: a CA key destroyed in its backend (never the one its
  centre signs with: that is ``centre.stop``);
- ``signing-policy.change``: the signing policies (signing/policies/policy.py) in force;
  that action is signing's own (signing/policies/change.py), registered by the
  wiring beside these.

The services are reached through :class:`CentreServices`, a narrow view the
wiring (api/wiring/) satisfies; each is looked up only when an action's
check or run needs it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from ca.applications import ApplicationService
from ca.approvals import Action, Approval, DualControl
from ca.ceremony import CA_KEY_CREATION, CA_KEY_RETIREMENT, CAKeyCeremony
from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, Problem
from ca.revocation import CA_REVOCATION, CENTRE_STOP, CourtDecision, RevocationRequest, RevocationService
from ca.revocation_applications import RevocationApplications
from registry import ApplicationStatus, Registry


class CentreServices(Protocol):
    """What the centres' dual-controlled actions use (``Services`` of api/wiring/ has each)."""

    @property
    def applications(self) -> ApplicationService: ...

    @property
    def revocations(self) -> RevocationService: ...

    @property
    def revocation_applications(self) -> RevocationApplications: ...

    @property
    def ca_keys(self) -> CAKeyCeremony: ...


_REVOCATION_FIELDS = ("reason", "ground", "centre", "letter_number", "state_body")


def revocation_params(request: RevocationRequest) -> dict:
    """What a CA certificate's revocation request keeps while it waits: JSON, dates as ISO text."""
    params: dict[str, Any] = {"serial": request.serial}
    params.update({k: getattr(request, k) for k in _REVOCATION_FIELDS if getattr(request, k) is not None})
    if request.court_decision is not None:
        params["court_decision"] = {"number": request.court_decision.number,
                                    "date": request.court_decision.date.isoformat()}
    if request.letter_date is not None:
        params["letter_date"] = request.letter_date.isoformat()
    return params


def revocation_request(params: dict, actor: str, approval: Approval | None = None) -> RevocationRequest:
    unknown = set(params) - {"serial", "court_decision", "letter_date", *_REVOCATION_FIELDS}
    problems = [Problem(name, "unknown field") for name in sorted(unknown)]
    if not isinstance(params.get("serial"), str):
        problems.append(Problem("serial", "the CA certificate's serial number (hex) is required"))
    decision = params.get("court_decision")
    try:
        court = (CourtDecision(str(decision["number"]), dt.date.fromisoformat(decision["date"]))
                 if decision is not None else None)
        letter_date = dt.date.fromisoformat(params["letter_date"]) if params.get("letter_date") else None
    except (KeyError, TypeError, ValueError):
        problems.append(Problem("court_decision", "needs number and date (YYYY-MM-DD)"))
        court, letter_date = None, None
    if problems:
        raise InvalidInput("the revocation cannot be asked for", problems)
    extra = {k: params[k] for k in _REVOCATION_FIELDS if params.get(k) is not None}
    return RevocationRequest(serial=params["serial"], actor=actor, court_decision=court, letter_date=letter_date,
                             administrator=True, approval=approval, **extra)


def build_dual_control(svc: CentreServices, registry: Registry, clock: Clock, ttl: dt.timedelta,
                       *extra: Action) -> DualControl:
    """Dual control with the centres' actions and ``extra`` ones (the signing policy's, from the wiring)."""
    dual = DualControl(registry, clock, ttl)

    # -- revoking a CA certificate ---------------------------------------------------
    def check_revocation(params: dict, by: str) -> tuple[str, dict]:
        if "application_id" in params:
            view = svc.applications.get(int(params["application_id"]))
            if view.kind != "revocation-ca":
                raise InvalidInput("only a CA's revocation application waits for dual control",
                                   [Problem("application_id", f"application {view.id} is {view.kind}")])
            if view.status != ApplicationStatus.SUBMITTED:
                raise ConflictError(f"application {view.id} is already {view.status}")
            return f"application:{view.id}", {"application_id": view.id, "serial": view.target_serial}
        serial, centre, is_ca = svc.revocations.check(revocation_request(params, by))
        if not is_ca:
            raise InvalidInput("only CA certificates wait for dual control",
                               [Problem("serial", "not a CA certificate; revoke it directly")])
        return f"certificate:{serial}", {**params, "serial": serial, "centre": centre}

    def revoke(params: dict, approval: Approval) -> dict:
        if "application_id" in params:
            view, revocation = svc.revocation_applications.approve(
                int(params["application_id"]), approval.requested_by, administrator=True, approval=approval)
            return {"application": view.id, "status": view.status, "revocation": revocation.as_json()}
        return svc.revocations.revoke(revocation_request(params, approval.requested_by, approval)).as_json()

    # -- stopping a centre -------------------------------------------------------------
    def check_stop(params: dict, by: str) -> tuple[str, dict]:
        code = params.get("centre")
        if set(params) != {"centre"} or not isinstance(code, str):
            raise InvalidInput("the stop cannot be asked for", [Problem("centre", "the centre's code, alone")])
        svc.revocations.check_stop(code, administrator=True)
        return f"centre:{code}", {"centre": code}

    def stop(params: dict, approval: Approval) -> dict:
        done = svc.revocations.stop_centre(params["centre"], approval.requested_by, administrator=True,
                                           approval=approval)
        return {"centre": params["centre"], "revoked": [r.as_json() for r in done]}

    # -- creating a CA key ---------------------------------------------------------------
    def check_key(params: dict, by: str) -> tuple[str, dict]:
        problems = [Problem(k, "unknown field") for k in sorted(set(params) - {"centre", "algorithm"})]
        if not isinstance(params.get("centre"), str):
            problems.append(Problem("centre", "the centre's code is required"))
        if problems:
            raise InvalidInput("the CA key cannot be asked for", problems)
        algorithm = svc.ca_keys.check_ca_key(params["centre"], params.get("algorithm"))
        return f"centre:{params['centre']}", {"centre": params["centre"], "algorithm": algorithm.value}

    def create_key(params: dict, approval: Approval) -> dict:
        return svc.ca_keys.create_ca_key(params["centre"], params["algorithm"], approval.requested_by,
                                         approval).as_json()

    # -- retiring a CA key ----------------------------------------------------------------
    def check_retire(params: dict, by: str) -> tuple[str, dict]:
        unknown = [Problem(k, "unknown field") for k in sorted(set(params) - {"centre", "handle"})]
        try:
            key = svc.ca_keys.check_ca_key_retirement(params.get("centre"), params.get("handle"))
        except InvalidInput as error:
            raise InvalidInput(error.detail, unknown + error.problems) from None
        except ConflictError:
            if unknown:   # bad input first: every field problem is listed before any conflict
                raise InvalidInput("the CA key cannot be retired", unknown) from None
            raise
        if unknown:
            raise InvalidInput("the CA key cannot be retired", unknown)
        # The approver sees which key will be destroyed: its public-key digest is fixed with the request.
        return f"ca-key:{key.handle}", key.as_json()

    def retire_key(params: dict, approval: Approval) -> dict:
        return svc.ca_keys.retire_ca_key(params["centre"], params["handle"], approval.requested_by,
                                         approval).as_json()

    for action in (Action(CA_REVOCATION, "revoke a CA certificate", check_revocation, revoke),
                   Action(CENTRE_STOP, "stop a centre: revoke everything it issued", check_stop, stop),
                   Action(CA_KEY_CREATION, "create a CA key pair in the key backend", check_key, create_key),
                   Action(CA_KEY_RETIREMENT, "retire a CA key: destroy it in the key backend", check_retire,
                          retire_key),
                   *extra):
        dual.register(action)
    return dual


__all__ = ["CentreServices", "build_dual_control", "revocation_params", "revocation_request"]
