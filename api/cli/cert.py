"""``qoltanba cert``: certificates: issue, show, list, revoke, and verify one offline (api/cli/verify.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

import typer

from api.cli.common import (
    DEFAULT_HOME,
    ActorOpt,
    Bin,
    CentreOpt,
    File,
    Home,
    Limit,
    ask,
    code,
    emit,
    group,
    open_services,
    pem,
    read,
    writable,
    write,
)
from api.cli.verify import cert_verify
from ca.errors import InvalidInput, Problem
from ca.grounds import GROUNDS, REASONS
from ca.profiles import PROFILES, Role

app = group("Certificates: issue, show, list.")
DateOpt = Optional[dt.datetime]


def _default_centre(profile: str) -> str:
    prof = PROFILES.get(profile)
    if prof is None:
        raise InvalidInput("the certificate cannot be issued",
                           [Problem("profile", f"unknown profile {profile!r}; known: {', '.join(sorted(PROFILES))}")])
    if len(prof.centres) != 1:
        raise InvalidInput(f"profile {profile} is issued by several centres ({', '.join(sorted(prof.centres))}); "
                           "give --ca")
    return next(iter(prof.centres))


@app.command("issue")
def cert_issue(
    profile: Annotated[str, typer.Option(help=f"One of: {', '.join(sorted(PROFILES))}.")],
    ca: CentreOpt = None, iin: Optional[str] = None, surname: Optional[str] = None,
    given_name: Optional[str] = None, patronymic: Optional[str] = None, email: Optional[str] = None,
    bin: Bin = None, org: Annotated[Optional[str], typer.Option(help="Organisation (O).")] = None,
    role: Annotated[Optional[list[Role]], typer.Option(help="Representative's role; repeatable.")] = None,
    locality: Optional[str] = None, state: Optional[str] = None, common_name: Optional[str] = None,
    csr: Annotated[File, typer.Option(help="The holder's PKCS#10 request (PEM or DER).")] = None,
    cert_out: Annotated[File, typer.Option(help="Where to write the certificate (PEM).")] = None,
    p12_out: Annotated[File, typer.Option(help="Generate the key; write a PKCS#12 here.")] = None,
    password_file: Annotated[File, typer.Option(help="The PKCS#12 password.")] = None,
    held: Annotated[bool, typer.Option("--held", help="A borrower's signing key, generated into the service's "
                                                      "backend and held there (national CA).")] = False,
    algorithm: Annotated[Optional[str], typer.Option(help="With --held: the key's algorithm (ec-p256, rsa-2048, "
                                                          "...); default the service keys'.")] = None,
    actor: ActorOpt = "cli", home: Home = DEFAULT_HOME,
) -> None:
    """Issue one certificate: to a CSR, with a generated key in a PKCS#12 carrier, or a key the service holds."""
    from ca.issuance import IssueRequest, KeySource   # at run time (start-up, issue 21)
    from ca.subject import SubjectData

    subject = SubjectData(surname=surname, given_name=given_name, patronymic=patronymic, iin=iin, email=email,
                          bin=bin, organisation=org, locality=locality, state=state, common_name=common_name,
                          roles=tuple(role or ()))
    if held or algorithm is not None:
        _issue_held(profile, ca, subject, algorithm, held, (csr, p12_out, password_file), cert_out, actor, home)
        return
    with open_services(home) as services:
        if csr is not None and cert_out is not None and p12_out is None and password_file is None:
            key = KeySource(csr=read(csr, "CSR"))
        elif p12_out is not None and password_file is not None and csr is None:
            key = KeySource(pkcs12_password=read(password_file, "password").rstrip(b"\r\n"))
            writable(p12_out, fresh=True)
        else:
            raise InvalidInput("give either --csr FILE --cert-out FILE, or --p12-out FILE --password-file FILE")
        if cert_out is not None:
            writable(cert_out)
        issued = services.issuance.issue(IssueRequest(centre=code(ca) or _default_centre(profile),
                                                       profile=profile, subject=subject, key=key, actor=actor))
        if issued.pkcs12 is not None and p12_out is not None:
            write(p12_out, issued.pkcs12, 0o600)
        if cert_out is not None:
            write(cert_out, issued.pem)
        cert = issued.certificate
        emit({"serial": issued.serial, "centre": issued.centre, "profile": issued.profile,
              "subject": cert.subject.rfc4514_string(), "not_before": cert.not_valid_before_utc,
              "not_after": cert.not_valid_after_utc, "carrier_serial": issued.carrier_serial,
              "cert_out": cert_out, "p12_out": p12_out})


def _issue_held(profile: str, ca: Optional[str], subject, algorithm: Optional[str], held: bool,  # noqa: ANN001
                other_sources: tuple, cert_out: File, actor: str, home) -> None:  # noqa: ANN001
    """``cert issue --held``: the national CA generates the borrower's key into the backend (issue 15)."""
    from ca.held_keys import HeldKeyIssue   # at run time (start-up, issue 21)
    from keys import KeyAlgorithm

    problems = []
    if not held:
        problems.append(Problem("algorithm", "is for --held keys only"))
    if any(source is not None for source in other_sources):
        problems.append(Problem("held", "give --held alone: no --csr, --p12-out or --password-file"))
    if code(ca) not in (None, "national"):
        problems.append(Problem("ca", "a borrower's held key is issued by the national CA"))
    chosen = None
    if algorithm is not None:
        try:
            chosen = KeyAlgorithm(algorithm)
        except ValueError:
            problems.append(Problem("algorithm", f"{algorithm!r}; one of: "
                                                 f"{', '.join(a.value for a in KeyAlgorithm)}"))
    with open_services(home) as services:
        if problems:
            raise InvalidInput("the key cannot be issued", problems)
        if cert_out is not None:
            writable(cert_out)
        view = services.held_key_custody.issue(HeldKeyIssue(subject=subject, actor=actor, profile=profile,
                                                            algorithm=chosen))
        if cert_out is not None:
            write(cert_out, view.certificate_pem.encode())
        emit({k: v for k, v in view.as_json().items() if k != "certificate_pem"} | {"cert_out": cert_out})


