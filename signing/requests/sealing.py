"""The tenant's seal signing, for ``SigningService`` (issue 15: each MFO signs with its own seal).

Way 3 of signing (the seal signs last and locks the document) and the
detached CMS that seals evidence reports. The seal is the tenant's own,
found and checked fit in the signature's read (signing/tenants/seals.py:
an active tenant, a valid seal), then used through its own signer outside
any transaction; the storing transaction checks the tenant is still active.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signing.pades.engine import SignatureJob
from signing.pades.signed_data import SignerIdentity, digest, signature_time_stamp, with_validation_data
from signing.requests.signatures import (
    SEAL,
    SEAL_FIELD,
    STATUS_CLIENT_SIGNED,
    DocumentSnapshot,
    OnStored,
    SignatureResult,
)
from signing.tenants.seals import ReadySeal

if TYPE_CHECKING:
    from signing.requests.service import SigningService


class SealSigning:
    """The seal's half of ``SigningService`` (which supplies the registry, engine, seals and building blocks)."""

    def sign_with_seal(self: "SigningService", actor: str, tenant: str, document_id: str, *, level: str | None = None,
                       on_stored: OnStored | None = None, language: str | None = None,
                       after: DocumentSnapshot | None = None) -> SignatureResult:
        """Way 3: the tenant's own seal signs last and locks the document (issue 15: each MFO its own seal).

        ``after``: the document as the client's signature just stored it (``SignatureResult.after``), not read
        again; storing the seal checks, under the document's lock, that it is still the latest."""
        with self.registry.transaction(readonly=True) as tx:
            snap = after if after is not None and after.document == document_id and after.status == \
                STATUS_CLIENT_SIGNED else self._snapshot(tx, tenant, document_id, SEAL)
            row = self.seals.find(tx, tenant)
        seal = self.seals.ready(row)
        job = self.job_for(seal.certificate, seal.chain, level=self._level(level, snap.kind), field_name=SEAL_FIELD,
                           index=snap.signatures, document_id=document_id, role="MFO seal", lock=True,
                           language=language)
        pdf = self._sign_as(seal, snap.content, job)
        return self._store(actor, tenant, snap, pdf, job, SEAL, on_stored=on_stored)

    def _sign_as(self: "SigningService", seal: ReadySeal, content: bytes, job: SignatureJob) -> bytes:
        if seal.validation is None:   # our national CA's seal: our responder's answers, in process
            return self.engine.sign(content, job, seal.signer)
        prepared = self.engine.prepare(content, job)   # an imported seal: the answers its check fetched
        return self.engine.complete(prepared, job, signature=seal.signer.sign(prepared.signed_attributes,
                                                                               prepared.hash_name),
                                    validation=seal.validation)

    def seal_detached(self: "SigningService", tenant: str, content: bytes, *, long_term: bool = False) -> bytes:
        """A detached CMS over ``content`` by the tenant's seal, time-stamped by our TSA when there is one.

        How evidence reports are signed (issue 5): anyone holding our root
        verifies them with ``openssl cms -verify`` and the report's bytes.
        ``long_term``: the seal's and the TSA's chains and revocation answers
        go into the SignedData too (CAdES-B-LT, ETSI EN 319 122-1 §6.3), so it
        verifies offline: the credit dossier's manifest (LOAN-14).
        """
        with self.registry.transaction(readonly=True) as tx:
            row = self.seals.find(tx, tenant)
        seal = self.seals.ready(row)
        identity = SignerIdentity(seal.certificate, seal.chain)
        attributes = identity.signed_attributes(digest(identity.hash_name, content))
        signature = seal.signer.sign(attributes, identity.hash_name)
        unsigned = ()
        if self.engine.tsa is not None:
            unsigned = (signature_time_stamp(self.engine.time_stamp_token(signature, identity.hash_name)),)
        der = identity.signed_data(attributes, signature, unsigned)
        if not long_term:
            return der
        data = seal.validation if seal.validation is not None else self.engine.long_term_data(
            [(seal.certificate, *seal.chain)])
        if seal.validation is not None:
            data = data + (self.engine.long_term_data([]) or type(data)())
        if data is None:
            return der
        return with_validation_data(der, data.certificates, data.ocsp_responses, data.crls)


__all__ = ["SealSigning"]
