"""The visible signature stamp on a contract's last page: what it shows, where it goes, how pyHanko draws it (issue 4).

Each signature (the client's, the MFO's seal, any more) gets a stamp in its
own widget on the last page: the signer's name, IIN and/or BIN, the
certificate's serial, the signing time in Asia/Almaty, a role line and a QR
code with the document's verification URL. One box per signature, so they
never overlap (``signing.pades.placement``).

:class:`StampPlanner` turns a signer's certificate into the signature's
``FieldPlan``: the box of the ``index``-th signature and a
:class:`StampContent` (``signing.stamps.content``) read from the
certificate's NCA-style subject. The signing engine plugs the stamp into
pyHanko's ``PdfSigner`` as a stamp style::

    content = StampContent(signer_name=..., serial=..., signed_at=..., role="Client",
                           verify_url=..., iin=...)
    PdfSigner(meta, signer, stamp_style=QoltanbaStampStyle(),
              new_field_spec=field_spec(name, index, last_page_size(reader)))
    ... sign_pdf(..., appearance_text_params=stamp_text_params(content))

``text_params`` keys read by :class:`QoltanbaStampStyle`:

- ``"qoltanba"`` (:data:`STAMP_CONTENT_KEY`): the :class:`StampContent`.
  Required. Every other key (pyHanko adds ``"signer"``) is ignored.

The drawing is composed as bytes (layout.py), the font's objects are
prepared once per process and embedded once per document (font.py),
and the QR code is drawn as rectangles (qr.py): about 1 ms per stamp
on the project's 2-core machine, 0.7 ms with a fixed QR mask
(benchmarks/probes/stamp.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStamp, BaseStampStyle

from ca.errors import InvalidInput
from ca.subject import holder_numbers as read_holder_numbers
from signing.pades.pdf import FieldPlan
from signing.pades.placement import STAMP_HEIGHT, STAMP_WIDTH
from signing.stamps.content import ROLES, STAMP_CONTENT_KEY, Say, StampContent, StampLabels, stamp_text_params
from signing.stamps.font import font_reference, plain_name, stamp_font
from signing.stamps.layout import StampGeometry, compose

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QoltanbaStampStyle(BaseStampStyle):
    """pyHanko stamp style drawing Qoltanba's signature stamp (see the module docstring for text_params).

    The inherited ``background`` options are not used: the stamp paints its
    own opaque white background, so the QR code's quiet zone is light
    whatever lies beneath.
    """

    border_width: float = 0.75
    border_color: tuple[float, float, float] | None = (0.12, 0.23, 0.45)
    font_size: float = 7.5
    name_font_size: float = 8.0
    min_font_size: float = 5.5
    qr_side: Literal["left", "right"] = "left"
    qr_mask: int | None = None  # None: the best mask per ISO/IEC 18004; 0-7 saves ~0.2 ms (stamp_qr.qr_modules)

    def __post_init__(self) -> None:
        if self.qr_mask is not None and self.qr_mask not in range(8):
            raise ValueError("qr_mask is a QR data mask, 0 to 7, or None for the best one")
        if not 0 < self.min_font_size <= min(self.font_size, self.name_font_size):
            raise ValueError("font sizes must be positive, the minimum no larger than the others")

    def create_stamp(self, writer: BasePdfFileWriter, box: layout.BoxConstraints,
                     text_params: dict) -> QoltanbaStamp:
        content = (text_params or {}).get(STAMP_CONTENT_KEY)
        if not isinstance(content, StampContent):
            raise TypeError(f"text_params[{STAMP_CONTENT_KEY!r}] must hold a StampContent")
        return QoltanbaStamp(writer, self, content, box)


class QoltanbaStamp(BaseStamp):
    """One stamp: renders to a Flate-compressed form XObject referencing the shared font."""

    def __init__(self, writer: BasePdfFileWriter, style: QoltanbaStampStyle, content: StampContent,
                 box: layout.BoxConstraints | None = None) -> None:
        if box is None or not (box.width_defined and box.height_defined):
            box = layout.BoxConstraints(width=STAMP_WIDTH, height=STAMP_HEIGHT)
        super().__init__(writer, style, box)
        self.content = content

    def render(self) -> bytes:
        self.set_resource(ResourceType.FONT, plain_name(stamp_font().resource_name),
                          font_reference(self._ensure_writer))
        style = self.style
        geometry = StampGeometry(
            width=float(self.box.width), height=float(self.box.height), border_width=style.border_width,
            border_color=style.border_color, font_size=style.font_size, name_font_size=style.name_font_size,
            min_font_size=style.min_font_size, qr_left=style.qr_side == "left", qr_mask=style.qr_mask)
        return compose(self.content, geometry)

    def as_form_xobject(self) -> generic.StreamObject:
        # pyHanko's version stores the stream uncompressed; Flate at its
        # fastest level takes the QR code's rectangles to about a quarter.
        data = zlib.compress(self.render(), 1)
        width, height = self.box.width, self.box.height
        return generic.StreamObject({
            plain_name("/Type"): plain_name("/XObject"),
            plain_name("/Subtype"): plain_name("/Form"),
            plain_name("/BBox"): generic.ArrayObject([generic.NumberObject(0), generic.NumberObject(0),
                                                    generic.FloatObject(width), generic.FloatObject(height)]),
            plain_name("/Resources"): self.resources.as_pdf_object(),
            plain_name("/Filter"): plain_name("/FlateDecode"),
        }, encoded_data=data)


def holder_numbers(certificate: x509.Certificate) -> tuple[str | None, str | None]:
    """(IIN, BIN) from an NCA-style subject (DOMAIN.md KZ-1: SERIALNUMBER=IIN…, OU=BIN…)."""
    def values(oid) -> list[str]:
        return [str(a.value) for a in certificate.subject.get_attributes_for_oid(oid)]

    return read_holder_numbers(values(NameOID.SERIAL_NUMBER), values(NameOID.ORGANIZATIONAL_UNIT_NAME))


def display_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def _english(_language: str, words: str) -> str:
    return words


class StampPlanner:
    def __init__(self, verify_url: str, style: QoltanbaStampStyle | None = None, say: Say = _english) -> None:
        # ``verify_url`` holds ``{document}``: the page a verifier's phone opens. ``say``: the labels
        # in a language (the wiring hands in the pages' catalogues; English without).
        self.verify_url = verify_url
        self.style = style or QoltanbaStampStyle()
        self.say = say

    def plan(self, field_name: str, index: int, *, certificate: x509.Certificate, document_id: str, role: str,
             signed_at: dt.datetime, lock: bool = False, reason: str | None = None,
             location: str | None = None, language: str | None = None) -> FieldPlan:
        """The ``index``-th signature's field, with its stamp when the certificate names its holder.

        ``language``: the labels and the role in the borrower's language (issue 20); English when None.
        """
        iin, bin_ = holder_numbers(certificate)
        if language and role in ROLES:
            role = self.say(language, ROLES[role])
        try:
            content = StampContent(signer_name=display_name(certificate), serial=certificate.serial_number,
                                   signed_at=signed_at, role=role, iin=iin, bin=bin_,
                                   verify_url=self.verify_url.format(document=document_id),
                                   labels=StampLabels.said(self.say, language))
        except InvalidInput as error:
            # A certificate from another issuer may carry no IIN or BIN: the
            # signature is still made, without a stamp, and the reason logged.
            log.warning("signature %s without a visible stamp: %s", field_name, error)
            return FieldPlan(name=field_name, lock=lock, reason=reason, location=location)
        return FieldPlan(name=field_name, stamp_index=index, lock=lock, reason=reason, location=location,
                         stamp_style=self.style, text_params=stamp_text_params(content))


__all__ = ["QoltanbaStamp", "QoltanbaStampStyle", "StampPlanner", "display_name", "holder_numbers"]
