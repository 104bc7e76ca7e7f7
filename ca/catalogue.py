"""Read-side of the registry for certificates and the issuance journal."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict, dataclass
from typing import Protocol

from ca.issuer import IssuingCA
from ca.errors import NotFound
from ca.policy import CENTRES
from registry import CertificateRow, IssuanceJournalRow, Registry, RegistryTransaction

JOURNAL_COLUMNS = ("number", "state_body", "letter_number", "letter_date", "holder_name", "issued_at",
                   "carrier_serial", "certificate_serial", "form_numbers", "valid_from", "valid_to",
                   "administrator")


@dataclass(frozen=True)
class CertificateView:
    serial: str
    centre: str
    profile: str
    subject_dn: str
    common_name: str
    iin: str | None
    bin: str | None
    email: str | None
    organisation: str | None
    status: str
    not_before: dt.datetime
    not_after: dt.datetime
    key_algorithm: str
    key_carrier: str
    fingerprint_sha256: str
    application_id: int | None
    issued_by: str

    def as_json(self) -> dict:
        data = asdict(self)
        data["not_before"] = self.not_before.isoformat()
        data["not_after"] = self.not_after.isoformat()
        return data


class Centres(Protocol):
    """What the catalogue reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA: ...


class CertificateCatalogue:
    def __init__(self, registry: Registry, centres: Centres) -> None:
        self.registry = registry
        self.centres = centres

    def _codes(self) -> dict[int, str]:
        return {self.centres.issuing_ca(code).centre_id: code for code in CENTRES}

    @staticmethod
    def _view(row: CertificateRow, codes: dict[int, str]) -> CertificateView:
        return CertificateView(
            serial=row.serial, centre=codes.get(row.issuer_id, "?"), profile=row.profile, subject_dn=row.subject_dn,
            common_name=row.common_name, iin=row.iin, bin=row.bin, email=row.email, organisation=row.organisation,
            status=row.status, not_before=row.not_before, not_after=row.not_after, key_algorithm=row.key_algorithm,
            key_carrier=row.key_carrier, fingerprint_sha256=row.fingerprint_sha256,
            application_id=row.application_id, issued_by=row.issued_by)

    def find(self, serial: str, centre: str | None = None) -> tuple[CertificateView, bytes]:
        """One certificate by serial (hex, any case, optional 0x); its view and DER."""
        normalised = serial.lower().removeprefix("0x").lstrip("0") or "0"
        codes = self._codes()
        issuer_id = self.centres.issuing_ca(centre).centre_id if centre else None
        with self.registry.transaction() as tx:
            rows = tx.certificates.by_serial(normalised, issuer_id)
        if not rows:
            raise NotFound(f"no certificate with serial {serial}")
        if len(rows) > 1:
            raise NotFound(f"serial {serial} is known at several centres; name the centre")
        return self._view(rows[0], codes), rows[0].der

    def search(self, *, centre: str | None = None, iin: str | None = None, bin: str | None = None,
               profile: str | None = None, status: str | None = None, limit: int = 100,
               offset: int = 0) -> list[CertificateView]:
        codes = self._codes()
        issuer_id = self.centres.issuing_ca(centre).centre_id if centre else None
        with self.registry.transaction() as tx:
            rows = tx.certificates.search(issuer_id=issuer_id, iin=iin, bin=bin, profile=profile, status=status,
                                          limit=limit, offset=offset)
        return [self._view(r, codes) for r in rows]

    def journal(self, centre: str | None = None) -> list[JournalLine]:
        issuer_id = self.centres.issuing_ca(centre).centre_id if centre else None
        with self.registry.transaction() as tx:
            rows = tx.journal.entries(issuer_id)
        return [JournalLine.of(r) for r in rows]

    def journal_csv(self, centre: str | None = None) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=JOURNAL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(line.as_json() for line in self.journal(centre))
        return out.getvalue()


@dataclass(frozen=True)
class JournalLine:
    """One line of the issuance journal (GOV-3, seed 004 appendix 3), as the exports print it."""

    number: int
    state_body: str
    letter_number: str
    letter_date: str
    holder_name: str
    issued_at: str
    carrier_serial: str
    certificate_serial: str
    form_numbers: str
    valid_from: str
    valid_to: str
    administrator: str

    @classmethod
    def of(cls, row: IssuanceJournalRow) -> JournalLine:
        return cls(number=row.id, state_body=row.state_body or "", letter_number=row.letter_number or "",
                   letter_date=row.letter_date.isoformat() if row.letter_date else "", holder_name=row.holder_name,
                   issued_at=row.issued_at.isoformat(), carrier_serial=row.carrier_serial or "",
                   certificate_serial=row.certificate_serial, form_numbers=row.form_numbers or "",
                   valid_from=row.valid_from.isoformat(), valid_to=row.valid_to.isoformat(),
                   administrator=row.administrator)

    def as_json(self) -> dict[str, object]:
        """The line in JOURNAL_COLUMNS' order."""
        return {column: getattr(self, column) for column in JOURNAL_COLUMNS}
