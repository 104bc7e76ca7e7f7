"""``qoltanba sign``: a PAdES signature with a PKCS#12 carrier, on the home itself (issue 4).

No server need run: the signature goes through the service's own engine
(``Services.signing_engine``), which time-stamps with the home's TSA and
asks the home's OCSP responder in-process; only a certificate of another
issuer sends its status requests over the network. Every refusal happens before
anything is written, as one ``error:`` line and exit code 2.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from cryptography import x509

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, commands, emit, fail, open_services, read, writable, write
from ca.errors import InvalidInput, Problem, QoltanbaError
from ca.policy import CENTRES
from keys import CarrierKey, KeyError_, certificate_public_key, load_pkcs12, spki_of
from signing.pades import validation_data
from signing.pades import Level
from signing.documents.pdf_checks import field_taken, locked_by, pdf_problems, signature_fields
from signing.stamps import display_name
from signing.pades.validation_data import OurHierarchy, StatusUnavailable

if TYPE_CHECKING:
    from api.wiring import Services

# This module is imported only when ``sign`` runs or shows its help (api/cli/lazy.py): what signing needs is
# imported above, once.
LEVELS = ", ".join(level.value for level in Level)

app = commands()


@app.command("sign")
def sign(
    source: Annotated[Path, typer.Argument(metavar="IN.pdf", help="The PDF to sign.")],
    target: Annotated[Path, typer.Argument(metavar="OUT.pdf", help="Where to write the signed PDF.")],
    p12: Annotated[Path, typer.Option("--p12", help="The signer's PKCS#12 carrier.")],
    password_file: Annotated[Path, typer.Option("--password-file",
                                                help="File holding the carrier's password.")],
    level: Annotated[str, typer.Option("--level", help=f"PAdES baseline level: {LEVELS}.")] = Level.B_LT.value,
    field: Annotated[Optional[str], typer.Option("--field", help="Name of the new signature field; "
                                                                 "default Signature<n>.")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help="/Reason of the signature.")] = None,
    location: Annotated[Optional[str], typer.Option("--location", help="/Location of the signature.")] = None,
    lock: Annotated[bool, typer.Option("--lock", help="Lock the document: no change or signature after "
                                                      "this one.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUT.pdf if it exists.")] = False,
    actor: ActorOpt = "cli", home: Home = DEFAULT_HOME,
) -> None:
    """Sign a PDF (PAdES) with a PKCS#12 carrier; time-stamp and revocation data from the home's own
    TSA and OCSP responder, in-process."""
    if not home.is_dir():
        # Checked before the services are built, which would create the directory.
        fail(2, f"the home {home} does not exist; run `qoltanba init --home {home}` first")
    with open_services(home, migrated=False) as services:
        chosen = _level(level)
        _initialised(services, home)
        pdf = _pdf(source)
        _target(source, target, force)
        key, certificate, bag = _carrier(p12, password_file)
        name = _field(pdf, field)
        chain = _chain(services, certificate, bag, complete=chosen.long_term)
        document_id = hashlib.sha256(pdf).hexdigest()[:32]
        job = services.signing.job_for(certificate, chain, level=chosen, field_name=name,
                                       index=len(signature_fields(pdf)), document_id=document_id, role="Signer",
                                       lock=lock, reason=reason, location=location)
        with _fetch_failures() as failures:
            try:
                signed = services.signing_engine.sign(pdf, job, key)
            except StatusUnavailable as error:
                # Not bad input (exit 1): the other issuer's responder could not be reached.
                tried = f" ({'; '.join(failures)})" if failures else ""
                raise QoltanbaError("unavailable", f"cannot embed revocation data: {error}{tried}") from None
        serial = format(certificate.serial_number, "x")
        out_sha256 = hashlib.sha256(signed).hexdigest()
        # The audit entry first: a file that exists was always audited; a
        # failed write after it leaves an entry naming a file that is absent,
        # which the hashes make plain.
        with services.registry.transaction() as tx:
            tx.audit.append(at=services.clock.now(), actor=actor, action="document.signed.cli",
                            subject=f"document:{document_id}",
                            details={"signer_serial": serial, "issuer": certificate.issuer.rfc4514_string(),
                                     "level": chosen.value, "field": name,
                                     "in_sha256": hashlib.sha256(pdf).hexdigest(), "out_sha256": out_sha256,
                                     "out": str(target.resolve())})
        write(target, signed)
        emit({"out": target, "field": name, "level": chosen.value, "signer": display_name(certificate),
               "serial": serial, "sha256": out_sha256})


class _Kept(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _fetch_failures() -> Iterator[list[str]]:
    """The collector's warnings about failed fetches, kept for the one ``error:`` line.

    Without a handler Python's last-resort handler would print each on
    stderr, around the one line a failure is reported in.
    """
    handler = _Kept(logging.WARNING)
    logger = logging.getLogger(validation_data.__name__)
    propagate, logger.propagate = logger.propagate, False
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _level(value: str) -> Level:
    try:
        return Level(value.upper())
    except ValueError:
        raise InvalidInput(f"unknown level {value!r}; give one of {LEVELS}") from None


def _initialised(services: "Services", home: Path) -> None:
    """Signing needs the home's centres, TSA and responder: an empty home is bad input here."""
    if "centres" not in services.database.table_names():
        raise InvalidInput(f"the home {home} is not initialised; run `qoltanba init --home {home}` first")


