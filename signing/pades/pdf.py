"""PAdES signatures: the PDF side (pyHanko) with our own CMS (signed_data.py).

A signature is made in two steps so that every way a signature value can
arrive takes the same path (issue 4):

1. :func:`prepare` writes the incremental update with the signature field,
   its appearance and a zero-filled /Contents placeholder, and returns the
   document digest over the /ByteRange and the signed attributes to sign.
   The result is plain data that can be stored while a remote client signs.
2. :func:`embed` writes a finished CMS into the placeholder.

Between the two a key signs the signed attributes: a key in one of our
backends (the client's key held by the service, the MFO's seal), or the
client's own token, which returns either the raw signature value or a whole
CMS over the document digest (as NCALayer's hash signing does).

Levels (ETSI EN 319 142-1): B-B is the CMS alone; B-T adds a time-stamp over
the signature value; B-LT adds the certificates and revocation data of the
chain in the Document Security Store; B-LTA adds a document time-stamp.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import io
import threading
from dataclasses import dataclass

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.cms_embedder import SigObjSetup
from pyhanko.sign.signers.pdf_signer import PdfSigner, PdfTimeStamper, TimestampDSSContentSettings
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.stamp import BaseStampStyle

from signing.pades.placement import last_page_size, stamp_box
from signing.pades.signed_data import SignerIdentity, pyhanko_digest_name

# A signature placeholder must hold the CMS in hex: the signer's chain, the
# signature value, a time-stamp token with the TSA's certificate, and room for
# attributes the evidence work adds later.
_BASE_RESERVE = 6 * 1024
_TIME_STAMP_RESERVE = 6 * 1024


class Level(str, enum.Enum):
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def time_stamped(self) -> bool:
        return self is not Level.B_B

    @property
    def long_term(self) -> bool:
        return self in (Level.B_LT, Level.B_LTA)


@dataclass(frozen=True)
class FieldPlan:
    """The signature field to create and what the signature dictionary says.

    ``lock`` makes the field lock every form field and forbid any later
    change to the document (ISO 32000-2 §12.7.5.5, a FieldMDP lock with
    /P 1): what the MFO's seal does when it signs last.

    ``signature_entries`` adds entries to the signature dictionary, such as
    /Prop_AuthType and /Prop_AuthTime (ISO 32000-1 Table 252) that record
    how the client authenticated (issue 5). Keys are PDF names ("/Name");
    an int becomes a number, a text starting with "/" a name, any other
    text a text string. Left empty it costs nothing.
    """

    name: str
    box: tuple[int, int, int, int] | None = None
    stamp_index: int | None = None
    on_page: int = -1
    lock: bool = False
    reason: str | None = None
    location: str | None = None
    stamp_style: BaseStampStyle | None = None
    text_params: dict | None = None
    signature_entries: dict[str, int | str] | None = None

    def spec(self, writer: IncrementalPdfFileWriter) -> fields.SigFieldSpec:
        """The field to create; with ``stamp_index`` its box is that stamp's place on the last page."""
        lock = dict(field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.ALL),
                    doc_mdp_update_value=fields.MDPPerm.NO_CHANGES) if self.lock else {}
        box = self.box
        if box is None and self.stamp_index is not None:
            try:
                box = stamp_box(*last_page_size(writer), self.stamp_index)
            except ValueError:
                # No room left on the last page: the signature is made invisible
                # rather than drawn over an earlier stamp.
                box = None
        return fields.SigFieldSpec(sig_field_name=self.name, on_page=self.on_page, box=box, **lock)


@dataclass(frozen=True)
class PreparedSignature:
    """A PDF with an empty signature placeholder, and what must be signed.

    ``start``/``end`` delimit the hex digits of /Contents in ``pdf``.
    """

    pdf: bytes
    start: int
    end: int
    document_digest: bytes
    signed_attributes: bytes
    field_name: str
    hash_name: str
    signing_time: dt.datetime

    @property
    def capacity(self) -> int:
        """Bytes of DER the placeholder holds."""
        return (self.end - self.start) // 2


class PlaceholderTooSmall(ValueError):
    pass


@dataclass(frozen=True)
class ValidationData:
    """Certificates, OCSP responses and CRLs for a Document Security Store (DER)."""

    certificates: tuple[bytes, ...] = ()
    ocsp_responses: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()

    def __add__(self, other: "ValidationData") -> "ValidationData":
        def merged(a: tuple[bytes, ...], b: tuple[bytes, ...]) -> tuple[bytes, ...]:
            return tuple(dict.fromkeys(a + b))
        return ValidationData(merged(self.certificates, other.certificates),
                              merged(self.ocsp_responses, other.ocsp_responses),
                              merged(self.crls, other.crls))


class _IdentitySigner(signers.ExternalSigner):
    """What pyHanko needs of a signer while it lays out the field: the certificate."""

    def __init__(self, identity: SignerIdentity) -> None:
        super().__init__(signing_cert=_asn1_certificate(identity), cert_registry=None,
                         signature_value=b"")


_asn1_cache: dict[bytes, asn1_x509.Certificate] = {}


def _asn1_certificate(identity: SignerIdentity) -> asn1_x509.Certificate:
    der = identity.certificate_der
    cert = _asn1_cache.get(der)
    if cert is None:
        if len(_asn1_cache) > 256:
            _asn1_cache.clear()
        cert = _asn1_cache[der] = asn1_x509.Certificate.load(der)
    return cert


