"""Checks on a PDF before it is stored: what a signer can rely on later.

A document is refused when it cannot be signed as PAdES by incremental
update: over the size limit, not a PDF, encrypted (a signature over an
encrypted file binds to a password the signers do not share), or so
damaged that its cross-reference table or page tree cannot be read, or
without pages. pyHanko reads it in strict mode, the same reader that will
sign it, so what passes here is what the signing engine can open.
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import FormFillingError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm, enumerate_sig_fields

from ca.errors import Problem

PDF_HEADER = b"%PDF-"
# A page tree deeper or larger than this is an attack on the reader, not a contract.
_MAX_TREE_DEPTH = 64
_MAX_TREE_NODES = 100_000


def pdf_problems(pdf: bytes, *, max_bytes: int | None, field: str = "file") -> list[Problem]:
    """The reason this PDF cannot be taken, as a one-item list; empty when it can.

    ``max_bytes`` None: no size limit (later versions grow with signatures
    and validation data; only uploads are capped).
    """
    if not pdf:
        return [Problem(field, "is empty; send the PDF to be signed")]
    if max_bytes is not None and len(pdf) > max_bytes:
        return [Problem(field, f"is {len(pdf)} bytes, over the limit of {max_bytes} bytes")]
    # Strict readers (and PDF/A) want the header at the very start.
    if not pdf.startswith(PDF_HEADER):
        return [Problem(field, "is not a PDF: it does not begin with %PDF-")]
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        if reader.encrypted:
            return [Problem(field, "is encrypted (its trailer has /Encrypt); send it without a password "
                                   "or permission restrictions")]
        pages = count_pages(reader)
    except Exception as error:  # noqa: BLE001 - whatever the parser trips on, the file is damaged
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        return [Problem(field, f"is damaged: its cross-reference table or page tree cannot be read ({reason})")]
    if pages == 0:
        return [Problem(field, "has no pages")]
    return []


def count_pages(reader: PdfFileReader) -> int:
    """Walk the page tree from the root, resolving every node; raises on a broken tree.

    The /Count entry is not trusted: resolving each node is what proves
    the cross-reference table points at real objects.
    """
    root = reader.root
    stack: list[tuple[generic.PdfObject, int]] = [(root.raw_get("/Pages"), 0)]
    seen: set[tuple[int, int]] = set()
    pages = nodes = 0
    while stack:
        entry, depth = stack.pop()
        nodes += 1
        if depth > _MAX_TREE_DEPTH or nodes > _MAX_TREE_NODES:
            raise ValueError("the page tree is too deep or too large")
        if isinstance(entry, generic.IndirectObject):
            key = (entry.idnum, entry.generation)
            if key in seen:
                raise ValueError("the page tree refers to a node twice")
            seen.add(key)
        node = entry.get_object()
        if not isinstance(node, generic.DictionaryObject):
            raise ValueError("a page tree node is not a dictionary")
        node_type = node.get("/Type")
        if node_type == "/Pages":
            kids = node["/Kids"]
            if not isinstance(kids, generic.ArrayObject):
                raise ValueError("/Kids of a page tree node is not an array")
            stack.extend((kid, depth + 1) for kid in kids)
        elif node_type == "/Page":
            pages += 1
        else:
            raise ValueError(f"a page tree node has /Type {node_type}")
    return pages


def signature_fields(pdf: bytes) -> list[str]:
    """Fully qualified names of the signature fields, signed or empty, in form order."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return [name for name, _value, _ref in enumerate_sig_fields(reader)]


def field_taken(pdf: bytes, name: str) -> bool:
    """True when any form field, of whatever type, already has this name.

    A new signature field must not reuse a name: pyHanko would sign into an
    empty field of that name, or stop at one of another type.
    """
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    try:
        return any(True for _ in enumerate_sig_fields(reader, with_name=name))
    except FormFillingError:  # the name belongs to a field of another type
        return True


def locked_by(pdf: bytes) -> str | None:
    """The signature field whose signature forbids any later change, if one does.

    A certification with DocMDP /P 1, or a signature field /Lock with /P 1
    (ISO 32000-2 §12.8.2.2, what ``--lock`` and the MFO's seal write): a
    signature added after it breaks that signature, so none may be added.
    """
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    for signature in reader.embedded_regular_signatures:
        if signature.docmdp_level is MDPPerm.NO_CHANGES:
            return signature.field_name
    return None
