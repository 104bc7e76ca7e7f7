"""The tuple walk builds exactly pyHanko's map from objects to the paths that reach them (verification rate, issue 14).

``refpaths.load_reverse_xref_cache`` stands in for pyHanko's
``HistoricalResolver._load_reverse_xref_cache`` in the difference analysis;
for every revision of every file here both are run on a fresh reader and
must give the same cache, or fail with the same error.
"""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.verification import refpaths
from tests.support.hostile_pdfs import assemble, deeply_nested, page_tree_loop, reference_loop


def _outcome(walk, pdf: bytes, revision: int):  # noqa: ANN001
    resolver = PdfFileReader(io.BytesIO(pdf), strict=False).get_historical_resolver(revision)
    try:
        walk(resolver)
    except Exception as error:  # noqa: BLE001 - the comparison is the test
        return "error", type(error).__name__
    return "cache", resolver._indirect_object_access_cache  # noqa: SLF001


def _agree(pdf: bytes) -> int:
    """Both walks agree on every revision; the number of references mapped in the last one."""
    revisions = PdfFileReader(io.BytesIO(pdf), strict=False).xrefs.total_revisions
    outcome = None
    for revision in range(revisions):
        ours = _outcome(refpaths.load_reverse_xref_cache, pdf, revision)
        outcome = _outcome(refpaths._original, pdf, revision)  # noqa: SLF001
        assert ours == outcome, revision
    return len(outcome[1]) if outcome and outcome[0] == "cache" else -1


# Two pages in a nested page tree, a link from page 1 to page 2 (the tree must be entered only from its root),
# /Parent everywhere, a form field and its widget, a structure tree with a lone /K child, a content item,
# /P back-references and a /ParentTree, and an object reachable along two paths.
LINKED = {
    1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [8 0 R] >> /StructTreeRoot 10 0 R "
       b"/Names << /Shared 7 0 R >> /Extra [7 0 R 7 0 R] >>",
    2: b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [6 0 R 8 0 R] /StructParents 0 >>",
    4: b"<< /Type /Pages /Parent 2 0 R /Kids [5 0 R] /Count 1 >>",
    5: b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 7 0 R >> >> >>",
    6: b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /Dest [5 0 R /Fit] /P 3 0 R >>",
    7: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    8: b"<< /FT /Tx /T (name) /Type /Annot /Subtype /Widget /P 3 0 R /Rect [0 0 1 1] /Kids [9 0 R] >>",
    9: b"<< /Parent 8 0 R /T (kid) /V (x) >>",
    10: b"<< /Type /StructTreeRoot /K 11 0 R /ParentTree << /Nums [0 [12 0 R]] >> >>",
    11: b"<< /Type /StructElem /S /Document /P 10 0 R /K [12 0 R 13 0 R] >>",
    12: b"<< /S /P /P 11 0 R /Pg 3 0 R /K [0 << /Type /MCR /MCID 1 >>] >>",
    13: b"<< /Type /StructElem /S /Figure /P 11 0 R /K 7 0 R /Obj 6 0 R >>",
}


def _with_revision(pdf: bytes) -> bytes:
    """An incremental update that changes one object and adds another, as a signature's revision does."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    added = writer.add_object(generic.DictionaryObject({generic.NameObject("/Note"): generic.TextStringObject("x")}))
    writer.root[generic.NameObject("/Added")] = added
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_walks_agree_on_pages_links_forms_and_the_structure_tree_in_every_revision() -> None:
    pdf = assemble(LINKED)
    assert _agree(pdf) == 13   # every object, the catalog included
    assert _agree(_with_revision(pdf)) == 15   # and the added object, and the /Info pyHanko writes


def test_the_walks_agree_on_loops_and_fail_alike_on_depth() -> None:
    for pdf in (page_tree_loop(), reference_loop()):
        _agree(pdf)
    _agree(deeply_nested(5000))   # pyHanko's recursion gives up there; ours in the same way


_KEYS = ("/Parent", "/P", "/K", "/Kids", "/Type", "/A", "/B", "/StructTreeRoot")


@st.composite
def _graphs(draw) -> bytes:  # noqa: ANN001
    """A catalog and a one-page tree, then objects 4.. of random dictionaries and arrays referring to each other."""
    count = draw(st.integers(4, 12))
    value = st.one_of(st.integers(4, count).map(lambda n: b"%d 0 R" % n), st.just(b"1"), st.just(b"/Name"))
    objects = {2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] /Annots [4 0 R] >>"}
    for number in range(4, count + 1):
        if draw(st.booleans()):
            entries = draw(st.dictionaries(st.sampled_from(_KEYS), value, max_size=4))
            objects[number] = b"<< " + b" ".join(k.encode() + b" " + v for k, v in entries.items()) + b" >>"
        else:
            objects[number] = b"[" + b" ".join(draw(st.lists(value, max_size=4))) + b"]"
    extra = draw(st.lists(st.tuples(st.sampled_from(_KEYS), st.integers(2, count)), max_size=3))
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R " + b" ".join(b"%s %d 0 R" % (k.encode(), n) for k, n in extra) + b">>"
    return assemble(objects)


@settings(max_examples=300, deadline=None)
@given(pdf=_graphs())
def test_the_walks_agree_on_random_object_graphs(pdf: bytes) -> None:
    _agree(pdf)


def test_the_walks_agree_on_every_revision_of_a_signed_b_lt_contract() -> None:
    """The workers' warm-up sample: a contract signed by the client and sealed by the MFO, with its DSS.

    Read by its path: importing warm.py would warm and freeze this test process as it does the fork server.
    """
    sample = Path(refpaths.__file__).resolve().parent / "samples" / "contract.pdf"
    assert _agree(sample.read_bytes()) > 20


def test_a_walk_that_fails_leaves_the_error_to_pyhanko() -> None:
    """A page tree that loops, recursion too deep: pyHanko's own walk raises, never this module (raised_here)."""
    import pytest

    from signing.verification.context import raised_here

    for pdf in (page_tree_loop(), deeply_nested(5000)):
        resolver = PdfFileReader(io.BytesIO(pdf), strict=False).get_historical_resolver(0)
        with pytest.raises(Exception) as caught:  # noqa: PT011 - whichever pyHanko raises
            refpaths.load_reverse_xref_cache(resolver)
        assert not raised_here(caught.value), caught.value
