"""Who signed: certificates as the report shows them, read with asn1crypto.

Certificates come from documents made by any tool, so they are read with
asn1crypto (as pyHanko reads them) and every field is optional: a subject
without an IIN, a certificate without key usage, a name in an unusual string
type all still give a description.
"""

from __future__ import annotations

import warnings

from asn1crypto import x509 as asn1_x509
from cryptography import x509

from ca.profiles import EKU_INDIVIDUAL, EKU_ORGANISATION, Role
from ca.subject import holder_numbers
from signing.verification.report import CertificateView, SignerView

# DOMAIN.md KZ-4: the role a certificate grants, by extended key usage.
ROLE_EKUS = {EKU_INDIVIDUAL: "individual", EKU_ORGANISATION: "organisation", **{r.oid: r.value for r in Role}}

# The attribute names NCA RK subjects are written with (DOMAIN.md KZ-1), where
# RFC 4514 has none and cryptography would print the OID.
_SHORT_NAMES = {x509.NameOID.SERIAL_NUMBER: "SERIALNUMBER", x509.NameOID.SURNAME: "SURNAME",
                x509.NameOID.GIVEN_NAME: "G", x509.NameOID.EMAIL_ADDRESS: "E"}
_COMMON_NAME, _SERIAL_NUMBER = "2.5.4.3", "2.5.4.5"
_ORGANISATION, _UNIT = "2.5.4.10", "2.5.4.11"


def _attributes(name: asn1_x509.Name) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for rdn in name.chosen:
        for ava in rdn:
            value = ava["value"].native
            values.setdefault(ava["type"].dotted, []).append(value if isinstance(value, str) else str(value))
    return values


def _rfc4514(name: asn1_x509.Name) -> str:
    """RFC 4514 text of a name; asn1crypto's description when an attribute will not convert."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # the length warning of an unvalidated attribute
            return _cryptography_name(name).rfc4514_string(_SHORT_NAMES)
    except (ValueError, TypeError):
        return name.human_friendly


def _cryptography_name(name: asn1_x509.Name) -> x509.Name:
    # cryptography has no loader for a bare Name, so it is rebuilt attribute by attribute.
    rdns = []
    for rdn in name.chosen:
        attributes = []
        for ava in rdn:
            value = ava["value"].native
            # _validate=False: what cryptography does with the names it parses itself. The NCA RK's names
            # (Kazakh letters) pass 64 bytes in UTF-8 where RFC 5280's upper bounds count characters; validated,
            # they would be refused and the name said in asn1crypto's English words instead of RFC 4514.
            attributes.append(x509.NameAttribute(x509.ObjectIdentifier(ava["type"].dotted),
                                                 value if isinstance(value, str) else str(value), _validate=False))
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)


def certificate_view(cert: asn1_x509.Certificate) -> CertificateView:
    validity = cert["tbs_certificate"]["validity"]
    return CertificateView(subject=_rfc4514(cert.subject), issuer=_rfc4514(cert.issuer),
                           serial=format(cert.serial_number, "x"), sha256=cert.sha256.hex(),
                           not_before=validity["not_before"].native, not_after=validity["not_after"].native)


def key_usages(cert: asn1_x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(key usage names, extended key usage OIDs)."""
    try:
        ku = cert.key_usage_value
        eku = cert.extended_key_usage_value
    except (ValueError, TypeError):
        return (), ()
    usages = tuple(sorted(ku.native)) if ku is not None else ()
    extended = tuple(p.dotted for p in eku) if eku is not None else ()
    return usages, extended


def signer_view(cert: asn1_x509.Certificate) -> SignerView:
    """Name, IIN, BIN, organisation and roles of an NCA-style subject (DOMAIN.md KZ-1, KZ-4)."""
    attrs = _attributes(cert.subject)
    iin, bin_ = holder_numbers(attrs.get(_SERIAL_NUMBER, []), attrs.get(_UNIT, []))
    usages, extended = key_usages(cert)
    name = (attrs.get(_COMMON_NAME) or [cert.subject.human_friendly])[0]
    # A signing certificate in Kazakh practice (KZ-2) is the one with
    # nonRepudiation; an AUTH certificate (digitalSignature and
    # keyEncipherment) is meant for logging in, not for signing documents.
    fit = "non_repudiation" in usages
    return SignerView(name=name, iin=iin, bin=bin_,
                      organisation=(attrs.get(_ORGANISATION) or [None])[0],
                      roles=tuple(ROLE_EKUS[o] for o in extended if o in ROLE_EKUS),
                      certificate=certificate_view(cert), key_usage=usages, extended_key_usage=extended,
                      key_usage_fit=fit)


def chain_views(path) -> tuple[tuple[CertificateView, ...], CertificateView | None]:  # noqa: ANN001 - ValidationPath
    """The validated path, signer first, and the trust anchor it ends in."""
    if path is None:
        return (), None
    certs = list(path.iter_certs(include_root=True))
    views = tuple(certificate_view(c) for c in reversed(certs))
    anchor = None
    try:
        anchor = certificate_view(path.trust_anchor.authority.certificate)
    except (AttributeError, LookupError):
        anchor = None
    return views, anchor


def tsa_name(cert: asn1_x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    attrs = _attributes(cert.subject)
    return (attrs.get(_COMMON_NAME) or [cert.subject.human_friendly])[0]


__all__ = ["ROLE_EKUS", "certificate_view", "chain_views", "key_usages", "signer_view", "tsa_name"]
