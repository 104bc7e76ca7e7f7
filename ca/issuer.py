"""Building and signing certificates from a profile: the mechanism, no policy.

The issuer does what the profile says and nothing else; whether a request
may be issued at all was decided before it is called (ca/issuance.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.x509.oid import AuthorityInformationAccessOID, ObjectIdentifier

from ca.profiles import CertificateProfile, Role
from keys import key_identifier, placeholder_public_key
from keys.gost import GostPublicKey

# A holder's public key: what ``cryptography`` holds, or a GOST key (issue 7).
SubjectPublicKey = CertificateIssuerPublicKeyTypes | GostPublicKey

@dataclass(frozen=True)
class CAEndpoints:
    """Where relying parties find a CA's certificate, CRLs, OCSP and CPS."""

    base_url: str
    code: str

    @property
    def crl(self) -> str:
        return f"{self.base_url}/crl/{self.code}.crl"

    @property
    def delta_crl(self) -> str:
        return f"{self.base_url}/crl/{self.code}-delta.crl"

    @property
    def issuer_certificate(self) -> str:
        return f"{self.base_url}/ca/{self.code}.cer"

    @property
    def ocsp(self) -> str:
        return f"{self.base_url}/ocsp/{self.code}"

    @property
    def cps(self) -> str:
        return f"{self.base_url}/cps"


@dataclass(frozen=True)
class IssuingCA:
    """A CA able to sign: its certificate, key handle and endpoints."""

    code: str
    certificate: x509.Certificate
    key_handle: str
    endpoints: CAEndpoints
    centre_id: int = 0
    chain: tuple[x509.Certificate, ...] = field(default=())

    @cached_property
    def authority_key_identifier(self) -> x509.AuthorityKeyIdentifier:
        ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)

    @cached_property
    def shared_extensions(self) -> tuple[tuple[x509.ExtensionType, bool], ...]:
        """Extensions identical on everything this CA issues, built once."""
        e = self.endpoints
        return (
            (self.authority_key_identifier, False),
            (x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(e.crl)], None, None, None)]), False),
            (x509.FreshestCRL([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(e.delta_crl)], None, None, None)]), False),
            (x509.AuthorityInformationAccess([
                x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                       x509.UniformResourceIdentifier(e.issuer_certificate)),
                x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                       x509.UniformResourceIdentifier(e.ocsp)),
            ]), False),
        )


def key_usage(names: frozenset[str]) -> x509.KeyUsage:
    flags = {n: n in names for n in (
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign")}
    return x509.KeyUsage(**flags, encipher_only=False, decipher_only=False)


_KU_CACHE: dict[tuple[frozenset[str], bool], x509.KeyUsage] = {}


def _key_usage_for(names: frozenset[str], public_key: object) -> x509.KeyUsage:
    """The profile's key usage, fitted to the key type.

    An elliptic-curve key cannot encipher keys (RFC 5480 §3): where an AUTH
    profile asks for keyEncipherment (as the NCA's RSA certificates carry),
    an EC key gets keyAgreement, as the NCA's own GOST certificates do. A
    GOST key is treated the same way, for the same reason.
    """
    is_ec = isinstance(public_key, (ec.EllipticCurvePublicKey, GostPublicKey))
    cached = _KU_CACHE.get((names, is_ec))
    if cached is None:
        fitted = (names - {"key_encipherment"}) | {"key_agreement"} if is_ec and "key_encipherment" in names else names
        cached = _KU_CACHE.setdefault((names, is_ec), key_usage(fitted))
    return cached


def _policies(profile: CertificateProfile, cps_url: str) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([x509.PolicyInformation(ObjectIdentifier(profile.policy_oid), [cps_url])])


def _ekus(oids: tuple[str, ...]) -> x509.ExtendedKeyUsage:
    return x509.ExtendedKeyUsage([ObjectIdentifier(o) for o in oids])


class CASigner(Protocol):
    """The one CA key a certificate is signed with (``keys.KeySigner``, ``ca.signers.Signer``)."""

    def sign_certificate(self, builder: x509.CertificateBuilder, hash_name: str | None = None, *,
                         subject_public_key: SubjectPublicKey | None = None) -> x509.Certificate: ...


class CertificateIssuer:
    """Builds certificates from a profile and has the CA's signer sign them; holds no key."""

    def build(self, *, ca: IssuingCA | None, profile: CertificateProfile, subject: x509.Name,
              public_key: SubjectPublicKey, serial: int, not_before: dt.datetime,
              not_after: dt.datetime, roles: tuple[Role, ...] = (), email: str | None = None,
              cps_url: str | None = None) -> x509.CertificateBuilder:
        """The certificate as the profile shapes it; ``ca=None`` means self-signed.

        A GOST ``public_key`` cannot go into ``cryptography``'s builder: it
        carries a placeholder, and :meth:`sign` must be given the real key.
        """
        gost = isinstance(public_key, GostPublicKey)
        ski = (x509.SubjectKeyIdentifier(key_identifier(public_key)) if gost
               else x509.SubjectKeyIdentifier.from_public_key(public_key))  # type: ignore[arg-type]
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca.certificate.subject if ca else subject)
            .public_key(placeholder_public_key() if gost else public_key)  # type: ignore[arg-type]
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(ski, critical=False)
        )
        builder = builder.add_extension(_key_usage_for(profile.key_usage, public_key), critical=True)
        if profile.is_ca:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=profile.path_length
                                                                  if ca else None), critical=True)
        ekus = profile.ekus(roles)
        if ekus:
            builder = builder.add_extension(_ekus(ekus), critical=profile.eku_critical)
        if profile.ocsp_no_check:
            builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
        if email:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        cps = cps_url or (ca.endpoints.cps if ca else None)
        if cps:
            builder = builder.add_extension(_policies(profile, cps), critical=False)
        if ca is not None:
            for extension, critical in ca.shared_extensions:
                builder = builder.add_extension(extension, critical=critical)
        return builder

    @staticmethod
    def sign(builder: x509.CertificateBuilder, ca_key: CASigner,
             public_key: SubjectPublicKey | None = None) -> x509.Certificate:
        """Sign as the CA key ``ca_key``; ``public_key`` is the one given to :meth:`build`."""
        return ca_key.sign_certificate(builder, subject_public_key=public_key)

