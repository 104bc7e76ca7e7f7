"""The signature stamp: placement, content rules, and what the drawing holds."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re

import pytest
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from ca.errors import InvalidInput
from signing.stamps import (
    PAGE_MARGIN, STAMP_CONTENT_KEY, QoltanbaStampStyle, StampContent, field_spec, last_page_size, stamp_box,
    stamp_text_params,
)
from signing.stamps.font import stamp_font
from signing.stamps.layout import StampGeometry, compose, format_serial, format_signing_time, stamp_lines
from signing.stamps.qr import QUIET_ZONE, qr_drawing, qr_modules
from tests.support.stamp_pdfs import contract_pdf

A4 = (595, 842)
LETTER = (612, 792)
A5 = (420, 595)
URL = "https://qoltanba.example.kz/verify/3f2b8c1e-9a7d-4e5f-8b6a-1c2d3e4f5a6b"
SIGNED_AT = dt.datetime(2026, 11, 21, 10, 4, 5, tzinfo=dt.timezone.utc)


def content(**overrides: object) -> StampContent:
    values: dict = dict(signer_name="ТЕСТОВ ТЕСТ ТЕСТОВИЧ", serial=0x7D1D3270BCE44AF7, signed_at=SIGNED_AT,
                        role="Client", verify_url=URL, iin="123456789012")
    values.update(overrides)
    return StampContent(**values)


def geometry(width: float = 262, height: float = 64) -> StampGeometry:
    style = QoltanbaStampStyle()
    return StampGeometry(width=width, height=height, border_width=style.border_width,
                         border_color=style.border_color, font_size=style.font_size,
                         name_font_size=style.name_font_size, min_font_size=style.min_font_size)


# --- placement ---------------------------------------------------------------


@pytest.mark.parametrize(("page", "count"), [(A4, 8), (LETTER, 8), (A5, 7)], ids=["A4", "Letter", "A5"])
def test_stamps_of_successive_signatures_do_not_overlap_and_stay_inside_the_page(page: tuple[int, int],
                                                                                 count: int) -> None:
    boxes = [stamp_box(*page, index) for index in range(count)]
    for x1, y1, x2, y2 in boxes:
        assert PAGE_MARGIN <= x1 < x2 <= page[0] - PAGE_MARGIN
        assert PAGE_MARGIN <= y1 < y2 <= page[1] - PAGE_MARGIN
    for a, b in itertools.combinations(boxes, 2):
        apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert apart, f"{a} overlaps {b}"


def test_client_and_seal_share_the_bottom_row_on_a4() -> None:
    client, seal, third = (stamp_box(*A4, i) for i in range(3))
    assert client[1] == seal[1] == PAGE_MARGIN
    assert client[0] < seal[0]
    assert third[1] > client[3]  # the third signature starts the next row up


def test_stamp_box_refuses_more_stamps_than_the_page_holds() -> None:
    with pytest.raises(ValueError, match="room for 7 signature stamps"):
        stamp_box(*A5, 7)  # one column of seven on A5
    with pytest.raises(ValueError, match="room for"):
        stamp_box(*A4, 100)
    with pytest.raises(ValueError):
        stamp_box(*A4, -1)


def test_field_spec_puts_the_field_on_the_last_page_in_the_stamp_box() -> None:
    spec = field_spec("Seal", 1, A4)
    assert spec.sig_field_name == "Seal"
    assert spec.on_page == -1
    assert spec.box == stamp_box(*A4, 1)


# --- content -----------------------------------------------------------------


def test_signing_time_must_carry_a_time_zone() -> None:
    with pytest.raises(InvalidInput) as raised:
        content(signed_at=dt.datetime(2026, 11, 21, 15, 4, 5))
    assert [p.field for p in raised.value.problems] == ["signed_at"]


@pytest.mark.parametrize("field", ["iin", "bin"])
@pytest.mark.parametrize("value", ["12345678901", "1234567890123", "12345678901a", "１２３４５６７８９０１２", ""])
def test_iin_and_bin_must_be_twelve_ascii_digits(field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        content(**{"iin": None, field: value})
    assert field in [p.field for p in raised.value.problems]


def test_an_iin_or_a_bin_is_required() -> None:
    with pytest.raises(InvalidInput):
        content(iin=None, bin=None)
    assert content(iin=None, bin="190340000017").bin == "190340000017"
    assert content(bin="190340000017").iin == "123456789012"


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(InvalidInput) as raised:
        StampContent(signer_name=" ", serial=0, signed_at=dt.datetime(2026, 1, 1), role="",
                     verify_url="javascript:alert(1)", iin="1")
    assert {p.field for p in raised.value.problems} == {"signer_name", "serial", "signed_at", "role",
                                                         "verify_url", "iin"}


def test_verification_url_must_be_a_short_http_url() -> None:
    with pytest.raises(InvalidInput):
        content(verify_url="https://host/verify/ with space")
    with pytest.raises(InvalidInput):
        content(verify_url="https://host/verify/" + "a" * 200)


def test_signing_time_is_shown_in_almaty_with_the_offset_then_in_force() -> None:
    assert format_signing_time(SIGNED_AT) == "2026-11-21 15:04:05 (Asia/Almaty, UTC+5)"
    # Before 1 March 2024 Almaty was at UTC+6.
    before = dt.datetime(2023, 11, 21, 10, 4, 5, tzinfo=dt.timezone.utc)
    assert format_signing_time(before) == "2023-11-21 16:04:05 (Asia/Almaty, UTC+6)"
    almaty_clock = dt.datetime(2026, 11, 21, 15, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    assert format_signing_time(almaty_clock) == "2026-11-21 15:04:05 (Asia/Almaty, UTC+5)"


def test_serial_is_upper_case_hex_in_whole_octets() -> None:
    assert format_serial(0xABC) == "0ABC"
    assert format_serial(0x7D1D3270BCE44AF7) == "7D1D3270BCE44AF7"


def test_lines_show_name_identifiers_serial_time_and_role() -> None:
    lines = stamp_lines(content(bin="190340000017", role="MFO\nseal"))
    assert lines == ["ТЕСТОВ ТЕСТ ТЕСТОВИЧ", "IIN 123456789012  BIN 190340000017", "Serial 7D1D3270BCE44AF7",
                     "2026-11-21 15:04:05 (Asia/Almaty, UTC+5)", "MFO seal"]


def test_decomposed_letters_are_composed_so_the_font_has_them() -> None:
    decomposed = "И\u0306ИГЕРІМ"  # Й as И + combining breve
    assert stamp_lines(content(signer_name=decomposed))[0] == "ЙИГЕРІМ"


# --- drawing -----------------------------------------------------------------


def _shown_lines(stream: bytes) -> list[tuple[float, float, float, str]]:
    """(size, x, y, text) of each Tj in a stamp's content stream, decoded through the ToUnicode data."""
    font = stamp_font()
    char_of = {code: char for char, code in sorted(font.codes.items(), reverse=True)}
    shown = []
    for size, x, y, hex_text in re.findall(rb"/QolSans_\w+ ([\d.]+) Tf 1 0 0 1 ([\d.]+) ([\d.]+) Tm <([0-9A-F]*)> Tj",
                                           stream):
        text = "".join(char_of[hex_text[i:i + 4].decode()] for i in range(0, len(hex_text), 4))
        shown.append((float(size), float(x), float(y), text))
    return shown


