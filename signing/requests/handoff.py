"""Handing the EDS step to another device: the single-use, expiring link eGov mobile signs from (issue 20).

The borrower's page shows the link as a QR code (a second screen: the
phone scans the computer's screen) and as a deep link (the same phone opens
eGov mobile). The app asks the link for the data to sign, signs it with
the citizen's own NCA key (a detached CMS) and posts the CMS back — the
QR signing flow of eGov mobile that Kazakh signing services such as SIGEX
offer (the wire format is api/http/routes/mobile_signing.py's).

The link carries, sealed with a key derived from the master key (AES-256-GCM,
``keys.SecretBox``), the request, its token, the EDS session it was made for
and when it stops working; nothing of it is stored, and nobody can read or
make one without the key. It works only:

- until its own expiry (``link_ttl``, a few minutes, never past the EDS
  session's): later it is refused as expired;
- while its session is the request's current one: a newer EDS start (a
  new QR) replaces it;
- while the request is open: once the CMS it carried signed the document,
  the request is signed and the link is refused as used.

So one link signs at most once. A CMS that does not verify is a failed
factor like a wrong code (counted, and past the tolerance the request
locks); the link stays usable until it expires, as a code may be typed again.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Protocol

from ca.errors import NotFound, QoltanbaError
from keys import SecretUnreadable

CONTEXT = "eds handoff link"


class Box(Protocol):
    """``keys.SecretBox``: seal and open small secrets under a derived key."""

    def seal(self, plaintext: bytes, context: str) -> bytes: ...
    def open(self, sealed: bytes, context: str) -> bytes: ...


class LinkGone(QoltanbaError):
    """The link expired, was replaced by a newer one, or its request is no longer open (HTTP 410)."""

    def __init__(self, detail: str) -> None:
        super().__init__("link-gone", detail, [])


@dataclass(frozen=True)
class Handoff:
    """What a link opens: the request and its token, the EDS session, the link's own expiry."""

    request: str
    token: str
    session: str
    expires_at: dt.datetime


class HandoffLinks:
    def __init__(self, box: Box, clock, link_ttl: dt.timedelta = dt.timedelta(minutes=5)) -> None:  # noqa: ANN001
        if link_ttl <= dt.timedelta(0):
            raise ValueError("link_ttl must be positive")
        self.box = box
        self.clock = clock
        self.link_ttl = link_ttl

    def issue(self, request: str, token: str, session: str, session_expires_at: dt.datetime) -> tuple[str, Handoff]:
        """A new link for ``session``: (its path segment, what it opens)."""
        expires = min(self.clock.now() + self.link_ttl, session_expires_at)
        handoff = Handoff(request=request, token=token, session=session, expires_at=expires)
        body = json.dumps({"r": request, "t": token, "s": session, "e": int(expires.timestamp())},
                          separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self.box.seal(body, CONTEXT)).rstrip(b"=").decode(), handoff

    def open(self, link: str) -> Handoff:
        """What ``link`` opens; NotFound for anything we did not make, LinkGone once it expired."""
        try:
            if not isinstance(link, str) or len(link) > 1024:
                raise ValueError
            sealed = base64.urlsafe_b64decode(link + "=" * (-len(link) % 4))
            fields = json.loads(self.box.open(sealed, CONTEXT))
            handoff = Handoff(request=fields["r"], token=fields["t"], session=fields["s"],
                              expires_at=dt.datetime.fromtimestamp(fields["e"], dt.timezone.utc))
        except (ValueError, KeyError, TypeError, OverflowError, binascii.Error, SecretUnreadable):
            raise NotFound("no such signing link") from None
        if self.clock.now() >= handoff.expires_at:
            raise LinkGone("the signing link has expired; show a new QR code on the signing page")
        return handoff


__all__ = ["Handoff", "HandoffLinks", "LinkGone"]
