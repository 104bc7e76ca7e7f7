"""Files a strict parser refuses but PDF readers open, signed the way tolerant tools sign them (issue 14, item 4).

- ``hybrid``: a hybrid-reference revision (ISO 32000-1 §7.5.8.4): a classic
  cross-reference section whose trailer's /XRefStm points at a
  cross-reference stream listing an object the table does not (what MS Word
  writes for readers of PDF 1.4 and 1.5 alike);
- ``shrinking_size``: an incremental update whose section declares a smaller
  /Size than the section before it (sections out of order by size: the
  first overstated it; pyHanko's strict reader refuses the order);
- ``wrong_offsets``: a classic table whose offsets all point a few bytes
  past their objects. Neither of pyHanko's readers opens it, so a signature
  (and the LT data after it) is added the way a tolerant tool adds it: a
  writer that read a sound copy of the same length appends its revision to
  the damaged bytes, and signs those (``sign_over_damage``, ``lt_over_damage``).
"""

from __future__ import annotations

import datetime as dt
import io
import re

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation.dss import DocumentSecurityStore

from tests.support.corpus_pki import CorpusPki, Holder


def _startxref(pdf: bytes) -> int:
    return int(pdf[pdf.rindex(b"startxref"):].split()[1])


def _root(pdf: bytes) -> bytes:
    return re.findall(rb"/Root (\d+ \d+ R)", pdf)[-1]


def hybrid(pdf: bytes) -> bytes:
    """A revision whose table lists the xref stream and whose stream (/XRefStm) lists a new object."""
    size = int(re.findall(rb"/Size (\d+)", pdf)[-1])
    stream_no, note_no = size, size + 1
    body = bytearray(pdf)
    note_at = len(body)
    body += b"%d 0 obj\n<< /Producer (hybrid writer) >>\nendobj\n" % note_no
    data = bytes([1]) + note_at.to_bytes(4, "big") + bytes(2)
    stream_at = len(body)
    body += (b"%d 0 obj\n<< /Type /XRef /Size %d /Index [%d 1] /W [1 4 2] /Length %d >>\nstream\n"
             % (stream_no, note_no + 1, note_no, len(data)) + data + b"\nendstream\nendobj\n")
    table_at = len(body)
    body += b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (stream_no, stream_at)
    body += (b"trailer\n<< /Size %d /Root %s /Prev %d /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n"
             % (note_no + 1, _root(pdf), _startxref(pdf), stream_at, table_at))
    return bytes(body)


def shrinking_size(pdf: bytes) -> bytes:
    """The base section's /Size overstated (99), then an update whose section declares the true, smaller /Size."""
    size = int(re.findall(rb"/Size (\d+)", pdf)[-1])
    body = bytearray(pdf[:pdf.rindex(b"/Size")] + pdf[pdf.rindex(b"/Size"):].replace(b"/Size %d" % size, b"/Size 99", 1))
    at = len(body)
    body += b"%d 0 obj\n<< /Producer (a tool that recounts the objects) >>\nendobj\n" % size
    table_at = len(body)
    body += b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (size, at)
    body += (b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
             % (size + 1, _root(pdf), _startxref(pdf), table_at))
    return bytes(body)


def wrong_offsets(pdf: bytes, shift: int = 3) -> bytes:
    """Every in-use entry of the last classic table ``shift`` bytes too far; the file's length unchanged."""
    at = pdf.rindex(b"\nxref")
    return pdf[:at] + re.sub(rb"(\d{10}) (\d{5}) n", lambda m: b"%010d %s n" % (int(m.group(1)) + shift, m.group(2)),
                             pdf[at:])


def _over(sound: bytes, damaged: bytes, change) -> bytes:  # noqa: ANN001 - callable(writer) -> bytes
    """``change`` made by a writer that read ``sound``, written after ``damaged`` (the same length)."""
    assert len(sound) == len(damaged)
    writer = IncrementalPdfFileWriter(io.BytesIO(sound))
    writer.input_stream = io.BytesIO(damaged)   # what is copied (and signed) is the damaged file
    return change(writer)


def sign_over_damage(sound: bytes, damaged: bytes, pki: CorpusPki, holder: Holder, at: dt.datetime) -> bytes:
    meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=SigSeedSubFilter.PADES)
    pdf_signer = signers.PdfSigner(meta, signer=pki.simple_signer(holder), timestamper=pki.timestamper(at),
                                   new_field_spec=fields.SigFieldSpec("Signature1", box=None))
    return _over(sound, damaged, lambda writer: pdf_signer.sign_pdf(writer).getvalue())


def lt_over_damage(sound: bytes, damaged: bytes, pki: CorpusPki, at: dt.datetime) -> bytes:
    def change(writer) -> bytes:  # noqa: ANN001
        DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=pki.certificates(), crls=pki.crls(at))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    return _over(sound, damaged, change)


__all__ = ["hybrid", "lt_over_damage", "shrinking_size", "sign_over_damage", "wrong_offsets"]
