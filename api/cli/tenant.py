"""``qoltanba tenant``: the MFOs the service signs for, each with its own seal (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, emit, group, open_services, read, read_json, writable, write

app = group("Tenants (MFOs): create with a seal, list, show, suspend, resume, a new seal, their own policy, "
            "a loan's credit dossier, rotate the key their data is sealed under.")

Code = Annotated[str, typer.Argument(metavar="CODE", help="The tenant's code (its BIN unless given at creation).")]
Reason = Annotated[Optional[str], typer.Option(help="Why (recorded in the audit log).")]
SealCertificate = Annotated[Optional[Path], typer.Option(
    "--seal-certificate", help="Import the seal: an accredited centre's certificate (PEM or DER) naming the BIN.")]
SealKey = Annotated[Optional[str], typer.Option(
    "--seal-key-handle", help="Import the seal: its key's handle in the configured backend (the HSM).")]


def _order(certificate: Optional[Path], key_handle: Optional[str]):  # noqa: ANN202 - signing.tenants.SealOrder
    from signing.tenants import SealOrder   # at run time (start-up, issue 21)

    return SealOrder(certificate=read(certificate, "seal certificate") if certificate else None,
                     key_handle=key_handle)


@app.command("create")
def tenant_create(name: Annotated[str, typer.Option(help="The MFO's legal name.")],
                  bin_: Annotated[str, typer.Option("--bin", help="The MFO's BIN (checksum checked).")],
                  code: Annotated[Optional[str], typer.Option(help="What its API keys, documents and webhook "
                                                                   "name; the BIN when omitted.")] = None,
                  short_name: Annotated[Optional[str], typer.Option(help="The name on the seal, at most 64 "
                                                                         "characters (NAT-2).")] = None,
                  seal_certificate: SealCertificate = None, seal_key_handle: SealKey = None,
                  policy: Annotated[Optional[Path], typer.Option(help="Its own signing policy (JSON file), on or "
                                                                      "above DOMAIN.md's floor.")] = None,
                  actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Create a tenant with its seal: issued by our national CA, or imported with its key in the HSM."""
    from signing.tenants import NewTenant

    with open_services(home) as services:
        command = NewTenant(name=name, bin=bin_, code=code, short_name=short_name,
                            seal=_order(seal_certificate, seal_key_handle),
                            policy=read_json(policy, "signing policy") if policy else None)
        emit(services.tenants.create(actor, command).as_json())


@app.command("list")
def tenant_list(home: Home = DEFAULT_HOME) -> None:
    """Every tenant, one JSON line each."""
    with open_services(home) as services:
        for view in services.tenants.list():
            emit(view.as_json())


@app.command("show")
def tenant_show(code: Code, home: Home = DEFAULT_HOME) -> None:
    """One tenant: BIN, name, status, seal, policy, webhook, API keys (never a key itself)."""
    with open_services(home) as services:
        emit(services.tenants.get(code).as_json())


@app.command("suspend")
def tenant_suspend(code: Code, reason: Reason = None, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Suspend a tenant: from now on it signs and uploads nothing."""
    with open_services(home) as services:
        emit(services.tenants.suspend(actor, code, reason).as_json())


@app.command("resume")
def tenant_resume(code: Code, reason: Reason = None, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Resume a suspended tenant."""
    with open_services(home) as services:
        emit(services.tenants.resume(actor, code, reason).as_json())


@app.command("seal")
def tenant_seal(code: Code, seal_certificate: SealCertificate = None, seal_key_handle: SealKey = None,
                actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Give the tenant a new seal (after its seal was revoked): issued by our national CA, or imported."""
    with open_services(home) as services:
        emit(services.tenants.replace_seal(actor, code, _order(seal_certificate, seal_key_handle)).as_json())


@app.command("policy")
def tenant_policy(code: Code, policy: Annotated[Optional[Path], typer.Option(
                      help="The tenant's own signing policy (JSON file); omitted: the installation's again.")] = None,
                  actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Set the tenant's own signing policy, on or above DOMAIN.md's floor."""
    with open_services(home) as services:
        emit(services.tenants.set_policy(actor, code, read_json(policy, "signing policy") if policy else None)
             .as_json())


@app.command("dossier")
def tenant_dossier(code: Code,
                   document: Annotated[str, typer.Argument(metavar="DOCUMENT", help="The loan's contract id, or any "
                                                                                     "document's filed under it.")],
                   out: Annotated[Path, typer.Option("--out", help="Where to write the container (.asice).")],
                   actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """A loan's credit dossier (LOAN-14): every document and version, evidence, messages, as an ASiC-E it seals."""
    writable(out)
    with open_services(home) as services:
        made = services.dossiers.export(actor, code, document)
        write(out, made.content)
        emit({**made.as_json(), "out": str(out)})


@app.command("rotate-key")
def tenant_rotate_key(code: Code, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """LOAN-15: a new version of the tenant's key-encryption key; every data key re-wrapped; the old retired.

    The service keeps running: objects open with either version meanwhile. Audited (tenant.key-rotated)."""
    with open_services(home) as services:
        emit(services.key_rotation.rotate(code, actor).as_json())
