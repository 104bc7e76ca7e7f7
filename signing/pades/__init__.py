"""PAdES and CMS: the mechanism that puts a signature into a PDF (issues 4, 6).

What belongs here: the PDF side of a signature (``pdf``: levels, the field
plan, prepare, embed, validation data and document time-stamps in the
document), the CMS SignedData built from DER (``signed_data``), the one code
path every signature takes (``engine``), our TSA in process
(``timestamps``), revocation data for B-LT (``validation_data``) and the
GOST signer for pyHanko (``gost_signer``). No registry writes, no policy:
the signing service above decides.

May import: nothing else of ``signing``; ``ca``, ``keys`` and ``registry`` below it.
"""

from signing.pades.engine import BackendKey, KeySigner, PAdESSigner, SignatureJob, SignatureRejected
from signing.pades.pdf import (
    FieldPlan,
    Level,
    PlaceholderTooSmall,
    PreparedSignature,
    ValidationData,
    add_document_time_stamp,
    add_validation_data,
    embed,
    prepare,
    reserve_for,
)

__all__ = ["BackendKey", "FieldPlan", "KeySigner", "Level", "PAdESSigner", "PlaceholderTooSmall",
           "PreparedSignature", "SignatureJob", "SignatureRejected", "ValidationData", "add_document_time_stamp",
           "add_validation_data", "embed", "prepare", "reserve_for"]
