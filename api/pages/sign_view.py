"""What the Sign page shows: the steps the policy asks, the review time, the contract's pages, the QR code.

Built from the client API's view of the request (``ClientRequestView``, the
same the ``/client/signing-requests`` routes answer) in the page's language:
the factors of the request's rule that the borrower has enrolled, which are
proven, what is left, the review window (LOAN-5) and the wrong tries left.
The contract is shown as pictures of its pages (poppler's ``pdftoppm``,
from the exact version the factors are bound to), so no PDF plug-in is
needed; the PDF itself is one link away.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import zxingcpp

from api.pages.i18n import Language
from signing.verification.words import N_

# The factors as the borrower reads them, and how each is proven on this page.
FACTOR_NAMES = {"sms": N_("One-time code by SMS"), "totp": N_("Code from your authenticator app"),
                "biometric": N_("Biometric check with movements"), "eds": N_("Your EDS (electronic digital "
                                                                                 "signature)"),
                "password": N_("Your personal cabinet password")}
MOVEMENTS = {"blink": N_("blink"), "smile": N_("smile"), "turn-left": N_("turn your head left"),
             "turn-right": N_("turn your head right"), "nod": N_("nod"), "look-up": N_("look up"),
             "look-down": N_("look down"), "open-mouth": N_("open your mouth")}
KINDS = {"contract": N_("Microcredit contract"), "amendment": N_("Supplementary agreement"),
         "application": N_("Application"), "consent": N_("Consent"), "schedule": N_("Repayment schedule"),
         "details_change": N_("Change of phone number or bank details")}
ORDER = ("sms", "totp", "biometric", "eds")


@dataclass
class Step:
    factor: str
    name: str
    proven: bool
    at: str = ""


@dataclass
class SignView:
    id: str
    status: str
    kind: str
    title: str
    number: str
    sha256: str
    steps: list[Step] = field(default_factory=list)
    review_open: bool = False
    review_until: str = ""
    review_left: str = ""
    expires_at: str = ""
    tries_left: int = 0
    can_confirm: bool = False
    eds_ready: bool = False     # every factor but the EDS is proven: the EDS may start
    needs_eds: bool = False

    def step(self, factor: str) -> Step | None:
        return next((s for s in self.steps if s.factor == factor), None)


def _factors_of(policy: dict) -> list[set[str]]:
    return [set(alternative.get("all_of", [])) for alternative in policy.get("any_of", [])]


def sign_view(shown, lang: Language, now: dt.datetime) -> SignView:  # noqa: ANN001 - ClientRequestView
    """The page's view of ``shown`` (the client API's ``ClientRequestView``)."""
    _ = lang.gettext
    request, document = shown.request, shown.document
    proven = {p["factor"]: p["at"] for p in request.proven}
    enrolled = set(shown.enrolled)
    alternatives = _factors_of(request.policy)
    # The first alternative the borrower's enrolled factors meet (the MFO made sure one exists); one that asks
    # only for "factors of N kinds" (LOAN-6) is met by every kind enrolled but the EDS.
    wanted: set[str] = set()
    for alternative in alternatives:
        if alternative and alternative <= enrolled:
            wanted = alternative
            break
        if not alternative:
            wanted = enrolled & set(ORDER) - {"eds"}
            break
    steps = [Step(factor=f, name=_(FACTOR_NAMES[f]), proven=f in proven,
                  at=lang.moment(proven[f]) if f in proven else "") for f in ORDER if f in wanted]
    review_open = now < request.review_until
    left = max(0, int((request.review_until - now).total_seconds() // 60) + (1 if review_open else 0))
    others_done = all(s.proven for s in steps if s.factor != "eds")
    return SignView(
        id=request.id, status=str(request.status), kind=_(KINDS.get(document.kind, document.kind)),
        title=document.title or "", number=document.contract_number, sha256=document.sha256, steps=steps,
        review_open=review_open, review_until=lang.moment(request.review_until),
        review_left=_("{hours} h {minutes} min").format(hours=left // 60, minutes=left % 60),
        expires_at=lang.moment(request.expires_at), tries_left=request.wrong_tries_left,
        can_confirm=shown.can_confirm and "eds" not in wanted, needs_eds="eds" in wanted,
        eds_ready="eds" in wanted and others_done and "eds" not in proven)


def movements(names, lang: Language) -> list[str]:  # noqa: ANN001 - the challenge's movements
    return [lang.gettext(MOVEMENTS[m]) if m in MOVEMENTS else m.replace("-", " ") for m in names]


# --- the EDS step: the open session's ways ----------------------------------------------------------

# eGov mobile's deep link on the same phone and the QR code's prefix for a second screen, as the
# open-source clients of its QR signing service give them (e.g. mitwork/kalkan's config/kalkan.php).
EGOV_DEEP_LINK = "https://mgovsign.page.link/?link={link}&isi=1476128386&ibi=kz.egov.mobile&apn=kz.mobile.mgov"
EGOV_QR_PREFIX = "mobileSign:"


@dataclass
class EdsPanel:
    certificates: list = field(default_factory=list)   # EnrolledCertificate
    session: str | None = None
    digest: str = ""          # base64, as NCALayer takes it
    digest_hex: str = ""
    hash_algorithm: str = ""
    expires_at: str = ""
    qr: str = ""
    deep_link: str = ""
    link_expires_at: str = ""
    ncalayer_url: str = ""


def eds_panel(services, request_id: str, token: str | None, lang: Language) -> EdsPanel:  # noqa: ANN001
    """The borrower's EDS certificates, and the open session's ways to sign (QR, deep link, NCALayer, upload)."""
    from urllib.parse import quote

    from ca.errors import ConflictError

    desk = services.borrower_desk
    panel = EdsPanel(certificates=list(desk.eds_certificates(request_id, token)),
                     ncalayer_url=services.settings.ncalayer_url)
    try:
        data = desk.data_to_sign(request_id, token)
    except ConflictError:
        return panel
    link, handoff = desk.handoff(request_id, token)
    url = f"{services.settings.base_url.rstrip('/')}/mobile-sign?link={link}"
    panel.session, panel.digest, panel.hash_algorithm = data.session, data.digest_b64, data.hash_algorithm
    panel.digest_hex = data.digest.hex()
    panel.expires_at, panel.link_expires_at = lang.moment(data.expires_at), lang.moment(handoff.expires_at)
    panel.qr = qr_data_uri(EGOV_QR_PREFIX + url)
    panel.deep_link = EGOV_DEEP_LINK.format(link=quote(url, safe=""))
    return panel


# --- the QR code of the eGov mobile link ----------------------------------------------------------


def qr_data_uri(text: str) -> str:
    """A QR code (ISO/IEC 18004, level M) for ``text`` as an SVG data: URI with its quiet zone."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    size, modules = image.shape[0], bytes(memoryview(image))
    quiet = 4
    paths = []
    for row in range(size):
        line = modules[row * size:(row + 1) * size]
        for run in re.finditer(rb"\x00+", line):
            paths.append(f"M{run.start() + quiet} {row + quiet}h{run.end() - run.start()}v1h-{run.end() - run.start()}z")
    side = size + 2 * quiet
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
           f'<rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{"".join(paths)}"/></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


