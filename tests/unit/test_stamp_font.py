"""The bundled stamp font: its metrics file agrees with the program, and it is embedded once per document."""

from __future__ import annotations

import io
import json
import zlib
from importlib import resources

from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.stamps.font import FONT_RESOURCE_PREFIX, font_reference, stamp_font
from tests.support.stamp_pdfs import contract_pdf

FONTS = resources.files("signing.stamps") / "fonts"


def test_metrics_file_describes_the_bundled_font_program() -> None:
    program = (FONTS / "QolSans.ttf").read_bytes()
    metrics = json.loads((FONTS / "QolSans.json").read_text())
    font = TTFont(io.BytesIO(program))
    order = font.getGlyphOrder()
    assert metrics["advance_widths"] == [font["hmtx"][name][0] for name in order]
    assert dict(map(tuple, metrics["cmap"])) == {code: order.index(name) for code, name in
                                                 font.getBestCmap().items()}
    assert metrics["units_per_em"] == font["head"].unitsPerEm


def test_font_keeps_its_copyright_notice_and_license_file() -> None:
    font = TTFont(io.BytesIO((FONTS / "QolSans.ttf").read_bytes()))
    assert "Bitstream" in str(font["name"].getName(0, 3, 1, 0x409))
    assert "Arev Fonts Copyright" in (FONTS / "LICENSE-DejaVu.txt").read_text()


def test_to_unicode_maps_glyphs_back_to_the_characters() -> None:
    font = stamp_font()
    cmap = zlib.decompress(font.to_unicode).decode()
    for char in "ТӘІқ1A…":
        assert f"<{font.codes[char]}> <{ord(char):04X}>" in cmap


def test_subset_tag_names_the_font_in_resources_and_base_font() -> None:
    font = stamp_font()
    tag, _, name = font.base_font.partition("+")
    assert len(tag) == 6 and tag.isupper() and name == "DejaVuSansCondensed"
    assert font.resource_name == FONT_RESOURCE_PREFIX + tag


def _with_form(pdf: bytes) -> IncrementalPdfFileWriter:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root[pdf_name("/AcroForm")] = writer.add_object(
        generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()}))
    writer.update_root()
    return writer


def test_font_is_registered_in_the_form_resources_and_reused_from_there() -> None:
    font = stamp_font()
    writer = _with_form(contract_pdf())
    first = font_reference(writer)
    assert font_reference(writer) == first  # the same writer: registered at once
    out = io.BytesIO()
    writer.write(out)

    later = IncrementalPdfFileWriter(io.BytesIO(out.getvalue()))
    assert font_reference(later).idnum == first.idnum
    registered = PdfFileReader(io.BytesIO(out.getvalue())).root["/AcroForm"]["/DR"]["/Font"]
    type0 = registered[font.resource_name]
    assert type0["/BaseFont"] == "/" + font.base_font
    assert type0["/Encoding"] == "/Identity-H"


def test_a_foreign_object_under_our_name_is_left_alone() -> None:
    font = stamp_font()
    writer = _with_form(contract_pdf())
    form = writer.root["/AcroForm"]
    form[pdf_name("/DR")] = generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
        {pdf_name(font.resource_name): generic.NullObject()})})
    ref = font_reference(writer)
    assert isinstance(form["/DR"]["/Font"].raw_get(font.resource_name), generic.NullObject)
    assert ref.get_object()["/Subtype"] == "/Type0"


def test_a_document_without_a_form_gets_the_font_without_a_form() -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(contract_pdf()))
    ref = font_reference(writer)
    assert ref.get_object()["/BaseFont"] == "/" + stamp_font().base_font
    assert "/AcroForm" not in writer.root


def test_font_joins_existing_form_resources_and_keeps_theirs() -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(contract_pdf()))
    helv = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica")}))
    fonts = writer.add_object(generic.DictionaryObject({pdf_name("/Helv"): helv}))
    resources_ref = writer.add_object(generic.DictionaryObject({pdf_name("/Font"): fonts}))
    writer.root[pdf_name("/AcroForm")] = writer.add_object(generic.DictionaryObject({
        pdf_name("/Fields"): generic.ArrayObject(), pdf_name("/DR"): resources_ref}))
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)

    later = IncrementalPdfFileWriter(io.BytesIO(out.getvalue()))
    ref = font_reference(later)
    out2 = io.BytesIO()
    later.write(out2)
    registered = PdfFileReader(io.BytesIO(out2.getvalue())).root["/AcroForm"]["/DR"]["/Font"]
    assert registered["/Helv"]["/BaseFont"] == "/Helvetica"
    assert registered.raw_get(stamp_font().resource_name).idnum == ref.idnum
