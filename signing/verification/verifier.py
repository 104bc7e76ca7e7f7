"""Verification for anyone: a validation report for signed PDFs and CMS (issue 6).

``Verifier.verify`` takes the bytes of a PDF or of a CMS signature (with
the signed file when it is detached) and returns a ``VerificationReport``:
one entry per signature and per document time-stamp with an ETSI EN 319
102-1 indication, and the document's overall indication.

This module works in the calling process. The HTTP route and the command
line go through ``signing.verification.sandbox.SandboxedVerifier``, which runs the
same call in a child process with a time and memory limit, because a hostile
file can make any PDF parser slow or greedy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging

from signing.verification import names, pdf_hex, refpaths
from signing.verification.asic import looks_like_zip, read_container
from signing.verification.cms import CmsVerification, cms_evidence, read_signed_data
from signing.verification.container import AsicVerification
from signing.verification.context import ContextFactory, Evidence, raised_here
from signing.verification.inputs import (  # the limits, defined apart: no pyHanko to read them (issue 21)
    DEFAULT_MAX_BYTES,
    TrustAnchors,
    UnverifiableInput,
    VerificationLimits,
    VerificationOptions,
    check_size,
)
from signing.verification.pdf import PdfVerification
from signing.verification.reading import HybridReferenceFile, document_evidence, open_pdf
from signing.verification.repair import repaired_copy
from signing.verification.report import ASICE, ContainerView, VerificationReport
from signing.verification.words import read_leniently, why_unreadable

log = logging.getLogger(__name__)


class Verifier:
    """Reports on PDFs and CMS signatures, trusting ``anchors`` (plus any given per call)."""

    def __init__(self, anchors: TrustAnchors, limits: VerificationLimits | None = None, clock=None) -> None:  # noqa: ANN001
        self.anchors = anchors
        self.limits = limits or VerificationLimits()
        self.clock = clock
        pdf_hex.install()
        names.install()
        refpaths.install()

    def verify(self, data: bytes, *, detached: bytes | None = None, options: VerificationOptions | None = None,
               extra_anchors: TrustAnchors | None = None) -> VerificationReport:
        """The report; raises ``UnverifiableInput`` when the input cannot be processed at all."""
        options = options or VerificationOptions()
        check_size(self.limits, data, detached)
        anchors = self.anchors.plus(extra_anchors) if extra_anchors else self.anchors
        names.forget()
        return asyncio.run(self._verify(bytes(data), detached, options, anchors))

    def _now(self) -> dt.datetime:
        return self.clock.now() if self.clock is not None else dt.datetime.now(dt.timezone.utc)

    async def _verify(self, data: bytes, detached: bytes | None, options: VerificationOptions,
                      anchors: TrustAnchors) -> VerificationReport:
        time = options.at or self._now()
        backend = _fetcher(options) if options.online else None
        warnings: list[str] = []
        container = None
        try:
            if looks_like_zip(data):
                if detached is not None:
                    raise UnverifiableInput("an ASiC-E container carries its own files; a detached file goes with "
                                            "a CMS")
                entries, container, warnings = await self._asic(data, anchors, backend, time, options.strict)
                kind = ASICE
            elif b"%PDF-" in data[:1024]:
                if detached is not None:
                    raise UnverifiableInput("a PDF carries its own signatures; a detached file goes with a CMS")
                entries, warnings = await self._pdf(data, anchors, backend, time, options.strict)
                kind = "pdf"
            else:
                signed = read_signed_data(data)
                try:
                    evidence = cms_evidence(signed)
                except Exception:  # noqa: BLE001 - unreadable revocation data is no revocation data
                    evidence, warnings = None, ["the certificates or revocation data in the CMS cannot be read"]
                factory = ContextFactory(anchors, evidence or Evidence(), backend)
                entries = await CmsVerification(signed, detached, factory, time).reports()
                kind = "cms"
        except (UnverifiableInput, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - hostile input: whatever breaks, the answer is one sentence
            if raised_here(exc):
                raise   # a bug of ours: the caller (the worker) logs it; tests see it
            log.debug("verification failed", exc_info=exc)
            raise UnverifiableInput(f"the input cannot be processed: {why_unreadable(exc)}") from None
        finally:
            if backend is not None:
                await backend.close()
        return VerificationReport(kind=kind, signatures=tuple(entries), validation_time=time,
                                  sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                                  trust_anchors=anchors.views(), online=options.online, warnings=tuple(warnings),
                                  container=container)

    async def _asic(self, data: bytes, anchors: TrustAnchors, backend, time: dt.datetime,  # noqa: ANN001
                    strict: bool) -> tuple[list, list[str], ContainerView]:
        """An ASiC-E (EN 319 162-1): read within the limits, then its seal, files and signed PDFs (container.py)."""
        container = read_container(data, self.limits.max_bytes)

        async def pdf(content: bytes) -> tuple[list, list[str]]:
            return await self._pdf(content, anchors, backend, time, strict)

        check = AsicVerification(container, lambda evidence: ContextFactory(anchors, evidence, backend), time, pdf)
        return await check.reports()

    async def _pdf(self, data: bytes, anchors: TrustAnchors, backend, time: dt.datetime,  # noqa: ANN001
                   strict: bool) -> tuple[list, list[str]]:
        """The PDF's entries, read strictly first; what only a lenient reading opens is read so, with a warning.

        Files that break ISO 32000's cross-reference rules (hybrid-reference
        files, sections out of order, wrong offsets) are opened by every PDF
        reader, which rebuilds what it needs; refusing them would call a sound
        signature unreadable. pyHanko's non-strict reader does what those
        readers do; the signatures are still checked over the file's own
        bytes (their /ByteRange), so the lenient reading changes what is
        looked up, not what is verified. A hybrid-reference file is read
        leniently too (pyHanko validates its signatures only so). When even
        the lenient reader refuses, a copy with the cross-reference table
        repaired in place is read, and the digests are taken over the
        original bytes (repair.py). ETSI EN 319 102-1 §5.2.2 (format
        checking) leaves the parsing tolerance to the validation policy; EU
        DSS likewise reports such files with a warning, not a failure.
        """
        damage: BaseException | None = None      # why the first reading refused the file
        refusal: BaseException | None = None
        for mode in (STRICT, LENIENT, REPAIRED) if strict else (LENIENT, REPAIRED):
            try:
                original = None
                if mode == REPAIRED:
                    # Even the lenient reader refuses: a cross-reference table repaired in place
                    # (repair.py), the signatures' digests still over the original bytes.
                    copy = repaired_copy(data)
                    if copy is None:
                        raise refusal
                    reader, original = open_pdf(copy, strict=False), data
                else:
                    reader = open_pdf(data, strict=mode == STRICT)
                if mode == STRICT and reader.xrefs.hybrid_xrefs_present:
                    damage = HybridReferenceFile()     # pyHanko validates no signature of one in strict mode
                    continue
                evidence, warnings = document_evidence(reader)
                factory = ContextFactory(anchors, evidence, backend)
                entries = await PdfVerification(reader, factory, time, original=original).reports()
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - a reading refused: try the next one
                if mode == REPAIRED or not _refused(exc):
                    raise     # not a parsing refusal: a password, not a PDF, or a fault of ours
                refusal, damage = exc, damage or getattr(exc, "damage", exc)
                continue
            if damage is None:
                return entries, warnings
            log.debug("read leniently", exc_info=damage)
            return entries, [read_leniently(damage), *warnings]
        raise refusal  # pragma: no cover - the last mode returns or raises


STRICT, LENIENT, REPAIRED = "strict", "lenient", "repaired"


def _refused(exc: BaseException) -> bool:
    """Whether ``exc`` is a reader refusing the file (worth another reading), not a password or a fault of ours."""
    if isinstance(exc, UnverifiableInput):
        return getattr(exc, "damage", None) is not None or "cannot be read" in exc.detail
    return not raised_here(exc)


def _fetcher(options: VerificationOptions):  # noqa: ANN202
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

    return AIOHttpFetcherBackend(per_request_timeout=options.fetch_timeout)


__all__ = ["DEFAULT_MAX_BYTES", "UnverifiableInput", "VerificationLimits", "VerificationOptions", "Verifier",
           "check_size"]
