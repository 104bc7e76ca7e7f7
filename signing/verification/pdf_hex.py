"""Reading PDF hex strings in one pass instead of one byte at a time.

A signature's /Contents is a hex string of 16-64 KB. pyHanko's
``read_hex_string_from_stream`` reads it through ``read_non_whitespace``,
one ``stream.read(1)`` and a few comparisons per digit: about 40 ms for the
two signatures of a contract, most of the time a verification takes
(measured in ``benchmarks/verify.py``). :func:`read_hex_string` finds the
closing ``>`` with one search and decodes with ``binascii``.

It returns exactly what pyHanko's function returns. Anything unusual (a
comment inside the string, a character that is not a hex digit or PDF
whitespace, no ``>`` before the end) goes back to pyHanko's own reader from
the same position, so its errors and its stream position stay the
reference. A property test (tests/unit/test_pdf_hex.py) compares both on
random input.

The same goes for the tokens between: pyHanko reads every name (``/Type``)
and keyword or number through ``misc.read_until_delimiter``, one
``stream.read(1)`` per byte, about a tenth of a two-signature report.
:func:`read_until_delimiter` reads a chunk and finds the first delimiter
with one search; it leaves the stream where pyHanko's leaves it (on the
delimiter, or at the end), which the same property test holds it to.

Each name read is then decoded by pyHanko's ``_decode_name``, one
``BytesIO.write`` per byte to expand ``#xx`` escapes that almost no name
has: :func:`decode_name` decodes a name of plain characters (printable
ASCII, no ``#``, no delimiter) in one step and leaves any other name to
pyHanko, errors included (property-tested the same way).

Between tokens pyHanko skips whitespace with ``misc.read_non_whitespace``,
one ``stream.read(1)`` per byte again; a signed file's padded arrays and
dictionaries made it about a sixteenth of a report.
:func:`read_non_whitespace` finds the next byte that is not whitespace
with one search per chunk, hands a comment to pyHanko's
``skip_over_comments`` as pyHanko does, and leaves the stream exactly as
pyHanko's (property-tested); at the stream's end it asks pyHanko's, so an
error is raised by pyHanko, as the verifier expects of a parser's errors
(``context.raised_here`` takes one raised in signing/ for a bug of ours).
``install`` and ``uninstall`` put in and take out the four.
"""

from __future__ import annotations

import binascii
import os
import re
import threading

from pyhanko.pdf_utils import generic, misc

_WHITESPACE = b" \n\r\t\f\x00"   # pyhanko.pdf_utils.misc.PDF_WHITESPACE
_HEX = b"0123456789abcdefABCDEF"
_CHUNK = 64 * 1024
_original = generic.read_hex_string_from_stream
_original_until_delimiter = generic.read_until_delimiter
_original_non_whitespace = misc.read_non_whitespace
_NON_WHITESPACE = re.compile(b"[^" + re.escape(misc.PDF_WHITESPACE) + b"]")
_original_decode_name = generic._decode_name  # noqa: SLF001 - the function decode_name stands in for
# A name whose bytes pyHanko would copy one by one unchanged: printable ASCII, no "#" escape, no delimiter.
_PLAIN_NAME = re.compile(b"[^#\\x00-\\x20\\x7f-\\xff" + re.escape(misc.PDF_DELIMITERS) + b"]*")
_DELIMITER = re.compile(b"[" + re.escape(misc.PDF_WHITESPACE + misc.PDF_DELIMITERS) + b"]")
_TOKEN_CHUNK = 64
_lock = threading.Lock()


def read_hex_string(stream):  # noqa: ANN001, ANN201 - pyHanko's stream and string types
    start = stream.tell()
    stream.read(1)                      # "<"
    chunks = []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return _fallback(stream, start)
        end = chunk.find(b">")
        if end >= 0:
            chunks.append(chunk[:end])
            stream.seek(end + 1 - len(chunk), os.SEEK_CUR)
            break
        chunks.append(chunk)
    digits = b"".join(chunks).translate(None, _WHITESPACE)
    if digits.translate(None, _HEX):
        # A comment or a stray character: pyHanko decides what it means.
        return _fallback(stream, start)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def _fallback(stream, start: int):  # noqa: ANN001, ANN202
    stream.seek(start)
    return _original(stream)


def read_until_delimiter(stream) -> bytes:  # noqa: ANN001 - a binary stream
    """pyHanko's ``misc.read_until_delimiter`` in a few reads: the bytes before the next delimiter or whitespace.

    The stream is left on that delimiter (or at the end when there is none), as pyHanko's leaves it.
    """
    chunks = []
    while True:
        chunk = stream.read(_TOKEN_CHUNK)
        if not chunk:
            return b"".join(chunks)
        found = _DELIMITER.search(chunk)
        if found is not None:
            chunks.append(chunk[:found.start()])
            stream.seek(found.start() - len(chunk), os.SEEK_CUR)
            return b"".join(chunks)
        chunks.append(chunk)


def read_non_whitespace(stream, seek_back: bool = False, allow_eof: bool = False) -> bytes:  # noqa: ANN001
    """pyHanko's ``misc.read_non_whitespace``: the next byte that is neither whitespace nor in a comment.

    The stream is left after it (before it with ``seek_back``); at the end, b"" with ``allow_eof``, else
    pyHanko's ``PdfStreamError``.
    """
    while True:
        chunk = stream.read(_TOKEN_CHUNK)
        if not chunk:   # pyHanko's answers at the end (its error raised by pyHanko, not here: raised_here)
            return _original_non_whitespace(stream, seek_back=seek_back, allow_eof=allow_eof)
        found = _NON_WHITESPACE.search(chunk)
        if found is None:
            continue
        at = found.start()
        stream.seek(at + 1 - len(chunk), os.SEEK_CUR)   # just after the byte found, as one read(1) at a time
        token = chunk[at:at + 1]
        if token != b"%":
            break
        stream.seek(-1, os.SEEK_CUR)
        misc.skip_over_comments(stream)
    if seek_back:
        stream.seek(-1, os.SEEK_CUR)
    return token


def decode_name(name_bytes: bytes) -> generic.NameObject:
    """pyHanko's ``_decode_name``: the name object for the bytes after its "/", escapes expanded."""
    if _PLAIN_NAME.fullmatch(name_bytes) is None:
        return _original_decode_name(name_bytes)
    return generic.NameObject("/" + name_bytes.decode("ascii"))


def install() -> None:
    """Make pyHanko's object reader use :func:`read_hex_string` (idempotent, process-wide).

    ``generic.read_object`` looks the function up as a module global on
    every hex string, so replacing the global is enough.
    """
    with _lock:
        generic.read_hex_string_from_stream = read_hex_string
        generic.read_until_delimiter = read_until_delimiter
        generic._decode_name = decode_name  # noqa: SLF001
        generic.read_non_whitespace = misc.read_non_whitespace = read_non_whitespace


def uninstall() -> None:
    """Put pyHanko's own reader back (benchmarks measure stock pyHanko with it)."""
    with _lock:
        generic.read_hex_string_from_stream = _original
        generic.read_until_delimiter = _original_until_delimiter
        generic._decode_name = _original_decode_name  # noqa: SLF001
        generic.read_non_whitespace = misc.read_non_whitespace = _original_non_whitespace


__all__ = ["decode_name", "install", "read_hex_string", "read_non_whitespace", "read_until_delimiter", "uninstall"]
