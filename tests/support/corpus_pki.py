"""A small PKI of its own for the verification corpus (issue 14, items 1 and 4): a root, a CA, a TSA, signers.

Real certificates made with ``cryptography``, at dates the corpus chooses
(the legacy cases need signatures from before an algorithm's sunset, e.g.
SHA-1 in 2008), with a CRL distribution point on every certificate below the
root so that a verifier must find revocation data (the DSS's CRLs, PAdES
B-LT) or answer TRY_LATER. Time-stamps are real RFC 3161 tokens from
pyHanko's ``DummyTimeStamper`` at a fixed genTime, signed by the TSA here.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.verification.context import TrustAnchors

UTC = dt.timezone.utc
BEGIN = dt.datetime(2004, 1, 1, tzinfo=UTC)     # before SHA-1's sunset (2012-07-31)
END = dt.datetime(2060, 1, 1, tzinfo=UTC)
CRL_URL = "http://127.0.0.1:9/corpus/{name}.crl"   # never fetched: the corpus is verified offline
_serials = itertools.count(0x1000)
_rsa_keys: list = []


def _rsa() -> rsa.RSAPrivateKey:
    # RSA key generation is the slow part of the corpus; one key per role and process is enough.
    if len(_rsa_keys) < 4:
        _rsa_keys.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _rsa_keys[-1]
    return _rsa_keys[next(_serials) % 4]


def new_key(kind: str):  # noqa: ANN201 - a cryptography private key
    if kind == "rsa":
        return _rsa()
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p224":
        return ec.generate_private_key(ec.SECP224R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(kind)


@dataclass
class Holder:
    """A certificate and its private key."""

    name: str
    key: object
    certificate: x509.Certificate
    issuer: "Holder | None" = None

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.certificate.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        return asn1_keys.PrivateKeyInfo.load(self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    def chain(self) -> list["Holder"]:
        """This holder and its issuers up to the root."""
        out, here = [], self
        while here is not None:
            out.append(here)
            here = here.issuer
        return out


def _hash_for(key, hash_name: str):  # noqa: ANN001, ANN202
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return None
    return {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384()}[hash_name]


@dataclass
class CorpusPki:
    """Root -> CA -> signers, and root -> TSA; certificates valid from ``begin`` to ``end`` unless told otherwise."""

    begin: dt.datetime = BEGIN
    end: dt.datetime = END
    root: Holder = field(init=False)
    ca: Holder = field(init=False)
    tsa: Holder = field(init=False)

    def __post_init__(self) -> None:
        self.root = self._issue("CORPUS ROOT", new_key("rsa"), None, ca=True)
        self.ca = self._issue("CORPUS CA", new_key("rsa"), self.root, ca=True)
        self.tsa = self._issue("CORPUS TSA", new_key("rsa"), self.root, tsa=True)

    def _issue(self, name: str, key, issuer: Holder | None, *, ca: bool = False, tsa: bool = False,  # noqa: ANN001
               hash_name: str = "sha256", not_before: dt.datetime | None = None,
               not_after: dt.datetime | None = None) -> Holder:
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                             x509.NameAttribute(NameOID.COMMON_NAME, name)])
        signer_key = issuer.key if issuer is not None else key
        builder = (x509.CertificateBuilder()
                   .subject_name(subject).issuer_name(issuer.certificate.subject if issuer else subject)
                   .public_key(key.public_key()).serial_number(next(_serials))
                   .not_valid_before(not_before or self.begin).not_valid_after(not_after or self.end)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if issuer is not None:
            builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer.key.public_key()), critical=False)
            builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(CRL_URL.format(name=issuer.name.replace(" ", "-")))],
                None, None, None)]), critical=False)
        if ca:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                            critical=True)
        elif tsa:
            builder = builder.add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                                          False), critical=True)
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                                            critical=True)
        else:
            builder = builder.add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                                          False), critical=True)
        cert = builder.sign(signer_key, _hash_for(signer_key, hash_name))
        return Holder(name, key, cert, issuer)

    def signer(self, name: str, kind: str = "rsa", *, hash_name: str = "sha256",
               not_before: dt.datetime | None = None, not_after: dt.datetime | None = None) -> Holder:
        """An end entity under the CA with nonRepudiation (DOMAIN.md KZ-2), its key of ``kind``."""
        return self._issue(name, new_key(kind), self.ca, hash_name=hash_name, not_before=not_before,
                           not_after=not_after)

    def anchors(self) -> TrustAnchors:
        return TrustAnchors((self.root.asn1,))

    def crl(self, issuer: Holder, at: dt.datetime, revoked: dict[int, dt.datetime] | None = None
            ) -> asn1_crl.CertificateList:
        """``issuer``'s CRL issued at ``at`` (valid for a year), revoking ``revoked`` (serial -> date)."""
        builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.certificate.subject)
                   .last_update(at).next_update(at + dt.timedelta(days=365))
                   .add_extension(x509.CRLNumber(next(_serials)), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                                  critical=False))
        for serial, when in (revoked or {}).items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
        crl = builder.sign(issuer.key, hashes.SHA256())
        return asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER))

    def crls(self, at: dt.datetime, revoked: dict[int, dt.datetime] | None = None) -> list[asn1_crl.CertificateList]:
        """The CA's and the root's CRLs at ``at``: what a B-LT signature under this PKI needs."""
        return [self.crl(self.ca, at, revoked), self.crl(self.root, at, revoked)]

    def certificates(self) -> list[asn1_x509.Certificate]:
        return [self.root.asn1, self.ca.asn1, self.tsa.asn1]

    def timestamper(self, at: dt.datetime) -> DummyTimeStamper:
        """An RFC 3161 TSA answering with genTime ``at``."""
        return DummyTimeStamper(self.tsa.asn1, self.tsa.asn1_key,
                                certs_to_embed=SimpleCertificateStore.from_certs([self.tsa.asn1, self.root.asn1]),
                                fixed_dt=at, override_md="sha256")

    def simple_signer(self, holder: Holder, **kwargs) -> SimpleSigner:
        registry = SimpleCertificateStore.from_certs([h.asn1 for h in holder.chain()[1:]])
        return SimpleSigner(holder.asn1, holder.asn1_key, registry, **kwargs)


__all__ = ["BEGIN", "CorpusPki", "END", "Holder", "UTC", "new_key"]
