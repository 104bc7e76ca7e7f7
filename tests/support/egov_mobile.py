"""An eGov mobile simulator: what the citizen's phone does with our QR code or deep link (issue 20).

NOT eGov mobile: a test client that plays the app's part of its QR signing
protocol (api/http/routes/mobile_signing.py): it reads the QR code's text
(``zbarimg`` on a picture of the screen), asks the link for the service
data, fetches the documents with the link's token, signs the data with the
citizen's key as a detached CMS and puts it back.

The citizen's key is the test's choice: ``nca_rk_signer()`` is the NCA RK's
real GOST 2015 test key from the project's vectors (tests/vectors/nca-rk),
which the Sign page refuses (its certificate expired on 2024-11-08 and is
not the one the borrower enrolled); a key our national CA issued to the
borrower is the one that signs. The NCA RK key cannot be accepted end to end
here: its OCSP and CRL live at test.pki.gov.kz, out of reach of a test, and
the service fails closed without them (LOAN-2); its IIN, 123456789011, is no
valid IIN, so no client can be registered under it
(tests/integration/test_sign_page.py shows both, with our clock inside its
validity).
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

PREFIX = "mobileSign:"
VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk"   # the project's copy of the NCA RK material


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


def nca_rk_signer():  # noqa: ANN201 - Callable[[bytes], bytes]
    """The citizen's key as eGov mobile would hold it, here the NCA RK's real GOST 2015 test key and certificate
    (tests/vectors/nca-rk/keys/individual_gost2015.p12, password Qwerty12; expired since 2024-11-08): data -> a
    detached CMS with the NCA's GOST test CA in it."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    from keys.gost.pkcs12 import load_gost_pkcs12
    from tests.support.gost_pki import to_crypto
    from tests.support.verification import our_cms

    def load(path: Path):  # noqa: ANN202
        data = path.read_bytes()
        return to_crypto(asn1_x509.Certificate.load(pem.unarmor(data)[2] if pem.detect(data) else data))

    key, _certificates = load_gost_pkcs12((VECTORS / "keys/individual_gost2015.p12").read_bytes(), "Qwerty12")
    certificate, issuer = load(VECTORS / "certs/individual_gost2015.cer"), load(VECTORS / "ca/nca_gost2015_test.cer")
    return lambda data: our_cms(key, certificate, (issuer,), data)
