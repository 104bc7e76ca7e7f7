"""Signed PDFs of the verification corpus, each revision written by hand with pyHanko (issue 14, items 1 and 4).

The document: one A4 page of text in Helvetica, an AcroForm text field
"Amount" with its widget on the page, and a square annotation with its own
appearance (the overlay a "hide" shadow attack removes). Signing, LT data
(CRLs into the DSS), document time-stamps, form filling, annotations and
the attacks are incremental updates on top, at the dates the tests choose.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.validation.dss import DocumentSecurityStore

from tests.support.corpus_pki import CorpusPki, Holder

TEXT = b"BT /F1 12 Tf 72 770 Td (Microcredit contract MK-2026/777: 250 000 KZT, 180 days) Tj ET"
FORGED = b"BT /F1 12 Tf 72 770 Td (Microcredit contract MK-2026/777: 950 000 KZT, 720 days) Tj ET"
_A4 = generic.ArrayObject([generic.NumberObject(x) for x in (0, 0, 595, 842)])


def _rect(*box: int) -> generic.ArrayObject:
    return generic.ArrayObject([generic.NumberObject(x) for x in box])


def _appearance(writer, data: bytes, box=(0, 0, 200, 20)) -> generic.IndirectObject:  # noqa: ANN001
    return writer.add_object(generic.StreamObject({
        pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"), pdf_name("/BBox"): _rect(*box),
    }, stream_data=data))


def base_pdf() -> bytes:
    """The unsigned document: text, a fillable field, an overlay annotation."""
    writer = PdfFileWriter(stream_xrefs=False)
    font = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica")}))
    content = writer.add_object(generic.StreamObject(stream_data=TEXT))
    page = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Page"), pdf_name("/MediaBox"): _A4, pdf_name("/Contents"): content,
        pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
            {pdf_name("/F1"): font})})})
    writer.insert_page(page)
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    field = writer.add_object(generic.DictionaryObject({
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): generic.pdf_string("Amount"),
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/Rect"): _rect(72, 700, 272, 720), pdf_name("/P"): page_ref, pdf_name("/F"): generic.NumberObject(4),
        pdf_name("/DA"): generic.pdf_string("/Helv 10 Tf 0 g"),
        pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): _appearance(writer, b"")})}))
    overlay = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Square"),
        pdf_name("/Rect"): _rect(72, 600, 272, 650), pdf_name("/F"): generic.NumberObject(4), pdf_name("/P"): page_ref,
        pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): _appearance(
            writer, b"1 1 1 rg 0 0 200 50 re f", (0, 0, 200, 50))})}))
    page_obj = page_ref.get_object()
    page_obj[pdf_name("/Annots")] = generic.ArrayObject([field, overlay])
    writer.root[pdf_name("/AcroForm")] = writer.add_object(generic.DictionaryObject({
        pdf_name("/Fields"): generic.ArrayObject([field])}))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sign(pdf: bytes, pki: CorpusPki, holder: Holder, at: dt.datetime, *, field: str = "Signature1",
         md: str = "sha256", certify: MDPPerm | None = None, timestamp: bool = True,
         subfilter: SigSeedSubFilter = SigSeedSubFilter.PADES, signer: signers.Signer | None = None) -> bytes:
    """An incremental signature, time-stamped at ``at`` by the corpus TSA unless ``timestamp`` is False."""
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm=md, subfilter=subfilter,
                                        certify=certify is not None,
                                        docmdp_permissions=certify or MDPPerm.FILL_FORMS)
    pdf_signer = signers.PdfSigner(meta, signer=signer or pki.simple_signer(holder),
                                   timestamper=pki.timestamper(at) if timestamp else None,
                                   new_field_spec=fields.SigFieldSpec(field, box=None))
    out = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)))
    return out.getvalue()


def with_lt_data(pdf: bytes, pki: CorpusPki, at: dt.datetime, extra_certs=(), *,  # noqa: ANN001
                 strict: bool = True) -> bytes:
    """The PKI's certificates and CRLs issued at ``at`` added to the DSS (PAdES B-LT)."""
    out = io.BytesIO(pdf)
    DocumentSecurityStore.add_dss(out, None, certs=pki.certificates() + list(extra_certs), crls=pki.crls(at),
                                  force_write=True, strict=strict)
    return out.getvalue()


def doc_timestamp(pdf: bytes, pki: CorpusPki, at: dt.datetime, field: str | None = None) -> bytes:
    """A document time-stamp (PAdES B-LTA archive time-stamp) at ``at``."""
    stamper = signers.PdfTimeStamper(pki.timestamper(at), field_name=field)
    out = stamper.timestamp_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), "sha256")
    return out.getvalue()


def _update(pdf: bytes, change) -> bytes:  # noqa: ANN001 - callable(writer)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _page(writer):  # noqa: ANN001, ANN202
    return writer.root["/Pages"]["/Kids"].raw_get(0)


def _annotation(writer, subtype: str):  # noqa: ANN001, ANN202
    for ref in _page(writer).get_object()["/Annots"]:
        if ref.get_object().get("/Subtype") == subtype and "/FT" not in ref.get_object():
            return ref
    return next(r for r in _page(writer).get_object()["/Annots"] if "/FT" in r.get_object())


