"""The fast hex-string reader returns exactly what pyHanko's returns, stream position included."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from signing.verification import pdf_hex

_ALPHABET = b"0123456789abcdefABCDEF \n\r\t\f\x00<>%()gZ\\"


def _outcome(reader, data: bytes):
    stream = io.BytesIO(data)
    try:
        value = reader(stream)
    except Exception as error:  # noqa: BLE001 - the comparison is the test
        return "error", type(error).__name__, stream.tell()
    return "value", type(value).__name__, bytes(value.original_bytes), stream.tell()


@settings(max_examples=1000, deadline=None)
@given(body=st.binary(max_size=40).map(lambda b: bytes(_ALPHABET[x % len(_ALPHABET)] for x in b)),
       tail=st.sampled_from([b"", b">", b"> /Type /Sig", b">>"]))
def test_fast_hex_reader_agrees_with_pyhankos_on_any_input(body: bytes, tail: bytes) -> None:
    data = b"<" + body + tail
    assert _outcome(pdf_hex.read_hex_string, data) == _outcome(pdf_hex._original, data)  # noqa: SLF001


def test_fast_hex_reader_reads_a_signature_sized_string_and_stops_after_it() -> None:
    payload = bytes(range(256)) * 128
    stream = io.BytesIO(b"<" + payload.hex().encode() + b"> rest")
    assert bytes(pdf_hex.read_hex_string(stream).original_bytes) == payload
    assert stream.read() == b" rest"


# -- names, keywords and numbers: the token reader (verification rate, issue 14) ------------------------------

_TOKEN_ALPHABET = b"azAZ09.-+#_ \n\r\t\f\x00()<>[]{}/%"


def _token_outcome(reader, data: bytes, start: int):
    stream = io.BytesIO(data)
    stream.seek(start)
    return reader(stream), stream.tell()


@settings(max_examples=1000, deadline=None)
@given(data=st.binary(max_size=200).map(lambda b: bytes(_TOKEN_ALPHABET[x % len(_TOKEN_ALPHABET)] for x in b)),
       start=st.integers(min_value=0, max_value=200))
def test_fast_token_reader_agrees_with_pyhankos_on_any_input(data: bytes, start: int) -> None:
    """Same bytes, same stream position after (on the delimiter, or at the end), for tokens of any length."""
    start = min(start, len(data))
    assert (_token_outcome(pdf_hex.read_until_delimiter, data, start)
            == _token_outcome(pdf_hex._original_until_delimiter, data, start))  # noqa: SLF001


def test_installed_readers_are_pyhankos_after_uninstall() -> None:
    from pyhanko.pdf_utils import generic

    pdf_hex.install()
    assert generic.read_until_delimiter is pdf_hex.read_until_delimiter
    pdf_hex.uninstall()
    try:
        assert generic.read_until_delimiter is pdf_hex._original_until_delimiter  # noqa: SLF001
        assert generic.read_hex_string_from_stream is pdf_hex._original  # noqa: SLF001
    finally:
        pdf_hex.install()
