"""ASiC-E containers (ETSI EN 319 162-1): written for the credit dossier, read defensively for verification.

An ASiC-E with CAdES (EN 319 162-1 §4.4, Annex A) is a ZIP whose first
entry is ``mimetype``, stored uncompressed and without extra fields, saying
``application/vnd.etsi.asic-e+zip``; then the data files; then
``META-INF/ASiCManifest.xml``, which lists each data file with its digest
(the ``ASiCManifest`` schema of EN 319 162-1 Annex A.4, namespace
``http://uri.etsi.org/02918/v1.2.1#``, digests in XML-DSig's
``DigestMethod``/``DigestValue``); and ``META-INF/signature*.p7s``, a CAdES
signature detached over the manifest's bytes, named by the manifest's
``SigReference``.

Reading takes a ZIP anyone may send: every entry is checked before a byte
is inflated (its name, its declared size against the verification's limit,
its compression ratio, encryption, the compression method), and inflating
stops at the declared size, so a zip bomb, a path traversal name or a huge
entry is refused with every reason at once (``ContainerRefused``), never
unpacked. Nothing is written to disk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from ca.errors import Problem
from signing.verification.inputs import UnverifiableInput

MIMETYPE = "application/vnd.etsi.asic-e+zip"
MANIFEST = "META-INF/ASiCManifest.xml"
SIGNATURE = "META-INF/signature001.p7s"
SIGNATURE_MIME = "application/pkcs7-signature"   # RFC 5751 §3.2.1, as the EU DSS writes it
ASIC_NS = "http://uri.etsi.org/02918/v1.2.1#"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
# XML-DSig / XML Encryption digest identifiers (RFC 6931 §2.1 for SHA-384).
DIGESTS = {"http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
           "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
           "http://www.w3.org/2001/04/xmlenc#sha512": "sha512"}
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

MAX_ENTRIES = 2000          # a dossier of a long loan holds a few hundred files at most
MAX_NAME = 255              # bytes of one name (most file systems' limit)
MAX_RATIO = 200             # inflated : compressed, for an entry over RATIO_FLOOR (a zip bomb's is thousands)
RATIO_FLOOR = 1024 * 1024
MAX_MANIFEST = 4 * 1024 * 1024
_SIGNATURE_NAME = re.compile(r"META-INF/[^/]*signature[^/]*\.p7s")
_DRIVE = re.compile(r"^[A-Za-z]:")


class ContainerRefused(UnverifiableInput):
    """The ZIP is not an ASiC-E this verifier reads, or is hostile; ``reasons`` lists every reason found."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("the container cannot be verified: " + "; ".join(reasons))
        self.reasons = reasons
        self.problems = [Problem("file", reason) for reason in reasons]   # every reason, in problem+json


@dataclass(frozen=True)
class DataFile:
    """A file to put in a container: its name inside it, its media type, its bytes."""

    name: str
    mime_type: str
    content: bytes


@dataclass(frozen=True)
class Reference:
    """One ``DataObjectReference`` of a manifest: what the signer says the file was."""

    name: str
    mime_type: str | None
    algorithm: str | None      # hashlib's name, None when the manifest names a digest we do not know
    digest: bytes


@dataclass(frozen=True)
class Manifest:
    signature: str | None      # the SigReference's URI
    references: tuple[Reference, ...]


@dataclass(frozen=True)
class Container:
    """What a container holds, read within the limits: every entry's bytes by name, META-INF included."""

    entries: dict[str, bytes]
    manifest_name: str
    signature_name: str

    @property
    def manifest(self) -> bytes:
        return self.entries[self.manifest_name]

    @property
    def signature(self) -> bytes:
        return self.entries[self.signature_name]

    def data_names(self) -> list[str]:
        return [name for name in self.entries if name != "mimetype" and not name.startswith("META-INF/")]


def looks_like_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


# -- writing ------------------------------------------------------------------------------------------

