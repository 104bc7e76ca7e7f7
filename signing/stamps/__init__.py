"""The visible signature stamp: what it shows, where it goes, how it is drawn (issue 4).

One door for the stamp: the content and pyHanko stamp style (``stamp``), the
planner that gives each signature its field and stamp (``planner``), and the
drawing underneath: the layout as one content stream (``layout``), the QR
code (``qr``) and the embedded font (``font``, its files in ``fonts/``).
Where the stamp's box goes on the page is ``signing.pades.placement``,
re-exported here.

May import: ``signing.pades`` (a stamp is planned as a PAdES field) and
nothing else of ``signing``.
"""

from signing.pades.placement import PAGE_MARGIN, STAMP_HEIGHT, STAMP_WIDTH, field_spec, last_page_size, stamp_box
from signing.stamps.planner import StampPlanner, display_name, holder_numbers
from signing.stamps.stamp import (
    MAX_URL_LENGTH,
    STAMP_CONTENT_KEY,
    QoltanbaStamp,
    QoltanbaStampStyle,
    StampContent,
    stamp_text_params,
)

__all__ = ["MAX_URL_LENGTH", "PAGE_MARGIN", "STAMP_CONTENT_KEY", "STAMP_HEIGHT", "STAMP_WIDTH", "QoltanbaStamp", "QoltanbaStampStyle", "StampContent",
           "StampPlanner", "display_name", "field_spec", "holder_numbers", "last_page_size", "stamp_box",
           "stamp_text_params"]
