"""Make the signature stamp's font: a subset of DejaVu Sans Condensed.

Usage: python scripts/make_stamp_font.py [SOURCE.ttf]
(default /usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf, Debian's
fonts-dejavu-core). Needs fontTools (the ``dev`` extra); the service itself
does not: it reads the metrics written next to the font.

Writes signing/stamps/fonts/QolSans.ttf and signing/stamps/fonts/QolSans.json. The JSON
holds what the stamp needs to lay out text and describe the font in PDF
(glyph ids by code point, advance widths, vertical metrics), so the service
never parses the TrueType file. Run it again only to change the character
set; commit both files together (tests/unit/test_stamp_font.py checks that
they agree).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

DEFAULT_SOURCE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf")
OUT_DIR = Path(__file__).resolve().parents[1] / "signing" / "stamps" / "fonts"

# Names on stamps come from certificates (Cyrillic, with Kazakh letters) and
# sometimes from foreign passports (Latin with diacritics); Kazakh in Latin
# script (2021 alphabet) needs Ğ, İ, ı, Ñ, Ş, Ū from Latin Extended-A.
RANGES = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x017F),  # Latin Extended-A
    (0x0400, 0x045F),  # Cyrillic: Russian, Kazakh і, Ukrainian, Belarusian
    (0x2010, 0x2027),  # dashes, quotation marks, bullet, ellipsis
    (0x2030, 0x203A),  # per mille, single guillemets
)
# Letters of Kazakhstan's languages outside U+0400-045F: Kazakh ә ғ қ ң ө ұ ү һ,
# Tatar җ, Uzbek ҳ, Ukrainian ґ. The rest of the Cyrillic block (Abkhaz,
# Chuvash, old letters) would add a third to the font for names we never see.
CYRILLIC_EXTRA = (0x0490, 0x0491, 0x0492, 0x0493, 0x0496, 0x0497, 0x049A, 0x049B, 0x04A2, 0x04A3,
                  0x04AE, 0x04AF, 0x04B0, 0x04B1, 0x04B2, 0x04B3, 0x04BA, 0x04BB, 0x04D8, 0x04D9,
                  0x04E8, 0x04E9)
SINGLES = CYRILLIC_EXTRA + (0x20AC, 0x20B8, 0x2116, 0x2122, 0xFFFD)  # €, ₸ (tenge), №, ™, replacement character


def code_points(font: TTFont) -> list[int]:
    cmap = font.getBestCmap()
    wanted = [c for lo, hi in RANGES for c in range(lo, hi + 1)] + list(SINGLES)
    return [c for c in wanted if c in cmap]


def make(source: Path) -> None:
    font = TTFont(source, recalcTimestamp=False)
    options = subset.Options()
    options.hinting = False  # viewers rasterise 7-8 pt text without them; 2 KB less
    options.layout_features = []  # no shaping: text is drawn glyph by glyph
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM", "MATH"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7]  # keep the copyright and trademark notices
    options.notdef_outline = True
    options.glyph_names = False
    options.recalc_timestamp = False  # the same input gives the same bytes
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=code_points(font))
    subsetter.subset(font)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    ttf_path = OUT_DIR / "QolSans.ttf"
    font.save(ttf_path)
    data = ttf_path.read_bytes()

    font = TTFont(ttf_path)
    order = font.getGlyphOrder()
    gid = {name: i for i, name in enumerate(order)}
    hmtx = font["hmtx"]
    head = font["head"]
    metrics = {
        "source": f"{source.name} {font['head'].fontRevision:.2f}",
        "sha256": hashlib.sha256(data).hexdigest(),
        "postscript_name": font["name"].getDebugName(6),
        "units_per_em": head.unitsPerEm,
        "bbox": [head.xMin, head.yMin, head.xMax, head.yMax],
        "ascent": font["hhea"].ascent,
        "descent": font["hhea"].descent,
        "cap_height": font["glyf"][font.getBestCmap()[ord("H")]].yMax,
        "italic_angle": font["post"].italicAngle,
        "advance_widths": [hmtx[name][0] for name in order],
        "cmap": sorted([code, gid[name]] for code, name in font.getBestCmap().items()),
    }
    (OUT_DIR / "QolSans.json").write_text(json.dumps(metrics, separators=(",", ":")) + "\n")
    print(f"{ttf_path}: {len(data)} bytes, {len(order)} glyphs, {len(metrics['cmap'])} code points")


if __name__ == "__main__":
    make(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
