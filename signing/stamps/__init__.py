"""The visible signature stamp: what it shows, where it goes, how it is drawn (issue 4).

One door for the stamp (stamp.py and stamping.py were two doors to it): what
it shows (``content``), the planner that gives each signature its field and
stamp and the pyHanko style that draws it (``stamp``), and the drawing
underneath: the layout as one content stream (``layout``), the QR
code (``qr``) and the embedded font (``font``, its files in ``fonts/``).
Where the stamp's box goes on the page is ``signing.pades.placement``,
re-exported here.

May import: ``signing.pades`` (a stamp is planned as a PAdES field) and
nothing else of ``signing``.
"""

from signing.pades.placement import PAGE_MARGIN, STAMP_HEIGHT, STAMP_WIDTH, field_spec, last_page_size, stamp_box
from signing.stamps.content import MAX_URL_LENGTH, STAMP_CONTENT_KEY, StampContent, stamp_text_params
from signing.stamps.stamp import QoltanbaStamp, QoltanbaStampStyle, StampPlanner, display_name, holder_numbers

__all__ = ["MAX_URL_LENGTH", "PAGE_MARGIN", "STAMP_CONTENT_KEY", "STAMP_HEIGHT", "STAMP_WIDTH", "QoltanbaStamp",
           "QoltanbaStampStyle", "StampContent", "StampPlanner", "display_name", "field_spec", "holder_numbers",
           "last_page_size", "stamp_box", "stamp_text_params"]
