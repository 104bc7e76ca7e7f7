"""Tenants: the MFOs the service signs for, created by an administrator with their seal (issue 15).

A tenant is its BIN (checksum, a legal entity's: ca/identity.py), its legal
name, its ``code`` (what its API keys, documents and webhook name; the BIN
unless given), its seal, and optionally its own signing policy (on or
above DOMAIN.md's floor). Everything is checked before anything is
written and every problem is listed at once; the seal certificate, the
tenant and the audit entry are written in one transaction.

The seal is either issued now by our national CA (profile ``legal-seal``:
the organisation and its BIN, the key generated in the configured backend,
software or PKCS#11), or imported: an accredited centre's certificate
(such as the NCA RK's) whose key is already in the HSM under the handle
given. An imported seal is checked as a client's accredited EDS is
(signing/factors/accredited.py: chain to an imported trust anchor, SIGN
usage, OCSP or CRL), must name the tenant's BIN, and its key must be the
certificate's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca import identity
from ca.clock import Clock
from ca.errors import ConflictError, InvalidInput, NotFound, Problem
from ca.issuance import IssuedCertificate, IssueRequest, KeySource
from ca.keycheck import load_certificate
from ca.subject import SubjectData
from registry import Conflict, Registry, SealSource, TenantRow, TenantStatus
from signing.factors.accredited import AccreditedIssuers
from signing.stamps import holder_numbers
from signing.tenants.policies import checked_policy
from signing.tenants.seals import SealKeys
from signing.tenants.views import TenantView, tenant_view

CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
SEAL_PROFILE = "legal-seal"
MAX_SHORT_NAME = 64   # NAT-2: a legal entity's short name is at most 64 characters


class SealIssuer(Protocol):
    """What tenants ask of issuance (ca.issuance.Issuance): the seal certificate, in the caller's unit of work."""

    def check_request(self, request: IssueRequest) -> tuple[Any, list[Problem]]: ...
    def issue(self, request: IssueRequest, *, holder_override: str | None = None, public_key: Any = None,
              tx: Any = None) -> IssuedCertificate: ...


@dataclass(frozen=True)
class SealOrder:
    """The seal to give a tenant: none of the fields, a new one of our national CA; both, an imported one."""

    certificate: bytes | None = None   # PEM or DER of an accredited centre's legal-entity certificate
    key_handle: str | None = None      # its key's handle in the configured backend (the HSM)

    @property
    def imported(self) -> bool:
        return self.certificate is not None or self.key_handle is not None


@dataclass(frozen=True)
class NewTenant:
    name: str
    bin: str
    code: str | None = None
    short_name: str | None = None
    seal: SealOrder = SealOrder()
    policy: object = None              # a signing policy as the loader reads it (JSON object or text); None: ours