_loops = threading.local()


def _run(coro):
    # The signing paths are synchronous; pyHanko's document time-stamper is a
    # coroutine, run to completion on a private loop per thread.
    loop = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


def reserve_for(identity: SignerIdentity, level: Level, extra: int = 0) -> int:
    chain = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in identity.chain)
    size = _BASE_RESERVE + len(identity.certificate_der) + chain + extra
    return size + (_TIME_STAMP_RESERVE if level.time_stamped else 0)


def prepare(pdf: bytes, identity: SignerIdentity, plan: FieldPlan, *, signing_time: dt.datetime,
            reserve: int) -> PreparedSignature:
    """Lay out the signature field and placeholder; compute what must be signed."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(field_name=plan.name, md_algorithm=pyhanko_digest_name(identity.hash_name),
                                        subfilter=fields.SigSeedSubFilter.PADES,
                                        reason=plan.reason, location=plan.location,
                                        **({"docmdp_permissions": fields.MDPPerm.NO_CHANGES} if plan.lock else {}))
    pdf_signer = PdfSigner(meta, signer=_IdentitySigner(identity), new_field_spec=plan.spec(writer),
                           stamp_style=plan.stamp_style, timestamper=None)
    session = pdf_signer.init_signing_session(writer)
    session.system_time = signing_time
    if plan.signature_entries:
        session.cms_writer = _WithSignatureEntries(session.cms_writer, plan.signature_entries)
    tbs = session.prepare_tbs_document(validation_info=None, bytes_reserved=2 * reserve,
                                       appearance_text_params=plan.text_params)
    digest, output = tbs.digest_tbs_document()
    data = output.getvalue()
    # The reserved region is "<0000…>": the hex digits lie inside the brackets.
    return PreparedSignature(pdf=data, start=digest.reserved_region_start + 1,
                             end=digest.reserved_region_end - 1, document_digest=digest.document_digest,
                             signed_attributes=identity.signed_attributes(digest.document_digest),
                             field_name=plan.name, hash_name=identity.hash_name, signing_time=signing_time)


class _WithSignatureEntries:
    """pyHanko's CMS writer, adding our entries to the signature object as it is set up.

    pyHanko builds the signature dictionary inside ``prepare_tbs_document``
    and hands it to the CMS writer coroutine before writing anything; this
    is the one moment the dictionary can still be given more entries.
    """

    def __init__(self, writer, entries: dict[str, int | str]) -> None:  # noqa: ANN001 - pyHanko's generator
        self._writer = writer
        self._entries = {generic.NameObject(key): _pdf_value(value) for key, value in entries.items()}

    def send(self, value):  # noqa: ANN001, ANN201 - whatever pyHanko sends
        if isinstance(value, SigObjSetup):
            value.sig_placeholder.update(self._entries)
        return self._writer.send(value)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._writer, name)


def _pdf_value(value: int | str) -> generic.PdfObject:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"a signature-dictionary entry is an int or a text, not {type(value).__name__}")
    if isinstance(value, int):
        return generic.NumberObject(value)
    if value.startswith("/"):
        return generic.NameObject(value)
    return generic.TextStringObject(value)


def embed(prepared: PreparedSignature, cms_der: bytes) -> bytes:
    """Write the CMS into the placeholder; the rest of the file is untouched."""
    hex_cms = cms_der.hex().encode()
    room = prepared.end - prepared.start
    if len(hex_cms) > room:
        raise PlaceholderTooSmall(f"the CMS needs {len(cms_der)} bytes, the placeholder holds {room // 2}")
    pdf = prepared.pdf
    return b"".join((pdf[:prepared.start], hex_cms, pdf[prepared.start + len(hex_cms):]))


def add_validation_data(pdf: bytes, data: ValidationData) -> bytes:
    """An incremental update adding (or extending) the DSS (PAdES B-LT)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None,
        certs=[asn1_x509.Certificate.load(c) for c in data.certificates],
        ocsps=[asn1_ocsp.OCSPResponse.load(o) for o in data.ocsp_responses],
        crls=[asn1_crl.CertificateList.load(c) for c in data.crls])
    out = io.BytesIO()
    writer.write(out)  # the input's bytes, then the update
    return out.getvalue()


def add_document_time_stamp(pdf: bytes, timestamper: TimeStamper, field_name: str,
                            hash_name: str = "sha256") -> bytes:
    """An incremental update with a document time-stamp (PAdES B-LTA)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    stamper = PdfTimeStamper(timestamper, field_name=field_name)
    out = _run(stamper.async_timestamp_pdf(writer, hash_name, bytes_reserved=2 * 8192,
                                           dss_settings=_NO_DSS_UPDATE))
    return out.getvalue()


# The DSS is written by add_validation_data before the document time-stamp.
_NO_DSS_UPDATE = TimestampDSSContentSettings(update_before_ts=False)


__all__ = [
    "FieldPlan",
    "Level",
    "PlaceholderTooSmall",
    "PreparedSignature",
    "ValidationData",
    "add_document_time_stamp",
    "add_validation_data",
    "embed",
    "prepare",
    "reserve_for",
]

