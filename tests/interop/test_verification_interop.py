"""Our verification reports against independent judges (issue 6): pdfsig (NSS) and openssl.

A home is served on loopback so that pdfsig asks its OCSP responder online,
as a reader's viewer would, and so that ``online`` verification fetches from
the URLs in the certificates. For every PDF made here, our report and
pdfsig's agree per signature on three questions: does the signature verify
(our ``intact`` and ``valid``), what happened to the certificate (trusted,
untrusted, revoked) and does it cover the whole file. Document time-stamps
are left out (pdfsig lists them without checking them). CMS signatures made
by ``openssl cms -sign`` (detached and attached) verify, and ``openssl cms
-verify`` agrees.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ca.revocation import RevocationRequest
from signing.stamps import holder_numbers
from signing.verification.context import TrustAnchors, VerificationOptions, read_certificates
from signing.verification import Verifier
from tests.support import factories as f
from tests.support.pdf_judges import nss_database, pdfsig
from tests.support.server import served_services
from tests.support.signing import client_with_held_key, latest_pdf, upload
from tests.support.tools import require_tool
from tests.support.verification import (
    anchors_of,
    sign_with_revoked_certificate,
    signed_contract,
    tampered,
    with_page_added,
)

pytestmark = pytest.mark.interop
NCA_ROOT = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk" / "ca" / "nca_rsa_test.crt"


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with served_services(tmp_path_factory.mktemp("verification-interop")) as svc:
        yield svc


@pytest.fixture(scope="module")
def nss(services, tmp_path_factory) -> Path:
    return nss_database(tmp_path_factory.mktemp("nss"), services.hierarchy.chain("national")[-1])


@pytest.fixture(scope="module")
def untrusting_nss(tmp_path_factory) -> Path:
    """An NSS database that trusts only the NCA RK's test root."""
    from cryptography import x509

    return nss_database(tmp_path_factory.mktemp("nss-nca"), x509.load_pem_x509_certificate(NCA_ROOT.read_bytes()))


def _pdfsig_says(signature) -> tuple[str, bool]:  # noqa: ANN001
    if not signature.signature_valid:
        outcome = "invalid"
    elif "Revoked" in signature.certificate:
        outcome = "revoked"
    elif signature.certificate == "Certificate is Trusted.":
        outcome = "trusted"
    else:
        outcome = "untrusted"
    return outcome, signature.total_document


def _we_say(entry: dict) -> tuple[str, bool]:
    if not (entry["intact"] and entry["valid"]):
        outcome = "invalid"
    elif entry["sub_indication"] in ("REVOKED", "REVOKED_NO_POE") or entry["revocation"]["status"] == "revoked":
        outcome = "revoked"
    elif entry["trust_anchor"] is not None:
        outcome = "trusted"
    else:
        outcome = "untrusted"
    return outcome, entry["coverage"] == "entire_file"


def _agree(tmp_path: Path, name: str, pdf: bytes, report: dict, nss_dir: Path) -> dict[str, tuple]:
    path = tmp_path / name
    path.write_bytes(pdf)
    theirs = {s.field: _pdfsig_says(s) for s in pdfsig(path, nss_dir) if not s.field.endswith("-TS")}
    ours = {e["field"]: _we_say(e) for e in report["signatures"] if e["kind"] == "signature"}
    assert ours == theirs, (name, ours, theirs)
    return ours


def test_reports_agree_with_pdfsig_on_every_contract_state(services, nss, untrusting_nss, tmp_path) -> None:
    verifier = Verifier(anchors_of(services))
    good, client, document = signed_contract(services, "B-LT")
    lta, _client, _document = signed_contract(services, "B-LTA")
    cases = {"good.pdf": good, "lta.pdf": lta, "tampered.pdf": tampered(good), "page-added.pdf": with_page_added(good)}
    seen = {}
    for name, pdf in cases.items():
        seen[name] = _agree(tmp_path, name, pdf, verifier.verify(pdf).as_json(), nss)
    assert seen["good.pdf"]["MFO-Seal"] == ("trusted", False) and seen["tampered.pdf"]["MFO-Seal"][0] == "invalid"
    stranger = Verifier(TrustAnchors(tuple(read_certificates(NCA_ROOT.read_bytes()))))
    untrusted = _agree(tmp_path, "untrusted.pdf", good, stranger.verify(good).as_json(), untrusting_nss)
    assert set(untrusted.values()) == {("untrusted", False)}


