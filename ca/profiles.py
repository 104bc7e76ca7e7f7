"""Certificate profiles: policy as immutable data, checked when built.

The layouts follow the NCA RK's practice (DOMAIN.md §2, KZ-1..KZ-5) as seen
in its public test certificates: SIGN certificates carry digitalSignature +
nonRepudiation and emailProtection; AUTH certificates digitalSignature +
keyEncipherment and clientAuth; both carry the role EKUs of KZ-4 and the
policy OIDs of KZ-3.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

# DOMAIN.md KZ-3: certificate policy OIDs of the NCA RK.
POLICY_LEGAL_SIGN = "1.2.398.3.3.2.1"
POLICY_LEGAL_AUTH = "1.2.398.3.3.2.2"
POLICY_INDIVIDUAL_SIGN = "1.2.398.3.3.2.3"
POLICY_INDIVIDUAL_AUTH = "1.2.398.3.3.2.4"
POLICY_CA = "1.2.398.3.3.1.1"
POLICY_TSA = "1.2.398.3.3.2.6.1"

# DOMAIN.md KZ-4: role extended key usages.
EKU_INDIVIDUAL = "1.2.398.3.3.4.1.1"
EKU_ORGANISATION = "1.2.398.3.3.4.1.2"


class Role(str, enum.Enum):
    """Roles of a legal entity's representative (KZ-4), named in kebab case."""

    FIRST_HEAD = "first-head"
    MAY_SIGN = "may-sign"
    FINANCIAL = "financial"
    HR = "hr"
    EMPLOYEE = "employee"

    @property
    def oid(self) -> str:
        return {
            Role.FIRST_HEAD: "1.2.398.3.3.4.1.2.1",
            Role.MAY_SIGN: "1.2.398.3.3.4.1.2.2",
            Role.FINANCIAL: "1.2.398.3.3.4.1.2.3",
            Role.HR: "1.2.398.3.3.4.1.2.4",
            Role.EMPLOYEE: "1.2.398.3.3.4.1.2.5",
        }[self]


class HolderKind(str, enum.Enum):
    INDIVIDUAL = "individual"
    LEGAL_ENTITY = "legal-entity"
    GOVERNMENT = "government"
    CA = "ca"
    SERVICE = "service"


KEY_USAGES = frozenset({
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
    "key_agreement", "key_cert_sign", "crl_sign",
})


@dataclass(frozen=True)
class CertificateProfile:
    """What a certificate of one kind looks like; the issuer only follows it."""

    name: str
    holder_kind: HolderKind
    key_usage: frozenset[str]
    policy_oid: str
    extended_key_usage: tuple[str, ...] = ()
    eku_critical: bool = False
    is_ca: bool = False
    path_length: int | None = None
    ocsp_no_check: bool = False
    validity: dt.timedelta = dt.timedelta(days=365)
    requires_iin: bool = False
    requires_bin: bool = False
    allows_roles: bool = False
    default_roles: tuple[Role, ...] = ()
    centres: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = self.key_usage - KEY_USAGES
        if unknown:
            raise ValueError(f"profile {self.name}: unknown key usage {sorted(unknown)}")
        if not self.key_usage:
            raise ValueError(f"profile {self.name}: a key usage is required")
        if self.is_ca != ("key_cert_sign" in self.key_usage):
            raise ValueError(f"profile {self.name}: keyCertSign goes with CA certificates only")
        for oid in (self.policy_oid, *self.extended_key_usage):
            ObjectIdentifier(oid)  # raises on a malformed OID
        if self.validity <= dt.timedelta(0):
            raise ValueError(f"profile {self.name}: validity must be positive")
        if not self.centres:
            raise ValueError(f"profile {self.name}: no centre issues it")

    def ekus(self, roles: tuple[Role, ...]) -> tuple[str, ...]:
        if roles and not self.allows_roles:
            raise ValueError(f"profile {self.name} takes no roles")
        chosen = roles or self.default_roles
        return self.extended_key_usage + tuple(role.oid for role in chosen)


SIGN_KU = frozenset({"digital_signature", "content_commitment"})
AUTH_KU = frozenset({"digital_signature", "key_encipherment"})
EMAIL_PROTECTION = ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string

