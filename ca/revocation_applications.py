"""Revocation applications: submitted on paper or signed with the holder's EDS (NAT-7).

A paper application is reviewed at once (every field problem, and whether
it matches the certificate) and then waits for a registrar, due within 2
working days (NAT-6, GOV-5, ROOT-6). An application sent as a CMS signature
made with the applicant's own valid certificate is verified (signature,
registry status, identity) and carried out on the spot, in the same
transaction that records it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.approvals import Approval
from ca.applications import ALMATY, ApplicationService, ApplicationView
from ca.cms import CMSVerificationError, verify_signed_document
from ca.errors import ConflictError, InvalidInput, NotFound, Problem
from ca.forms import parse_attachments
from ca.revocation import Revocation, RevocationRequest, RevocationService, normalise_serial
from ca.revocation_forms import (
    REVOCATION_FORMS,
    REVOCATION_KINDS,
    CARevocation,
    GovernmentRevocation,
    IndividualRevocation,
    LegalEntityRevocation,
    review,
)
from registry import (
    ApplicationRow,
    ApplicationStatus,
    CertificateRow,
    CertificateStatus,
    RegistryTransaction,
)

SUBMITTED, REVOKED = ApplicationStatus.SUBMITTED, ApplicationStatus.REVOKED
# NAT-6, GOV-5, ROOT-6: carried out within 2 working days of the application.
REVOCATION_WORKING_DAYS = 2
_NATIONAL_KINDS = ("revocation-individual", "revocation-legal-entity")


class RevocationApplications:
    def __init__(self, applications: ApplicationService, revocations: RevocationService) -> None:
        self.applications = applications
        self.revocations = revocations
        self.centres = revocations.centres
        self.registry = revocations.registry
        self.clock = revocations.clock

    # -- submission ------------------------------------------------------------

    def submit(self, kind: str, form: object | None, attachments: object, actor: str,
               signed_document: bytes | None = None) -> tuple[ApplicationView, Revocation | None]:
        problems: list[Problem] = []
        if kind not in REVOCATION_FORMS:
            raise InvalidInput("unknown application kind", [Problem("kind", f"known: {', '.join(REVOCATION_FORMS)}")])
        signed = None
        if signed_document is not None:
            form, signed, problems = self._open_signed(kind, form, signed_document)
        if form is None and not problems:
            problems.append(Problem("form", "give the form, or a signed_document holding it"))
        parsed = None
        if form is not None:
            try:
                parsed = REVOCATION_FORMS[kind].model_validate(form)
            except ValueError as error:
                problems += [Problem("form." + ".".join(str(p) for p in e["loc"]), e["msg"])
                             for e in error.errors()]  # type: ignore[attr-defined]
        atts, att_problems = parse_attachments(attachments if attachments is not None else [])
        problems += att_problems
        if parsed is not None:
            problems += review(kind, parsed, atts, signed=signed is not None)
        if parsed is None:
            raise InvalidInput("the revocation application is refused", problems)
        centre = REVOCATION_KINDS[kind]
        now = self.clock.now()
        due = self.applications.calendar.add_working_days(now.astimezone(ALMATY).date(), REVOCATION_WORKING_DAYS)
        with self.registry.transaction() as tx:
            ca = self.centres.issuing_ca(centre, tx)
            cert, match_problems = self._match(tx, ca.centre_id, parsed)
            problems += match_problems
            if signed is not None:
                problems += self._signer_problems(tx, signed, parsed)
            if problems or cert is None:
                raise InvalidInput("the revocation application is refused", problems)
            row = tx.applications.add(ApplicationRow(
                centre_id=ca.centre_id, kind=kind, status=SUBMITTED, form=parsed.model_dump(mode="json"),
                attachments=[a.model_dump(mode="json") for a in atts], csr_der=None, profile=None,
                submitted_by=actor, submitted_at=now, due_date=due, target_serial=cert.serial,
                signed_document=signed_document if signed is not None else None))
            tx.audit.append(at=now, actor=actor, action="application.submitted", subject=f"application:{row.id}",
                            details={"kind": kind, "centre": centre, "due_date": due.isoformat(),
                                     "serial": cert.serial, "signed": signed is not None})
            revocation = None
            if signed is not None:
                revocation = self._carry_out(tx, row, f"{actor} (signed by IIN {parsed.iin})", administrator=False)
            view = self.applications.view(tx, row)
        if revocation is not None:
            self.revocations.after_commit([(ca.centre_id, revocation)])
        return view, revocation

    def _open_signed(self, kind: str, form: object | None,
                     signed_document: bytes) -> tuple[object | None, "_Signer | None", list[Problem]]:
        if kind not in _NATIONAL_KINDS:
            return form, None, [Problem("signed_document", "NAT-7: signed applications are taken by the national "
                                                           "CA; this centre takes an official letter")]
        try:
            document = verify_signed_document(signed_document)
        except CMSVerificationError as error:
            return form, None, [Problem("signed_document", str(error))]
        try:
            content = json.loads(document.content)
        except ValueError:
            return form, None, [Problem("signed_document", "the signed content is not the application's JSON form")]
        if form is not None and form != content:
            return form, None, [Problem("form", "differs from the signed application; send one or the other")]
        return content, _Signer.of(document.signer), []

    # -- matching the certificate and the applicant ---------------------------------

    def _match(self, tx: RegistryTransaction, centre_id: int,
               form) -> tuple[CertificateRow | None, list[Problem]]:  # noqa: ANN001
        serial = normalise_serial(form.serial)
        rows = tx.certificates.by_serial(serial, centre_id)
        if not rows:
            return None, [Problem("form.serial", "no certificate with this serial at this centre")]
        cert = rows[0]
        problems = []
        if cert.status != CertificateStatus.VALID:
            problems.append(Problem("form.serial", f"the certificate is already {cert.status}"))
        issued = {cert.not_before.date(), cert.not_before.astimezone(ALMATY).date()}
        if form.issued_on not in issued:
            problems.append(Problem("form.issued_on", "NAT-5: does not match the certificate's issue date"))
        expected = _identity(form)
        for field, value in expected.items():
            if getattr(cert, field) != value:
                problems.append(Problem(f"form.{'state_body_bin' if field == 'bin' and isinstance(form, GovernmentRevocation) else field}",
                                        "does not match the certificate"))
        if isinstance(form, CARevocation) and cert.profile != "subordinate-ca":
            problems.append(Problem("form.serial", "the root CA revokes CA certificates; this is not one"))
        return cert, problems

    def _signer_problems(self, tx: RegistryTransaction, signer: "_Signer", form) -> list[Problem]:  # noqa: ANN001
        """NAT-7: the signature must come from the applicant's own, currently valid certificate."""
        rows = [r for r in tx.certificates.by_serial(signer.serial) if r.fingerprint_sha256 == signer.fingerprint]
        if not rows:
            return [Problem("signed_document", "the signing certificate was not issued by this hierarchy")]
        row, now = rows[0], self.clock.now()
        problems = []
        if row.status != CertificateStatus.VALID:
            problems.append(Problem("signed_document", f"the signing certificate is {row.status}"))
        if not row.not_before <= now <= row.not_after:
            problems.append(Problem("signed_document", "the signing certificate is not within its validity"))
        if row.iin != form.iin or (isinstance(form, LegalEntityRevocation) and row.bin != form.bin):
            problems.append(Problem("signed_document", "NAT-7: signed by someone other than the applicant"))
        return problems

    # -- decisions ----------------------------------------------------------------

    def approve(self, application_id: int, actor: str, *, administrator: bool,
                approval: Approval | None = None) -> tuple[ApplicationView, Revocation]:
        """Carry out a revocation application; a CA's (revocation-ca) needs a second administrator's approval."""
        with self.registry.transaction() as tx:
            row = tx.applications.by_id(application_id, for_update=True)
            if row is None or row.kind not in REVOCATION_KINDS:
                raise NotFound(f"no revocation application {application_id}")
            if row.status != SUBMITTED:
                raise ConflictError(f"application {application_id} is already {row.status}")
            revocation = self._carry_out(tx, row, actor, administrator=administrator, approval=approval)
            view = self.applications.view(tx, row)
            centre_id = row.centre_id
        self.revocations.after_commit([(centre_id, revocation)])
        return view, revocation

    def _carry_out(self, tx: RegistryTransaction, row: ApplicationRow, actor: str, *,
                   administrator: bool, approval: Approval | None = None) -> Revocation:
        form = REVOCATION_FORMS[row.kind].model_validate(row.form)
        centre = REVOCATION_KINDS[row.kind]
        extra: dict = {}
        if isinstance(form, GovernmentRevocation):
            extra = dict(ground=form.ground, left_job_on=form.left_job_on, carrier_returned=form.carrier_returned,
                         state_body=form.state_body, letter_number=form.letter_number, letter_date=form.letter_date)
        elif isinstance(form, CARevocation):
            extra = dict(ground=form.ground)
        request = RevocationRequest(serial=row.target_serial or form.serial, actor=actor, reason=form.reason,
                                    centre=centre, application_id=row.id, administrator=administrator,
                                    approval=approval, **extra)
        revocation, _ = self.revocations.revoke_in(tx, request)
        now = self.clock.now()
        row.status, row.decided_at, row.decided_by = REVOKED, now, actor
        tx.applications.flush()
        tx.audit.append(at=now, actor=actor, action="application.approved", subject=f"application:{row.id}",
                        details={"revoked": revocation.serial})
        return revocation


@dataclass(frozen=True)
class _Signer:
    """Who signed an application, by the keys the registry finds a certificate with."""

    serial: str
    fingerprint: str

    @classmethod
    def of(cls, certificate: x509.Certificate) -> "_Signer":
        der = certificate.public_bytes(serialization.Encoding.DER)
        return cls(format(certificate.serial_number, "x"), hashlib.sha256(der).hexdigest())


def _identity(form) -> dict[str, str]:  # noqa: ANN001
    if isinstance(form, IndividualRevocation):
        return {"iin": form.iin}
    if isinstance(form, LegalEntityRevocation):
        return {"iin": form.iin, "bin": form.bin}
    if isinstance(form, GovernmentRevocation):
        return {"iin": form.iin, "bin": form.state_body_bin}
    return {}


__all__ = ["RevocationApplications", "REVOCATION_WORKING_DAYS"]
