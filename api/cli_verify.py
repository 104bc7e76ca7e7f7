"""``qoltanba cert verify``: one certificate's signature and chain, offline.

Registered on ``api.cli``'s ``cert`` group (imported at its end). Exit
codes: 0 valid, 1 invalid (bad signature, wrong issuer, outside validity at
the time), 2 unusable input; the reason is one line.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli import _fail, _read, cert_app
from ca.certcheck import check_certificate, read_certificates
from ca.errors import QoltanbaError


def _moment(text: Optional[str]) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.timezone.utc)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _fail(2, f"--at {text!r} is not an ISO 8601 date or time")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


@cert_app.command("verify")
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
    moment = _moment(at)
    try:
        certificate = read_certificates(_read(cert, "certificate"), f"certificate file {cert}")
        if len(certificate) != 1:
            _fail(2, f"the certificate file {cert} holds {len(certificate)} certificates; give one")
        anchors = [a for path in trust for a in read_certificates(_read(path, "trust anchor"),
                                                                   f"trust anchor file {path}")]
        intermediates = [c for path in chain or () for c in read_certificates(_read(path, "chain"),
                                                                              f"chain file {path}")]
        result = check_certificate(certificate[0], anchors, moment, intermediates)
    except QoltanbaError as error:
        _fail(2, str(error))
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        typer.echo(f"valid: {result.subject}" if result.valid else f"invalid: {result.reason}")
    if not result.valid:
        raise typer.Exit(1)
