"""Our TSA as a pyHanko time stamper, in process: no HTTP between the signer and the TSA.

pyHanko's PdfSigner and PdfTimeStamper ask a ``TimeStamper`` for tokens
(signature time-stamps, document time-stamps, and a dummy one to size the
signature's placeholder). ``InProcessTimeStamper`` answers the one method
pyHanko leaves to transports, ``async_request_tsa_response``, by handing the
query's DER to ``TimeStampAuthority.respond``, exactly what ``POST /tsa``
does, so in-process and HTTP tokens cannot differ.
"""

from __future__ import annotations

import asyncio

from asn1crypto import tsp as asn1_tsp
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError

from ca.tsa import TimeStampAuthority
from ca.tsp import read_response


class InProcessTimeStamper(TimeStamper):
    """A pyHanko ``TimeStamper`` backed by a ``TimeStampAuthority`` in this process."""

    def __init__(self, tsa: TimeStampAuthority, include_nonce: bool = True) -> None:
        super().__init__(include_nonce=include_nonce)
        self.tsa = tsa

    async def async_request_tsa_response(self, req: asn1_tsp.TimeStampReq) -> asn1_tsp.TimeStampResp:
        # The TSA reads the registry's serial counter and signs: blocking
        # work, kept off the caller's event loop.
        der = await asyncio.to_thread(self.tsa.respond, req.dump())
        reply = read_response(der)
        if not reply.granted:
            # asn1crypto's TimeStampResp cannot hold a rejection (it declares
            # the token mandatory), so the refusal is raised here, as
            # pyHanko's own handling of a refused request would.
            raise TimestampRequestError(
                f"the time-stamp authority refused the request: statusString "
                f"\"{'; '.join(reply.texts)}\", failInfo \"{'; '.join(sorted(reply.fail_info))}\"")
        return asn1_tsp.TimeStampResp.load(der)
