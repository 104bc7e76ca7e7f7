"""``qoltanba verify`` and ``qoltanba trust``: verification reports on the command line (issue 6).

``verify`` works on a home directly, with no server: it trusts the home's
root and imported anchors when the home is initialised, plus every
``--trust`` PEM; with no home it trusts only those. Exit codes differ from
the other commands on purpose, so scripts can branch on the verdict: 0 every
signature TOTAL-PASSED, 1 any other indication (or no signature at all), 2
the input cannot be processed (one ``error:`` line on stderr).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import ValidationError

from api.cli import DEFAULT_HOME, ActorOpt, Home, _emit, _fail, _group, _read, _services, _settings_reason, app
from api.wiring import Services, sandbox_limits, verification_limits
from api.settings import Settings
from ca.errors import InvalidInput, QoltanbaError
from signing.verification_context import (
    TrustAnchors,
    UnreadableCertificate,
    UnverifiableInput,
    VerificationOptions,
    read_certificates,
)
from signing.verification_sandbox import SandboxedVerifier

DER = Encoding.DER

trust_app = _group("trust", "The verification trust store: our root plus imported anchors.")

EXIT_PASSED, EXIT_NOT_PASSED, EXIT_UNPROCESSABLE = 0, 1, 2


def _moment(text: str | None) -> dt.datetime | None:
    """ISO 8601; a date alone is its midnight UTC, a time without a zone is UTC."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _fail(EXIT_UNPROCESSABLE, f"--at {text!r} is not an ISO 8601 time (e.g. 2027-01-31T12:00:00Z)")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _anchors(home: Path, settings: Settings, trust: list[Path]) -> tuple[TrustAnchors, list[str]]:
    """The home's trust store (read only: verify never writes to a home), plus the --trust files."""
    notes = []
    anchors = TrustAnchors()
    if (home / "registry.db").exists() or settings.database_url:
        services = Services.build(settings)
        try:
            tables = services.database.table_names()
            if "centres" not in tables or not services.authority.is_initialised():
                notes.append(f"the home {home} is not initialised: only --trust anchors are trusted")
            elif "trust_anchors" not in tables:
                notes.append(f"the home {home} predates the trust store (run `qoltanba init` to migrate it): "
                             "only its root and --trust anchors are trusted")
                anchors = TrustAnchors.from_der([services.authority.chain("national")[-1].public_bytes(DER)])
            else:
                anchors = services.trust_store.anchors()
        finally:
            services.close()
    else:
        notes.append(f"no home at {home}: only --trust anchors are trusted")
    for path in trust:
        try:
            anchors = anchors.plus(TrustAnchors(tuple(read_certificates(_read(path, "trust anchor")))))
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
    lines.append(report["sentence"])
    return "\n".join(lines)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="A signed PDF, or a CMS signature (.p7s/.cms: DER, PEM or base64).")],
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
    """Verify a signed PDF or CMS: exit 0 when every signature is TOTAL-PASSED, 1 otherwise, 2 when unreadable."""
    try:
        settings = Settings(home=home)
    except ValidationError as error:
        _fail(EXIT_UNPROCESSABLE, _settings_reason(error))
    try:
        options = VerificationOptions(at=_moment(at), online=online, strict=not lenient)
        anchors, notes = _anchors(home, settings, list(trust or ()))
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        data = _read(file, "input")
        detached_data = _read(detached, "detached") if detached is not None else None
        # The command line is single-threaded: plain fork starts the worker at once.
        verifier = SandboxedVerifier(lambda: anchors, verification_limits(settings), sandbox_limits(settings),
                                     start_method="fork")
        report = verifier.verify(data, detached=detached_data, options=options)
    except UnverifiableInput as error:
        _fail(EXIT_UNPROCESSABLE, f"{file}: {error.detail}")
    except QoltanbaError as error:
        _fail(EXIT_UNPROCESSABLE, str(error))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        typer.echo(_summary(str(file), report))
    passed = bool(report["signatures"]) and all(s["indication"] == "TOTAL-PASSED" for s in report["signatures"])
    raise typer.Exit(EXIT_PASSED if passed else EXIT_NOT_PASSED)


@trust_app.command("list")
def trust_list(home: Home = DEFAULT_HOME) -> None:
    """Every trust anchor, one JSON line each: our root, then the imported ones."""
    with _services(home) as services:
        for anchor in services.trust_store.list():
            _emit(anchor.as_json())


@trust_app.command("add")
def trust_add(pem: Annotated[Path, typer.Option(help="CA certificate(s), PEM (a bundle is fine) or DER.")],
              label: Annotated[str, typer.Option(help="What it is, e.g. 'NCA RK RSA root'.")],
              actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Import CA certificates as trust anchors for verification."""
    with _services(home) as services:
        for anchor in services.trust_store.add(_read(pem, "certificate"), label, actor):
            _emit(anchor.as_json())


@trust_app.command("remove")
def trust_remove(sha256: Annotated[str, typer.Argument(help="The anchor's SHA-256 fingerprint (hex).")],
                 actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """Remove an imported trust anchor."""
    with _services(home) as services:
        _emit(services.trust_store.remove(sha256, actor).as_json())