def fill_field(pdf: bytes, value: str = "250000") -> bytes:
    """Form filling: the "Amount" field gets a value and a new appearance stream (a new object)."""
    def change(writer) -> None:  # noqa: ANN001
        ref = _annotation(writer, "/Widget")
        widget = ref.get_object()
        widget[pdf_name("/V")] = generic.pdf_string(value)
        widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): _appearance(
            writer, b"BT /Helv 10 Tf 2 6 Td (" + value.encode() + b") Tj ET")})
        writer.update_container(widget)
    return _update(pdf, change)


def add_comment(pdf: bytes) -> bytes:
    """An annotation added: a sticky note (/Text) appended to the page's /Annots."""
    def change(writer) -> None:  # noqa: ANN001
        page = _page(writer).get_object()
        note = writer.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Text"),
            pdf_name("/Rect"): _rect(400, 700, 420, 720), pdf_name("/Contents"): generic.pdf_string("Checked"),
            pdf_name("/P"): writer.root["/Pages"]["/Kids"].raw_get(0)}))
        page["/Annots"].append(note)
        writer.update_container(page["/Annots"]) if isinstance(page.raw_get("/Annots"), generic.IndirectObject) \
            else writer.update_container(page)
    return _update(pdf, change)


def shadow_replace(pdf: bytes) -> bytes:
    """Shadow "replace" (Mainka et al., NDSS 2021): the page's content stream object overwritten in a new revision."""
    def change(writer) -> None:  # noqa: ANN001
        ref = _page(writer).get_object().raw_get("/Contents")
        writer.objects[(ref.generation, ref.idnum)] = generic.StreamObject(stream_data=FORGED)
    return _update(pdf, change)


def shadow_replace_page_contents(pdf: bytes) -> bytes:
    """Shadow "replace" through the page: /Contents pointed at a new stream (the page dictionary updated)."""
    def change(writer) -> None:  # noqa: ANN001
        page = _page(writer).get_object()
        page[pdf_name("/Contents")] = writer.add_object(generic.StreamObject(stream_data=FORGED))
        writer.update_container(page)
    return _update(pdf, change)


def shadow_replace_font(pdf: bytes) -> bytes:
    """Shadow "hide-and-replace" through resources: the font the text is drawn with replaced in a new revision."""
    def change(writer) -> None:  # noqa: ANN001
        font_ref = _page(writer).get_object()["/Resources"]["/Font"].raw_get("/F1")
        writer.objects[(font_ref.generation, font_ref.idnum)] = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/Symbol")})
    return _update(pdf, change)


def shadow_hide(pdf: bytes) -> bytes:
    """Shadow "hide": the overlay annotation's appearance replaced by an empty one, revealing what lay beneath."""
    def change(writer) -> None:  # noqa: ANN001
        overlay = _annotation(writer, "/Square").get_object()
        ap_ref = overlay["/AP"].raw_get("/N")
        writer.objects[(ap_ref.generation, ap_ref.idnum)] = generic.StreamObject({
            pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): _rect(0, 0, 200, 50)}, stream_data=b"")
    return _update(pdf, change)


def incremental_saving_attack(pdf: bytes) -> bytes:
    """ISA variant 2 (Mladenov et al., CCS 2019): new objects appended after the signed revision with no xref or trailer."""
    reader_offset = pdf.index(b"/Contents", pdf.rindex(b"/Type /Page"))
    number = int(pdf[reader_offset:].split(b"/Contents", 1)[1].split()[0])
    return pdf + b"\n%d 0 obj\n<< /Length %d >>\nstream\n" % (number, len(FORGED)) + FORGED + \
        b"\nendstream\nendobj\n"


def signature_wrapping_attack(pdf: bytes) -> bytes:
    """SWA (Mladenov et al., CCS 2019): an object smuggled into the unsigned gap after a shortened /Contents."""
    start = pdf.rindex(b"/Contents <") + len(b"/Contents <")
    end = pdf.index(b">", start)
    hex_digits = pdf[start:end].rstrip(b"0")
    hex_digits += b"0" * (len(hex_digits) % 2)
    smuggled = b"> 99 0 obj (forged) endobj <"
    room = end - start - len(hex_digits) - len(smuggled)
    if room < 0:
        raise ValueError("no room in the signature's gap")
    return pdf[:start] + hex_digits + smuggled + b"0" * room + pdf[end:]


def run(coroutine):  # noqa: ANN001, ANN201
    return asyncio.run(coroutine)


__all__ = ["FORGED", "TEXT", "add_comment", "base_pdf", "doc_timestamp", "fill_field", "incremental_saving_attack",
           "shadow_hide", "shadow_replace", "shadow_replace_font", "shadow_replace_page_contents", "sign",
           "signature_wrapping_attack", "with_lt_data"]


def with_wrong_startxref(pdf: bytes, shift: int = 2) -> bytes:
    """The last startxref points ``shift`` bytes too far: every reader recovers, a strict one refuses."""
    at = pdf.rindex(b"startxref")
    head, tail = pdf[:at], pdf[at:]
    number = int(tail.split()[1])
    return head + tail.replace(b"%d" % number, b"%d" % (number + shift), 1)


def sign_lenient(pdf: bytes, pki: CorpusPki, holder: Holder, at: dt.datetime, field: str = "Signature1") -> bytes:
    """A signature added to a damaged file the way tolerant tools do it (pyHanko's non-strict reader)."""
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=SigSeedSubFilter.PADES)
    pdf_signer = signers.PdfSigner(meta, signer=pki.simple_signer(holder), timestamper=pki.timestamper(at))
    return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)).getvalue()
