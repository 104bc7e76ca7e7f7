"""The stamp's font: a DejaVu Sans Condensed subset as a composite PDF font.

The 14 standard PDF fonts cannot show Cyrillic, so the stamp embeds a
TrueType subset (signing/stamps/fonts/QolSans.ttf, made by
scripts/make_stamp_font.py) as a Type0 font with Identity-H encoding: each
character is written as its 2-byte glyph id (ISO 32000-1 §9.7.4.2, CIDs are
glyph ids through /CIDToGIDMap /Identity), and a ToUnicode CMap maps the
glyph ids back to text so that copying and `pdftotext` give the signer's
name (§9.10.3).

pyHanko's own GlyphAccumulator subsets the font with fontTools on every
write; here everything that does not depend on the document (the compressed
font program, the ToUnicode CMap, the widths, the glyph code of each
character) is prepared once per process, and a document gets the font once:
the first stamp registers it in the form's default resources
(/AcroForm /DR /Font /QolSans) and later stamps reuse that object.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import BasePdfFileWriter

# Stamps name the font /QolSans_<tag> in their resources and in
# /AcroForm /DR /Font, where <tag> is the subset tag of /BaseFont (below).
FONT_RESOURCE_PREFIX = "/QolSans_"

_ELLIPSIS = "\u2026"
_REPLACEMENT = "\ufffd"

_PLAIN_NAME = re.compile(r"/[A-Za-z0-9+_.\-]+")


class _PlainName(generic.NameObject):
    # pyHanko writes a name byte by byte, checking each for escaping: ~3 µs
    # a name, and the stamp writes about fifty whose characters all are
    # regular (ISO 32000-1 §7.3.5) and need none.
    def write_to_stream(self, stream, handler=None, container_ref=None) -> None:
        stream.write(self.encode("ascii"))


@functools.cache
def plain_name(value: str) -> generic.NameObject:
    """A NameObject for ``value`` (letters, digits, ``+ _ . -`` only), written in one call."""
    if not _PLAIN_NAME.fullmatch(value):
        raise ValueError(f"{value!r} needs escaping; use pyhanko's pdf_name")
    return _PlainName(value)


@dataclass(frozen=True, eq=False)
class StampFont:
    """The font's metrics and the document-independent bytes of its PDF objects."""

    base_font: str  # e.g. "HAUOIM+DejaVuSansCondensed"
    resource_name: str  # e.g. "/QolSans_HAUOIM"
    widths: tuple[int, ...]  # advance width of each glyph id, in 1/1000 em
    width_array: bytes  # the CIDFont's /W array, serialised
    codes: Mapping[str, str]  # character -> its glyph id as 4 hex digits
    char_widths: Mapping[str, int]  # character -> advance width, in 1/1000 em
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]
    italic_angle: float
    font_file: bytes  # the TrueType program, Flate-compressed
    font_file_length: int
    to_unicode: bytes  # the ToUnicode CMap, Flate-compressed

    def show(self, text: str) -> bytes:
        """The hex string operand of ``Tj`` that shows ``text`` (unknown characters as U+FFFD)."""
        codes = self.codes
        fallback = codes[_REPLACEMENT]
        return ("<" + "".join([codes.get(c, fallback) for c in text]) + ">").encode("ascii")

    def width(self, text: str, size: float) -> float:
        """Advance width of ``text`` at ``size`` points (no kerning: the stamp does not kern)."""
        widths = self.char_widths
        fallback = widths[_REPLACEMENT]
        return sum([widths.get(c, fallback) for c in text]) * size / 1000

    def fit(self, text: str, size: float, max_width: float) -> str:
        """``text`` as it is, or cut short with an ellipsis so that it is at most ``max_width`` wide."""
        if self.width(text, size) <= max_width:
            return text
        budget = max_width * 1000 / size - self.char_widths[_ELLIPSIS]
        widths = self.char_widths
        fallback = widths[_REPLACEMENT]
        used = 0
        for i, c in enumerate(text):
            used += widths.get(c, fallback)
            if used > budget:
                return text[:i].rstrip() + _ELLIPSIS
        return text  # pragma: no cover - the whole text fitted after all


