"""An eGov mobile simulator: what the citizen's phone does with our QR code or deep link (issue 20).

NOT eGov mobile: a test client that plays the app's part of its QR signing
protocol (api/http/routes/mobile_signing.py): it reads the QR code's text
(``zbarimg`` on a picture of the screen), asks the link for the service
data, fetches the documents with the link's token, signs the data with the
citizen's key as a detached CMS and puts it back.
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

PREFIX = "mobileSign:"


def read_qr(png: Path) -> str:
    """The text of the one QR code in a picture (zbarimg, from zbar-tools)."""
    found = subprocess.run(["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(png)],
                           capture_output=True, text=True, timeout=30, check=True)
    return found.stdout.strip()


@dataclass
class Fetched:
    service: dict
    documents: dict
    token: str

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.documents["documentsToSign"][0]["document"]["file"]["data"])


class EgovMobileSimulator:
    """The app's side of the protocol; ``sign`` is the citizen's key: data -> detached CMS (DER)."""

    def __init__(self, sign) -> None:  # noqa: ANN001 - Callable[[bytes], bytes]
        self.sign = sign

    def fetch(self, scanned: str) -> Fetched | httpx.Response:
        """Steps 1 and 2; the refusal's response when the link is refused."""
        assert scanned.startswith(PREFIX), scanned
        service = httpx.get(scanned.removeprefix(PREFIX), timeout=30)
        if service.status_code != 200:
            return service
        body = service.json()
        token = body["document"]["auth_token"]
        documents = httpx.get(body["document"]["uri"], headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if documents.status_code != 200:
            return documents
        return Fetched(body, documents.json(), token)

    def put_back(self, fetched: Fetched, cms: bytes) -> httpx.Response:
        """Step 3: the same documents, each file's data now the CMS."""
        answer = fetched.documents
        answer["documentsToSign"][0]["document"]["file"]["data"] = base64.b64encode(cms).decode()
        return httpx.put(fetched.service["document"]["uri"], json=answer,
                         headers={"Authorization": f"Bearer {fetched.token}"}, timeout=60)

    def sign_from(self, scanned: str) -> httpx.Response:
        fetched = self.fetch(scanned)
        if not isinstance(fetched, Fetched):
            return fetched
        return self.put_back(fetched, self.sign(fetched.data))
