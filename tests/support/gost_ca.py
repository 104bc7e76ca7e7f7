"""A small CA on a GOST key, built from the project's own issuer and profiles (issue 7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.issuer import CAEndpoints, CertificateIssuer, IssuingCA
from ca.profiles import PROFILES, HolderKind
from ca.subject import SubjectData, build_name
from keys import KeyAlgorithm, KeySigner, SoftwareKeyBackend

NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone.utc)


def parsed(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class GostCA:
    """A self-signed CA on ``algorithm`` (a root profile, so no other CA is needed) and what it issues."""

    def __init__(self, directory: Path, algorithm: KeyAlgorithm, at: dt.datetime = NOW) -> None:
        self.at = at
        self.backend = SoftwareKeyBackend(directory, b"k" * 32)
        self.issuer = CertificateIssuer()
        self.handle = self.backend.generate(algorithm, "ca-government").handle
        key = self.backend.public_key(self.handle)
        prof = PROFILES["root-ca"]
        builder = self.issuer.build(ca=None, profile=prof,
                                    subject=build_name(prof, SubjectData(common_name="GOST CA", organisation="Q")),
                                    public_key=key, serial=1 << 100, not_before=at - dt.timedelta(days=1),
                                    not_after=at + dt.timedelta(days=3650))
        self.certificate = self.issuer.sign(builder, KeySigner(self.backend, self.handle), key)
        self.ca = IssuingCA(code="government", certificate=self.certificate, key_handle=self.handle,
                            endpoints=CAEndpoints("http://ca.test", "government"))

    def issue(self, public_key, profile: str = "government-employee", serial: int = 7) -> x509.Certificate:
        prof = PROFILES[profile]
        if prof.holder_kind is HolderKind.SERVICE:
            subject = SubjectData(common_name=f"GOST CA {profile}", organisation="Q")
        else:
            subject = SubjectData(surname="ИВАНОВ", given_name="ИВАН", iin="900101300017",
                                  organisation="МИНИСТЕРСТВО", bin="190340000017")
        builder = self.issuer.build(ca=self.ca, profile=prof, subject=build_name(prof, subject),
                                    public_key=public_key, serial=serial, not_before=self.at - dt.timedelta(hours=1),
                                    not_after=self.at + dt.timedelta(days=365))
        return self.issuer.sign(builder, KeySigner(self.backend, self.handle), public_key)

    def new_key(self, algorithm: KeyAlgorithm, label: str) -> tuple[str, object]:
        handle = self.backend.generate(algorithm, label).handle
        return handle, self.backend.public_key(handle)