def _pdf(source: Path) -> bytes:
    pdf = read(source, "input PDF")
    problems = pdf_problems(pdf, max_bytes=None, field=str(source))
    if problems:
        raise InvalidInput("cannot sign the input", problems)
    locked = locked_by(pdf)
    if locked is not None:
        raise InvalidInput(f"{source} is locked by its signature {locked}: "
                           "a further signature would invalidate it")
    return pdf


def _target(source: Path, target: Path, force: bool) -> None:
    if target.exists() and not force:
        raise InvalidInput(f"{target} exists already; give --force to overwrite it")
    if target.exists() and target.resolve() == source.resolve():
        raise InvalidInput("OUT.pdf must not be IN.pdf: the input is kept as it was signed")
    if target.is_dir():
        raise InvalidInput(f"cannot write {target}: it is a directory")
    writable(target)


def _password(path: Path) -> bytes:
    """The file's content without one trailing newline (an editor's), exactly as typed otherwise."""
    data = read(path, "password")
    for ending in (b"\r\n", b"\n"):
        if data.endswith(ending):
            return data[: -len(ending)]
    return data


def _carrier(p12: Path, password_file: Path) -> tuple[CarrierKey, x509.Certificate, list[x509.Certificate]]:
    data, password = read(p12, "PKCS#12"), _password(password_file)
    try:
        key, certificate, bag = load_pkcs12(data, password)
    except KeyError_ as error:
        raise InvalidInput(f"{p12}: {error}") from None
    if certificate is None:
        raise InvalidInput(f"{p12}: the PKCS#12 file holds no certificate for its key")
    if spki_of(certificate_public_key(certificate)) != spki_of(key.public_key()):  # GOST carriers too
        raise InvalidInput(f"{p12}: the certificate does not belong to the private key")
    return key, certificate, bag


def _field(pdf: bytes, name: str | None) -> str:
    if name is not None:
        if not name or "." in name:
            raise InvalidInput(f"invalid field name {name!r}: give a non-empty name without '.'")
        if field_taken(pdf, name):
            raise InvalidInput(f"the PDF has a field named {name!r} already; give another --field")
        return name
    number = len(signature_fields(pdf)) + 1
    while field_taken(pdf, f"Signature{number}"):
        number += 1
    return f"Signature{number}"


def _chain(services: "Services", certificate: x509.Certificate, bag: list[x509.Certificate], *,
           complete: bool) -> tuple[x509.Certificate, ...]:
    """Issuing CA first, root last: ours from the hierarchy, another issuer's from the file.

    ``complete``: B-LT and B-LTA need the whole path, since each
    certificate's status is asked of the next one up.
    """
    ours = OurHierarchy(services.hierarchy, CENTRES).chain_of(certificate)
    now = services.clock.now()
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise InvalidInput("the certificate cannot sign now",
                           [Problem("certificate", "is outside its validity period")])
    if ours is not None:
        _ours_valid(services, certificate, tuple(ours[1:]))
        return tuple(ours[1:])
    return _ordered(certificate, bag, complete=complete)


def _ours_valid(services: "Services", certificate: x509.Certificate, chain: tuple[x509.Certificate, ...]) -> None:
    """Our registry knows the certificate's status: a revoked one signs nothing."""
    centre = next((code for code in CENTRES if chain and services.hierarchy.chain(code)[0] == chain[0]), None)
    if centre is None:   # the root's own certificate: no registry row above it
        return
    view, _der = services.catalogue.find(format(certificate.serial_number, "x"), centre)
    if view.status != "valid":
        raise InvalidInput("the certificate cannot sign", [Problem("certificate", f"is {view.status}")])


def _ordered(certificate: x509.Certificate, bag: list[x509.Certificate], *,
             complete: bool) -> tuple[x509.Certificate, ...]:
    """The chain from the file, walked from the certificate up by issuer name; strangers left out.

    The revocation collector asks each certificate's status of the next one
    up, so the order must be the path's, whatever order the file keeps.
    """
    chain: list[x509.Certificate] = []
    current = certificate
    while current.issuer != current.subject:
        issuer = next((c for c in bag if c.subject == current.issuer and c not in chain), None)
        if issuer is None:
            if not complete:
                break
            raise InvalidInput("the certificate's chain is incomplete",
                               [Problem("certificate", "is not from our centres and the PKCS#12 file lacks "
                                                       f"its issuer {current.issuer.rfc4514_string()}")])
        chain.append(issuer)
        current = issuer
    return tuple(chain)
