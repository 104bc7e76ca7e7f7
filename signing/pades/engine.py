"""One code path for every signature: prepare, obtain a signature value, complete.

The signature value comes from a key in one of our backends (the MFO's seal,
or a client's key the service holds and an authorisation unlocks), or from
outside: the client's own token returns either the raw signature over the
signed attributes, or a whole CMS over the document digest (NCALayer's hash
signing). :meth:`PAdESSigner.complete` accepts either and checks it before
anything is embedded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps import TimeStamper

from keys import KeyBackend, normalise_hash_name, verify_signature
from keys.backend import GOST_HASHES
from signing.pades.pdf import (
    FieldPlan,
    Level,
    PreparedSignature,
    ValidationData,
    add_document_time_stamp,
    add_validation_data,
    embed,
    prepare,
    reserve_for,
)
from signing.pades.signed_data import (
    DIGEST_OIDS,
    SignerIdentity,
    certificate_public_key,
    issuer_and_serial,
    signature_time_stamp,
)


class KeySigner(Protocol):
    """Anything that signs bytes with one key: a carrier key, a backend key, a token."""

    def sign(self, data: bytes, hash_name: str) -> bytes: ...


@dataclass(frozen=True)
class BackendKey:
    """A key held by one of our backends (software-encrypted or PKCS#11)."""

    backend: KeyBackend
    handle: str

    def sign(self, data: bytes, hash_name: str) -> bytes:
        return self.backend.sign(self.handle, data, hash_name)


class SignatureRejected(ValueError):
    """A signature value or CMS that does not fit what was prepared."""


class ValidationDataSource(Protocol):
    def collect(self, chains) -> ValidationData: ...


class TimeStamps(Protocol):
    """Our TSA, in-process (ca.tsa.TimeStampAuthority): an RFC 3161 token over a digest."""

    def stamp(self, digest: bytes, hash_name: str = "sha256") -> bytes: ...


@dataclass(frozen=True)
class SignatureJob:
    identity: SignerIdentity
    plan: FieldPlan
    level: Level = Level.B_LT


# Room for a CMS made by the client's own token: its chain and attributes are
# not ours to predict.
EXTERNAL_CMS_ALLOWANCE = 16 * 1024


class PAdESSigner:
    def __init__(self, clock, tsa: TimeStamps | None = None, timestamper: TimeStamper | None = None,
                 validation: ValidationDataSource | None = None,
                 tsa_chain: tuple[x509.Certificate, ...] = ()) -> None:
        """``tsa`` stamps signature values; ``timestamper`` (pyHanko's view of the
        same TSA) makes document time-stamps."""
        self.clock = clock
        self.tsa = tsa
        self.timestamper = timestamper
        self.validation = validation
        # The TSA's own chain goes into the DSS too: a B-LT signature's
        # time-stamp must be verifiable long after the TSA certificate expires.
        self.tsa_chain = tsa_chain

    def prepare(self, pdf: bytes, job: SignatureJob, *, external: bool = False) -> PreparedSignature:
        self._check_level(job.level)
        extra = EXTERNAL_CMS_ALLOWANCE if external else 0
        return prepare(pdf, job.identity, job.plan, signing_time=self.clock.now(),
                       reserve=reserve_for(job.identity, job.level, extra))

    def sign(self, pdf: bytes, job: SignatureJob, key: KeySigner) -> bytes:
        prepared = self.prepare(pdf, job)
        return self.complete(prepared, job, signature=key.sign(prepared.signed_attributes, prepared.hash_name))

    def complete(self, prepared: PreparedSignature, job: SignatureJob, *, signature: bytes | None = None,
                 cms: bytes | None = None, verify: bool = False,
                 validation: ValidationData | None = None) -> bytes:
        """Assemble the CMS, embed it, and raise the level to what the job asks.

        ``verify`` checks a raw signature against the certificate first:
        mandatory for values from outside, skipped for our own backends
        (the PKCS#11 backend checks its own output). ``validation``: the
        signer chain's revocation data, already fetched and checked by the
        caller (another centre's certificate); embedded as it is for B-LT.
        """
        if (signature is None) == (cms is None):
            raise ValueError("give exactly one of signature or cms")
        if cms is not None:
            container = self._client_cms(prepared, job, cms)
        else:
            if verify:
                try:
                    verify_signature(certificate_public_key(job.identity.certificate), signature,
                                     prepared.signed_attributes, prepared.hash_name)
                except InvalidSignature:
                    raise SignatureRejected("the signature does not verify with the signer's certificate "
                                            "over the signed attributes that were given out") from None
            unsigned = ()
            if job.level.time_stamped:
                unsigned = (signature_time_stamp(self.time_stamp_token(signature, prepared.hash_name)),)
            container = job.identity.signed_data(prepared.signed_attributes, signature, unsigned)
        pdf = embed(prepared, container)
        chains = [] if validation is not None else [(job.identity.certificate, *job.identity.chain)]
        return self.extend(pdf, job.level, chains, timestamp_field=f"{prepared.field_name}-TS", known=validation)

    def extend(self, pdf: bytes, level: Level, chains, *, timestamp_field: str,
               known: ValidationData | None = None) -> bytes:
        """B-LT: the DSS for the signer's chain (or ``known``, its data fetched already) and our TSA;
        B-LTA: a document time-stamp."""
        if not level.long_term:
            return pdf
        if self.tsa_chain:
            chains = [*chains, self.tsa_chain]
        data = self.validation.collect(chains)
        pdf = add_validation_data(pdf, known + data if known is not None else data)
        if level is Level.B_LTA:
            pdf = add_document_time_stamp(pdf, self.timestamper, timestamp_field)
        return pdf

    def long_term_data(self, chains) -> ValidationData | None:  # noqa: ANN001 - certificate chains, signer first
        """What B-LT embeds for ``chains`` and our TSA's chain; None without a validation source."""
        if self.validation is None:
            return None
        return self.validation.collect([*chains, self.tsa_chain] if self.tsa_chain else list(chains))

    def time_stamp_token(self, signature: bytes, hash_name: str) -> bytes:
        """Our TSA's token over a signature value (the signature time-stamp of B-T)."""
        # A time-stamp's imprint may use any hash (RFC 3161 §2.4.1): a GOST
        # signature value is stamped over its SHA-256, which every TSA speaks.
        if normalise_hash_name(hash_name) in GOST_HASHES:
            hash_name = "sha256"
        return self.tsa.stamp(hashlib.new(hash_name, signature).digest(), hash_name)

    def _check_level(self, level: Level) -> None:
        if level.time_stamped and self.tsa is None:
            raise ValueError(f"{level.value} needs a time-stamp authority")
        if level is Level.B_LTA and self.timestamper is None:
            raise ValueError("B-LTA needs a document time-stamper")
        if level.long_term and self.validation is None:
            raise ValueError(f"{level.value} needs a source of revocation data")

    def _client_cms(self, prepared: PreparedSignature, job: SignatureJob, der: bytes) -> bytes:
        """Check a CMS from the client's token and add our signature time-stamp."""
        try:
            info = asn1_cms.ContentInfo.load(der, strict=True)
            if info["content_type"].native != "signed_data":
                raise SignatureRejected("the CMS is not SignedData")
            signed = info["content"]
            signer_infos = signed["signer_infos"]
            if len(signer_infos) != 1:
                raise SignatureRejected("the CMS must hold exactly one signer")
            signer = signer_infos[0]
            attrs = signer["signed_attrs"]
            digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
            if digests != [prepared.document_digest]:
                raise SignatureRejected("the CMS does not sign this document's digest")
            # The digest OID we would write ourselves (for GOST the NCA's, DOMAIN.md KZ-5).
            if signer["digest_algorithm"]["algorithm"].dotted != DIGEST_OIDS[normalise_hash_name(prepared.hash_name)]:
                raise SignatureRejected(f"the CMS must use {prepared.hash_name}")
            if not _names_certificate(signer, job.identity.certificate):
                raise SignatureRejected("the CMS is signed by another certificate than the one announced")
            signed_attrs = b"\x31" + attrs.dump()[1:]
            signature = signer["signature"].native
            try:
                verify_signature(certificate_public_key(job.identity.certificate), signature, signed_attrs,
                                 prepared.hash_name)
            except InvalidSignature:
                raise SignatureRejected("the CMS signature does not verify") from None
            if job.level.time_stamped:
                token = asn1_cms.ContentInfo.load(self.time_stamp_token(signature, prepared.hash_name))
                unsigned = signer["unsigned_attrs"]
                existing = list(unsigned) if unsigned.native else []
                signer["unsigned_attrs"] = [*existing, {"type": "signature_time_stamp_token",
                                                        "values": [token]}]
            # The token usually sends its own certificate only; the chain
            # (unsigned, so ours to add) lets a verifier build the path offline.
            present = {c.chosen.dump() for c in signed["certificates"] or ()}
            extra = [c.public_bytes(serialization.Encoding.DER) for c in job.identity.chain]
            certificates = list(signed["certificates"] or ()) + [
                asn1_cms.CertificateChoices.load(d) for d in extra if d not in present]
            signed["certificates"] = certificates
            return info.dump()
        except SignatureRejected:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise SignatureRejected(f"the CMS cannot be read: {exc}") from None


def _names_certificate(signer, certificate: x509.Certificate) -> bool:
    sid = signer["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer, _serial = issuer_and_serial(certificate.public_bytes(serialization.Encoding.DER))
        return sid.chosen["serial_number"].native == certificate.serial_number and \
            sid.chosen["issuer"].dump() == issuer
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    return sid.chosen.native == ski


__all__ = ["BackendKey", "KeySigner", "PAdESSigner", "SignatureJob", "SignatureRejected"]
