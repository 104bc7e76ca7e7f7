"""The ``qoltanba`` command line: initialise, serve, issue, review applications, export.

Every command builds its services from ``Settings(home=--home)`` (the other
QOLTANBA_* variables still apply), prints JSON (one object per line) or PEM/CSV
on stdout, and reports a failure as one ``error:`` line on stderr. Exit codes:
0 success; 2 bad input (invalid, refused, conflict, unreadable file, bad
settings); 1 not found, not initialised or anything unexpected.
"""

from __future__ import annotations

from api.quiet import quiet_third_party  # first: before any third-party import (issue 22)

quiet_third_party()

import contextlib  # noqa: E402
import dataclasses
import datetime as dt
import enum
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from ca.access import AccessService
from api.wiring import Services
from api.settings import Settings
from ca.authority import IssueRequest, KeySource
from ca.errors import InvalidInput, NotInitialised, Problem, QoltanbaError
from ca.forms import KIND_GOVERNMENT
from ca.policy import CENTRES
from ca.profiles import PROFILES, Role
from ca.revocation import normalise_serial
from ca.revocation_forms import REVOCATION_KINDS
from ca.subject import SubjectData

BOOTSTRAP_ACTOR, BOOTSTRAP_KEY_FILE = "bootstrap-admin", "bootstrap-admin.key"
# A wrong --actor for dual control (forbidden) is bad input too (issue 8).
BAD_INPUT_CODES = frozenset({"invalid-input", "refused", "conflict", "forbidden", "dual-control-required"})

Centre = enum.Enum("Centre", {code.upper(): code for code in CENTRES}, type=str)  # type: ignore[misc]

# Plain click messages: a usage error is a few lines of text, not a drawn box.
PLAIN = {"rich_markup_mode": None}
app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, **PLAIN,
                  help="Qoltanba: certification centres and registry for Kazakhstan.")


def _group(name: str, help: str) -> typer.Typer:
    group = typer.Typer(no_args_is_help=True, **PLAIN, help=help)
    app.add_typer(group, name=name)
    return group


ca_app = _group("ca", "The certification centres.")
cert_app = _group("cert", "Certificates: issue, show, list.")
app_app = _group("app", "Applications: submit, approve, refuse, list, show.")
journal_app = _group("journal", "The issuance journal.")
apikey_app = _group("apikey", "API keys.")

# Options shared by the commands.
DEFAULT_HOME = Path(".qoltanba")
Home = Annotated[Path, typer.Option("--home", envvar="QOLTANBA_HOME", help="The service's home directory.")]
CentreOpt = Annotated[Optional[Centre], typer.Option("--ca", help="Certification centre.")]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who acts (recorded in the journal and audit).")]
Id = Annotated[int, typer.Argument(metavar="ID", help="Application number.")]
Limit = Annotated[int, typer.Option(min=1, max=10000)]
Bin = Annotated[Optional[str], typer.Option("--bin")]
File = Optional[Path]


# -- plumbing ------------------------------------------------------------------

def _fail(code: int, message: str) -> NoReturn:
    typer.echo("error: " + " ".join(message.split()), err=True)
    raise typer.Exit(code)


