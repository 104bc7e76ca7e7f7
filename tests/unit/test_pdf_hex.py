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