@functools.cache
def stamp_font() -> StampFont:
    """The bundled font, loaded and prepared once per process."""
    folder = resources.files("signing.stamps") / "fonts"
    program = (folder / "QolSans.ttf").read_bytes()
    metrics = json.loads((folder / "QolSans.json").read_text())
    digest = hashlib.sha256(program).digest()
    if digest.hex() != metrics["sha256"]:
        raise RuntimeError("signing/stamps/fonts/QolSans.json does not describe QolSans.ttf; "
                           "rerun scripts/make_stamp_font.py")
    # A subset's PostScript name starts with six capital letters (ISO 32000-1
    # §9.6.4); deriving them from the program's hash means a different subset
    # never passes for this one when a document's font is reused.
    tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
    units = metrics["units_per_em"]

    def scaled(value: float) -> int:
        return round(value * 1000 / units)

    widths = tuple(scaled(w) for w in metrics["advance_widths"])
    codes: dict[str, str] = {}
    char_widths: dict[str, int] = {}
    unicode_of: dict[int, int] = {}
    for code_point, glyph in metrics["cmap"]:
        char = chr(code_point)
        codes[char] = f"{glyph:04X}"
        char_widths[char] = widths[glyph]
        unicode_of.setdefault(glyph, code_point)  # the cmap is sorted: the lowest code point wins
    return StampFont(
        base_font=f"{tag}+{metrics['postscript_name']}", resource_name=FONT_RESOURCE_PREFIX + tag, widths=widths,
        width_array=b"[0 [" + b" ".join(b"%d" % w for w in widths) + b"]]", codes=codes, char_widths=char_widths,
        ascent=scaled(metrics["ascent"]), descent=scaled(metrics["descent"]),
        cap_height=scaled(metrics["cap_height"]), bbox=tuple(scaled(v) for v in metrics["bbox"]),
        italic_angle=metrics["italic_angle"], font_file=zlib.compress(program, 9),
        font_file_length=len(program), to_unicode=zlib.compress(_to_unicode_cmap(unicode_of), 9),
    )


