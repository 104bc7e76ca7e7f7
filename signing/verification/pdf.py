"""PDF signatures and document time-stamps: pyHanko validates, we choose the moment and judge.

For each document time-stamp and signature, oldest first:

1. pyHanko checks integrity (digest over the /ByteRange, signature value),
   coverage and its difference analysis of everything added later
   (``async_validate_pdf_signature`` / ``async_validate_pdf_timestamp``).
2. The certificate is validated at the best signature time: the genTime of
   the signature's time-stamp when that token is intact and trusted, else
   the oldest trusted document time-stamp added after the signature, else the
   validation time. Revocation data comes from the DSS and the signature's
   own revocation archive, or live when the options allow. A time-stamp is a
   proof only while its TSA's chain stands when it is needed (lifetime.py):
   document time-stamps are taken newest first, the newest needed at the
   validation time, each older one at the genTime of the one after it; a
   signature with no archive time-stamp after it needs its own chain and its
   time-stamp's chain unexpired at the validation time.
3. ``indication.judge`` turns the findings into an ETSI
   indication; ``words`` writes the sentence.

Reading the PDF, its DSS and the signatures' CMS is ``reading``.

A signature whose dictionary or CMS cannot be read is reported as
TOTAL-FAILED/FORMAT_FAILURE; only a file that cannot be read as a PDF at all
raises ``UnverifiableInput``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, async_validate_pdf_timestamp

from signing.verification.algorithms import CMS_POLICY, past_sunset
from signing.verification.certs import chain_views, signer_view, tsa_name
from signing.verification.changes import DIFF_POLICY, replaced_after, unrevised_tail
from signing.verification.context import (
    SIGNING_KEY_USAGE,
    ContextFactory,
    Evidence,
    UnverifiableInput,
    algorithm_problem,
    diagnose,
    raised_here,
)
from signing.verification.legacy import validate_signature
from signing.verification.lifetime import expired_at, expiry_reason
from signing.verification.plain_ecdsa import mechanism_name
from signing.verification.indication import COVERAGE_NAMES, MODIFICATION_NAMES, Findings, judge
from signing.verification.reading import (
    broken,
    field_kind,
    finish,
    gen_time_of,
    policy_of,
    serial_of,
    short_error,
    signature_evidence,
    signature_token,
    tst_info,
    unsupported,
)
from signing.verification.repair import OriginalBytesSignature
from signing.verification.report import (
    CERTIFICATE_CHAIN_GENERAL_FAILURE,
    CRYPTO_CONSTRAINTS_FAILURE,
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    DOCUMENT_TIMESTAMP,
    OUT_OF_BOUNDS_NO_POE,
    SIGNATURE,
    TRY_LATER,
    RevocationView,
    SignatureReport,
    TimeStampView,
)

log = logging.getLogger(__name__)
PADES_SUBFILTER = "/ETSI.CAdES.detached"


class PdfVerification:
    """One document: its signatures and time-stamps in revision order."""

    def __init__(self, reader: PdfFileReader, factory: ContextFactory, validation_time: dt.datetime, *,
                 original: bytes | None = None) -> None:
        self.reader = reader
        self.original = original    # the file's own bytes when ``reader`` reads a repaired copy (repair.py)
        self.factory = factory
        self.time = validation_time
        self.poes: list[tuple[int, dt.datetime]] = []   # (revision, genTime) of trusted document time-stamps
        self.archives: list[int] = []                   # revisions of every document time-stamp
        self._replaced: dict[int, tuple[str, ...]] = {}  # signed revision -> what later revisions replaced
        self._tail: tuple[str, ...] | None = None

    async def reports(self) -> list[SignatureReport]:
        entries, failed = self._embedded()
        # Document time-stamps first, newest first: a trusted one proves when
        # the signatures and time-stamps before it existed (PAdES B-LTA).
        stamps = [e for e in reversed(entries) if e.sig_object_type == "/DocTimeStamp"]
        self.archives = [e.signed_revision for e in stamps]
        signatures = [e for e in entries if e.sig_object_type != "/DocTimeStamp"]
        done: dict[int, SignatureReport] = {}
        for embedded in stamps + signatures:
            try:
                if embedded.sig_object_type == "/DocTimeStamp":
                    report = await self._timestamp(embedded)
                else:
                    report = await self._signature(embedded)
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - hostile input: one broken signature, one failed entry
                if raised_here(exc):
                    raise
                log.debug("signature %s cannot be processed", embedded.field_name, exc_info=exc)
                report = broken(embedded.field_name, field_kind(embedded.sig_object), exc)
            done[id(embedded)] = report
        return [done[id(e)] for e in entries] + failed

    def _embedded(self) -> tuple[list[EmbeddedPdfSignature], list[SignatureReport]]:
        entries, failed = [], []
        try:
            fields = list(enumerate_sig_fields(self.reader, filled_status=True))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - a form tree that loops or will not parse
            refused = UnverifiableInput(f"the PDF's signature fields cannot be read: {short_error(exc)}")
            refused.damage = exc      # verifier.py: another reading is tried, and the warning says why
            raise refused from None
        for name, value, field_ref in fields:
            try:
                embedded = EmbeddedPdfSignature(self.reader, field_ref, name) if self.original is None else \
                    OriginalBytesSignature(self.reader, field_ref, name, self.original)
                embedded.signed_revision  # noqa: B018 - fails here for a /ByteRange that fits no revision
                entries.append(embedded)
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001
                if raised_here(exc):
                    raise
                failed.append(broken(name, field_kind(value), exc))
        entries.sort(key=lambda e: e.signed_revision)
        return entries, failed

    async def _timestamp(self, embedded: EmbeddedPdfSignature) -> SignatureReport:
        info = tst_info(embedded.signed_data)
        gen_time = gen_time_of(info)
        moment = gen_time if gen_time is not None and gen_time <= self.time else self.time
        status = await async_validate_pdf_timestamp(embedded, self.factory.at(moment), diff_policy=DIFF_POLICY)
        view = TimeStampView(tsa=tsa_name(status.signing_cert), gen_time=gen_time, serial=serial_of(info),
                             policy=policy_of(info), intact=status.intact, valid=status.valid, trusted=status.trusted)
        # Needed at the validation time when it is the newest, else at the
        # genTime of the newer archive time-stamp that proves it existed.
        needed_at = min((t for rev, t in self.poes if rev > embedded.signed_revision), default=self.time)
        expired = expired_at(status.validation_path, needed_at) if view.ok else None
        proves = view.ok and expired is None and gen_time <= self.time
        if proves:
            self.poes.append((embedded.signed_revision, gen_time))
        findings, warnings = await self._findings(embedded, status, poe=gen_time if proves else None)
        if expired is not None:
            findings = _out_of_bounds(findings, expired)
        chain, anchor = chain_views(status.validation_path)
        return finish(SignatureReport(
            kind=DOCUMENT_TIMESTAMP, field=embedded.field_name, intact=status.intact, valid=status.valid,
            verdict=judge(findings), modification=findings.modification, coverage=findings.coverage, level=None,
            signer=signer_view(status.signing_cert), chain=chain, trust_anchor=anchor, timestamp=view,
            best_signature_time=gen_time if proves else None, revision=embedded.signed_revision,
            digest_algorithm=status.md_algorithm, signature_algorithm=mechanism_name(status.pkcs7_signature_mechanism),
            revocation=self._revocation(status, findings, moment), warnings=tuple(warnings)))

    async def _signature(self, embedded: EmbeddedPdfSignature) -> SignatureReport:
        problem = algorithm_problem(embedded.signer_info)
        if problem is not None:
            return unsupported(SIGNATURE, embedded.field_name, embedded.signer_cert, problem,
                               embedded.signed_revision)
        token = signature_token(embedded.signer_info)
        token_time = gen_time_of(token)
        document_poe = min((t for rev, t in self.poes if rev > embedded.signed_revision), default=None)
        # When the signature (its time-stamp included) is proven to exist: an archive time-stamp's genTime, else now.
        needed_at = document_poe or self.time
        extra = signature_evidence(embedded.signed_data)
        proven = [t for t in (token_time, document_poe) if t is not None and t <= self.time]
        poe = min(proven, default=None)
        token_context = self.factory.at(token_time, extra) if token_time is not None else None
        status = await validate_signature(embedded, self.factory.at(poe or self.time, extra), token_context,
                                          key_usage_settings=SIGNING_KEY_USAGE, diff_policy=DIFF_POLICY,
                                          algorithm_policy=CMS_POLICY)
        stamp = status.timestamp_validity
        token_ok = stamp is not None and stamp.intact and stamp.valid and stamp.trusted and \
            expired_at(stamp.validation_path, needed_at) is None
        if poe is not None and poe == token_time and poe != document_poe and not token_ok:
            # The token does not prove its time: validate without it.
            poe = document_poe if document_poe is not None and document_poe <= self.time else None
            status = await validate_signature(embedded, self.factory.at(poe or self.time, extra), token_context,
                                              key_usage_settings=SIGNING_KEY_USAGE, diff_policy=DIFF_POLICY,
                                              algorithm_policy=CMS_POLICY)
        moment = poe or self.time
        findings, warnings = await self._findings(embedded, status, poe=poe, extra=extra)
        expired = expired_at(status.validation_path, self.time, status.signing_cert) if document_poe is None else None
        if expired is not None:
            findings = _out_of_bounds(findings, expired)
        chain, anchor = chain_views(status.validation_path)
        view = None
        if stamp is not None:
            view = TimeStampView(tsa=tsa_name(stamp.signing_cert), gen_time=stamp.timestamp, serial=serial_of(token),
                                 policy=policy_of(token), intact=stamp.intact, valid=stamp.valid,
                                 trusted=stamp.trusted)
        signer = signer_view(status.signing_cert)
        sig_object = embedded.sig_object
        return finish(SignatureReport(
            kind=SIGNATURE, field=embedded.field_name, intact=status.intact, valid=status.valid,
            verdict=judge(findings), modification=findings.modification, coverage=findings.coverage,
            level=self._level(embedded, _stamped(stamp) or document_poe is not None, extra),
            signer=signer, chain=chain,
            trust_anchor=anchor, claimed_signing_time=status.signer_reported_dt, timestamp=view,
            best_signature_time=poe if expired is None else None, revocation=self._revocation(status, findings, moment, extra),
            factors=_factors(sig_object), digest_algorithm=status.md_algorithm,
            signature_algorithm=mechanism_name(status.pkcs7_signature_mechanism), revision=embedded.signed_revision,
            reason=_text(sig_object, "/Reason"), location=_text(sig_object, "/Location"),
            warnings=tuple(warnings)))

    async def _findings(self, embedded, status, *, poe, extra: Evidence | None = None):  # noqa: ANN001
        warnings: list[str] = []
        coverage = COVERAGE_NAMES.get(status.coverage.name) if status.coverage is not None else None
        level = status.modification_level
        modification = MODIFICATION_NAMES.get(level.name) if level is not None else None
        mdp = embedded.docmdp_level
        lock_broken = mdp is not None and level is not None and level.value > mdp.value
        problem = status.trust_problem_indic.name if status.trust_problem_indic is not None else None
        detail, revoked_at = "", None
        if status.revocation_details is not None:
            revoked_at = status.revocation_details.revocation_date
            detail = f"revoked on {revoked_at.isoformat()} ({status.revocation_details.revocation_reason.native})"
        if problem == CERTIFICATE_CHAIN_GENERAL_FAILURE and status.signing_cert is not None:
            context = self.factory.at(poe or self.time, extra)
            problem, detail = await diagnose(status.signing_cert, (extra or Evidence()).certificates, context,
                                             poe is not None)
        if isinstance(status.diff_result, Exception):
            warnings.append(f"difference analysis: {short_error(status.diff_result)}")
        replaced = self.replaced(embedded.signed_revision)
        if replaced:
            modification = "other"
        crypto = ""
        if problem in (CRYPTO_CONSTRAINTS_FAILURE, CRYPTO_CONSTRAINTS_FAILURE_NO_POE) and status.signing_cert is not None:
            crypto = past_sunset(embedded.signer_info, status.signing_cert.public_key, status.validation_path,
                                 poe or self.time) or ""
        fit = signer_view(status.signing_cert).key_usage_fit if status.signing_cert is not None else False
        return Findings(intact=status.intact, valid=status.valid, coverage=coverage, modification=modification,
                        lock_broken=lock_broken, changes_allowed=status.docmdp_ok is not False,
                        trust_problem=problem, trust_detail=detail, poe=poe, revoked_at=revoked_at,
                        key_usage_fit=fit or embedded.sig_object_type == "/DocTimeStamp", replaced=replaced,
                        crypto_detail=crypto), warnings

    def replaced(self, revision: int) -> tuple[str, ...]:
        """What later revisions replaced of the pages signed at ``revision``, and content outside any revision."""
        if self._tail is None:
            self._tail = unrevised_tail(self.original or self.reader.stream.getvalue())
        if revision not in self._replaced:
            try:
                self._replaced[revision] = replaced_after(self.reader, revision) + self._tail
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - a revision that will not resolve: pyHanko's analysis says it
                log.debug("replacement analysis failed", exc_info=exc)
                self._replaced[revision] = self._tail
        return self._replaced[revision]

    def _level(self, embedded: EmbeddedPdfSignature, time_stamped: bool, extra: Evidence) -> str | None:
        if embedded.sig_object.get("/SubFilter") != PADES_SUBFILTER:
            return None
        if not time_stamped:
            return "B-B"
        if not self.factory.evidence.plus(extra).covers(embedded.signer_cert):
            return "B-T"
        archived = any(rev > embedded.signed_revision for rev in self.archives)
        return "B-LTA" if archived else "B-LT"

    def _revocation(self, status, findings: Findings, moment: dt.datetime,  # noqa: ANN001
                    extra: Evidence | None = None) -> RevocationView:
        details = status.revocation_details
        if details is not None:
            return RevocationView("revoked", moment, self._source(status, extra), details.revocation_date,
                                  details.revocation_reason.native)
        if findings.trust_problem == "TRY_LATER":
            return RevocationView("unknown", moment)
        source = self._source(status, extra)
        if status.trusted and source is not None:
            return RevocationView("good", moment, source)
        return RevocationView("not_checked", moment)

    def _source(self, status, extra: Evidence | None) -> str | None:  # noqa: ANN001
        cert = status.signing_cert
        if cert is not None and self.factory.evidence.plus(extra or Evidence()).covers(cert):
            return "document"
        return "online" if self.factory.online else None


def _out_of_bounds(findings: Findings, expired) -> Findings:  # noqa: ANN001 - asn1crypto Certificate
    """Findings with no proof of existence left: a certificate of the chain expired before it was needed."""
    # An expired certificate's status is moot (context.diagnose): missing or stale revocation data says less.
    if findings.trust_problem not in (None, TRY_LATER, CERTIFICATE_CHAIN_GENERAL_FAILURE):
        return findings
    return dataclasses.replace(findings, trust_problem=OUT_OF_BOUNDS_NO_POE, trust_detail=expiry_reason(expired),
                               poe=None)


def _stamped(stamp) -> bool:  # noqa: ANN001
    """A signature time-stamp that is intact, whether or not its TSA could be validated (level B-T)."""
    return stamp is not None and stamp.intact and stamp.valid


def _text(sig_object, key: str) -> str | None:  # noqa: ANN001
    value = sig_object.get(key)
    return str(value) if value is not None else None


def _factors(sig_object) -> dict | None:  # noqa: ANN001
    """The evidence of factors a signer recorded (ISO 32000-2 §12.8.1: /Prop_AuthType, /Prop_AuthTime)."""
    auth_type, auth_time = sig_object.get("/Prop_AuthType"), sig_object.get("/Prop_AuthTime")
    if auth_type is None and auth_time is None:
        return None
    return {"auth_type": str(auth_type).lstrip("/") if auth_type is not None else None,
            "auth_time": int(auth_time) if isinstance(auth_time, (int, float)) else
            (str(auth_time) if auth_time is not None else None)}


__all__ = ["PADES_SUBFILTER", "PdfVerification"]