def test_long_name_is_cut_with_an_ellipsis_and_every_line_fits_the_box() -> None:
    name = "ӘБДІҚАДЫРОВА ГҮЛНҰР ӨТЕГЕНҚЫЗЫ ҺӘМ ҰЗАҚ ЕСІМ ТЕСТОВ ТЕСТ ТЕСТОВИЧ"
    stamp = content(signer_name=name, serial=(1 << 159) | 0xFFFF, bin="190340000017")
    g = geometry()
    shown = _shown_lines(compose(stamp, g))
    assert len(shown) == 5
    assert shown[0][3].endswith("…") and name.startswith(shown[0][3][:-1])
    font = stamp_font()
    for size, x, y, text in shown:
        assert size >= g.min_font_size
        assert x + font.width(text, size) <= g.width - g.border_width
        assert g.border_width < y < g.height - size
    assert shown[2][3] == "Serial " + format_serial(stamp.serial)  # shrunk, not cut


def test_kazakh_letters_are_drawn_with_their_own_glyphs() -> None:
    font = stamp_font()
    for letter in "ӘәҒғҚқҢңӨөҰұҮүҺһІі":
        assert letter in font.codes, letter
    assert "ӘБДІ" == _shown_lines(compose(content(signer_name="ӘБДІ"), geometry()))[0][3]


def test_qr_code_with_its_quiet_zone_stays_inside_its_square() -> None:
    size, modules = qr_modules(URL)
    assert len(modules) == size * size and size >= 21
    ops = qr_drawing(URL, 10, 20, 60).decode()
    scale, origin_x, origin_y = re.match(r"q 0 g ([\d.]+) 0 0 [\d.]+ ([\d.]+) ([\d.]+) cm", ops).groups()
    module = float(scale)
    assert module * (size + 2 * QUIET_ZONE) == pytest.approx(60, abs=0.01)
    assert float(origin_x) == pytest.approx(10 + QUIET_ZONE * module, abs=0.01)
    assert float(origin_y) == pytest.approx(20 + QUIET_ZONE * module, abs=0.01)
    dark = 0
    for x, y, w, h in re.findall(r"(\d+) (\d+) (\d+) (\d+) re", ops):
        assert 0 <= int(x) and int(x) + int(w) <= size and 0 <= int(y) < size and h == "1"
        dark += int(w)
    assert dark == modules.count(0)


def test_style_needs_the_content_under_its_key() -> None:
    writer = PdfFileWriter()
    box = BoxConstraints(width=262, height=64)
    with pytest.raises(TypeError, match=STAMP_CONTENT_KEY):
        QoltanbaStampStyle().create_stamp(writer, box, {"signer": "X"})
    stamp = QoltanbaStampStyle().create_stamp(writer, box, stamp_text_params(content()))
    assert stamp.content == content()


def test_qr_code_can_sit_on_the_right_with_the_text_left_of_it() -> None:
    g = StampGeometry(**{**geometry().__dict__, "qr_left": False})
    stream = compose(content(), g)
    module, origin_x = re.search(rb"q 0 g ([\d.]+) 0 0 [\d.]+ ([\d.]+) ", stream).groups()
    square_left = float(origin_x) - QUIET_ZONE * float(module)
    assert square_left > g.width / 2
    font = stamp_font()
    for size, x, _y, text in _shown_lines(stream):
        assert g.border_width < x and x + font.width(text, size) < square_left


def test_style_refuses_a_mask_that_qr_codes_do_not_have() -> None:
    with pytest.raises(ValueError):
        QoltanbaStampStyle(qr_mask=8)
    with pytest.raises(ValueError):
        QoltanbaStampStyle(min_font_size=9)
    fixed, best = qr_modules(URL, mask=3), qr_modules(URL)
    assert fixed[0] == best[0] and len(fixed[1]) == len(best[1])


def test_last_page_size_reads_the_media_box() -> None:
    assert last_page_size(PdfFileReader(io.BytesIO(contract_pdf(2, size=A5)))) == (420, 595)