def _settings_reason(error: ValidationError) -> str:
    return "invalid settings: " + "; ".join(
        (f"QOLTANBA_{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "") + e["msg"]
        for e in error.errors())


@contextlib.contextmanager
def _services(home: Path, *, migrated: bool = True, seal: bool = True) -> Iterator[Services]:
    """Services for one command; a QoltanbaError becomes an ``error:`` line and an exit code.

    ``migrated``: the command needs the registry's tables (all but init and serve).
    ``seal``: first make an audit checkpoint that fell due while no serving process ran (issue 18), so
    what the command writes starts a new run of entries; ``audit verify`` only reads.
    """
    try:
        settings = Settings(home=home)
    except ValidationError as error:
        _fail(2, _settings_reason(error))
    try:
        services = Services.build(settings)
    except OSError as error:
        _fail(2, f"cannot use home {home}: {error.strerror or error}")
    try:
        if migrated and "centres" not in services.database.table_names():
            raise NotInitialised()
        if migrated and seal:
            _seal_due(services)
        yield services
    except QoltanbaError as error:
        _fail(2 if error.code in BAD_INPUT_CODES else 1, str(error))
    finally:
        services.close()


def _seal_due(services: Services) -> None:
    try:
        services.audit_checkpoints.checkpoint_if_due(actor="cli")
    except (QoltanbaError, OSError) as error:
        typer.echo(f"warning: no audit checkpoint was made: {error}", err=True)


def _json_default(value: object) -> object:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def _emit(value: object) -> None:
    typer.echo(json.dumps(value, default=_json_default, ensure_ascii=False))


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read the {what} file {path}: {error.strerror or error}") from error


def _read_json(path: Path, what: str) -> object:
    try:
        return json.loads(_read(path, what))
    except ValueError as error:
        raise InvalidInput(f"the {what} file {path} is not JSON: {error}") from error


def _writable(path: Path, *, fresh: bool = False) -> None:
    """Refuse before anything is issued if an output file could not be written."""
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise InvalidInput(f"cannot write {path}: {path.parent} is not a writable directory")
    if fresh and path.exists():
        raise InvalidInput(f"{path} exists already; it may hold a private key, so it is not overwritten")


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write via a temporary file in the same directory, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _code(centre: Optional[Centre]) -> str | None:
    return centre.value if centre is not None else None


def _initialise(services: Services) -> tuple[bool, Path | None]:
    """Migrate and initialise; the first time, also write the bootstrap administrator's key."""
    services.migrate()
    created = services.authority.initialise()
    # The audit and TSA certificates checkpoints must verify under, written outside the registry (issue 18).
    try:
        services.audit_checkpoints.pin_anchor()
    except QoltanbaError as error:   # no checkpoint is signed until it is restored; `audit verify` says so
        typer.echo(f"warning: {error}", err=True)
    services.publisher.reconcile()   # the first CRLs, or those a crash left due
    with services.registry.transaction() as tx:
        if tx.actors.by_name(BOOTSTRAP_ACTOR) is not None:
            return created, None
    path = services.settings.home.resolve() / BOOTSTRAP_KEY_FILE
    new = AccessService(services.registry, services.clock).create_key(BOOTSTRAP_ACTOR, "administrator", by="init")
    _write(path, (new.key + "\n").encode(), 0o600)
    return created, path


# -- init, serve, ca ------------------------------------------------------------------

@app.command()
def init(home: Home = DEFAULT_HOME) -> None:
    """Create the registry and the centre hierarchy (does nothing when they exist)."""
    with _services(home, migrated=False) as services:
        created, key_file = _initialise(services)
        _emit({"initialised": created, "home": home.resolve(), "bootstrap_key_file": key_file})


@app.command()
def serve(home: Home = DEFAULT_HOME,
          host: Annotated[Optional[str], typer.Option(help="Default: QOLTANBA_HOST or 127.0.0.1.")] = None,
          port: Annotated[Optional[int], typer.Option(min=1, max=65535, help="Default: QOLTANBA_PORT or 8000.")]
          = None) -> None:
    """Run the HTTP service (initialising first if needed)."""
    with _services(home, migrated=False) as services:
        created, key_file = _initialise(services)
        host, port = host or services.settings.host, port or services.settings.port
        keep_alive = services.settings.keep_alive_seconds
        if created or key_file:
            _emit({"initialised": created, "home": home.resolve(), "bootstrap_key_file": key_file})
    os.environ.update(QOLTANBA_HOME=str(home.resolve()), QOLTANBA_HOST=host, QOLTANBA_PORT=str(port))
    import uvicorn

    # Idle keep-alive connections are closed after keep_alive_seconds; a request's own time is bounded by
    # the app (api/http/limits.py, request_timeout_seconds).
    uvicorn.run("api.http.app:create_app", factory=True, host=host, port=port, timeout_keep_alive=keep_alive)


@ca_app.command("chain")
def ca_chain(ca: Annotated[Centre, typer.Option("--ca", help="Certification centre.")],
             home: Home = DEFAULT_HOME) -> None:
    """The centre's chain as PEM, issuing CA first and root last."""
    with _services(home) as services:
        typer.echo("".join(_pem(cert) for cert in services.authority.chain(ca.value)), nl=False)


# -- cert ------------------------------------------------------------------------

def _default_centre(profile: str) -> str:
    prof = PROFILES.get(profile)
    if prof is None:
        raise InvalidInput("the certificate cannot be issued",
                           [Problem("profile", f"unknown profile {profile!r}; known: {', '.join(sorted(PROFILES))}")])
    if len(prof.centres) != 1:
        raise InvalidInput(f"profile {profile} is issued by several centres ({', '.join(sorted(prof.centres))}); "
                           "give --ca")
    return next(iter(prof.centres))


@cert_app.command("issue")
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
    actor: ActorOpt = "cli", home: Home = DEFAULT_HOME,
) -> None:
    """Issue one certificate, to a CSR or with a generated key in a PKCS#12 carrier."""
    with _services(home) as services:
        if csr is not None and cert_out is not None and p12_out is None and password_file is None:
            key = KeySource(csr=_read(csr, "CSR"))
        elif p12_out is not None and password_file is not None and csr is None:
            key = KeySource(pkcs12_password=_read(password_file, "password").rstrip(b"\r\n"))
            _writable(p12_out, fresh=True)
        else:
            raise InvalidInput("give either --csr FILE --cert-out FILE, or --p12-out FILE --password-file FILE")
        if cert_out is not None:
            _writable(cert_out)
        subject = SubjectData(surname=surname, given_name=given_name, patronymic=patronymic, iin=iin, email=email,
                              bin=bin, organisation=org, locality=locality, state=state, common_name=common_name,
                              roles=tuple(role or ()))
        issued = services.authority.issue(IssueRequest(centre=_code(ca) or _default_centre(profile),
                                                       profile=profile, subject=subject, key=key, actor=actor))
        if issued.pkcs12 is not None and p12_out is not None:
            _write(p12_out, issued.pkcs12, 0o600)
        if cert_out is not None:
            _write(cert_out, issued.pem)
        cert = issued.certificate
        _emit({"serial": issued.serial, "centre": issued.centre, "profile": issued.profile,
               "subject": cert.subject.rfc4514_string(), "not_before": cert.not_valid_before_utc,
               "not_after": cert.not_valid_after_utc, "carrier_serial": issued.carrier_serial,
               "cert_out": cert_out, "p12_out": p12_out})


