"""Hostile PDFs: each attacks the parser one way (issue 6 robustness).

Built by hand as bytes, with a correct cross-reference table where the
attack is not the table itself, so the parser gets as far as the trap.
"""

from __future__ import annotations

import zlib


def assemble(objects: dict[int, bytes], root: int = 1, extra_trailer: bytes = b"") -> bytes:
    """A classic PDF with ``objects`` (number -> body) and an exact xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += (b"%010d 00000 n \n" % offsets[number]) if number in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, extra_trailer, xref)
    return bytes(out)


_PAGE = {2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
         3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"}


def page_tree_loop() -> bytes:
    """A page whose /Kids contain its own parent: the tree is a cycle."""
    return assemble({1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>",
                     2: b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", 3: _PAGE[3],
                     4: b"<< /Fields [5 0 R] >>", 5: b"<< /FT /Sig /Kids [5 0 R] /T (loop) >>"})


def reference_loop() -> bytes:
    """Object 4 is a reference to object 5, which is a reference to object 4."""
    return assemble({1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>", **_PAGE,
                     4: b"5 0 R", 5: b"4 0 R"})


def deeply_nested(depth: int = 50_000) -> bytes:
    return assemble({1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields " + b"[" * depth + b"]" * depth
                     + b" >> >>", **_PAGE})


def huge_array(items: int = 1_500_000) -> bytes:
    """One array of a million and a half numbers: big, but under the size limit."""
    return assemble({1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [" + b"0 " * items + b"] >> >>",
                     **_PAGE})


def zeros_deflated(mebibytes: int) -> bytes:
    """A zlib stream of ``mebibytes`` MiB of zeros, made in milliseconds instead of compressed for seconds.

    After a full flush the compressor starts afresh, so every further MiB of
    zeros deflates to the same bytes; the Adler-32 of n zeros is
    ``(n mod 65521) << 16 | 1``.
    """
    mib = 1024 * 1024
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(bytes(mib)) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(bytes(mib)) + compressor.flush(zlib.Z_FULL_FLUSH)
    adler = ((mebibytes * mib % 65521) << 16) | 1
    return b"\x78\xda" + first + again * (mebibytes - 1) + compressor.flush() + adler.to_bytes(4, "big")


def decompression_bomb(megabytes: int = 2048) -> bytes:
    """The AcroForm lives in an object stream of ~2 GiB of zeros packed into ~2 MB.

    An xref stream names object 6 as the first object of stream 5, so
    reading the form means inflating the stream.
    """
    packed = zeros_deflated(megabytes)
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>", **_PAGE,
               5: b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed)
               + packed + b"\nendstream"}
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    offsets[7] = len(out)
    rows = [(0, 0, 65535)] + [(1, offsets[n], 0) if n in offsets else (0, 0, 0) for n in range(1, 6)]
    rows += [(2, 5, 0), (1, offsets[7], 0)]
    table = b"".join(bytes([kind]) + a.to_bytes(4, "big") + b.to_bytes(2, "big") for kind, a, b in rows)
    out += (b"7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(table)
            + table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[7])
    return bytes(out)


def signature_with_garbage_contents() -> bytes:
    """A filled signature field whose /Contents is not CMS and whose /ByteRange points nowhere."""
    return assemble({1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>", **_PAGE,
                     4: b"<< /Fields [5 0 R] /SigFlags 3 >>",
                     5: b"<< /FT /Sig /T (Forged) /V 6 0 R >>",
                     6: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
                        b"/ByteRange [0 10 999999 10] /Contents <3082deadbeef> >>"})


HOSTILE = {
    "page-tree-loop": page_tree_loop,
    "reference-loop": reference_loop,
    "deeply-nested": deeply_nested,
    "huge-array": huge_array,
    "decompression-bomb": decompression_bomb,
    "garbage-signature": signature_with_garbage_contents,
}
