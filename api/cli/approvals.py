"""``qoltanba approvals``: dual control on the command line (issue 8).

Registered on ``api.cli`` (imported at its end). ``cert revoke`` of a CA
certificate, ``ca stop``, ``ca key-create``, ``ca key-retire`` and ``signing-policy set`` only
record a request; a second administrator runs ``approvals approve ID``. On
the command line ``--actor`` must name an active administrator (a console
user or an API key's actor), and the approver must be a different one. The
host's operator can of course do anything the keys allow; the command line
keeps the two-person procedure and its audit trail, the HTTP API enforces it
with authenticated people.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ca.dual_control import SIGNING_POLICY_CHANGE
from api.cli import DEFAULT_HOME, ActorOpt, Centre, Home, _emit, _group, _read_json, _services, ca_app
from api.wiring import Services
from ca.approvals import STATUSES
from ca.authority import CA_KEY_CREATION, CA_KEY_RETIREMENT
from ca.errors import InvalidInput

approvals_app = _group("approvals", "Dual control: requests waiting for a second administrator.")
policy_app = _group("signing-policy", "The signing policy in force (changes need a second administrator).")
ApprovalId = Annotated[str, typer.Argument(metavar="ID", help="The request's id.")]


def ask(services: Services, action: str, params: dict, actor: str) -> None:
    view = services.dual_control.request(action, params, actor,
                                         administrator=services.dual_control.is_administrator(actor))
    _emit({**view.as_json(), "note": "pending: a second administrator runs `qoltanba approvals approve "
                                     f"{view.id}`"})


@approvals_app.command("list")
def approvals_list(status: Annotated[Optional[str], typer.Option(help=f"One of: {', '.join(STATUSES)}.")] = None,
                   home: Home = DEFAULT_HOME) -> None:
    """Requests, newest first, one JSON line each."""
    with _services(home) as services:
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"--status must be one of: {', '.join(STATUSES)}")
        for view in services.dual_control.list(status):
            _emit(view.as_json())


@approvals_app.command("show")
def approvals_show(approval_id: ApprovalId, home: Home = DEFAULT_HOME) -> None:
    """One request as JSON: what, who asked, its status and result."""
    with _services(home) as services:
        _emit(services.dual_control.get(approval_id).as_json())


@approvals_app.command("request")
def approvals_request(action: Annotated[str, typer.Option(help="ca-certificate.revoke, centre.stop, "
                                                                "ca-key.create, ca-key.retire or "
                                                                "signing-policy.change.")],
                      params_file: Annotated[Path, typer.Option(help="The action's parameters (JSON object).")],
                      actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask for a dual-controlled action."""
    with _services(home) as services:
        params = _read_json(params_file, "parameters")
        if not isinstance(params, dict):
            raise InvalidInput(f"the parameters file {params_file} must hold a JSON object")
        ask(services, action, params, actor)


@approvals_app.command("approve")
def approvals_approve(approval_id: ApprovalId, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Approve as the second administrator: the action runs now, once."""
    with _services(home) as services:
        _emit(services.dual_control.approve(approval_id, actor,
                                            administrator=services.dual_control.is_administrator(actor)).as_json())


@approvals_app.command("reject")
def approvals_reject(approval_id: ApprovalId, note: Optional[str] = None, actor: ActorOpt = "cli",
                     home: Home = DEFAULT_HOME) -> None:
    """Reject (or withdraw one's own request): nothing is done."""
    with _services(home) as services:
        _emit(services.dual_control.reject(approval_id, actor, note,
                                           administrator=services.dual_control.is_administrator(actor)).as_json())


@ca_app.command("key-create")
def ca_key_create(ca: Annotated[Centre, typer.Option("--ca", help="The centre the key is for.")],
                  algorithm: Annotated[Optional[str], typer.Option(help="Default: the centre's.")] = None,
                  actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask for a new CA key pair in the key backend (runs when a second administrator approves)."""
    with _services(home) as services:
        params = {"centre": ca.value, **({"algorithm": algorithm} if algorithm else {})}
        ask(services, CA_KEY_CREATION, params, actor)


@ca_app.command("key-retire")
def ca_key_retire(centre: Annotated[str, typer.Option("--centre", "--ca", help="The centre the key was made for.")],
                  handle: Annotated[str, typer.Option(help="The key's handle, as ca-key.create returned it.")],
                  actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask to destroy a CA key in the key backend (runs when a second administrator approves).

    Never the key the centre signs with: that is `ca stop`.
    """
    with _services(home) as services:
        ask(services, CA_KEY_RETIREMENT, {"centre": centre, "handle": handle}, actor)


@policy_app.command("set")
def policy_set(file: Annotated[Path, typer.Option("--file", help="The new signing policy (JSON).")],
               actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask to put a new signing policy in force (runs when a second administrator approves)."""
    with _services(home) as services:
        ask(services, SIGNING_POLICY_CHANGE, {"policy": _read_json(file, "signing policy")}, actor)


@policy_app.command("show")
def policy_show(home: Home = DEFAULT_HOME) -> None:
    """The signing policy in force and its fingerprint."""
    with _services(home) as services:
        _emit({"fingerprint": services.signing_policies.fingerprint, "policy": services.signing_policies.as_json()})
