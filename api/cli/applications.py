"""``qoltanba app``: applications: submit, approve, refuse, list, show (issuance and revocation alike)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli.common import (
    DEFAULT_HOME,
    ActorOpt,
    CentreOpt,
    File,
    Home,
    Id,
    Limit,
    code,
    emit,
    group,
    open_services,
    read,
    read_json,
    writable,
    write,
)
from ca.errors import InvalidInput

app = group("Applications: submit, approve, refuse, list, show.")


def _csr_der(data: bytes) -> bytes:
    """PEM becomes DER for the registry; anything unreadable goes through for the review to report."""
    from cryptography import x509   # at run time (start-up, issue 21)
    from cryptography.hazmat.primitives import serialization

    try:
        return x509.load_pem_x509_csr(data).public_bytes(serialization.Encoding.DER)
    except ValueError:
        return data


@app.command("submit")
def app_submit(kind: Annotated[str, typer.Option(help="ca, individual, legal-entity, government-batch, or "
                                                      "revocation-individual, revocation-legal-entity, "
                                                      "revocation-government, revocation-ca.")],
               form: Annotated[File, typer.Option(help="The application form (JSON).")] = None,
               attachments: Annotated[File, typer.Option(help='JSON list of {"kind", "name", "person_iin"?}.')]
               = None,
               csr: Annotated[File, typer.Option(help="PKCS#10 request (not for government).")] = None,
               signed: Annotated[File, typer.Option(help="Revocation: the form inside a CMS signed with the "
                                                         "applicant's EDS (NAT-7); replaces --form.")] = None,
               actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Submit an application; every problem is listed at once."""
    from ca.revocation_forms import REVOCATION_KINDS   # at run time (start-up, issue 21)

    with open_services(home) as services:
        payload = read_json(form, "form") if form is not None else None
        atts = read_json(attachments, "attachments") if attachments is not None else []
        if kind in REVOCATION_KINDS:
            signed_document = read(signed, "signed application") if signed is not None else None
            view, revocation = services.revocation_applications.submit(kind, payload, atts, actor,
                                                                       signed_document=signed_document)
            emit({**dataclasses.asdict(view), "revocation": revocation.as_json() if revocation else None})
            return
        if payload is None or signed is not None:
            raise InvalidInput("give --form (only revocation applications are taken signed)")
        csr_bytes = _csr_der(read(csr, "CSR")) if csr is not None else None
        emit(services.applications.submit(kind, payload, atts, csr_bytes, actor))


def _prepare_carriers(directory: Path, iins: list[str]) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise InvalidInput(f"cannot create {directory}: {error.strerror or error}") from error
    for name in [f"{iin}.p12" for iin in iins] + ["passwords.json"]:
        writable(directory / name, fresh=True)


@app.command("approve")
def app_approve(application_id: Id,
                passwords: Annotated[File, typer.Option(help="JSON object IIN -> carrier password.")] = None,
                carrier_dir: Annotated[File, typer.Option(help="Write <iin>.p12 and passwords.json here.")] = None,
                actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Approve an application and issue its certificates (government batch: PKCS#12 carriers)."""
    # At run time (start-up, issue 21).
    from cryptography.x509.oid import NameOID

    from ca.applications import CarrierPasswords
    from ca.forms import KIND_GOVERNMENT
    from ca.revocation_forms import REVOCATION_KINDS

    with open_services(home) as services:
        view = services.applications.get(application_id)
        if view.kind in REVOCATION_KINDS:
            done, revocation = services.revocation_applications.approve(application_id, actor, administrator=True)
            emit({"id": done.id, "status": done.status, "revocation": revocation.as_json()})
            return
        given = read_json(passwords, "passwords") if passwords is not None else {}
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            raise InvalidInput(f"the passwords file {passwords} must map IINs to password strings")
        if view.kind == KIND_GOVERNMENT and carrier_dir is None:
            raise InvalidInput("a government batch generates keys: give --carrier-dir for the PKCS#12 files")
        if view.kind != KIND_GOVERNMENT and (carrier_dir is not None or passwords is not None):
            raise InvalidInput("--carrier-dir and --passwords apply to government batch applications only")
        if carrier_dir is not None and view.status == "submitted":
            _prepare_carriers(carrier_dir, [person["iin"] for person in view.form.get("persons", [])])
        approval = services.applications.approve(application_id, actor, passwords=CarrierPasswords(given))
        carriers: dict[str, Path] = {}
        for issued in approval.certificates:
            if issued.pkcs12 is not None and carrier_dir is not None:
                serial_number = issued.certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
                iin = str(serial_number[0].value).removeprefix("IIN")
                carriers[iin] = carrier_dir / f"{iin}.p12"
                write(carriers[iin], issued.pkcs12, 0o600)
        passwords_file = None
        if approval.generated_passwords and carrier_dir is not None:
            passwords_file = carrier_dir / "passwords.json"
            write(passwords_file, json.dumps(approval.generated_passwords.as_json(), indent=2).encode() + b"\n", 0o600)
        emit({"id": approval.application.id, "status": approval.application.status,
              "serials": [i.serial for i in approval.certificates], "carriers": carriers,
              "passwords_file": passwords_file})


@app.command("refuse")
def app_refuse(application_id: Id,
               reason: Annotated[str, typer.Option(help="A refusal reason code of the centre.")],
               detail: Annotated[str, typer.Option(help="The reasons, for the applicant.")],
               actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Refuse an application with an enumerated reason."""
    with open_services(home) as services:
        emit(services.applications.refuse(application_id, reason, detail, actor))


@app.command("list")
def app_list(ca: CentreOpt = None, status: Optional[str] = None,
             overdue: Annotated[bool, typer.Option("--overdue", help="Only those past their due date.")] = False,
             limit: Limit = 100, home: Home = DEFAULT_HOME) -> None:
    """Applications, one JSON line each."""
    with open_services(home) as services:
        for view in services.applications.list(centre=code(ca), status=status, overdue=overdue,
                                               limit=limit):
            emit(view)


@app.command("show")
def app_show(application_id: Id, home: Home = DEFAULT_HOME) -> None:
    """One application."""
    with open_services(home) as services:
        emit(services.applications.get(application_id))