class TenantService:
    def __init__(self, registry: Registry, clock: Clock, issuance: SealIssuer, keys: SealKeys,
                 accredited: AccreditedIssuers | None = None) -> None:
        self.registry = registry
        self.clock = clock
        self.issuance = issuance
        self.keys = keys
        self.accredited = accredited

    # -- onboarding ------------------------------------------------------------------

    def create(self, actor: str, command: NewTenant) -> TenantView:
        code = command.code if command.code is not None else command.bin
        problems = _identity_problems(command, code)
        _policy, policy_problems = (None, []) if command.policy is None else checked_policy(command.policy)
        problems += policy_problems
        short = command.short_name or (command.name.strip() if isinstance(command.name, str) else "")
        request = self._seal_request(actor, short, command.bin)
        imported, seal_problems = self._seal_problems(command.seal, command.bin, request)
        problems += seal_problems
        with self.registry.transaction(readonly=True) as tx:
            taken = _taken(tx, code, command.bin)
        if problems or taken:
            raise (ConflictError if taken and not problems else InvalidInput)("the tenant cannot be created",
                                                                               problems + taken)
        now = self.clock.now()
        try:
            with self.registry.transaction() as tx:
                source, der, handle = self._seal(tx, code, command.seal, imported, request)
                row = tx.tenants.add(TenantRow(
                    code=code, bin=command.bin, name=command.name.strip(), status=TenantStatus.ACTIVE,
                    seal_source=source, seal_serial=format(x509.load_der_x509_certificate(der).serial_number, "x"),
                    seal_der=der, seal_key_handle=handle, policy=_policy_json(command.policy),
                    created_at=now, created_by=actor, updated_at=now))
                tx.audit.append(at=now, actor=actor, action="tenant.created", subject=f"tenant:{code}",
                                details={"bin": command.bin, "name": row.name, "seal_source": source,
                                         "seal_serial": row.seal_serial, "own_policy": row.policy is not None})
                return tenant_view(tx, row)
        except Conflict as conflict:
            raise ConflictError("the tenant cannot be created", _taken_from(conflict, code, command.bin)) from None

    def replace_seal(self, actor: str, code: str, order: SealOrder) -> TenantView:
        """A new seal for the tenant (after its seal was revoked, or to import one); the old one is not used again."""
        current = self._row(code)
        request = self._seal_request(actor, _short_of(current), current.bin)
        imported, problems = self._seal_problems(order, current.bin, request)
        if problems:
            raise InvalidInput("the seal is refused", problems)
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.tenants.by_code(code, for_update=True)
            assert row is not None   # tenants are never deleted
            previous = row.seal_serial
            row.seal_source, row.seal_der, row.seal_key_handle = self._seal(tx, code, order, imported, request)
            row.seal_serial = format(x509.load_der_x509_certificate(row.seal_der).serial_number, "x")
            row.updated_at = now
            tx.audit.append(at=now, actor=actor, action="tenant.seal_replaced", subject=f"tenant:{code}",
                            details={"seal_source": row.seal_source, "seal_serial": row.seal_serial,
                                     "previous_serial": previous})
            return tenant_view(tx, row)

    def set_policy(self, actor: str, code: str, policy: object) -> TenantView:
        """The tenant's own signing policy (None: the installation's again); refused below the floor."""
        loaded, problems = (None, []) if policy is None else checked_policy(policy)
        if problems:
            raise InvalidInput("the tenant's signing policy is refused", problems)
        self._row(code)
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.tenants.by_code(code, for_update=True)
            assert row is not None
            row.policy, row.updated_at = _policy_json(policy), now
            tx.audit.append(at=now, actor=actor, action="tenant.policy_set", subject=f"tenant:{code}",
                            details={"fingerprint": loaded.fingerprint if loaded else None,
                                     "rules": [r.name for r in loaded.rules] if loaded else None})
            return tenant_view(tx, row)

    # -- suspension ------------------------------------------------------------------

    def suspend(self, actor: str, code: str, reason: str | None = None) -> TenantView:
        """From now on the tenant signs and uploads nothing; its documents stay readable."""
        return self._set_status(actor, code, TenantStatus.SUSPENDED, reason)

    def resume(self, actor: str, code: str, reason: str | None = None) -> TenantView:
        return self._set_status(actor, code, TenantStatus.ACTIVE, reason)

    def _set_status(self, actor: str, code: str, status: TenantStatus, reason: str | None) -> TenantView:
        if reason is not None and not 1 <= len(reason.strip()) <= 500:
            raise InvalidInput("the reason is refused", [Problem("reason", "must be 1-500 characters")])
        now = self.clock.now()
        with self.registry.transaction() as tx:
            row = tx.tenants.by_code(code, for_update=True) if code else None
            if row is None:
                raise NotFound(f"no tenant {code}")
            if row.status == status:
                raise ConflictError(f"tenant {code} is {status} already")
            row.status, row.updated_at = status, now
            action = "tenant.suspended" if status == TenantStatus.SUSPENDED else "tenant.resumed"
            tx.audit.append(at=now, actor=actor, action=action, subject=f"tenant:{code}",
                            details={"reason": reason.strip() if reason else None})
            return tenant_view(tx, row)

    # -- reading ---------------------------------------------------------------------

    def get(self, code: str) -> TenantView:
        with self.registry.transaction(readonly=True) as tx:
            row = tx.tenants.by_code(code) if code else None
            if row is None:
                raise NotFound(f"no tenant {code}")
            return tenant_view(tx, row)

    def list(self) -> list[TenantView]:
        with self.registry.transaction(readonly=True) as tx:
            return [tenant_view(tx, row) for row in tx.tenants.all()]

    def _row(self, code: str) -> TenantRow:
        with self.registry.transaction(readonly=True) as tx:
            row = tx.tenants.by_code(code) if code else None
        if row is None:
            raise NotFound(f"no tenant {code}")
        return row

    # -- the seal --------------------------------------------------------------------

    def _seal_request(self, actor: str, short_name: str, bin_: str) -> IssueRequest:
        subject = SubjectData(common_name=_common_name(short_name), organisation=short_name, bin=bin_)
        return IssueRequest(centre="national", profile=SEAL_PROFILE, subject=subject, actor=actor,
                            key=KeySource(service=True))

    def _seal_problems(self, order: SealOrder, bin_: str,
                       request: IssueRequest) -> tuple[x509.Certificate | None, list[Problem]]:
        if not order.imported:
            _profile, problems = self.issuance.check_request(request)
            # The subject's BIN and names are the tenant's, checked with the tenant's fields already.
            mine = ("subject.bin", "subject.common_name", "subject.organisation")
            return None, [Problem("seal." + p.field, p.message) for p in problems if p.field not in mine]
        problems: list[Problem] = []
        certificate = None
        if order.certificate is None:
            problems.append(Problem("seal.certificate", "is required with a key handle: the imported seal's "
                                                        "certificate (PEM or DER)"))
        else:
            try:
                certificate = load_certificate(order.certificate)
            except ValueError:
                problems.append(Problem("seal.certificate", "is not a PEM or DER X.509 certificate"))
        if not order.key_handle:
            problems.append(Problem("seal.key_handle", "is required with an imported certificate: its key's handle "
                                                       "in the HSM"))
        if certificate is None:
            return None, problems
        _iin, named_bin = holder_numbers(certificate)
        if named_bin != bin_:
            problems.append(Problem("seal.certificate", f"names BIN {named_bin or '(none)'}, not the tenant's {bin_}"))
        if self.accredited is None:
            problems.append(Problem("seal.certificate", "no accredited centre is trusted"))
        else:
            _accepted, refused = self.accredited.check(certificate)
            problems += [Problem("seal.certificate", p.message) for p in refused]
        if order.key_handle and not self.keys.matches(order.key_handle, certificate):
            problems.append(Problem("seal.key_handle", "names no key of the backend whose public key is the "
                                                       "certificate's"))
        return certificate, problems

    def _seal(self, tx: Any, code: str, order: SealOrder, imported: x509.Certificate | None,
              request: IssueRequest) -> tuple[str, bytes, str]:
        if imported is not None:
            assert order.key_handle is not None
            return SealSource.IMPORTED, imported.public_bytes(serialization.Encoding.DER), order.key_handle
        issued = self.issuance.issue(request, holder_override=f"tenant:{code}", tx=tx)
        assert issued.key_handle is not None
        return SealSource.NATIONAL, issued.certificate.public_bytes(serialization.Encoding.DER), issued.key_handle


