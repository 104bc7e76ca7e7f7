"""Where a signature field goes on the last page: one box per visible signature (issue 4).

Each signature (the client's, the MFO's seal, any more) gets its own box on
the last page, so stamps never overlap: rows along the bottom margin, left to
right, then the row above. The stamp drawn in the box is ``signing.stamps``;
the field itself is made by ``signing.pades.pdf`` from a ``FieldPlan``.
"""

from __future__ import annotations

from pyhanko.pdf_utils.rw_common import PdfHandler
from pyhanko.sign.fields import SigFieldSpec

# Placement on the last page, in points (1/72 inch). Two stamps side by side
# fit an A4 or Letter page inside a 28 pt (~1 cm) margin; later signatures
# take the next row up.
STAMP_WIDTH = 262
STAMP_HEIGHT = 64
PAGE_MARGIN = 28
STAMP_GAP_X = 12
STAMP_GAP_Y = 8


def stamp_box(page_width: float, page_height: float, index: int) -> tuple[int, int, int, int]:
    """Where the ``index``-th signature's stamp goes (x1, y1, x2, y2), in page coordinates.

    Stamps fill rows along the bottom margin, left to right, then the row
    above: the client (0) bottom left, the MFO's seal (1) beside it on A4.
    The page is taken with its origin at the lower left and unrotated (the
    MediaBox's width and height). Raises ValueError when the page has no
    room for that many stamps.
    """
    if index < 0:
        raise ValueError("the stamp index counts from 0")
    usable_width = int(page_width) - 2 * PAGE_MARGIN
    usable_height = int(page_height) - 2 * PAGE_MARGIN
    width = min(STAMP_WIDTH, usable_width)
    if width < STAMP_HEIGHT * 2 or usable_height < STAMP_HEIGHT:
        raise ValueError(f"a {page_width}x{page_height} page is too small for a signature stamp")
    columns = max(1, (usable_width + STAMP_GAP_X) // (width + STAMP_GAP_X))
    rows = (usable_height + STAMP_GAP_Y) // (STAMP_HEIGHT + STAMP_GAP_Y)
    row, column = divmod(index, columns)
    if row >= rows:
        raise ValueError(f"the last page has room for {rows * columns} signature stamps, not {index + 1}")
    x1 = PAGE_MARGIN + column * (width + STAMP_GAP_X)
    y1 = PAGE_MARGIN + row * (STAMP_HEIGHT + STAMP_GAP_Y)
    return x1, y1, x1 + width, y1 + STAMP_HEIGHT


def field_spec(name: str, index: int, page_size: tuple[float, float]) -> SigFieldSpec:
    """A signature field on the last page in the ``index``-th stamp's place."""
    return SigFieldSpec(sig_field_name=name, on_page=-1, box=stamp_box(page_size[0], page_size[1], index))


def last_page_size(pdf: PdfHandler) -> tuple[float, float]:
    """Width and height of the last page's MediaBox (inherited ones included)."""
    page_ref = pdf.find_page_for_modification(-1)[0]
    page = page_ref.get_object()
    while "/MediaBox" not in page and "/Parent" in page:
        page = page["/Parent"]
    x1, y1, x2, y2 = (float(v) for v in page["/MediaBox"])
    return abs(x2 - x1), abs(y2 - y1)


__all__ = ["PAGE_MARGIN", "STAMP_GAP_X", "STAMP_GAP_Y", "STAMP_HEIGHT", "STAMP_WIDTH", "field_spec", "last_page_size",
           "stamp_box"]
