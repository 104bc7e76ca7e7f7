"""pyHanko's map from each object of a revision to the paths that reach it, built in tuples (verification rate, issue 14).

pyHanko's difference analysis asks, for each signed revision, which paths
from the trailer reach each object (``HistoricalResolver.
_load_reverse_xref_cache``, pyhanko/pdf_utils/reader.py). It walks the
revision's whole object graph once per signature and keeps each path as a
``ConsList``, a frozen dataclass: every path is hashed into a set through
one generated ``__hash__`` call per element, the "is this reference on the
path already" test walks the list through a generator, and the structure
tree test builds a new one-element list per dictionary entry. For a
two-signature contract that was about a fifth of a whole report.

:func:`load_reverse_xref_cache` walks the same graph in the same order
with the same rules (the page tree entered only through its canonical
path, ``/Parent`` never followed, the structure tree's ``/P`` not followed
inside it and the structure tree entered only from ``/Root
/StructTreeRoot /K``), keeps each path as a plain tuple and the references
on the current path in a set, and stores exactly what pyHanko stores: a
set of ``RawPdfPath`` per reference. Whatever goes wrong on the way (a
page tree that loops, recursion too deep, an object that cannot be read)
is left to pyHanko's own walk, run then from the start: the error a report
or a refusal is made of comes from pyHanko, never from this module, where
the verifier would take it for a bug of ours (``context.raised_here``). A test
(tests/unit/test_refpaths.py) compares both on hand-built and random
object graphs. ``install`` and ``uninstall`` put it in and take it out,
as ``pdf_hex`` does for the readers.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver, RawPdfPath

_original = HistoricalResolver._load_reverse_xref_cache  # noqa: SLF001 - the method this module stands in for
_lock = threading.Lock()
_STRUCT_TREE_ROOT = ("/Root", "/StructTreeRoot")


def _page_tree_refs(pages, path: tuple) -> Iterator[tuple[generic.Reference, tuple]]:  # noqa: ANN001
    """Each page tree node below ``pages`` with its canonical path, in pyHanko's order."""
    for index, kid in enumerate(pages["/Kids"]):
        kid_path = (*path, "/Kids", index)
        if isinstance(kid, generic.IndirectObject):
            yield kid.reference, kid_path
        kid = kid.get_object()
        if kid.get("/Type", None) == "/Pages":
            yield from _page_tree_refs(kid, kid_path)


def _struct_tree_refs(element) -> Iterator[generic.Reference]:  # noqa: ANN001
    """Each structure element below ``element`` reached by reference, in pyHanko's order."""
    try:
        children = element["/K"]
    except KeyError:
        return
    if not isinstance(children, generic.ArrayObject):   # one child need not be in an array
        children = (children,)
    for child in children:
        child_ref = None
        if isinstance(child, generic.IndirectObject):
            child_ref = child.reference
            child = child.get_object()
        if not isinstance(child, generic.DictionaryObject):   # a content item
            continue
        try:
            if child["/Type"] != "/StructElem":
                continue
        except KeyError:   # /StructElem is the default type
            pass
        if child_ref is not None:
            yield child_ref
        yield from _struct_tree_refs(child)


def load_reverse_xref_cache(self: HistoricalResolver) -> None:
    """``HistoricalResolver._load_reverse_xref_cache``: the same cache, paths kept as tuples while walking."""
    if self._indirect_object_access_cache is not None:  # noqa: SLF001
        return
    try:
        cache = _walk(self)
    except Exception:  # noqa: BLE001 - pyHanko's walk meets the same trouble and raises its own error
        _original(self)
        return
    self._indirect_object_access_cache = cache  # noqa: SLF001


def _walk(self: HistoricalResolver) -> dict[generic.Reference, set[RawPdfPath]]:
    """The cache pyHanko builds, or an exception (see ``load_reverse_xref_cache``)."""
    pages_ref = self.root.raw_get("/Pages")
    pages_path = ("/Root", "/Pages")
    page_tree: dict[generic.Reference, tuple] = {}
    if isinstance(pages_ref, generic.IndirectObject):
        page_tree[pages_ref.reference] = pages_path
    for ref, path in _page_tree_refs(pages_ref.get_object(), pages_path):
        if ref in page_tree:
            raise misc.PdfReadError("Circular reference in page tree in mapping stage")
        page_tree[ref] = path
    struct_tree: set[generic.Reference] = set()
    try:
        for ref in _struct_tree_refs(self.root.raw_get("/StructTreeRoot").get_object()):
            if ref in struct_tree:
                raise misc.PdfReadError("Circular reference in structure tree in mapping stage")
            struct_tree.add(ref)
    except KeyError:
        pass

    collected: defaultdict[generic.Reference, set[tuple]] = defaultdict(set)
    on_path: set[generic.Reference] = set()
    indirect, dictionary, array = generic.IndirectObject, generic.DictionaryObject, generic.ArrayObject

    def walk(obj, path: tuple, in_struct_tree: bool) -> None:  # noqa: ANN001 - any PDF object
        ref = None
        if isinstance(obj, indirect):
            ref = obj.reference
            if ref in on_path:
                return
            collected[ref].add(path)
            obj = self(ref)
            # The page tree only through its canonical path; the structure tree only from its root's /K.
            if page_tree.get(ref, path) != path or (not in_struct_tree and ref in struct_tree):
                return
            on_path.add(ref)
        if isinstance(obj, dictionary):
            for key, value in obj.items():
                if key == "/Parent" or (in_struct_tree and key == "/P"):
                    continue
                walk(value, (*path, key), in_struct_tree or (key == "/K" and path == _STRUCT_TREE_ROOT))
        elif isinstance(obj, array):
            for index, value in enumerate(obj):
                walk(value, (*path, index), in_struct_tree)
        if ref is not None:
            on_path.discard(ref)

    walk(self.trailer_view, (), False)
    return {ref: {RawPdfPath(*path) for path in paths} for ref, paths in collected.items()}


def install() -> None:
    """Make pyHanko's historical resolvers use :func:`load_reverse_xref_cache` (idempotent, process-wide)."""
    with _lock:
        HistoricalResolver._load_reverse_xref_cache = load_reverse_xref_cache  # noqa: SLF001


def uninstall() -> None:
    """Put pyHanko's own walk back (benchmarks measure stock pyHanko with it)."""
    with _lock:
        HistoricalResolver._load_reverse_xref_cache = _original  # noqa: SLF001


__all__ = ["install", "load_reverse_xref_cache", "uninstall"]
