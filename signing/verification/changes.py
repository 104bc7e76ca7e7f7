"""What changed after a signature: pyHanko's difference analysis, plus annotations and the published attacks.

pyHanko's ``StandardDiffPolicy`` (``pyhanko.sign.diff_analysis``) already
sorts every object a later revision writes into a ``ModificationLevel``:
validation data and document time-stamps (LTA_UPDATES, "signature
maintenance"), form filling and new signatures (FORM_FILLING), anything
else (OTHER). We map those levels to our classes (indication.py) and add
what it lacks:

- **Annotations** (``AnnotationRule``): pyHanko's standard policy has no
  rule for them, so a comment added to a signed page is OTHER. ISO 32000-1
  §12.8.2.2 (Table 254, /P 3) and ETSI EN 319 142-1 allow adding and
  deleting annotations other than form widgets: such a revision is
  ANNOTATIONS when only the page's /Annots changed and every added
  annotation is a new object.
- **Shadow attacks** (Mainka, Mladenov, Rohlmann, Schwenk, "Shadow Attacks:
  Hiding and Replacing Content in Signed PDFs", NDSS 2021): a later
  revision that overwrites what a signed page draws — its content stream
  ("replace"), its resources, fonts and images ("hide-and-replace"), or an
  annotation's appearance ("hide") — or points the page at new ones
  (``replaced_after``). Even where a lock or the policy would allow the
  update itself, the report names what was replaced.
- **Incremental saving attack** (Mladenov, Mainka, Meyer zu Selhausen,
  Grothe, Schwenk, "1 Trillion Dollar Refund: How To Spoof PDF Signatures",
  CCS 2019), the variant without a cross-reference section: objects appended
  after the last %%EOF, which a strict reader ignores and a repairing reader
  may show (``unrevised_tail``). Signature wrapping (the same paper) moves
  content into the unsigned /Contents gap; pyHanko's coverage check refuses
  it (reading.broken: FORMAT_FAILURE).

ETSI EN 319 102-1 leaves the judgement of later changes to the signature
validation policy (§5.2.9 "signature acceptance validation"); EU DSS reports
the same classes as "modification detection" findings. A change a
certification level forbids (DocMDP, ISO 32000-1 §12.8.2.2) fails the
signature (indication.judge: TOTAL-FAILED / FORMAT_FAILURE); any other
change beyond maintenance, form filling and annotations leaves it
INDETERMINATE / SIG_CONSTRAINTS_FAILURE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pyhanko.pdf_utils import generic
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel, StandardDiffPolicy
from pyhanko.sign.diff_analysis.commons import compare_dicts
from pyhanko.sign.diff_analysis.policy_api import SuspiciousModification
from pyhanko.sign.diff_analysis.rules_api import ReferenceUpdate, WhitelistRule

from signing.verification.words import (
    REPLACED_ANNOTATION_APPEARANCE,
    REPLACED_PAGE_CONTENT,
    REPLACED_RESOURCES,
    UNREVISED_TAIL,
)

# Keys of a resource dictionary whose values a page draws with (ISO 32000-1 §7.8.3, Table 33).
_RESOURCE_KEYS = ("/Font", "/XObject", "/ExtGState", "/ColorSpace", "/Pattern", "/Shading", "/Properties")
# What an added annotation may refer to besides its own new objects (never followed: the page, a parent).
_BACK_LINKS = frozenset({"/P", "/Parent", "/IRT"})
_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")


def _pages(resolver, node=None, depth: int = 0) -> Iterator[generic.Reference]:  # noqa: ANN001
    """The page references of a revision, in order (a page tree deeper than 64 is not followed)."""
    node = node if node is not None else resolver.root.raw_get("/Pages")
    if depth > 64 or not isinstance(node, generic.IndirectObject):
        return
    obj = node.get_object()
    if obj.get("/Type") == "/Pages" or "/Kids" in obj:
        kids = obj.get("/Kids")
        for index in range(len(kids) if isinstance(kids, generic.ArrayObject) else 0):
            yield from _pages(resolver, kids.raw_get(index), depth + 1)
    else:
        yield node.reference


class AnnotationRule(WhitelistRule):
    """Annotations added to (or removed from) a page, nothing else of the page changed: ANNOTATIONS.

    Widgets are left to pyHanko's form rules (a new field or signature is
    form filling); an annotation that existed before and was rewritten is
    left unexplained (OTHER), as is anything reached through an added
    annotation's back links.
    """

    def apply(self, old, new) -> Iterable[ReferenceUpdate]:  # noqa: ANN001 - pyHanko HistoricalResolvers
        written = new.explicit_refs_in_revision()
        for page_ref in _pages(new):
            if page_ref not in written or not _existed(old, page_ref):
                continue      # an unchanged page, or a new one (a page added is not an annotation)
            try:
                updates = list(self._page(old, new, page_ref))
            except Exception:  # noqa: BLE001 - what cannot be explained stays unexplained (OTHER), never an error
                continue
            yield from updates

    def _page(self, old, new, page_ref: generic.Reference) -> Iterator[ReferenceUpdate]:  # noqa: ANN001
        old_page, new_page = old(page_ref), new(page_ref)
        if not isinstance(old_page, generic.DictionaryObject):
            return
        try:
            compare_dicts(old_page, new_page, frozenset({"/Annots"}))
        except SuspiciousModification:
            return
        old_annots = set(_refs(old_page.get("/Annots")))
        added = [ref for ref in _refs(new_page.get("/Annots")) if ref not in old_annots]
        if not added or not all(self._new_markup(old, new, ref) for ref in added):
            return
        yield ReferenceUpdate(page_ref)
        raw = new_page.raw_get("/Annots")
        if isinstance(raw, generic.IndirectObject):
            yield ReferenceUpdate(raw.reference)
        for ref in added:
            yield ReferenceUpdate(ref)
            yield from (ReferenceUpdate(dep) for dep in _new_dependencies(old, new(ref)))

    @staticmethod
    def _new_markup(old, new, ref: generic.Reference) -> bool:  # noqa: ANN001
        annotation = new(ref)
        return isinstance(annotation, generic.DictionaryObject) and annotation.get("/Subtype") != "/Widget" \
            and "/FT" not in annotation and not _existed(old, ref)


def _existed(old, ref: generic.Reference) -> bool:  # noqa: ANN001
    try:
        return old.reader.xrefs.get_introducing_revision(ref) <= old.revision
    except Exception:  # noqa: BLE001 - a reference the xref table does not know: not an old object
        return False


def _refs(value) -> list[generic.Reference]:  # noqa: ANN001
    if isinstance(value, generic.IndirectObject):
        value = value.get_object()
    if not isinstance(value, generic.ArrayObject):
        return []
    return [value.raw_get(i).reference for i in range(len(value))
            if isinstance(value.raw_get(i), generic.IndirectObject)]


def _new_dependencies(old, obj, depth: int = 0) -> Iterator[generic.Reference]:  # noqa: ANN001
    """New objects an added annotation uses (its appearance streams, its popup), never following back links."""
    if depth > 16:
        return
    if isinstance(obj, generic.DictionaryObject):
        items = [(k, obj.raw_get(k)) for k in obj if k not in _BACK_LINKS]
    elif isinstance(obj, generic.ArrayObject):
        items = [(None, obj.raw_get(i)) for i in range(len(obj))]
    else:
        return
    for _key, value in items:
        if isinstance(value, generic.IndirectObject):
            if _existed(old, value.reference):
                continue
            yield value.reference
            yield from _new_dependencies(old, value.get_object(), depth + 1)
        else:
            yield from _new_dependencies(old, value, depth + 1)


# pyHanko's default policy with the annotation rule: the one policy every PDF signature is judged by.
DIFF_POLICY = StandardDiffPolicy(
    global_rules=[*DEFAULT_DIFF_POLICY.global_rules, AnnotationRule().as_qualified(ModificationLevel.ANNOTATIONS)],
    form_rule=DEFAULT_DIFF_POLICY.form_rule)


def _drawn_by(resolver, page_ref: generic.Reference) -> dict[generic.Reference, str]:  # noqa: ANN001
    """The objects a page draws with at one revision, each with the class of change replacing it would be."""
    found: dict[generic.Reference, str] = {}
    page = resolver(page_ref)
    if not isinstance(page, generic.DictionaryObject):
        return found
    contents = page.raw_get("/Contents") if "/Contents" in page else None
    if isinstance(contents, generic.IndirectObject):
        found[contents.reference] = REPLACED_PAGE_CONTENT
    for ref in _refs(contents):
        found[ref] = REPLACED_PAGE_CONTENT
    resources = page.raw_get("/Resources") if "/Resources" in page else None
    if isinstance(resources, generic.IndirectObject):
        found[resources.reference] = REPLACED_RESOURCES
    resources = resources.get_object() if resources is not None else None
    if isinstance(resources, generic.DictionaryObject):
        for key in _RESOURCE_KEYS:
            group = resources.raw_get(key) if key in resources else None
            if isinstance(group, generic.IndirectObject):
                found[group.reference] = REPLACED_RESOURCES
                group = group.get_object()
            if isinstance(group, generic.DictionaryObject):
                for name in group:
                    value = group.raw_get(name)
                    if isinstance(value, generic.IndirectObject):
                        found[value.reference] = REPLACED_RESOURCES
    for annotation_ref in _refs(page.get("/Annots")):
        annotation = resolver(annotation_ref)
        appearance = annotation.get("/AP") if isinstance(annotation, generic.DictionaryObject) else None
        if not isinstance(appearance, generic.DictionaryObject):
            continue
        for key in ("/N", "/R", "/D"):
            value = appearance.raw_get(key) if key in appearance else None
            if isinstance(value, generic.IndirectObject):
                found[value.reference] = REPLACED_ANNOTATION_APPEARANCE
                value = value.get_object()
            if isinstance(value, generic.DictionaryObject) and not isinstance(value, generic.StreamObject):
                for state in value:
                    stream = value.raw_get(state)
                    if isinstance(stream, generic.IndirectObject):
                        found[stream.reference] = REPLACED_ANNOTATION_APPEARANCE
    return found


def replaced_after(reader, revision: int) -> tuple[str, ...]:  # noqa: ANN001 - pyHanko PdfFileReader
    """What a signed page drew at ``revision`` that a later revision overwrote or pointed elsewhere (shadow attacks)."""
    total = reader.xrefs.total_revisions
    if revision >= total - 1:
        return ()
    later: set[generic.Reference] = set()
    for number in range(revision + 1, total):
        later |= reader.xrefs.explicit_refs_in_revision(number)
    signed = reader.get_historical_resolver(revision)
    latest = reader.get_historical_resolver(total - 1)
    kinds: set[str] = set()
    for page_ref in _pages(signed):
        drawn = _drawn_by(signed, page_ref)
        kinds.update(kind for ref, kind in drawn.items() if ref in later)
        if page_ref in later:
            now = _drawn_by(latest, page_ref)
            for kind in (REPLACED_PAGE_CONTENT, REPLACED_RESOURCES):
                if {r for r, k in drawn.items() if k == kind} - set(now) or \
                        {r for r, k in now.items() if k == kind} - set(drawn):
                    kinds.add(kind)
    return tuple(sorted(kinds))


def unrevised_tail(data: bytes) -> tuple[str, ...]:
    """Objects after the file's last %%EOF: content no cross-reference section declares (incremental saving attack)."""
    end = data.rfind(b"%%EOF")
    if end < 0 or not _OBJECT.search(data, end):
        return ()
    return (UNREVISED_TAIL,)


__all__ = ["AnnotationRule", "DIFF_POLICY", "replaced_after", "unrevised_tail"]