PROFILES: dict[str, CertificateProfile] = {p.name: p for p in (
    CertificateProfile(
        name="individual-sign", holder_kind=HolderKind.INDIVIDUAL, key_usage=SIGN_KU,
        policy_oid=POLICY_INDIVIDUAL_SIGN, extended_key_usage=(EMAIL_PROTECTION, EKU_INDIVIDUAL),
        requires_iin=True, centres=frozenset({"national"}),
    ),
    CertificateProfile(
        name="individual-auth", holder_kind=HolderKind.INDIVIDUAL, key_usage=AUTH_KU,
        policy_oid=POLICY_INDIVIDUAL_AUTH, extended_key_usage=(CLIENT_AUTH, EKU_INDIVIDUAL),
        requires_iin=True, centres=frozenset({"national"}),
    ),
    CertificateProfile(
        name="legal-sign", holder_kind=HolderKind.LEGAL_ENTITY, key_usage=SIGN_KU,
        policy_oid=POLICY_LEGAL_SIGN, extended_key_usage=(EMAIL_PROTECTION, EKU_ORGANISATION),
        requires_iin=True, requires_bin=True, allows_roles=True, default_roles=(Role.EMPLOYEE,),
        centres=frozenset({"national"}),
    ),
    CertificateProfile(
        name="legal-auth", holder_kind=HolderKind.LEGAL_ENTITY, key_usage=AUTH_KU,
        policy_oid=POLICY_LEGAL_AUTH, extended_key_usage=(CLIENT_AUTH, EKU_ORGANISATION),
        requires_iin=True, requires_bin=True, allows_roles=True, default_roles=(Role.EMPLOYEE,),
        centres=frozenset({"national"}),
    ),
    # An MFO's seal (issue 15): the legal entity itself signs, not a person
    # acting for it, so the subject names the organisation and its BIN only
    # (CN and O the short name, NAT-2's 64 characters; OU=BIN, KZ-1) and no
    # IIN. The legal-entity signing policy and the organisation's EKU (KZ-3,
    # KZ-4); its key stays in the service's backend (a service holder).
    CertificateProfile(
        name="legal-seal", holder_kind=HolderKind.SERVICE, key_usage=SIGN_KU,
        policy_oid=POLICY_LEGAL_SIGN, extended_key_usage=(EMAIL_PROTECTION, EKU_ORGANISATION),
        requires_bin=True, centres=frozenset({"national"}),
    ),
    # The government-bodies CA's certificate is for signing within the state
    # bodies' document system (GOV-1); a state body is a legal entity, so the
    # legal-entity signing policy applies. Validity 1 year (GOV-7).
    CertificateProfile(
        name="government-employee", holder_kind=HolderKind.GOVERNMENT,
        key_usage=frozenset({"digital_signature", "content_commitment", "key_encipherment"}),
        policy_oid=POLICY_LEGAL_SIGN, extended_key_usage=(EMAIL_PROTECTION, CLIENT_AUTH, EKU_ORGANISATION),
        requires_iin=True, requires_bin=True, allows_roles=True, default_roles=(Role.EMPLOYEE,),
        centres=frozenset({"government"}),
    ),
    CertificateProfile(
        name="root-ca", holder_kind=HolderKind.CA, key_usage=frozenset({"key_cert_sign", "crl_sign"}),
        policy_oid=POLICY_CA, is_ca=True, validity=dt.timedelta(days=7305), centres=frozenset({"root"}),
    ),
    CertificateProfile(
        name="subordinate-ca", holder_kind=HolderKind.CA, key_usage=frozenset({"key_cert_sign", "crl_sign"}),
        policy_oid=POLICY_CA, is_ca=True, path_length=0, validity=dt.timedelta(days=3650),
        centres=frozenset({"root"}),
    ),
    # RFC 6960 §4.2.2.2.1: a delegated responder carries id-kp-OCSPSigning
    # and, so clients need not check its own status, id-pkix-ocsp-nocheck.
    CertificateProfile(
        name="ocsp-responder", holder_kind=HolderKind.SERVICE, key_usage=frozenset({"digital_signature"}),
        policy_oid=POLICY_CA, extended_key_usage=("1.3.6.1.5.5.7.3.9",), ocsp_no_check=True,
        validity=dt.timedelta(days=365), centres=frozenset({"root", "national", "government"}),
    ),
    # The audit log's checkpoints are signed with this key (issue 8): a
    # commitment to the log's state, hence contentCommitment; no EKU names it.
    CertificateProfile(
        name="audit", holder_kind=HolderKind.SERVICE, key_usage=frozenset({"digital_signature", "content_commitment"}),
        policy_oid=POLICY_CA, validity=dt.timedelta(days=1825), centres=frozenset({"national"}),
    ),
    # RFC 3161 §2.3: the TSA's only EKU is id-kp-timeStamping, marked critical.
    CertificateProfile(
        name="tsa", holder_kind=HolderKind.SERVICE, key_usage=frozenset({"digital_signature", "content_commitment"}),
        policy_oid=POLICY_TSA, extended_key_usage=("1.3.6.1.5.5.7.3.8",), eku_critical=True,
        validity=dt.timedelta(days=1825), centres=frozenset({"national"}),
    ),
)}


def profile(name: str) -> CertificateProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None
