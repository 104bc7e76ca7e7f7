"""A cross-reference table repaired in place, for PDFs even pyHanko's lenient reader cannot open.

A classic cross-reference table (ISO 32000-1 §7.5.4) whose entries point
where no object begins (a file edited by hand, line endings converted, a
tool that counted wrong) is refused by pyHanko in either mode, while every
PDF reader rebuilds the table and shows the document. Refusing it would
call a sound signature unreadable; rebuilding it ourselves must not let a
bad signature pass.

So the repair is as narrow as it can be: qpdf (a system package; its
``--show-xref`` reports where it finds every object after its own
reconstruction) is asked, revision by revision (the file up to each
``%%EOF``), where the objects of that revision begin, and only the
ten-digit offsets of entries that miss their object are rewritten, in
place. The copy has the same length and every object at the same place; it
serves to locate the signature dictionaries, their revisions and what
changed after each, while every /ByteRange digest is taken over the file's
original bytes (``OriginalBytesSignature``): a changed byte in a signed
range is still a HASH_FAILURE. Cross-reference streams are compressed and
are left alone; a file whose damage is elsewhere stays unreadable.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from pyhanko.sign.general import byte_range_digest
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

log = logging.getLogger(__name__)

QPDF_SECONDS = 20
MAX_REPAIRS = 8           # revisions qpdf is asked about per file: a hostile file may have thousands
_EOF = re.compile(rb"%%EOF[ \t]*(?:\r\n|\r|\n)?")
_SUBSECTION = re.compile(rb"(\d+)[ \t]+(\d+)[ \t]*(?:\r\n|\r|\n)")
_ENTRY = re.compile(rb"(\d{10})[ \t](\d{5})[ \t]([nf])[ \t]?(?:\r\n|\r|\n)?")
_SHOWN = re.compile(rb"^(\d+)/(\d+): uncompressed; offset = (\d+)$", re.MULTILINE)


class OriginalBytesSignature(EmbeddedPdfSignature):
    """An embedded signature read from a repaired copy whose /ByteRange digests come from the original bytes."""

    def __init__(self, reader, sig_field, fq_name: str, original: bytes) -> None:  # noqa: ANN001
        super().__init__(reader, sig_field, fq_name)
        self._original = original

    def compute_digest(self, hash_algo: str | None = None) -> bytes:
        algorithm = hash_algo or self.external_md_algorithm
        if algorithm not in self.external_digests:
            _, self.external_digests[algorithm] = byte_range_digest(
                io.BytesIO(self._original), byte_range=self.byte_range, md_algorithm=algorithm)
        return self.external_digests[algorithm]


def _table_start(data: bytes, begin: int, end: int) -> int | None:
    """Where the classic table of the revision between ``begin`` and ``end`` begins (after its ``xref``)."""
    trailer_end = data.rfind(b"startxref", begin, end)
    if trailer_end < 0:
        return None
    keyword = data.rfind(b"xref", begin, trailer_end)
    while keyword > begin and data[keyword - 1:keyword] not in (b"\n", b"\r"):
        keyword = data.rfind(b"xref", begin, keyword)     # the "xref" inside "startxref" is not the keyword
    return keyword + 4 if keyword > begin else None


def _entries(data: bytes, start: int):  # noqa: ANN202 - yields (object number, generation, position of the offset)
    position = start
    while True:
        while data[position:position + 1] in (b" ", b"\r", b"\n", b"\t"):
            position += 1
        header = _SUBSECTION.match(data, position)
        if header is None or data[position:position + 7] == b"trailer":
            return
        first, count = int(header.group(1)), int(header.group(2))
        position = header.end()
        for number in range(first, first + count):
            entry = _ENTRY.match(data, position)
            if entry is None:
                return
            if entry.group(3) == b"n":
                yield number, int(entry.group(2)), entry.start(1), int(entry.group(1))
            position = entry.end()


def _where_qpdf_finds(prefix: bytes) -> dict[tuple[int, int], int]:
    with tempfile.TemporaryDirectory(prefix="qoltanba-repair-") as folder:
        path = Path(folder) / "revision.pdf"
        path.write_bytes(prefix)
        shown = subprocess.run([shutil.which("qpdf") or "qpdf", "--show-xref", str(path)], capture_output=True,
                               timeout=QPDF_SECONDS, check=False)
    return {(int(n), int(g)): int(o) for n, g, o in _SHOWN.findall(shown.stdout)}


def _begins(data: bytes, offset: int, number: int, generation: int) -> bool:
    return re.match(rb"\s*%d\s+%d\s+obj\b" % (number, generation), data[offset:offset + 48]) is not None


def repaired_copy(data: bytes) -> bytes | None:
    """``data`` with the classic cross-reference entries that miss their objects pointed at them; None: no repair."""
    if shutil.which("qpdf") is None:
        log.warning("qpdf is not installed: a PDF with a damaged cross-reference table cannot be repaired")
        return None
    copy, repaired, begin, asked = bytearray(data), False, 0, 0
    for eof in _EOF.finditer(data):
        start, begin = _table_start(data, begin, eof.start()), eof.end()
        if start is None:
            continue
        wrong = [(n, g, at) for n, g, at, offset in _entries(data, start) if not _begins(data, offset, n, g)]
        if not wrong:
            continue
        if asked == MAX_REPAIRS:
            return None
        asked += 1
        found = _where_qpdf_finds(data[:eof.end()])
        for number, generation, at in wrong:
            offset = found.get((number, generation))
            if offset is not None and offset < eof.start() and _begins(data, offset, number, generation):
                copy[at:at + 10] = b"%010d" % offset
                repaired = True
    return bytes(copy) if repaired else None


__all__ = ["OriginalBytesSignature", "repaired_copy"]
