"""The stamp's QR code, drawn as vector rectangles.

The symbol comes from zxing-cpp's encoder (C++, ~0.25 ms for a verification
URL; segno, pure Python, needs 2-8 ms and the stamp's budget is 1 ms). It is
drawn as one path of filled rectangles, one per horizontal run of dark
modules, in a coordinate system where a module is one unit: the path stays
sharp at any zoom or print resolution, and filling it with a single ``f``
leaves no hairline seams between neighbouring rows.
"""

from __future__ import annotations

import re

import zxingcpp

# ISO/IEC 18004 wants a quiet zone of four light modules around the symbol.
QUIET_ZONE = 4

# Level M (15 % of the symbol may be lost) is the usual choice for print:
# a verification URL of ~70 characters stays at version 5 (37 modules).
_EC_LEVEL = "M"

_DARK_RUN = re.compile("\x00+")


def qr_modules(data: str, mask: int | None = None) -> tuple[int, bytes]:
    """The symbol for ``data``: its size n and n*n bytes, row by row from the top, 0 for a dark module.

    ``mask`` None lets the encoder pick the data mask with the lowest
    penalty, as ISO/IEC 18004 (data masking) asks; that search is ~0.2 ms of the
    ~0.25 ms. A fixed mask (0-7) still gives a symbol every reader decodes,
    only without the guard against unlucky patterns.
    """
    options = {} if mask is None else {"data_mask": mask}
    barcode = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level=_EC_LEVEL, **options)
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    size = image.shape[0]
    return size, bytes(memoryview(image))


def qr_drawing(data: str, x: float, y: float, side: float, mask: int | None = None) -> bytes:
    """Content-stream operators drawing the symbol with its quiet zone in the square (x, y, side).

    The caller paints the square's background light; this draws the dark modules only.
    """
    size, modules = qr_modules(data, mask)
    module = side / (size + 2 * QUIET_ZONE)
    origin_x = x + QUIET_ZONE * module
    origin_y = y + QUIET_ZONE * module
    # Text and str formatting: about twice as fast as bytes here (~350
    # rectangles for a verification URL), and this loop is most of the stamp's cost.
    text = modules.decode("latin-1")
    parts = [f"q 0 g {module:.4f} 0 0 {module:.4f} {origin_x:.3f} {origin_y:.3f} cm"]
    append = parts.append
    for row in range(size):
        y_row = f" {size - 1 - row} "  # the symbol's first row is at the top
        start = row * size
        for run in _DARK_RUN.finditer(text, start, start + size):
            begin, end = run.span()
            append(f"{begin - start}{y_row}{end - begin} 1 re")
    append("f Q")
    return "\n".join(parts).encode("ascii")


__all__ = ["QUIET_ZONE", "qr_drawing", "qr_modules"]