def _to_unicode_cmap(unicode_of: Mapping[int, int]) -> bytes:
    # The standard form of a ToUnicode CMap (Adobe TN 5411); bfchar blocks
    # hold at most 100 entries.
    pairs = sorted(unicode_of.items())
    blocks = []
    for start in range(0, len(pairs), 100):
        chunk = pairs[start:start + 100]
        lines = "\n".join(f"<{glyph:04X}> <{code:04X}>" for glyph, code in chunk)
        blocks.append(f"{len(chunk)} beginbfchar\n{lines}\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def font_reference(writer: BasePdfFileWriter) -> generic.IndirectObject:
    """The stamp font's Type0 object in this document, embedding it on first use.

    The font is looked up in, and on first use registered in, the form's
    default resources under ``StampFont.resource_name``. Changing /AcroForm
    /DR is form filling in pyHanko's difference analysis (and in Acrobat's),
    so it never invalidates an earlier signature. The name carries the subset
    tag, which is derived from the font program's hash: a document stamped
    with another version of the font gets this one embedded beside it.
    """
    font = stamp_font()
    acroform = _resolved(writer.root, "/AcroForm")
    if not isinstance(acroform, generic.DictionaryObject):
        return _embed(writer, font)  # a document without a form: nowhere to share the font
    dr = _resolved(acroform, "/DR")
    fonts = _resolved(dr, "/Font") if isinstance(dr, generic.DictionaryObject) else None
    if isinstance(fonts, generic.DictionaryObject) and font.resource_name in fonts:
        existing = fonts.raw_get(font.resource_name)
        # Reuse is decided on the name alone: reading the font's objects to
        # compare them with ours would cost more than the whole stamp may
        # (pyHanko parses ~0.15 ms per object). docs/DECISIONS.md says why
        # the name is enough.
        if isinstance(existing, generic.IndirectObject):
            return existing
        return _embed(writer, font)  # something odd under our name: leave it alone
    ref = _embed(writer, font)
    if not isinstance(dr, generic.DictionaryObject):
        acroform[plain_name("/DR")] = dr = generic.DictionaryObject()
        writer.update_container(acroform)
    if not isinstance(fonts, generic.DictionaryObject):
        dr[plain_name("/Font")] = fonts = generic.DictionaryObject()
        writer.update_container(dr)
    fonts[plain_name(font.resource_name)] = ref
    writer.update_container(fonts)
    return ref


def _resolved(dictionary: generic.DictionaryObject, key: str) -> generic.PdfObject | None:
    # pyHanko's DictionaryObject dereferences in [] but not in .get().
    return dictionary[key] if key in dictionary else None


class _Serialised(generic.PdfObject):
    """A direct object written as bytes prepared once per process.

    pyHanko writes a 500-number array one NumberObject at a time (~0.1 ms);
    numbers need no encryption, so the bytes are the same in every document.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data

    def write_to_stream(self, stream, handler=None, container_ref=None) -> None:
        stream.write(self.data)


def _embed(writer: BasePdfFileWriter, font: StampFont) -> generic.IndirectObject:
    flate = plain_name("/FlateDecode")
    base_font = plain_name("/" + font.base_font)
    program = writer.add_object(generic.StreamObject(
        {plain_name("/Length1"): generic.NumberObject(font.font_file_length), plain_name("/Filter"): flate},
        encoded_data=font.font_file))
    descriptor = writer.add_object(generic.DictionaryObject({
        plain_name("/Type"): plain_name("/FontDescriptor"),
        plain_name("/FontName"): base_font,
        plain_name("/Flags"): generic.NumberObject(32),  # nonsymbolic (§9.8.2)
        plain_name("/FontBBox"): generic.ArrayObject([generic.NumberObject(v) for v in font.bbox]),
        plain_name("/ItalicAngle"): generic.FloatObject(font.italic_angle),
        plain_name("/Ascent"): generic.NumberObject(font.ascent),
        plain_name("/Descent"): generic.NumberObject(font.descent),
        plain_name("/CapHeight"): generic.NumberObject(font.cap_height),
        plain_name("/StemV"): generic.NumberObject(80),
        plain_name("/FontFile2"): program,
    }))
    widths = _Serialised(font.width_array)
    cid_font = writer.add_object(generic.DictionaryObject({
        plain_name("/Type"): plain_name("/Font"),
        plain_name("/Subtype"): plain_name("/CIDFontType2"),
        plain_name("/BaseFont"): base_font,
        plain_name("/CIDSystemInfo"): generic.DictionaryObject({
            plain_name("/Registry"): generic.TextStringObject("Adobe"),
            plain_name("/Ordering"): generic.TextStringObject("Identity"),
            plain_name("/Supplement"): generic.NumberObject(0),
        }),
        plain_name("/FontDescriptor"): descriptor,
        plain_name("/W"): widths,
        plain_name("/CIDToGIDMap"): plain_name("/Identity"),
    }))
    to_unicode = writer.add_object(generic.StreamObject({plain_name("/Filter"): flate}, encoded_data=font.to_unicode))
    return writer.add_object(generic.DictionaryObject({
        plain_name("/Type"): plain_name("/Font"),
        plain_name("/Subtype"): plain_name("/Type0"),
        plain_name("/BaseFont"): base_font,
        plain_name("/Encoding"): plain_name("/Identity-H"),
        plain_name("/DescendantFonts"): generic.ArrayObject([cid_font]),
        plain_name("/ToUnicode"): to_unicode,
    }))


__all__ = ["FONT_RESOURCE_PREFIX", "StampFont", "font_reference", "plain_name", "stamp_font"]
