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
        assert generic._decode_name is pdf_hex._original_decode_name  # noqa: SLF001
        assert generic.read_non_whitespace is pdf_hex._original_non_whitespace  # noqa: SLF001
    finally:
        pdf_hex.install()
    assert generic._decode_name is pdf_hex.decode_name  # noqa: SLF001


# -- names: the decoding after the token reader (verification rate, issue 14) ----------------------------------

_NAME_ALPHABET = b"azAZ09.-+_#" + b"0123456789abcdefABCDEF" + b"()<>[]{}/% \x00\x7f\x80\xc3\xa9\xff!~"


def _name_outcome(decoder, data: bytes):
    try:
        name = decoder(data)
    except Exception as error:  # noqa: BLE001 - the comparison is the test
        return "error", type(error).__name__, str(error)
    return "name", type(name).__name__, str(name)


@settings(max_examples=2000, deadline=None)
@given(data=st.binary(max_size=24).map(lambda b: bytes(_NAME_ALPHABET[x % len(_NAME_ALPHABET)] for x in b)))
def test_fast_name_decoding_agrees_with_pyhankos_on_any_bytes(data: bytes) -> None:
    """The same NameObject, or the same error, for plain names, #xx escapes, delimiters and non-ASCII bytes."""
    assert _name_outcome(pdf_hex.decode_name, data) == _name_outcome(pdf_hex._original_decode_name, data)  # noqa: SLF001


def test_fast_name_decoding_takes_plain_names_itself_and_leaves_escapes_to_pyhanko() -> None:
    assert pdf_hex.decode_name(b"Type") == "/Type" and pdf_hex.decode_name(b"") == "/"
    assert pdf_hex.decode_name(b"A#20B") == "/A B"   # pyHanko's, through the fallback
    assert pdf_hex._PLAIN_NAME.fullmatch(b"A#20B") is None  # noqa: SLF001
    assert pdf_hex._PLAIN_NAME.fullmatch(b"ByteRange") is not None  # noqa: SLF001


# -- whitespace between tokens (verification rate, issue 14) -----------------------------------------------------

_SPACE_ALPHABET = b"      \n\r\t\f\x00%%ab<>[]/1\n"


def _space_outcome(reader, data: bytes, start: int, seek_back: bool, allow_eof: bool):
    stream = io.BytesIO(data)
    stream.seek(start)
    try:
        token = reader(stream, seek_back=seek_back, allow_eof=allow_eof)
    except Exception as error:  # noqa: BLE001 - the comparison is the test
        return "error", type(error).__name__, str(error), stream.tell()
    return "token", token, stream.tell()


@settings(max_examples=2000, deadline=None)
@given(data=st.binary(max_size=300).map(lambda b: bytes(_SPACE_ALPHABET[x % len(_SPACE_ALPHABET)] for x in b)),
       start=st.integers(min_value=0, max_value=300), seek_back=st.booleans(), allow_eof=st.booleans())
def test_fast_whitespace_skipping_agrees_with_pyhankos_on_any_input(data: bytes, start: int, seek_back: bool,
                                                                    allow_eof: bool) -> None:
    """Same byte, same position after (comments skipped, seek_back honoured), same end-of-stream answer."""
    start = min(start, len(data))
    assert (_space_outcome(pdf_hex.read_non_whitespace, data, start, seek_back, allow_eof)
            == _space_outcome(pdf_hex._original_non_whitespace, data, start, seek_back, allow_eof))  # noqa: SLF001


def test_fast_whitespace_skipping_crosses_chunks_and_is_installed_where_pyhanko_looks() -> None:
    from pyhanko.pdf_utils import generic, misc

    pdf_hex.install()
    stream = io.BytesIO(b" " * 1000 + b"\n% a comment\n  x rest")
    assert pdf_hex.read_non_whitespace(stream) == b"x" and stream.read() == b" rest"
    assert generic.read_non_whitespace is misc.read_non_whitespace is pdf_hex.read_non_whitespace


def test_fast_whitespace_skipping_leaves_the_end_of_stream_error_to_pyhanko() -> None:
    """The verifier takes an error raised in signing/ for a bug of ours (context.raised_here): pyHanko raises it."""
    import pytest
    from pyhanko.pdf_utils import misc

    from signing.verification.context import raised_here

    with pytest.raises(misc.PdfStreamError) as caught:
        pdf_hex.read_non_whitespace(io.BytesIO(b" \n\t  "))
    assert not raised_here(caught.value)