@app.command("destroy-key")
def cert_destroy_key(
    serial: Annotated[str, typer.Option(help="The held key's certificate serial (hex).")],
    reason: Annotated[Optional[str], typer.Option(help="RFC 5280 reason of the revocation that comes first; "
                                                       "default cessation-of-operation.")] = None,
    actor: ActorOpt = "cli", home: Home = DEFAULT_HOME,
) -> None:
    """Destroy a borrower's key the service holds: the certificate revoked, then the key gone from the backend."""
    with open_services(home) as services:
        emit(services.held_key_custody.destroy(_serial(serial), actor, reason=reason).as_json())


def _serial(text: str) -> str:
    from ca.revocation import normalise_serial   # at run time (start-up, issue 21)

    serial = normalise_serial(text)
    if not all(c in "0123456789abcdef" for c in serial):
        raise InvalidInput(f"{text!r} is not a hexadecimal serial number")
    return serial


@app.command("show")
def cert_show(serial: str, ca: CentreOpt = None,
              as_pem: Annotated[bool, typer.Option("--pem", help="Print the certificate as PEM.")] = False,
              home: Home = DEFAULT_HOME) -> None:
    """One certificate of the registry, as JSON or PEM."""
    from cryptography import x509   # at run time (start-up, issue 21)

    with open_services(home) as services:
        view, der = services.catalogue.find(_serial(serial), code(ca))
        if as_pem:
            typer.echo(pem(x509.load_der_x509_certificate(der)), nl=False)
        else:
            emit(view)


@app.command("list")
def cert_list(ca: CentreOpt = None, iin: Optional[str] = None, bin: Bin = None, profile: Optional[str] = None,
              status: Optional[str] = None, limit: Limit = 100,
              held: Annotated[bool, typer.Option("--held", help="Only borrowers' keys the service holds, with "
                                                                "their key's state.")] = False,
              home: Home = DEFAULT_HOME) -> None:
    """Certificates of the registry, one JSON line each, oldest first."""
    with open_services(home) as services:
        if held:
            for held_view in services.held_key_custody.list(iin=iin, bin=bin, status=status, limit=limit):
                emit(held_view.as_json())
            return
        for view in services.catalogue.search(centre=code(ca), iin=iin, bin=bin, profile=profile, status=status,
                                              limit=limit):
            emit(view)


def _date(value: Optional[dt.datetime]) -> dt.date | None:
    return value.date() if value is not None else None


@app.command("revoke")
def cert_revoke(
    serial: Annotated[str, typer.Option(help="The certificate's serial number (hex).")],
    reason: Annotated[Optional[str], typer.Option(help=f"RFC 5280 reason: {', '.join(REASONS)}.")] = None,
    ground: Annotated[Optional[str], typer.Option(help=f"One of: {', '.join(GROUNDS)}; "
                                                       "default holder-application (court-decision when "
                                                       "--court-decision is given).")] = None,
    court_decision: Annotated[Optional[str], typer.Option(help="The court decision's number.")] = None,
    court_date: Annotated[DateOpt, typer.Option(formats=["%Y-%m-%d"], help="The decision's date.")] = None,
    left_job_on: Annotated[DateOpt, typer.Option(formats=["%Y-%m-%d"], help="GOV-5: when the holder left.")]
    = None,
    carrier_returned: Annotated[Optional[bool], typer.Option("--carrier-returned/--carrier-not-returned",
                                                             help="GOV-5: the key carrier came back.")] = None,
    letter_number: Optional[str] = None,
    letter_date: Annotated[DateOpt, typer.Option(formats=["%Y-%m-%d"])] = None,
    ca: CentreOpt = None, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME,
) -> None:
    """Revoke a certificate now; its CRLs are re-issued and OCSP answers "revoked" at once."""
    # At run time (start-up, issue 21).
    from ca.approvals import DualControlRequired
    from ca.dual_control import revocation_params
    from ca.revocation import CA_REVOCATION, CourtDecision, RevocationRequest

    with open_services(home) as services:
        if court_decision is None and court_date is not None:
            raise InvalidInput("--court-date needs --court-decision")
        decision = None
        if court_decision is not None:
            decision = CourtDecision(court_decision, _date(court_date) or services.clock.now().date())
        chosen = ground or ("court-decision" if decision else "holder-application")
        request = RevocationRequest(
            serial=serial, actor=actor, reason=reason, ground=chosen, centre=code(ca), court_decision=decision,
            left_job_on=_date(left_job_on), carrier_returned=carrier_returned, letter_number=letter_number,
            letter_date=_date(letter_date), administrator=True)
        try:
            emit(services.revocations.revoke(request).as_json())
        except DualControlRequired:
            # A CA certificate (issue 8): recorded, waiting for a second administrator.
            ask(services, CA_REVOCATION, revocation_params(request), actor)


app.command("verify")(cert_verify)   # the certificate's signature and chain, offline (api/cli/verify.py)
