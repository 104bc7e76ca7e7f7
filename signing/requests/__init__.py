"""Signing a document: the request put before the client, their proofs, the signature and the seal (issues 4, 5).

What belongs here: the signing request and its states (``lifecycle``), the
client's side of it (``proofs``: the factors), signing once the factors meet
the policy (``completion``), the evidence report the seal signs
(``evidence``), and the signing service that orchestrates a signature: the
client's held key, the client's own token, the MFO's seal (``service``, its
results in ``signatures``).

May import: every other room of ``signing`` (it is the top room; nothing in
``signing`` imports it); of ``verification`` only the ASiC-E format
(``verification.asic``), which the credit dossier (``dossier``, LOAN-14) is
written in.
"""

from signing.requests.lifecycle import (
    CANCELLED,
    EXPIRED,
    LOCKED,
    OPEN,
    SEALED,
    SIGNED,
    STATUSES,
    RequestView,
    SigningRequests,
    rule_of,
    token_digest,
)

__all__ = ["CANCELLED", "EXPIRED", "LOCKED", "OPEN", "SEALED", "SIGNED", "STATUSES", "RequestView",
           "SigningRequests", "rule_of", "token_digest"]