def manifest_xml(files: list[DataFile], signature: str = SIGNATURE) -> bytes:
    """The ``ASiCManifest`` naming ``signature`` and each file with its SHA-256 (EN 319 162-1 A.4)."""
    ElementTree.register_namespace("asic", ASIC_NS)
    ElementTree.register_namespace("ds", DS_NS)
    root = ElementTree.Element(f"{{{ASIC_NS}}}ASiCManifest")
    ElementTree.SubElement(root, f"{{{ASIC_NS}}}SigReference", {"URI": signature, "MimeType": SIGNATURE_MIME})
    for file in files:
        ref = ElementTree.SubElement(root, f"{{{ASIC_NS}}}DataObjectReference",
                                     {"URI": file.name, "MimeType": file.mime_type})
        ElementTree.SubElement(ref, f"{{{DS_NS}}}DigestMethod", {"Algorithm": SHA256})
        value = ElementTree.SubElement(ref, f"{{{DS_NS}}}DigestValue")
        value.text = base64.b64encode(hashlib.sha256(file.content).digest()).decode()
    return ElementTree.tostring(root, encoding="UTF-8", xml_declaration=True)


def write_container(files: list[DataFile], manifest: bytes, signature: bytes, *,
                    signature_name: str = SIGNATURE) -> bytes:
    """The ZIP: ``mimetype`` first and stored, the files (deflated), the manifest and its signature."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype", date_time=(1980, 1, 1, 0, 0, 0)), MIMETYPE.encode(),
                         compress_type=zipfile.ZIP_STORED)
        for name, content in [*((f.name, f.content) for f in files), (MANIFEST, manifest),
                              (signature_name, signature)]:
            archive.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# -- reading ------------------------------------------------------------------------------------------

def _name_problem(name: str) -> str | None:
    """Why an entry's name is refused: a path that would leave the container, or is not a plain name."""
    if not name or len(name.encode("utf-8", "replace")) > MAX_NAME:
        return "has an empty or over-long name"
    if any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        return "has control characters in its name"
    if name.startswith("/") or "\\" in name or _DRIVE.match(name):
        return "has an absolute or backslashed path"
    parts = name.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "has a path with '..', '.' or an empty step (path traversal)"
    return None


def read_container(data: bytes, max_bytes: int) -> Container:
    """Every entry within the limits, or ``ContainerRefused`` listing every reason; ``max_bytes``: all inflated."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError):
        raise ContainerRefused(["it is not a readable ZIP file (its central directory is damaged or missing)"]) \
            from None
    # Every reason the directory alone gives, before a byte is inflated.
    reasons = _entry_reasons(infos, max_bytes) + _layout_reasons(infos)
    if reasons:
        raise ContainerRefused(reasons)
    entries: dict[str, bytes] = {}
    for info in infos:
        if info.is_dir():
            continue
        try:
            entries[info.filename] = _inflate(archive, info)
        except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError, RuntimeError,
                UnicodeError):
            reasons.append(f"entry {info.filename!r} cannot be unpacked (damaged, or its checksum does not match)")
    if entries.get("mimetype", b"").strip() != MIMETYPE.encode():
        reasons.append(f"its 'mimetype' does not say {MIMETYPE}")
    if reasons:
        raise ContainerRefused(reasons)
    manifest = manifest_name(entries)
    return Container(entries, manifest, signature_name(entries, manifest))


def _entry_reasons(infos: list[zipfile.ZipInfo], max_bytes: int) -> list[str]:
    reasons = []
    if len(infos) > MAX_ENTRIES:
        return [f"it has {len(infos)} entries, over the limit of {MAX_ENTRIES}"]
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        problem = _name_problem(name)
        if problem is not None:
            reasons.append(f"entry {name!r} {problem}")
        if name.casefold() in seen:
            reasons.append(f"entry {name!r} appears more than once")
        seen.add(name.casefold())
        if info.flag_bits & 0x1:
            reasons.append(f"entry {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            reasons.append(f"entry {name!r} uses a compression method other than stored or deflated")
        if info.file_size > max_bytes:
            reasons.append(f"entry {name!r} unpacks to {info.file_size} bytes, over the limit of {max_bytes}")
        elif info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            reasons.append(f"entry {name!r} would inflate {info.file_size // max(info.compress_size, 1)} times "
                           "(a zip bomb)")
        total += info.file_size
    if total > max_bytes and not any("over the limit" in r for r in reasons):
        reasons.append(f"its entries unpack to {total} bytes together, over the limit of {max_bytes}")
    return reasons


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The entry's bytes, never more than it declared (zipfile stops there and checks the CRC)."""
    chunks, read = [], 0
    with archive.open(info) as stream:
        while chunk := stream.read(64 * 1024):
            read += len(chunk)
            if read > info.file_size:
                raise ValueError("longer than declared")
            chunks.append(chunk)
    return b"".join(chunks)


