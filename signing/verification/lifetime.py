"""Proof of existence over time: whether a chain's certificates still stand at the moment a proof is needed.

ETSI EN 319 102-1 §5.5 and §5.6 (and EU DSS, which implements them): a
time-stamp proves that something existed at its genTime only while the
time-stamp itself can be relied on, that is while every certificate of its
TSA's chain is within its validity period at the time the time-stamp is
itself known to exist: the validation time for the newest archive
(document) time-stamp, the genTime of the archive time-stamp after it for
an older one. Likewise a signature without an archive time-stamp after it
is judged at the validation time: once any certificate of its chain (the
signer's, a certification authority's) has expired, nothing proves the
signature existed while they were valid, and the answer is INDETERMINATE /
OUT_OF_BOUNDS_NO_POE. A B-LTA signature keeps its proof while the newest
archive time-stamp's chain stands; renewing the archive time-stamp before
then (a new document time-stamp over the DSS) extends it.

The revocation status is still read at the proven time (context.py): what
this module adds is the validity period at the time the proof is needed.
"""

from __future__ import annotations

import datetime as dt

from asn1crypto import x509 as asn1_x509

from signing.verification.words import expired_in_chain


def expired_at(path, moment: dt.datetime,  # noqa: ANN001 - ValidationPath
               leaf: asn1_x509.Certificate | None = None) -> asn1_x509.Certificate | None:
    """The first certificate of ``path`` (the leaf first, the trust anchor last) whose validity ended before ``moment``.

    With no validated path (the validation failed), only ``leaf`` is looked at.
    """
    if path is None:
        return leaf if leaf is not None and leaf["tbs_certificate"]["validity"]["not_after"].native < moment else None
    certificates = list(path.iter_certs(include_root=True))
    for cert in reversed(certificates):
        if cert["tbs_certificate"]["validity"]["not_after"].native < moment:
            return cert
    return None


def expiry_reason(cert: asn1_x509.Certificate) -> str:
    """The verdict's reason for a chain with ``cert`` expired at the validation time."""
    validity = cert["tbs_certificate"]["validity"]
    return expired_in_chain(_name(cert), validity["not_after"].native)


def _name(cert: asn1_x509.Certificate) -> str:
    for rdn in cert.subject.chosen:
        for attribute in rdn:
            if attribute["type"].native == "common_name":
                return str(attribute["value"].native)
    return cert.subject.human_friendly


__all__ = ["expired_at", "expiry_reason"]
