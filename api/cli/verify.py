"""Verification on the command line: ``qoltanba verify`` (a signed PDF or CMS) and ``qoltanba cert verify``.

``verify`` (issue 6) works on a home directly, with no server: it trusts the
home's root and imported anchors when the home is initialised, plus every
``--trust`` PEM; with no home it trusts only those. ``cert verify`` checks
one certificate's signature and chain offline (RSA, ECDSA, GOST), against
the ``--trust`` anchors only; the ``cert`` group (api/cli/cert.py) lists it.

Exit codes differ from the other commands on purpose, so scripts can branch
on the verdict: 0 every signature TOTAL-PASSED (the certificate valid), 1
any other indication or no signature at all (the certificate invalid), 2
the input cannot be processed (one ``error:`` line on stderr).

This module is imported whenever the ``cert`` group is, so what a
verification needs (pyHanko, the registry) is imported inside the commands
(start-up, issue 21).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from api.cli.common import DEFAULT_HOME, Home, commands, fail, read, settings_reason
from ca.errors import InvalidInput, QoltanbaError

if TYPE_CHECKING:
    from api.settings import Settings
    from signing.verification.inputs import TrustAnchors

EXIT_PASSED, EXIT_NOT_PASSED, EXIT_UNPROCESSABLE = 0, 1, 2

app = commands()


def moment(text: str | None) -> dt.datetime | None:
    """``--at``: ISO 8601; a date alone is its midnight UTC, a time without a zone is UTC."""
    if text is None:
        return None
    try:
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(EXIT_UNPROCESSABLE, f"--at {text!r} is not an ISO 8601 date or time (e.g. 2027-01-31T12:00:00Z)")
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.timezone.utc)


# -- a signed PDF or CMS ------------------------------------------------------------------------

def _anchors(home: Path, settings: "Settings", trust: list[Path]) -> tuple["TrustAnchors", list[str]]:
    """The home's trust store (read only: verify never writes to a home), plus the --trust files.

    The registry is read through ``registry.readonly`` by the same ``Hierarchy`` and ``TrustStore`` the
    services use, without building the services: no ORM, no Alembic, no keys (start-up, issue 21).
    """
    from cryptography.hazmat.primitives.serialization import Encoding

    from signing.verification.inputs import TrustAnchors, UnreadableCertificate, read_certificates

    notes = []
    anchors = TrustAnchors()
    if (home / "registry.db").exists() or settings.database_url:
        from ca.hierarchy import Hierarchy   # only with a home to read
        from ca.policy import NATIONAL
        from registry.readonly import ReadOnlyRegistry
        from signing.verification.trust_store import TrustStore

        registry = ReadOnlyRegistry(settings.resolved_database_url)
        try:
            tables = registry.table_names()
            hierarchy = Hierarchy(registry, settings.base_url)  # type: ignore[arg-type] - the reads it makes
            if "centres" not in tables or not hierarchy.is_initialised():
                notes.append(f"the home {home} is not initialised: only --trust anchors are trusted")
            elif "trust_anchors" not in tables:
                notes.append(f"the home {home} predates the trust store (run `qoltanba init` to migrate it): "
                             "only its root and --trust anchors are trusted")
                root = hierarchy.chain(NATIONAL)[-1]
                anchors = TrustAnchors.from_der([root.public_bytes(Encoding.DER)])
            else:
                # As the services' trust store: our root first (the home is initialised), then the imported.
                store = TrustStore(registry, None, lambda: [hierarchy.chain(NATIONAL)[-1]])  # type: ignore[arg-type]
                anchors = store.anchors()
        finally:
            registry.close()
    else:
        notes.append(f"no home at {home}: only --trust anchors are trusted")
    for path in trust:
        try:
            anchors = anchors.plus(TrustAnchors(tuple(read_certificates(read(path, "trust anchor")))))
        except UnreadableCertificate as error:
            raise InvalidInput(f"the trust anchor file {path} cannot be read: {error}") from None
    return anchors, notes


def _summary(name: str, report: dict) -> str:
    lines = [f"{report['indication']}{' / ' + report['sub_indication'] if report['sub_indication'] else ''}"
             f"  {name} ({report['kind']}, {len(report['signatures'])} "
             f"{'entry' if len(report['signatures']) == 1 else 'entries'}, "
             f"sha256 {report['document']['sha256'][:16]}…)"]
    for number, entry in enumerate(report["signatures"], 1):
        verdict = entry["indication"] + (f" / {entry['sub_indication']}" if entry["sub_indication"] else "")
        lines.append(f"  [{number}] {entry['kind']} {entry['field'] or ''}: {verdict}"
                     f"{', ' + entry['level'] if entry['level'] else ''}")
        lines.append(f"      {entry['sentence']}")
    container = report.get("container")
    if container is not None:
        lines.append(f"  {container['format']}: {len(container['files'])} files, manifest {container['manifest']}, "
                     f"signature {container['signature']}")
        lines += [f"  ! {p['sentence']}" for p in container["problems"]]
    lines.append(report["sentence"])
    return "\n".join(lines)


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="A signed PDF, a CMS signature (.p7s/.cms: DER, PEM or base64), or "
                                              "an ASiC-E container (.asice, e.g. a credit dossier).")],
    detached: Annotated[Optional[Path], typer.Option(help="The signed file, for a detached CMS.")] = None,
    trust: Annotated[Optional[list[Path]], typer.Option(help="Also trust these CA certificates (PEM); "
                                                             "repeatable.")] = None,
    at: Annotated[Optional[str], typer.Option(help="Validate at this time (ISO 8601), e.g. for an archived "
                                                   "document; default now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    online: Annotated[bool, typer.Option("--online", help="Fetch OCSP/CRL live for what the document does "
                                                          "not carry.")] = False,
    lenient: Annotated[bool, typer.Option("--lenient", help="Read PDFs with pyHanko's non-strict parser.")]
    = False,
    home: Home = DEFAULT_HOME,
) -> None:
    """Verify a signed PDF, CMS or ASiC-E: exit 0 when it is TOTAL-PASSED, 1 otherwise, 2 when unreadable."""
    # What verifying needs, imported when it runs (start-up, issue 21). The worker was forked first (api/cli's
    # __init__, before typer) or is forked now: it imports the verifier (pyHanko) while this process reads the
    # settings and the home's trust store.
    from signing.verification.early import take_worker

    worker = take_worker()

    from signing.verification.sandbox import SandboxedVerifier

    from pydantic import ValidationError

    from api.settings import Settings
    from api.verification_limits import sandbox_limits, verification_limits
    from signing.verification.inputs import UnverifiableInput, VerificationOptions

    try:
        settings = Settings(home=home)
    except ValidationError as error:
        fail(EXIT_UNPROCESSABLE, settings_reason(error))
    try:
        options = VerificationOptions(at=moment(at), online=online, strict=not lenient)
        anchors, notes = _anchors(home, settings, list(trust or ()))
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        data = read(file, "input")
        detached_data = read(detached, "detached") if detached is not None else None
        # The command line is single-threaded: plain fork, and the worker forked above verifies.
        verifier = SandboxedVerifier(lambda: anchors, verification_limits(settings), sandbox_limits(settings),
                                     start_method="fork", early=worker)
        report = verifier.verify(data, detached=detached_data, options=options)
    except UnverifiableInput as error:
        fail(EXIT_UNPROCESSABLE, f"{file}: {error.detail}")
    except QoltanbaError as error:
        fail(EXIT_UNPROCESSABLE, str(error))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        typer.echo(_summary(str(file), report))
    # A container's findings (a file removed, added or changed: LOAN-14's dossier) fail it whatever its signatures say.
    passed = report["indication"] == "TOTAL-PASSED" and bool(report["signatures"]) and all(
        s["indication"] == "TOTAL-PASSED" for s in report["signatures"])
    raise typer.Exit(EXIT_PASSED if passed else EXIT_NOT_PASSED)


# -- one certificate, offline ----------------------------------------------------------------------

def cert_verify(
    cert: Annotated[Path, typer.Argument(metavar="CERT", help="The certificate (PEM or DER).")],
    trust: Annotated[list[Path], typer.Option("--trust", help="A trust anchor, root or intermediate (PEM or DER; "
                                                              "a PEM file may hold several); repeatable.")],
    chain: Annotated[Optional[list[Path]], typer.Option("--chain", help="Intermediate certificates to build the "
                                                                        "path with, not trusted; repeatable.")]
    = None,
    at: Annotated[Optional[str], typer.Option("--at", help="Validate at this time (ISO 8601, UTC if no zone); "
                                                          "default now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
) -> None:
    """Verify a certificate's signature and chain (RSA, ECDSA, GOST): exit 0 valid, 1 invalid, 2 bad input."""
    from ca.certcheck import check_certificate, read_certificates   # at run time (start-up, issue 21)

    when = moment(at) or dt.datetime.now(dt.timezone.utc)
    try:
        certificate = read_certificates(read(cert, "certificate"), f"certificate file {cert}")
        if len(certificate) != 1:
            fail(EXIT_UNPROCESSABLE, f"the certificate file {cert} holds {len(certificate)} certificates; give one")
        anchors = [a for path in trust for a in read_certificates(read(path, "trust anchor"),
                                                                   f"trust anchor file {path}")]
        intermediates = [c for path in chain or () for c in read_certificates(read(path, "chain"),
                                                                              f"chain file {path}")]
        result = check_certificate(certificate[0], anchors, when, intermediates)
    except QoltanbaError as error:
        fail(EXIT_UNPROCESSABLE, str(error))
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        typer.echo(f"valid: {result.subject}" if result.valid else f"invalid: {result.reason}")
    if not result.valid:
        raise typer.Exit(EXIT_NOT_PASSED)


__all__ = ["EXIT_NOT_PASSED", "EXIT_PASSED", "EXIT_UNPROCESSABLE", "app", "cert_verify", "moment", "verify"]