def _layout_reasons(infos: list[zipfile.ZipInfo]) -> list[str]:
    """EN 319 162-1 A.1 and §4.4.3: ``mimetype`` first and stored, one manifest, its signature in META-INF."""
    reasons = []
    entries = [info.filename for info in infos if not info.is_dir()]
    first = infos[0] if infos else None
    if first is None or first.filename != "mimetype":
        reasons.append("its first entry is not 'mimetype' (EN 319 162-1 A.1)")
    elif first.compress_type != zipfile.ZIP_STORED:
        reasons.append("its 'mimetype' entry is compressed; EN 319 162-1 A.1 wants it stored")
    manifests = [n for n in entries if n.startswith("META-INF/") and "ASiCManifest" in n and n.endswith(".xml")]
    if not manifests:
        reasons.append(f"it has no manifest ({MANIFEST}): not an ASiC-E with CAdES")
    elif len(manifests) > 1:
        reasons.append(f"it has {len(manifests)} manifests; this verifier checks a container with one")
    if not any(_SIGNATURE_NAME.fullmatch(n) for n in entries):
        reasons.append("it has no signature (META-INF/signature*.p7s)")
    return reasons


def manifest_name(entries: dict[str, bytes]) -> str:
    return next(n for n in entries if n.startswith("META-INF/") and "ASiCManifest" in n and n.endswith(".xml"))


def signature_name(entries: dict[str, bytes], manifest: str) -> str:
    """The signature the manifest names (its SigReference), else the one signature file there is."""
    try:
        named = parse_manifest(entries[manifest]).signature
    except ContainerRefused:
        named = None
    if named in entries and _SIGNATURE_NAME.fullmatch(named):
        return named
    return next(n for n in sorted(entries) if _SIGNATURE_NAME.fullmatch(n))


def parse_manifest(xml: bytes) -> Manifest:
    """The manifest's references; a DTD (entities, a billion laughs) or a broken document is refused."""
    if len(xml) > MAX_MANIFEST:
        raise ContainerRefused([f"its manifest is over {MAX_MANIFEST} bytes"])
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise ContainerRefused(["its manifest declares a DTD or entities, which an ASiCManifest never has"])
    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, ValueError):
        raise ContainerRefused(["its manifest is not well-formed XML"]) from None
    if root.tag != f"{{{ASIC_NS}}}ASiCManifest":
        raise ContainerRefused(["its manifest is not an ASiCManifest (EN 319 162-1 A.4)"])
    sig = root.find(f"{{{ASIC_NS}}}SigReference")
    references, reasons = [], []
    for ref in root.findall(f"{{{ASIC_NS}}}DataObjectReference"):
        uri = ref.get("URI") or ""
        method = ref.find(f"{{{DS_NS}}}DigestMethod")
        value = ref.find(f"{{{DS_NS}}}DigestValue")
        try:
            digest = base64.b64decode("".join((value.text or "").split()), validate=True) if value is not None \
                else b""
        except (binascii.Error, ValueError):
            digest = b""
        if not uri or not digest:
            reasons.append(f"its manifest's reference {uri!r} has no URI or no digest value")
            continue
        algorithm = DIGESTS.get(method.get("Algorithm", "")) if method is not None else None
        references.append(Reference(uri, ref.get("MimeType"), algorithm, digest))
    if reasons:
        raise ContainerRefused(reasons)
    return Manifest(sig.get("URI") if sig is not None else None, tuple(references))


def digest_of(algorithm: str, content: bytes) -> bytes:
    return hashlib.new(algorithm, content).digest()


__all__ = ["ASIC_NS", "MANIFEST", "MIMETYPE", "SIGNATURE", "Container", "ContainerRefused", "DataFile", "Manifest",
           "Reference", "digest_of", "looks_like_zip", "manifest_xml", "parse_manifest", "read_container",
           "write_container"]