def _common_name(short_name: str) -> str:
    """The seal's CN: the short name, cut to the 64 octets ``cryptography`` allows a CN in UTF-8 (RFC 5280's
    ub-common-name is 64 characters; a Cyrillic one takes two octets each). O carries the short name whole."""
    encoded = short_name.strip().encode()[:64]
    return encoded.decode(errors="ignore").rstrip() or short_name[:1]


def _identity_problems(command: NewTenant, code: str) -> list[Problem]:
    problems = []
    name = command.name.strip() if isinstance(command.name, str) else ""
    if not 1 <= len(name) <= 200 or not name.isprintable():
        problems.append(Problem("name", "must be 1-200 printable characters: the legal name"))
    bin_problems = identity.validate_bin(command.bin) if isinstance(command.bin, str) else ["must be a string"]
    if not bin_problems and command.bin[4] == "6":
        bin_problems = ["is a BIN of joint entrepreneurship (5th digit 6); an MFO is a legal entity"]
    problems += [Problem("bin", m) for m in bin_problems]
    if not CODE.fullmatch(code or ""):
        problems.append(Problem("code", "must be 2-64 characters: lower-case letters, digits and '-', "
                                        "starting with a letter or digit"))
    short = command.short_name if command.short_name is not None else name
    if command.short_name is not None and not command.short_name.strip():
        problems.append(Problem("short_name", "must not be empty; leave it out to use the name"))
    elif len(short.strip()) > MAX_SHORT_NAME:
        field = "short_name" if command.short_name is not None else "name"
        problems.append(Problem(field, f"the seal names the organisation in at most {MAX_SHORT_NAME} characters "
                                       "(NAT-2's short name); give a short_name"))
    return problems


def _taken(tx: Any, code: str, bin_: str) -> list[Problem]:
    taken = []
    if code and tx.tenants.by_code(code) is not None:
        taken.append(Problem("code", f"tenant {code} exists already"))
    if bin_ and tx.tenants.by_bin(bin_) is not None:
        taken.append(Problem("bin", f"a tenant with BIN {bin_} exists already"))
    return taken


def _taken_from(conflict: Conflict, code: str, bin_: str) -> list[Problem]:
    if conflict.constraint == "uq_tenants_bin":
        return [Problem("bin", f"a tenant with BIN {bin_} exists already")]
    return [Problem("code", f"tenant {code} exists already")]


def _short_of(row: TenantRow) -> str:
    names = x509.load_der_x509_certificate(row.seal_der).subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    return str(names[0].value) if names else row.name[:MAX_SHORT_NAME]


def _policy_json(policy: object) -> Any:
    import json

    return json.loads(policy) if isinstance(policy, (str, bytes)) else policy


__all__ = ["NewTenant", "SealOrder", "TenantService"]
