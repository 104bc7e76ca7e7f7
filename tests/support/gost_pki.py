"""A GOST test PKI built directly from asn1crypto and keys/gost: a root and end-entity certificates.

Our CAs cannot issue GOST certificates yet (that is another piece of issue
7); these are shaped like the NCA RK's own (tests/vectors/nca-rk,
DOMAIN.md KZ-1, KZ-2, KZ-5): Kazakh key and signature OIDs, the NCA's
SubjectPublicKeyInfo and signature byte layout, an individual SIGN
certificate with digitalSignature + nonRepudiation and EKU emailProtection
+ the individual role. They name no OCSP responder and no CRL, so a
verifier has no revocation source to ask (status "not_checked").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from asn1crypto import algos, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509

import keys  # noqa: F401 - registers the GOST OIDs
from keys.gost import TC26_256_A, TC26_512_A, GostPrivateKey, GostPublicKey, signature_algorithm_der, spki_der
from keys.gost.x509 import scheme_for

ISSUED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class GostCA:
    key: GostPrivateKey
    certificate: asn1_x509.Certificate

    @property
    def crypto(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.certificate.dump())


def _name(**attrs: str) -> asn1_x509.Name:
    """A Name with one RDN per attribute in the order given (the NCA's order, KZ-1)."""
    rdns = [asn1_x509.Name.build({key: value}).chosen[0] for key, value in attrs.items()]
    return asn1_x509.Name(name="", value=asn1_x509.RDNSequence(rdns))


def _extensions(*, ca: bool, public_key_der: bytes, issuer_key_id: bytes | None) -> list[dict]:
    key_id = hashlib.sha1(public_key_der).digest()  # RFC 5280 §4.2.1.2 method (1) style
    extensions = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {"extn_id": "key_usage", "critical": True,
         "extn_value": {"key_cert_sign", "crl_sign"} if ca else {"digital_signature", "non_repudiation"}},
        {"extn_id": "key_identifier", "critical": False, "extn_value": key_id},
    ]
    if issuer_key_id is not None:
        extensions.append({"extn_id": "authority_key_identifier", "critical": False,
                           "extn_value": {"key_identifier": issuer_key_id}})
    if not ca:
        # KZ-2 SIGN certificate, KZ-3 individual signing policy, KZ-4 individual role.
        extensions.append({"extn_id": "extended_key_usage", "critical": False,
                           "extn_value": ["email_protection", "1.2.398.3.3.4.1.1"]})
        extensions.append({"extn_id": "certificate_policies", "critical": False,
                           "extn_value": [{"policy_identifier": "1.2.398.3.3.2.3"}]})
    return extensions


def _certificate(subject: asn1_x509.Name, public_key: GostPublicKey, issuer: asn1_x509.Name,
                 issuer_key: GostPrivateKey, *, ca: bool, issuer_key_id: bytes | None,
                 not_before: dt.datetime, days: int) -> asn1_x509.Certificate:
    spki = asn1_keys.PublicKeyInfo.load(spki_der(public_key))
    signature_algorithm = algos.SignedDigestAlgorithm.load(signature_algorithm_der(issuer_key.curve))
    tbs = asn1_x509.TbsCertificate({
        "version": "v3",
        "serial_number": secrets.randbits(159) | (1 << 158),
        "signature": signature_algorithm,
        "issuer": issuer,
        "validity": {"not_before": asn1_x509.Time({"utc_time": not_before}),
                     "not_after": asn1_x509.Time({"utc_time": not_before + dt.timedelta(days=days)})},
        "subject": subject,
        "subject_public_key_info": spki,
        "extensions": _extensions(ca=ca, public_key_der=public_key.to_bytes(), issuer_key_id=issuer_key_id),
    })
    # The NCA's byte layout (r ‖ s, little-endian halves) over Streebog of the TBS, as keys/gost signs.
    signature = issuer_key.sign(tbs.dump(), scheme_for(issuer_key.curve).hash_name)
    return asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": signature_algorithm,
                                  "signature_value": core.OctetBitString(signature)})


def gost_root(*, bits: int = 512, not_before: dt.datetime = ISSUED_AT, days: int = 3650) -> GostCA:
    """A self-signed GOST 2015 root, named like the NCA's test CA."""
    key = GostPrivateKey.generate(TC26_512_A if bits == 512 else TC26_256_A)
    name = _name(common_name="QOLTANBA TEST GOST ROOT", country_name="KZ")
    cert = _certificate(name, key.public_key(), name, key, ca=True, issuer_key_id=None,
                        not_before=not_before, days=days)
    return GostCA(key, cert)


def gost_end_entity(ca: GostCA, public_key: GostPublicKey, *, iin: str = "850505300123",
                    surname: str = "ТЕСТОВ", given: str = "ТЕСТ", patronymic: str = "ТЕСТОВИЧ",
                    not_before: dt.datetime = ISSUED_AT, days: int = 365) -> asn1_x509.Certificate:
    """An individual's SIGN certificate in the NCA layout (KZ-1) for ``public_key``."""
    subject = _name(common_name=f"{surname} {given}", surname=surname, serial_number=f"IIN{iin}",
                    country_name="KZ", given_name=patronymic)
    return _certificate(subject, public_key, ca.certificate.subject, ca.key, ca=False,
                        issuer_key_id=ca.certificate.key_identifier, not_before=not_before, days=days)


def to_crypto(certificate: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(certificate.dump())


__all__ = ["GostCA", "ISSUED_AT", "gost_end_entity", "gost_root", "to_crypto"]
