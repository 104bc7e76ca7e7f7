"""``qoltanba approvals``: dual control on the command line (issue 8).

``cert revoke`` of a CA certificate, ``ca stop``, ``ca key-create``, ``ca
key-retire`` and ``signing-policy set`` only record a request
(api/cli/common.py, ``ask``); a second administrator runs ``approvals
approve ID``. On the command line ``--actor`` must name an active
administrator (a console user or an API key's actor), and the approver must
be a different one. The host's operator can of course do anything the keys
allow; the command line keeps the two-person procedure and its audit trail,
the HTTP API enforces it with authenticated people.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, ask, emit, group, open_services, read_json
from ca.errors import InvalidInput

# The statuses of ca/approvals.py, named here so the help needs no import of the registry (start-up, issue 21);
# a test holds them equal.
STATUSES = ("pending", "approved", "executed", "failed", "rejected", "expired")

app = group("Dual control: requests waiting for a second administrator.")
ApprovalId = Annotated[str, typer.Argument(metavar="ID", help="The request's id.")]


@app.command("list")
def approvals_list(status: Annotated[Optional[str], typer.Option(help=f"One of: {', '.join(STATUSES)}.")] = None,
                   home: Home = DEFAULT_HOME) -> None:
    """Requests, newest first, one JSON line each."""
    with open_services(home) as services:
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"--status must be one of: {', '.join(STATUSES)}")
        for view in services.dual_control.list(status):
            emit(view.as_json())


@app.command("show")
def approvals_show(approval_id: ApprovalId, home: Home = DEFAULT_HOME) -> None:
    """One request as JSON: what, who asked, its status and result."""
    with open_services(home) as services:
        emit(services.dual_control.get(approval_id).as_json())


@app.command("request")
def approvals_request(action: Annotated[str, typer.Option(help="ca-certificate.revoke, centre.stop, "
                                                                "ca-key.create, ca-key.retire or "
                                                                "signing-policy.change.")],
                      params_file: Annotated[Path, typer.Option(help="The action's parameters (JSON object).")],
                      actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Ask for a dual-controlled action."""
    with open_services(home) as services:
        params = read_json(params_file, "parameters")
        if not isinstance(params, dict):
            raise InvalidInput(f"the parameters file {params_file} must hold a JSON object")
        ask(services, action, params, actor)


@app.command("approve")
def approvals_approve(approval_id: ApprovalId, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Approve as the second administrator: the action runs now, once."""
    with open_services(home) as services:
        emit(services.dual_control.approve(approval_id, actor,
                                           administrator=services.dual_control.is_administrator(actor)).as_json())


@app.command("reject")
def approvals_reject(approval_id: ApprovalId, note: Optional[str] = None, actor: ActorOpt = "cli",
                     home: Home = DEFAULT_HOME) -> None:
    """Reject (or withdraw one's own request): nothing is done."""
    with open_services(home) as services:
        emit(services.dual_control.reject(approval_id, actor, note,
                                          administrator=services.dual_control.is_administrator(actor)).as_json())