# --- the contract's pages as pictures ---------------------------------------------------------------

_PAGES: collections.OrderedDict[tuple[str, int], bytes] = collections.OrderedDict()
_COUNTS: dict[str, int] = {}
_LOCK = threading.Lock()
_CACHED = 64
RESOLUTION = 110   # dots per inch: an A4 page ~910 px wide, sharp on a phone, light on the wire


def rendering_available() -> bool:
    return shutil.which("pdftoppm") is not None and shutil.which("pdfinfo") is not None


def page_count(sha256: str, pdf: bytes) -> int:
    """How many pages the PDF has (poppler's pdfinfo), 0 when it cannot tell."""
    if sha256 in _COUNTS:
        return _COUNTS[sha256]
    count = 0
    if rendering_available():
        with tempfile.TemporaryDirectory(prefix="qoltanba-pages-") as folder:
            source = Path(folder) / "d.pdf"
            source.write_bytes(pdf)
            found = subprocess.run(["pdfinfo", str(source)], capture_output=True, text=True, timeout=20,
                                   check=False)
            match = re.search(r"^Pages:\s+(\d+)", found.stdout, re.MULTILINE)
            count = int(match.group(1)) if match else 0
    _COUNTS[sha256] = count
    return count


def page_png(sha256: str, pdf: bytes, number: int) -> bytes | None:
    """Page ``number`` (from 1) as a PNG, cached by the version's digest; None when it cannot be drawn."""
    key = (sha256, number)
    with _LOCK:
        if key in _PAGES:
            _PAGES.move_to_end(key)
            return _PAGES[key]
    if not rendering_available() or not 1 <= number <= page_count(sha256, pdf):
        return None
    with tempfile.TemporaryDirectory(prefix="qoltanba-pages-") as folder:
        source, target = Path(folder) / "d.pdf", Path(folder) / "page"
        source.write_bytes(pdf)
        done = subprocess.run(["pdftoppm", "-png", "-r", str(RESOLUTION), "-f", str(number), "-l", str(number),
                               "-singlefile", str(source), str(target)], capture_output=True, timeout=30,
                              check=False)
        png = target.with_suffix(".png")
        if done.returncode != 0 or not png.exists():
            return None
        data = png.read_bytes()
    with _LOCK:
        _PAGES[key] = data
        while len(_PAGES) > _CACHED:
            _PAGES.popitem(last=False)
    return data


__all__ = ["EGOV_DEEP_LINK", "EGOV_QR_PREFIX", "EdsPanel", "SignView", "eds_panel", "Step", "movements", "page_count", "page_png", "qr_data_uri", "rendering_available",
           "sign_view"]
