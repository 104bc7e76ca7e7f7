"""Checking an ASiC-E container (ETSI EN 319 162-1): its manifest's seal, its files, the signed files inside.

What the credit dossier (LOAN-14) is exported as, and what anyone may bring
back to ``POST /verify`` or ``qoltanba verify``. The container is read by
``asic.read_container`` within the verification's limits; then:

- the manifest's CAdES signature (``META-INF/signature*.p7s``, detached over
  the manifest's bytes) is verified as any CMS is (``cms.CmsVerification``):
  its entry is named by the signature file, the signer named as in any
  report; and it must be an organisation's seal, a certificate with the
  organisation's extended key usage and a BIN (DOMAIN.md KZ-4, KZ-1), or the
  container fails with ``not_seal``;
- every file the manifest lists must be there with the digest the manifest
  gives (else ``missing`` or ``changed``), and no file outside META-INF may be
  there unlisted (``unlisted``): each finding names its file;
- every signed PDF inside is verified by the same PDF verification as an
  uploaded PDF, its entries named ``<file>: <field>``; a detached CMS
  ``<name>.p7s`` beside ``<name>`` (the sealed evidence reports) is verified
  over it.

A finding about the container fails the whole report (``report.VerificationReport.verdict``)
whatever the signatures say.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import unquote

from signing.verification.asic import Container, Manifest, digest_of, parse_manifest
from signing.verification.cms import CmsVerification, cms_evidence, read_signed_data
from signing.verification.context import ContextFactory, Evidence, UnverifiableInput
from signing.verification.reading import broken, finish
from signing.verification.report import (
    CMS,
    FORMAT_FAILURE,
    HASH_FAILURE,
    SIG_CONSTRAINTS_FAILURE,
    ContainerFile,
    ContainerProblem,
    ContainerView,
    SignatureReport,
)

ORGANISATION = "organisation"   # certs.ROLE_EKUS: the organisation's EKU (DOMAIN.md KZ-4)
PdfEntries = Callable[[bytes], Awaitable[tuple[list[SignatureReport], list[str]]]]
Factories = Callable[[Evidence], ContextFactory]


class AsicVerification:
    """The entries and the container's view for one container; ``pdf`` verifies one PDF as the verifier does."""

    def __init__(self, container: Container, factories: Factories, time: dt.datetime, pdf: PdfEntries) -> None:
        self.container = container
        self.factories = factories
        self.time = time
        self.pdf = pdf
        # The manifest signature's certificates and revocation answers (CAdES-B-LT) serve the detached CMS
        # inside too, as a PDF's DSS serves all its signatures: the evidence reports are sealed by the same seal.
        self.shared = Evidence()

    async def reports(self) -> tuple[list[SignatureReport], ContainerView, list[str]]:
        manifest = parse_manifest(self.container.manifest)
        entries = await self._detached(self.container.signature_name, self.container.signature,
                                       self.container.manifest, manifest_signature=True)
        problems = [ContainerProblem("not_seal", self.container.signature_name, SIG_CONSTRAINTS_FAILURE)
                    for entry in entries[:1] if not _seal(entry)]
        files, file_problems = self._files(manifest)
        problems += file_problems
        warnings: list[str] = []
        counted: dict[str, int] = {}
        for name in sorted(f.name for f in files if f.status in ("unchanged", "changed", "unlisted")):
            found, said = await self._signed(name)
            if found is None:
                problems.append(ContainerProblem("unreadable", name, FORMAT_FAILURE))
                continue
            counted[name] = len(found)
            entries += found
            warnings += [f"{name}: {w}" for w in said]
        files = [replace(f, signatures=counted.get(f.name, 0)) for f in files]
        view = ContainerView(manifest=self.container.manifest_name, signature=self.container.signature_name,
                             files=tuple(files), problems=tuple(problems))
        return entries, view, warnings

    def _files(self, manifest: Manifest) -> tuple[list[ContainerFile], list[ContainerProblem]]:
        """Each listed file against its digest, then each file the manifest does not list."""
        entries = self.container.entries
        files, problems, listed = [], [], set()
        for ref in manifest.references:
            # A URI (EN 319 162-1 A.4): another tool may percent-encode a name ("a%20b.pdf" for "a b.pdf").
            if ref.name not in entries and unquote(ref.name) in entries:
                ref = replace(ref, name=unquote(ref.name))
            listed.add(ref.name)
            content = entries.get(ref.name)
            sha256 = hashlib.sha256(content).hexdigest() if content is not None else None
            if content is None or ref.name in ("mimetype", self.container.manifest_name):
                status, sub = "missing", FORMAT_FAILURE
            elif ref.algorithm is None:
                status, sub = "unknown_digest", FORMAT_FAILURE
            elif digest_of(ref.algorithm, content) != ref.digest:
                status, sub = "changed", HASH_FAILURE
            else:
                status, sub = "unchanged", None
            files.append(ContainerFile(ref.name, ref.mime_type, status, sha256))
            if sub is not None:
                problems.append(ContainerProblem(status, ref.name, sub))
        for name in self.container.data_names():
            if name not in listed:
                files.append(ContainerFile(name, None, "unlisted", hashlib.sha256(entries[name]).hexdigest()))
                problems.append(ContainerProblem("unlisted", name, FORMAT_FAILURE))
        return files, problems

    async def _signed(self, name: str) -> tuple[list[SignatureReport] | None, list[str]]:
        """The entries of a signed file inside: a PDF's signatures, or a detached CMS over its neighbour."""
        content = self.container.entries[name]
        if b"%PDF-" in content[:1024]:
            try:
                found, warnings = await self.pdf(content)
            except UnverifiableInput:
                return None, []
            return [finish(replace(e, field=f"{name}: {e.field}" if e.field else name)) for e in found], warnings
        signed_file = name[:-len(".p7s")] if name.endswith(".p7s") else None
        if signed_file is not None and signed_file in self.container.entries:
            return await self._detached(name, content, self.container.entries[signed_file]), []
        return [], []

    async def _detached(self, name: str, signature: bytes, content: bytes, *,
                        manifest_signature: bool = False) -> list[SignatureReport]:
        """A detached CMS over ``content``, its entries named by the signature's file."""
        try:
            signed = read_signed_data(signature)
            try:
                evidence = cms_evidence(signed)
            except Exception:  # noqa: BLE001 - unreadable revocation data is no revocation data
                evidence = Evidence()
            if manifest_signature:
                self.shared = evidence
            else:
                evidence = evidence.plus(self.shared)
            found = await CmsVerification(signed, content, self.factories(evidence), self.time).reports()
        except UnverifiableInput as refused:
            return [broken(name, CMS, refused)]
        several = len(found) > 1
        return [finish(replace(e, field=f"{name} {e.field}" if several else name)) for e in found]


def _seal(entry: SignatureReport) -> bool:
    """An organisation's certificate: the organisation's EKU and a BIN (a seal, or a legal entity's signature)."""
    signer = entry.signer
    return signer is not None and ORGANISATION in signer.roles and bool(signer.bin)


__all__ = ["AsicVerification"]