def test_revoked_before_signing_pdfsig_and_we_both_say_revoked(services, nss, tmp_path) -> None:
    client = client_with_held_key(services)
    document = upload(services, client.iin)
    services.revocations.revoke(RevocationRequest(serial=client.serial, actor="test", reason="key-compromise"))
    time.sleep(1.1)   # genTime is whole seconds: sign clearly after the revocation
    pdf = sign_with_revoked_certificate(services, client, latest_pdf(services, document.id), document.id)
    report = Verifier(anchors_of(services)).verify(pdf).as_json()
    assert _agree(tmp_path, "revoked.pdf", pdf, report, nss) == {"Client-Signature": ("revoked", False)}
    assert report["signatures"][0]["indication"] == "TOTAL-FAILED"


def _holder_files(services, directory: Path) -> tuple[Path, Path, Path, object]:
    issued = f.issue_person(services, password=b"cms-pin-2026")
    key, certificate, _others = pkcs12.load_key_and_certificates(issued.pkcs12, b"cms-pin-2026")
    paths = (directory / "holder.key", directory / "holder.pem", directory / "chain.pem")
    paths[0].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM)
                                  for c in services.hierarchy.chain("national")))
    return (*paths, issued)


@pytest.mark.parametrize("attached", [False, True], ids=["detached", "attached"])
def test_openssl_cms_signatures_verify_and_openssl_agrees(services, tmp_path, attached) -> None:
    openssl = require_tool("openssl")
    key, cert, chain, issued = _holder_files(services, tmp_path)
    content = tmp_path / "schedule.txt"
    content.write_bytes("График погашения, договор MK-2026/00042\n".encode())
    signature = tmp_path / "schedule.p7s"
    subprocess.run([openssl, "cms", "-sign", "-binary", "-md", "sha256", "-in", content, "-signer", cert,
                    "-inkey", key, "-certfile", chain, "-outform", "DER", "-out", signature,
                    *(["-nodetach"] if attached else [])], check=True, capture_output=True, timeout=60)
    root = tmp_path / "root.pem"
    root.write_bytes(services.hierarchy.chain("national")[-1].public_bytes(serialization.Encoding.PEM))
    judge = subprocess.run([openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-CAfile", root,
                            "-purpose", "any", "-out", "/dev/null",
                            *([] if attached else ["-content", content])], capture_output=True, timeout=60)
    assert judge.returncode == 0, judge.stderr
    verifier = Verifier(anchors_of(services))
    detached = None if attached else content.read_bytes()
    offline = verifier.verify(signature.read_bytes(), detached=detached).as_json()
    (entry,) = offline["signatures"]
    assert entry["kind"] == "cms" and entry["intact"] and entry["valid"]
    assert entry["signer"]["iin"] == holder_numbers(issued.certificate)[0]
    assert entry["sub_indication"] == "TRY_LATER"      # no revocation data inside, none fetched
    online = verifier.verify(signature.read_bytes(), detached=detached,
                             options=VerificationOptions(online=True, fetch_timeout=10)).as_json()
    assert online["indication"] == "TOTAL-PASSED", online["signatures"][0]["detail"]
    assert online["signatures"][0]["revocation"] == {**online["signatures"][0]["revocation"], "status": "good",
                                                     "source": "online"}
    if not attached:
        (spoilt,) = verifier.verify(signature.read_bytes(), detached=detached + b"!").signatures
        assert spoilt.verdict.sub_indication == "HASH_FAILURE"
        refused = subprocess.run([openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", signature,
                                  "-CAfile", root, "-purpose", "any", "-content", "/dev/stdin", "-out", "/dev/null"],
                                 input=detached + b"!", capture_output=True, timeout=60)
        assert refused.returncode != 0


def test_revoked_after_the_time_stamp_we_pass_on_the_time_stamp_and_pdfsig_checks_today(services, nss,
                                                                                         tmp_path) -> None:
    """The one deliberate difference: pdfsig validates the certificate now, we at the proven signing time."""
    pdf, client, _document = signed_contract(services, "B-LT")
    time.sleep(1.1)   # revoke clearly after the time-stamp's second
    services.revocations.revoke(RevocationRequest(serial=client.serial, actor="test", reason="key-compromise"))
    later = VerificationOptions(at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1))
    report = Verifier(anchors_of(services)).verify(pdf, options=later).as_json()
    assert report["indication"] == "TOTAL-PASSED"
    path = tmp_path / "revoked-later.pdf"
    path.write_bytes(pdf)
    client_says = {s.field: _pdfsig_says(s) for s in pdfsig(path, nss)}["Client-Signature"]
    assert client_says[0] == "revoked", client_says   # NSS asks the OCSP responder today