def _serial(text: str) -> str:
    serial = normalise_serial(text)
    if not all(c in "0123456789abcdef" for c in serial):
        raise InvalidInput(f"{text!r} is not a hexadecimal serial number")
    return serial


@cert_app.command("show")
def cert_show(serial: str, ca: CentreOpt = None,
              pem: Annotated[bool, typer.Option("--pem", help="Print the certificate as PEM.")] = False,
              home: Home = DEFAULT_HOME) -> None:
    """One certificate of the registry, as JSON or PEM."""
    with _services(home) as services:
        view, der = services.catalogue.find(_serial(serial), _code(ca))
        if pem:
            typer.echo(_pem(x509.load_der_x509_certificate(der)), nl=False)
        else:
            _emit(view)


@cert_app.command("list")
def cert_list(ca: CentreOpt = None, iin: Optional[str] = None, bin: Bin = None, profile: Optional[str] = None,
              status: Optional[str] = None, limit: Limit = 100, home: Home = DEFAULT_HOME) -> None:
    """Certificates of the registry, one JSON line each, oldest first."""
    with _services(home) as services:
        for view in services.catalogue.search(centre=_code(ca), iin=iin, bin=bin, profile=profile, status=status,
                                              limit=limit):
            _emit(view)


# -- app -------------------------------------------------------------------------

def _csr_der(data: bytes) -> bytes:
    """PEM becomes DER for the registry; anything unreadable goes through for the review to report."""
    try:
        return x509.load_pem_x509_csr(data).public_bytes(serialization.Encoding.DER)
    except ValueError:
        return data


@app_app.command("submit")
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
    with _services(home) as services:
        payload = _read_json(form, "form") if form is not None else None
        atts = _read_json(attachments, "attachments") if attachments is not None else []
        if kind in REVOCATION_KINDS:
            signed_document = _read(signed, "signed application") if signed is not None else None
            view, revocation = services.revocation_applications.submit(kind, payload, atts, actor,
                                                                       signed_document=signed_document)
            _emit({**dataclasses.asdict(view), "revocation": revocation.as_json() if revocation else None})
            return
        if payload is None or signed is not None:
            raise InvalidInput("give --form (only revocation applications are taken signed)")
        csr_bytes = _csr_der(_read(csr, "CSR")) if csr is not None else None
        _emit(services.applications.submit(kind, payload, atts, csr_bytes, actor))


def _prepare_carriers(directory: Path, iins: list[str]) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise InvalidInput(f"cannot create {directory}: {error.strerror or error}") from error
    for name in [f"{iin}.p12" for iin in iins] + ["passwords.json"]:
        _writable(directory / name, fresh=True)


