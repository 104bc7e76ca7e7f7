"""The few DER encoders the fast paths need (X.690 §8 and §10).

Certificates, CRLs, OCSP responses and CMS are built by hand where speed
matters; these helpers keep the length and integer rules in one place.
"""

from __future__ import annotations

from functools import lru_cache


def header(tag: int, length: int) -> bytes:
    """Identifier and definite length octets (short form below 128)."""
    if length < 0x80:
        return bytes((tag, length))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(octets))) + octets


def tlv(tag: int, content: bytes) -> bytes:
    return header(tag, len(content)) + content


def sequence(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def der_set(*parts: bytes) -> bytes:
    """A SET OF in DER: its elements sorted by their encodings (X.690 §11.6)."""
    return tlv(0x31, b"".join(sorted(parts)))


def integer(value: int) -> bytes:
    # Two's complement, minimal length: a positive value whose top bit is set
    # gets a leading zero octet.
    length = value.bit_length() // 8 + 1 if value >= 0 else (value + 1).bit_length() // 8 + 1
    return tlv(0x02, value.to_bytes(length, "big", signed=True))


def octet_string(value: bytes) -> bytes:
    return tlv(0x04, value)


@lru_cache(maxsize=256)
def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return tlv(0x06, bytes(body))


def read_tlv(buf: bytes, pos: int = 0) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the element at ``pos``.

    Raises ValueError on a truncated element or an indefinite length, which
    DER forbids.
    """
    if pos + 2 > len(buf):
        raise ValueError("truncated DER element")
    tag, first = buf[pos], buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 8 or pos + count > len(buf):
            raise ValueError("bad DER length")
        length = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    if pos + length > len(buf):
        raise ValueError("truncated DER element")
    return tag, pos, pos + length
