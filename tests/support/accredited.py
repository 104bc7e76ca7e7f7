"""Another accredited centre for the clients' EDS tests (issue 5): a second Qoltanba home served on loopback.

It plays the NCA RK: its own root and issuing CA (named apart from ours),
its OCSP responder, CRLs and CA certificates (AIA caIssuers) answered over
HTTP by a real server, so our service fetches what it needs as it would
from pki.gov.kz. Certificates are issued and revoked in-process on that
home, as the CLI tests do; the server's workers see revocations through the
registry.

Its OCSP answers live a day, so they are still fresh when a test moves our
clock two hours ahead for the review window (LOAN-5).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.clock import FrozenClock
from keys import load_pkcs12
from tests.support import factories as f
from tests.support.factors import Token
from tests.support.server import Home, prepare_home, running_server

NAMES = {"QOLTANBA_ROOT_NAME": "TEST ACCREDITED ROOT CA", "QOLTANBA_NATIONAL_NAME": "TEST ACCREDITED NATIONAL CA",
         "QOLTANBA_GOVERNMENT_NAME": "TEST ACCREDITED GOVERNMENT CA", "QOLTANBA_OCSP_VALIDITY_MINUTES": "1440"}
PIN = b"token-pin"


@dataclass
class ForeignCentre:
    home: Home

    @property
    def root(self) -> x509.Certificate:
        return self.chain[-1]

    @property
    def chain(self) -> list[x509.Certificate]:
        with self._services() as svc:
            return list(svc.hierarchy.chain("national"))

    def root_pem(self) -> str:
        return self.root.public_bytes(serialization.Encoding.PEM).decode()

    def chain_pem(self) -> str:
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in self.chain)

    def token(self, iin: str | None = None, *, profile: str = "individual-sign", bin_: str | None = None,
              at: dt.datetime | None = None) -> Token:
        """A client's token with a certificate of this centre (issued at ``at``, default now)."""
        with self._services(FrozenClock(at) if at else None) as svc:
            issued = f.issue_person(svc, holder_iin=iin or f.iin(), password=PIN, profile=profile, bin_=bin_)
        key, certificate, _chain = load_pkcs12(issued.pkcs12, PIN)
        return Token(key, certificate, issued.serial)

    def revoke(self, token: Token) -> None:
        from ca.revocation import RevocationRequest

        with self._services() as svc:
            svc.revocations.revoke(RevocationRequest(serial=token.serial, actor="test", reason="key-compromise",
                                                     centre="national"))

    @contextlib.contextmanager
    def _services(self, clock=None) -> Iterator:  # noqa: ANN001
        from api.wiring import Services

        update = {name.removeprefix("QOLTANBA_").lower(): value for name, value in NAMES.items()}
        update["ocsp_validity_minutes"] = int(update["ocsp_validity_minutes"])
        settings = self.home.settings().model_copy(update=update)
        svc = Services.build(settings, clock)
        try:
            yield svc
        finally:
            svc.close()


def foreign_home(directory: Path) -> Home:
    return prepare_home(directory, extra=NAMES)


@contextlib.contextmanager
def served_centre(directory: Path) -> Iterator[ForeignCentre]:
    home = foreign_home(directory)
    with running_server(home):
        yield ForeignCentre(home)