@app_app.command("approve")
def app_approve(application_id: Id,
                passwords: Annotated[File, typer.Option(help="JSON object IIN -> carrier password.")] = None,
                carrier_dir: Annotated[File, typer.Option(help="Write <iin>.p12 and passwords.json here.")] = None,
                actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Approve an application and issue its certificates (government batch: PKCS#12 carriers)."""
    with _services(home) as services:
        view = services.applications.get(application_id)
        if view.kind in REVOCATION_KINDS:
            done, revocation = services.revocation_applications.approve(application_id, actor, administrator=True)
            _emit({"id": done.id, "status": done.status, "revocation": revocation.as_json()})
            return
        given = _read_json(passwords, "passwords") if passwords is not None else {}
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            raise InvalidInput(f"the passwords file {passwords} must map IINs to password strings")
        if view.kind == KIND_GOVERNMENT and carrier_dir is None:
            raise InvalidInput("a government batch generates keys: give --carrier-dir for the PKCS#12 files")
        if view.kind != KIND_GOVERNMENT and (carrier_dir is not None or passwords is not None):
            raise InvalidInput("--carrier-dir and --passwords apply to government batch applications only")
        if carrier_dir is not None and view.status == "submitted":
            _prepare_carriers(carrier_dir, [person["iin"] for person in view.form.get("persons", [])])
        approval = services.applications.approve(application_id, actor, passwords=given)
        carriers: dict[str, Path] = {}
        for issued in approval.certificates:
            if issued.pkcs12 is not None and carrier_dir is not None:
                serial_number = issued.certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
                iin = str(serial_number[0].value).removeprefix("IIN")
                carriers[iin] = carrier_dir / f"{iin}.p12"
                _write(carriers[iin], issued.pkcs12, 0o600)
        passwords_file = None
        if approval.generated_passwords and carrier_dir is not None:
            passwords_file = carrier_dir / "passwords.json"
            _write(passwords_file, json.dumps(approval.generated_passwords, indent=2).encode() + b"\n", 0o600)
        _emit({"id": approval.application.id, "status": approval.application.status,
               "serials": [i.serial for i in approval.certificates], "carriers": carriers,
               "passwords_file": passwords_file})


@app_app.command("refuse")
def app_refuse(application_id: Id,
               reason: Annotated[str, typer.Option(help="A refusal reason code of the centre.")],
               detail: Annotated[str, typer.Option(help="The reasons, for the applicant.")],
               actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Refuse an application with an enumerated reason."""
    with _services(home) as services:
        _emit(services.applications.refuse(application_id, reason, detail, actor))


@app_app.command("list")
def app_list(ca: CentreOpt = None, status: Optional[str] = None,
             overdue: Annotated[bool, typer.Option("--overdue", help="Only those past their due date.")] = False,
             limit: Limit = 100, home: Home = DEFAULT_HOME) -> None:
    """Applications, one JSON line each."""
    with _services(home) as services:
        for view in services.applications.list(centre=_code(ca), status=status, overdue=overdue,
                                               limit=limit):
            _emit(view)


@app_app.command("show")
def app_show(application_id: Id, home: Home = DEFAULT_HOME) -> None:
    """One application."""
    with _services(home) as services:
        _emit(services.applications.get(application_id))


# -- journal, apikey -----------------------------------------------------------------

@journal_app.command("export")
def journal_export(ca: CentreOpt = None,
                   out: Annotated[File, typer.Option(help="CSV file; default stdout.")] = None,
                   home: Home = DEFAULT_HOME) -> None:
    """The issuance journal as CSV (seed 004 appendix 3 columns)."""
    with _services(home) as services:
        _text_out(services.catalogue.journal_csv(_code(ca)), out)


def _text_out(text: str, out: Path | None) -> None:
    """CSV and other text: to stdout, or atomically to ``out`` with a JSON line naming it."""
    if out is None:
        typer.echo(text, nl=False)
    else:
        _writable(out)
        _write(out, text.encode("utf-8"))
        _emit({"out": out})


@apikey_app.command("create")
def apikey_create(name: Annotated[str, typer.Option(help="The actor's name.")],
                  role: Annotated[str, typer.Option(help="administrator, registrar, auditor or mfo.")],
                  tenant: Optional[str] = None, actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Create an API key; the key is shown this once only."""
    with _services(home) as services:
        new = AccessService(services.registry, services.clock).create_key(name, role, by=actor, tenant=tenant)
        _emit({"name": new.actor.name, "role": new.actor.role.value, "key": new.key})


from api import cli_revocation  # noqa: E402,F401 - registers its commands on the groups above
from api import cli_signing  # noqa: E402,F401 - registers ``sign``
from api import cli_audit  # noqa: E402,F401 - registers ``audit``
from api import cli_keys  # noqa: E402,F401 - registers ``keys``
from api import cli_verify  # noqa: E402,F401 - registers ``cert verify``
from api import cli_verification  # noqa: E402,F401 - verify and trust
from api import cli_people  # noqa: E402,F401 - registers ``users``
from api import cli_approvals  # noqa: E402,F401 - registers ``approvals``, ``ca key-create``, ``ca key-retire``, ``signing-policy``


def main() -> None:
    """The console script: no traceback reaches the user, only one line naming the failure."""
    try:
        app()
    except Exception as error:  # noqa: BLE001 - the last line of defence
        cause = f" (caused by {type(error.__cause__).__name__}: {error.__cause__})" if error.__cause__ else ""
        print("error: unexpected failure: " + " ".join(f"{type(error).__name__}: {error}{cause}".split()),
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    # Run the module's importable copy: the commands of api.cli.crl
    # and api.cli.sign register on ``api.cli``, not on this ``__main__`` copy.
    from api.cli import main as _main

    _main()
