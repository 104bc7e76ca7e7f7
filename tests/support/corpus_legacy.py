"""Legacy signatures of the verification corpus (issue 14, items 1 and 4): plain ECDSA and adbe.pkcs7.sha1.

Both are still found in archives and neither is made by pyHanko, so the
signers here are pyHanko's ``SimpleSigner`` with the one step changed:

- ``PlainEcdsaSigner``: the signature value is r || s under an
  ``ecdsa-plain-*`` OID (BSI TR-03111), the way German signature cards and
  TSE modules sign;
- ``Sha1SubFilterSigner`` with ``sign_sha1_subfilter``: ISO 32000-1
  §12.8.3.3.1's ``/adbe.pkcs7.sha1``, a SignedData whose encapsulated
  content is the SHA-1 digest of the byte range (Acrobat 5-7 era files).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
from types import SimpleNamespace

from asn1crypto import algos, cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.verification.plain_ecdsa import PLAIN_ECDSA
from tests.support.corpus_pki import CorpusPki, Holder

_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha3_256": hashes.SHA3_256}
SHA1_SUBFILTER = SimpleNamespace(value=pdf_name("/adbe.pkcs7.sha1"))   # pyHanko's enum has no member for it


def _registry(holder: Holder) -> SimpleCertificateStore:
    return SimpleCertificateStore.from_certs([h.asn1 for h in holder.chain()[1:]])


class PlainEcdsaSigner(SimpleSigner):
    """ECDSA with the value as r || s, each the curve order's length, under the ecdsa-plain OID for ``digest``."""

    def __init__(self, holder: Holder, digest: str = "sha256", *, corrupt: bool = False, der: bool = False) -> None:
        oid = next(o for o, (_, d) in PLAIN_ECDSA.items() if d == digest)
        super().__init__(holder.asn1, holder.asn1_key, _registry(holder),
                         signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": oid}))
        self._key, self._digest = holder.key, digest
        self._corrupt, self._der = corrupt, der   # a wrong r, or the DER form under the plain OID

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        signature = self._key.sign(data, ec.ECDSA(_HASHES[self._digest]()))
        if self._der:
            return signature
        r, s = decode_dss_signature(signature)
        size = (self._key.curve.key_size + 7) // 8
        return (r ^ self._corrupt).to_bytes(size, "big") + s.to_bytes(size, "big")


class Sha1SubFilterSigner(SimpleSigner):
    """The adbe.pkcs7.sha1 SignedData: the byte range's SHA-1 digest encapsulated as the signed content."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(holder.asn1, holder.asn1_key, _registry(holder))

    async def async_sign(self, data_digest: bytes, digest_algorithm: str, dry_run: bool = False,  # noqa: PLR0913
                         use_pades: bool = False, timestamper=None, signed_attr_settings=None,  # noqa: ANN001
                         is_pdf_sig: bool = True, encap_content_info=None) -> cms.ContentInfo:  # noqa: ANN001
        content = {"content_type": "data", "content": data_digest}
        return await super().async_sign(hashlib.sha1(data_digest).digest(), "sha1", dry_run=dry_run,
                                        timestamper=timestamper, signed_attr_settings=signed_attr_settings,
                                        is_pdf_sig=is_pdf_sig, encap_content_info=content)


def sign_sha1_subfilter(pdf: bytes, pki: CorpusPki, holder: Holder, at: dt.datetime, *, timestamp: bool = True,
                        field: str = "Signature1") -> bytes:
    """An /adbe.pkcs7.sha1 signature (its SHA-1 digest of the byte range signed), time-stamped at ``at``."""
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha1", subfilter=SHA1_SUBFILTER)
    pdf_signer = signers.PdfSigner(meta, signer=Sha1SubFilterSigner(holder),
                                   timestamper=pki.timestamper(at) if timestamp else None,
                                   new_field_spec=fields.SigFieldSpec(field, box=None))
    return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue()


def plain_ecdsa_cms(data: bytes, pki: CorpusPki, signer: PlainEcdsaSigner, crls_at: dt.datetime,
                    digest: str = "sha256") -> bytes:
    """A detached CMS over ``data`` signed in plain ECDSA, carrying the PKI's CRLs at ``crls_at`` (RFC 5652 crls)."""
    info = asyncio.run(signer.async_sign_general_data(data, digest, detached=True))
    info["content"]["crls"] = [cms.RevocationInfoChoice({"crl": crl}) for crl in pki.crls(crls_at)]
    return info.dump()


def signature_value(pdf_or_cms: bytes) -> bytes:
    """The first signer's signature value, from a CMS or the last signature of a PDF (its /Contents)."""
    if pdf_or_cms[:1] == b"\x30":
        der = pdf_or_cms
    else:
        start = pdf_or_cms.rindex(b"/Contents <") + len(b"/Contents <")
        der = bytes.fromhex(pdf_or_cms[start:pdf_or_cms.index(b">", start)].decode())
    return cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native   # padding ignored


__all__ = ["PlainEcdsaSigner", "SHA1_SUBFILTER", "Sha1SubFilterSigner", "plain_ecdsa_cms", "sign_sha1_subfilter",
           "signature_value"]
