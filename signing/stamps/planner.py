"""Where each signature's visible stamp goes and what it shows (issue 4).

The stamp shows the signer's name, IIN or BIN, certificate serial, signing
time in Asia/Almaty and a QR code with the document's verification URL; it
sits on the last page, one box per signature so they never overlap.
"""

from __future__ import annotations

import datetime as dt
import logging

from cryptography import x509
from cryptography.x509.oid import NameOID

from ca.errors import InvalidInput
from ca.subject import holder_numbers as read_holder_numbers
from signing.pades.pdf import FieldPlan
from signing.stamps.stamp import QoltanbaStampStyle, StampContent, stamp_text_params

log = logging.getLogger(__name__)


def holder_numbers(certificate: x509.Certificate) -> tuple[str | None, str | None]:
    """(IIN, BIN) from an NCA-style subject (DOMAIN.md KZ-1: SERIALNUMBER=IIN…, OU=BIN…)."""
    def values(oid) -> list[str]:
        return [str(a.value) for a in certificate.subject.get_attributes_for_oid(oid)]

    return read_holder_numbers(values(NameOID.SERIAL_NUMBER), values(NameOID.ORGANIZATIONAL_UNIT_NAME))


def display_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


class StampPlanner:
    def __init__(self, verify_url: str, style: QoltanbaStampStyle | None = None) -> None:
        # ``verify_url`` holds ``{document}``: the page a verifier's phone opens.
        self.verify_url = verify_url
        self.style = style or QoltanbaStampStyle()

    def plan(self, field_name: str, index: int, *, certificate: x509.Certificate, document_id: str, role: str,
             signed_at: dt.datetime, lock: bool = False, reason: str | None = None,
             location: str | None = None) -> FieldPlan:
        """The ``index``-th signature's field, with its stamp when the certificate names its holder."""
        iin, bin_ = holder_numbers(certificate)
        try:
            content = StampContent(signer_name=display_name(certificate), serial=certificate.serial_number,
                                   signed_at=signed_at, role=role, iin=iin, bin=bin_,
                                   verify_url=self.verify_url.format(document=document_id))
        except InvalidInput as error:
            # A certificate from another issuer may carry no IIN or BIN: the
            # signature is still made, without a stamp, and the reason logged.
            log.warning("signature %s without a visible stamp: %s", field_name, error)
            return FieldPlan(name=field_name, lock=lock, reason=reason, location=location)
        return FieldPlan(name=field_name, stamp_index=index, lock=lock, reason=reason, location=location,
                         stamp_style=self.style, text_params=stamp_text_params(content))
