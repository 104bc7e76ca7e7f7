"""The stamp's drawing: one content stream composed as bytes.

Layout inside the widget (all of it within the rectangle, so nothing is
clipped): an opaque white background, a thin border drawn inside the edge,
the QR code square on one side with its quiet zone, and five text lines
beside it, vertically centred. Lines that are too wide shrink down to a
minimum size and are then cut with an ellipsis; the name keeps its size and
is only cut.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from signing.stamps.content import StampContent
from signing.stamps.font import stamp_font
from signing.stamps.qr import qr_drawing

# Kazakhstan has had one time zone, UTC+5, since 1 March 2024; the tz
# database's Asia/Almaty carries that change and the older UTC+6 for
# signatures made before it.
ALMATY = ZoneInfo("Asia/Almaty")

_LINE_PITCH = 1.3  # line distance as a multiple of the font size
_BASELINE = 1.02  # baseline below a line's top, in font sizes: DejaVu's ascent is 0.93 em
_PADDING = 2.0  # between the border and the text
_TEXT_GREY = 0.1
# The name is drawn a little bolder by also stroking its outlines (text
# render mode 2, ISO 32000-1 §9.3.6), which needs no second font.
_NAME_STROKE = 0.25


@dataclass(frozen=True)
class StampGeometry:
    width: float
    height: float
    border_width: float
    border_color: tuple[float, float, float] | None
    font_size: float
    name_font_size: float
    min_font_size: float
    qr_left: bool = True
    qr_mask: int | None = None


def format_signing_time(at: dt.datetime, zone: str = "Asia/Almaty") -> str:
    """``2026-11-21 15:04:05 (Asia/Almaty, UTC+5)``: the time in Almaty with the offset then in force
    (``zone``: how the place is named, 'Алматы' on a Kazakh or Russian stamp)."""
    local = at.astimezone(ALMATY)
    minutes = int(local.utcoffset().total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    offset = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{local:%Y-%m-%d %H:%M:%S} ({zone}, {offset})"


def format_serial(serial: int) -> str:
    """Upper-case hex with an even number of digits, as certificate viewers show serials."""
    digits = f"{serial:X}"
    return digits if len(digits) % 2 == 0 else "0" + digits


def stamp_lines(content: StampContent) -> list[str]:
    """The text lines, top to bottom."""
    words = content.labels
    identifiers = []
    if content.iin is not None:
        identifiers.append(f"{words.iin} {content.iin}")
    if content.bin is not None:
        identifiers.append(f"{words.bin} {content.bin}")
    return [
        _clean(content.signer_name),
        "  ".join(identifiers),
        f"{words.serial} {format_serial(content.serial)}",
        format_signing_time(content.signed_at, words.zone),
        _clean(content.role),
    ]


def _clean(text: str) -> str:
    # NFC so that a decomposed "й" or "ә" shows as the one glyph the font
    # has; control characters and line breaks become spaces.
    text = unicodedata.normalize("NFC", text)
    return " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c for c in text).split())


def compose(content: StampContent, g: StampGeometry) -> bytes:
    """The stamp's content stream for a ``g.width`` x ``g.height`` form XObject."""
    font = stamp_font()
    w, h, bw = g.width, g.height, g.border_width
    out = [b"q 1 g 0 0 %.2f %.2f re f" % (w, h)]
    if bw > 0:
        color = g.border_color or (0.0, 0.0, 0.0)
        out.append(b"%.3f %.3f %.3f RG %.2f w %.3f %.3f %.3f %.3f re S" % (
            *color, bw, bw / 2, bw / 2, w - bw, h - bw))

    side = max(h - 2 * bw, 0.0)  # the QR square: its quiet zone keeps the modules off the border
    qr_x = bw if g.qr_left else w - bw - side
    out.append(qr_drawing(content.verify_url, qr_x, bw, side, g.qr_mask))
    text_left = (qr_x + side + 1) if g.qr_left else (bw + _PADDING)
    text_right = (w - bw - _PADDING) if g.qr_left else (qr_x - 1)
    text_width = max(text_right - text_left, 0.0)

    lines = stamp_lines(content)
    sizes = [g.name_font_size] + [g.font_size] * (len(lines) - 1)
    room = h - 2 * (bw + _PADDING)
    needed = sum(sizes) * _LINE_PITCH
    if needed > room:  # a short widget: scale the whole block down
        sizes = [s * room / needed for s in sizes]
        needed = room
    top = h / 2 + needed / 2

    resource = font.resource_name.encode("ascii")
    out.append(b"BT %.1f g %.1f G 2 Tr %.2f w" % (_TEXT_GREY, _TEXT_GREY, _NAME_STROKE))
    for i, (text, size) in enumerate(zip(lines, sizes)):
        if i == 0:
            text = font.fit(text, size, text_width - _NAME_STROKE)
        else:
            size, text = _shrink_to_fit(text, size, max(g.min_font_size, 0.1), text_width)
        baseline = top - size * _BASELINE
        top -= sizes[i] * _LINE_PITCH
        out.append(b"%s %.2f Tf 1 0 0 1 %.2f %.2f Tm %s Tj" % (
            resource, size, text_left, baseline, font.show(text)))
        if i == 0:
            out.append(b"0 Tr")
    out.append(b"ET Q")
    return b"\n".join(out)


def _shrink_to_fit(text: str, size: float, min_size: float, max_width: float) -> tuple[float, str]:
    font = stamp_font()
    width = font.width(text, size)
    if width <= max_width:
        return size, text
    smaller = max(size * max_width / width * 0.999, min(min_size, size))
    return smaller, font.fit(text, smaller, max_width)


__all__ = ["ALMATY", "StampGeometry", "compose", "format_serial", "format_signing_time", "stamp_lines"]
