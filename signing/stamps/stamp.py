"""The visible signature stamp on a contract's last page (issue 4).

Each signature (the client's, the MFO's seal, any more) gets a stamp in its
own widget on the last page: the signer's name, IIN and/or BIN, the
certificate's serial, the signing time in Asia/Almaty, a role line and a QR
code with the document's verification URL.

The signing engine plugs it into pyHanko's ``PdfSigner`` as a stamp style::

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
import re
import zlib
from dataclasses import dataclass
from typing import Literal

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStamp, BaseStampStyle

from ca.errors import InvalidInput, Problem
from signing.stamps.font import font_reference, plain_name, stamp_font
from signing.pades.placement import STAMP_HEIGHT, STAMP_WIDTH
from signing.stamps.layout import StampGeometry, compose

STAMP_CONTENT_KEY = "qoltanba"

# A longer URL makes a denser symbol: at 120 characters (version 7, level M)
# a module is still ~1.2 pt, ~3 pixels at 200 dpi.
MAX_URL_LENGTH = 120

_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_URL = re.compile(r"https?://[!-~]+")


@dataclass(frozen=True)
class StampContent:
    """What one signature's stamp shows. Validated when built (raises InvalidInput listing every problem).

    ``serial`` is the signer certificate's serial number (shown in hex);
    ``signed_at`` an aware datetime (shown in Asia/Almaty); ``role`` free
    text such as "Client" or "MFO seal"; ``verify_url`` what the QR code
    holds. At least one of ``iin`` (an individual) and ``bin`` (a legal
    entity) is given, each 12 digits.
    """

    signer_name: str
    serial: int
    signed_at: dt.datetime
    role: str
    verify_url: str
    iin: str | None = None
    bin: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.signer_name, str) or not self.signer_name.strip():
            problems.append(Problem("signer_name", "must not be empty"))
        if not isinstance(self.serial, int) or isinstance(self.serial, bool) or self.serial <= 0:
            problems.append(Problem("serial", "must be a positive integer (RFC 5280 §4.1.2.2)"))
        if not isinstance(self.signed_at, dt.datetime) or self.signed_at.utcoffset() is None:
            problems.append(Problem("signed_at", "must be a datetime with a time zone"))
        if not isinstance(self.role, str) or not self.role.strip():
            problems.append(Problem("role", "must not be empty"))
        if not isinstance(self.verify_url, str) or not _URL.fullmatch(self.verify_url):
            problems.append(Problem("verify_url", "must be an http(s) URL of printable ASCII without spaces"))
        elif len(self.verify_url) > MAX_URL_LENGTH:
            problems.append(Problem("verify_url", f"must be at most {MAX_URL_LENGTH} characters"))
        for name in ("iin", "bin"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and _TWELVE_DIGITS.fullmatch(value)):
                problems.append(Problem(name, "must be 12 digits"))
        if self.iin is None and self.bin is None:
            problems.append(Problem("iin", "an IIN or a BIN is required"))
        if problems:
            raise InvalidInput("invalid signature stamp content", problems)


def stamp_text_params(content: StampContent) -> dict:
    """The ``appearance_text_params`` that carry ``content`` to :class:`QoltanbaStampStyle`."""
    return {STAMP_CONTENT_KEY: content}


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


__all__ = [
    "MAX_URL_LENGTH",
    "STAMP_CONTENT_KEY",
    "QoltanbaStamp",
    "QoltanbaStampStyle",
    "StampContent",
    "stamp_text_params",
]
