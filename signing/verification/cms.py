"""CMS signatures, detached (.p7s/.cms over a file) or with their content attached (as NCANode makes them).

The report has the same shape as a PDF's, one entry of kind "cms" per
signer. pyHanko's ``async_validate_detached_cms`` checks the content digest,
the signature, the signature time-stamp and the certificate; attached
content is taken out of the SignedData first and handed to it the same way,
so both forms take one path. Certificates and revocation data carried in
the SignedData (``certificates``, ``crls`` with CRLs and OCSP responses,
RFC 5940) are used like a PDF's DSS.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import replace

from asn1crypto import cms, core
from asn1crypto import ocsp as asn1_ocsp
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

from signing.verification.certs import chain_views, signer_view, tsa_name
from signing.verification.context import (
    SIGNING_KEY_USAGE,
    ContextFactory,
    Evidence,
    UnverifiableInput,
    algorithm_problem,
    diagnose,
    raised_here,
)
from signing.verification.indication import Findings, judge
from signing.verification.lifetime import expired_at, expiry_reason
from signing.verification.plain_ecdsa import mechanism_name
from signing.verification.reading import broken, signature_token, unsupported
from signing.verification.report import (
    CERTIFICATE_CHAIN_GENERAL_FAILURE,
    CMS,
    OUT_OF_BOUNDS_NO_POE,
    RevocationView,
    SignatureReport,
    TimeStampView,
)
from signing.verification.words import CMS_UNREADABLE, signature_sentence

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_OCSP_FORMAT = "1.3.6.1.5.5.7.16.2"   # RFC 5940 id-ri-ocsp-response


def looks_like_cms(data: bytes) -> bool:
    head = data[:64].lstrip()
    return head[:1] == b"\x30" or head.startswith(b"-----BEGIN") or head[:2] == b"MI"


def read_signed_data(data: bytes) -> cms.SignedData:
    """DER, PEM (CMS, PKCS7) or base64 of DER; anything else is not a CMS signature."""
    der = data
    if data[:1] != b"\x30":
        text = data.strip()
        match = _PEM.fullmatch(text)
        if match is not None:
            text = match.group(2)
        try:
            der = base64.b64decode(b"".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise UnverifiableInput("the input is neither a PDF nor a CMS signature (DER, PEM or base64)") from None
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise UnverifiableInput("the CMS is not SignedData")
        signed = info["content"]
        signed["signer_infos"]  # noqa: B018 - parse the outline now, not in the middle of the report
        return signed
    except UnverifiableInput:
        raise
    except Exception:  # noqa: BLE001 - hostile input
        raise UnverifiableInput(CMS_UNREADABLE) from None


def cms_evidence(signed: cms.SignedData) -> Evidence:
    evidence = Evidence()
    for choice in signed["certificates"] or ():
        if choice.name == "certificate":
            evidence.certificates.append(choice.chosen)
    for choice in signed["crls"] or ():
        if choice.name == "crl":
            evidence.crls.append(choice.chosen)
        elif choice.name == "other" and choice.chosen["other_rev_info_format"].dotted == _OCSP_FORMAT:
            evidence.ocsps.append(asn1_ocsp.OCSPResponse.load(choice.chosen["other_rev_info"].dump()))
    return evidence


def _content(signed: cms.SignedData, detached: bytes | None) -> bytes:
    encapsulated = signed["encap_content_info"]["content"]
    if isinstance(encapsulated, core.Void):
        if detached is None:
            raise UnverifiableInput("the signature is detached: give the signed file too (--detached / detached)")
        return detached
    if detached is not None:
        raise UnverifiableInput("the signature carries its own content; do not give a detached file")
    # bytes() joins the chunks of a BER constructed OCTET STRING (openssl streams those).
    return bytes(encapsulated)


def _one_signer(signed: cms.SignedData, index: int) -> cms.SignedData:
    """The SignedData with only its ``index``-th signer and no encapsulated content."""
    copy = signed.copy()
    copy["encap_content_info"] = {"content_type": signed["encap_content_info"]["content_type"].native}
    copy["signer_infos"] = cms.SignerInfos([cms.SignerInfo.load(signed["signer_infos"][index].dump())])
    return copy


class CmsVerification:
    def __init__(self, signed: cms.SignedData, detached: bytes | None, factory: ContextFactory,
                 validation_time: dt.datetime) -> None:
        self.signed = signed
        self.content = _content(signed, detached)
        self.factory = factory
        self.time = validation_time

    async def reports(self) -> list[SignatureReport]:
        reports = []
        for index in range(len(self.signed["signer_infos"])):
            try:
                reports.append(await self._signer(index))
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - hostile input: this signer fails, the others are reported
                if raised_here(exc):
                    raise
                reports.append(broken(f"signer-{index + 1}", CMS, exc))
        return reports

    async def _signer(self, index: int) -> SignatureReport:
        one = _one_signer(self.signed, index)
        signer_info = one["signer_infos"][0]
        problem = algorithm_problem(signer_info)
        if problem is not None:
            return unsupported(CMS, f"signer-{index + 1}", _signer_certificate(one), problem)
        token = signature_token(signer_info)
        token_time = token["gen_time"].native if token is not None else None
        poe = token_time if token_time is not None and token_time <= self.time else None
        token_context = self.factory.at(token_time) if token_time is not None else None
        status = await async_validate_detached_cms(self.content, one, self.factory.at(poe or self.time),
                                                   token_context, key_usage_settings=SIGNING_KEY_USAGE)
        stamp = status.timestamp_validity
        # A CMS carries no archive time-stamp: its time-stamp proves the signing time only while the
        # TSA's chain stands at the validation time (lifetime.py).
        if poe is not None and not (stamp is not None and stamp.intact and stamp.valid and stamp.trusted
                                    and expired_at(stamp.validation_path, self.time) is None):
            poe = None
            status = await async_validate_detached_cms(self.content, one, self.factory.at(self.time),
                                                       token_context, key_usage_settings=SIGNING_KEY_USAGE)
        problem = status.trust_problem_indic.name if status.trust_problem_indic is not None else None
        detail, revoked_at = "", None
        if status.revocation_details is not None:
            revoked_at = status.revocation_details.revocation_date
            detail = f"revoked on {revoked_at.isoformat()}"
        if problem == CERTIFICATE_CHAIN_GENERAL_FAILURE:
            problem, detail = await diagnose(status.signing_cert, self.factory.evidence.certificates,
                                             self.factory.at(poe or self.time), poe is not None)
        stamped = poe is not None
        expired = expired_at(status.validation_path, self.time, status.signing_cert)
        if expired is not None and problem in (None, "TRY_LATER", CERTIFICATE_CHAIN_GENERAL_FAILURE):
            problem, detail, poe = OUT_OF_BOUNDS_NO_POE, expiry_reason(expired), None
        signer = signer_view(status.signing_cert)
        findings = Findings(intact=status.intact, valid=status.valid, trust_problem=problem, trust_detail=detail,
                            poe=poe, revoked_at=revoked_at, key_usage_fit=signer.key_usage_fit)
        covered = self.factory.evidence.covers(status.signing_cert)
        chain, anchor = chain_views(status.validation_path)
        view = None
        if stamp is not None:
            view = TimeStampView(tsa=tsa_name(stamp.signing_cert), gen_time=stamp.timestamp,
                                 serial=format(token["serial_number"].native, "x"), policy=token["policy"].dotted,
                                 intact=stamp.intact, valid=stamp.valid, trusted=stamp.trusted)
        report = SignatureReport(
            kind=CMS, field=f"signer-{index + 1}", intact=status.intact, valid=status.valid, verdict=judge(findings),
            modification="none", coverage="entire_file",
            level="B-B" if not stamped else ("B-LT" if covered else "B-T"), signer=signer, chain=chain,
            trust_anchor=anchor, claimed_signing_time=status.signer_reported_dt, timestamp=view,
            best_signature_time=poe, revocation=_revocation(status, problem, poe or self.time, covered,
                                                            self.factory.online),
            digest_algorithm=status.md_algorithm, signature_algorithm=mechanism_name(status.pkcs7_signature_mechanism))
        return replace(report, sentence=signature_sentence(report))


def _signer_certificate(signed: cms.SignedData):  # noqa: ANN202 - asn1crypto Certificate or None
    try:
        from pyhanko.sign.general import extract_certificate_info

        return extract_certificate_info(signed).signer_cert
    except Exception:  # noqa: BLE001 - no certificate to name the signer by
        return None


def _revocation(status, problem: str | None, moment: dt.datetime, covered: bool,  # noqa: ANN001
                online: bool) -> RevocationView:
    source = "document" if covered else ("online" if online else None)
    if status.revocation_details is not None:
        details = status.revocation_details
        return RevocationView("revoked", moment, source, details.revocation_date, details.revocation_reason.native)
    if problem == "TRY_LATER":
        return RevocationView("unknown", moment)
    if status.trusted and source is not None:
        return RevocationView("good", moment, source)
    return RevocationView("not_checked", moment)


__all__ = ["CmsVerification", "cms_evidence", "looks_like_cms", "read_signed_data"]
