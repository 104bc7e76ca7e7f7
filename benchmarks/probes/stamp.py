"""Probe (not a `make bench` benchmark): what the signature stamp costs per signature.

Usage: python benchmarks/probes/stamp.py [ITERATIONS]

1. The stamp's own time on a 2-page contract, after warm-up: building the
   appearance (QR code, text, font lookup or embedding) and pyHanko writing
   the objects it adds, less the same write without a stamp. "first" is the
   client's signature (the font is embedded and registered in /DR),
   "later" the seal's (the font is found in /DR and reused); "fixed QR
   mask" is the later one with QoltanbaStampStyle(qr_mask=0).
2. Whole signatures through pyHanko's PdfSigner, with the stamp and with an
   invisible field, for scale.
3. Bytes each signature adds with the stamp and without.
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from asn1crypto import keys as asn1_keys  # noqa: E402
from asn1crypto import x509 as asn1_x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from pyhanko.pdf_utils import generic  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.layout import BoxConstraints  # noqa: E402
from pyhanko.sign.fields import SigFieldSpec, append_signature_field  # noqa: E402
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner  # noqa: E402
from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: E402

from signing.stamps import (  # noqa: E402
    STAMP_HEIGHT, STAMP_WIDTH, QoltanbaStampStyle, StampContent, field_spec, last_page_size, stamp_text_params,
)
from tests.support.stamp_pdfs import ThrowawayCA, contract_pdf  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 400
URL = "https://qoltanba.example.kz/verify/3f2b8c1e-9a7d-4e5f-8b6a-1c2d3e4f5a6b"
STYLE = QoltanbaStampStyle()


def content(serial: int, role: str, **ids: str) -> StampContent:
    return StampContent(signer_name="ӘБДІҚАДЫРОВА ГҮЛНҰР ӨТЕГЕНҚЫЗЫ", serial=serial,
                        signed_at=dt.datetime.now(dt.timezone.utc), role=role, verify_url=URL, **ids)


def with_field(pdf: bytes, name: str, index: int) -> tuple[IncrementalPdfFileWriter, generic.DictionaryObject]:
    # What pyHanko has done by the time it asks the style for the appearance:
    # the /AcroForm is read (or made) and the field and its widget exist.
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    append_signature_field(writer, field_spec(name, index, last_page_size(writer)))
    fields = (ref.get_object() for ref in writer.root["/AcroForm"]["/Fields"])
    field = next(f for f in fields if f["/T"] == name)
    return writer, field


def stamp_cost_ms(pdf: bytes, name: str, index: int, stamp_content: StampContent,
                  style: QoltanbaStampStyle = STYLE) -> dict[str, float]:
    """(stamp + write) - (write alone) in ms: median and minimum wall time, median CPU time.

    CPU time (this process only) is the steadier figure on a machine that
    others share; the minimum wall time is what an idle machine would show.
    """
    wall_with, wall_without, cpu_with, cpu_without = [], [], [], []
    for _ in range(N):
        for stamped, wall, cpu in ((True, wall_with, cpu_with), (False, wall_without, cpu_without)):
            writer, widget = with_field(pdf, name, index)
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            if stamped:
                stamp = style.create_stamp(writer, BoxConstraints(width=STAMP_WIDTH, height=STAMP_HEIGHT),
                                           stamp_text_params(stamp_content))
                stamp.apply_appearance(widget)
            writer.write(io.BytesIO())
            cpu.append(time.process_time() - start_cpu)
            wall.append(time.perf_counter() - start_wall)
    return {
        "median": (statistics.median(wall_with) - statistics.median(wall_without)) * 1e3,
        "min": (min(wall_with) - min(wall_without)) * 1e3,
        "cpu": (statistics.median(cpu_with) - statistics.median(cpu_without)) * 1e3,
    }


def simple_signer(holder, root) -> SimpleSigner:
    der = serialization.Encoding.DER
    key = holder.key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return SimpleSigner(asn1_x509.Certificate.load(holder.certificate_der()), asn1_keys.PrivateKeyInfo.load(key),
                        SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(root.certificate_der())]))


def sign(pdf: bytes, signer: SimpleSigner, name: str, index: int, stamp_content: StampContent | None) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if stamp_content is None:
        spec = SigFieldSpec(sig_field_name=name, on_page=-1)
        pdf_signer = PdfSigner(PdfSignatureMetadata(field_name=name), signer=signer, new_field_spec=spec)
        return pdf_signer.sign_pdf(writer).getvalue()
    pdf_signer = PdfSigner(PdfSignatureMetadata(field_name=name), signer=signer, stamp_style=STYLE,
                           new_field_spec=field_spec(name, index, last_page_size(writer)))
    return pdf_signer.sign_pdf(writer, appearance_text_params=stamp_text_params(stamp_content)).getvalue()


def main() -> None:
    ca = ThrowawayCA()
    client, seal = ca.issue("CLIENT", iin="123456789012"), ca.issue("SEAL", bin_="190340000017")
    client_signer, seal_signer = simple_signer(client, ca.root), simple_signer(seal, ca.root)
    client_content = content(client.certificate.serial_number, "Client", iin="123456789012")
    seal_content = content(seal.certificate.serial_number, "MFO seal", bin="190340000017")
    contract = contract_pdf(2)
    signed_once = sign(contract, client_signer, "Client", 0, client_content)

    stamp_cost_ms(contract, "Client", 0, client_content)  # warm-up: font loading, imports, caches
    first = stamp_cost_ms(contract, "Client", 0, client_content)
    later = stamp_cost_ms(signed_once, "Seal", 1, seal_content)
    fixed = stamp_cost_ms(signed_once, "Seal", 1, seal_content, QoltanbaStampStyle(qr_mask=0))
    for label, cost in (("first signature (font embedded)", first), ("later signature (font reused)  ", later),
                        ("later signature, fixed QR mask  ", fixed)):
        print(f"stamp, {label}: median {cost['median']:.3f} ms, min {cost['min']:.3f} ms, "
              f"CPU median {cost['cpu']:.3f} ms")

    rounds = max(N // 10, 20)
    for label, stamped in (("with stamp", True), ("invisible", False)):
        start = time.perf_counter()
        for _ in range(rounds):
            once = sign(contract, client_signer, "Client", 0, client_content if stamped else None)
            sign(once, seal_signer, "Seal", 1, seal_content if stamped else None)
        per_signature = (time.perf_counter() - start) / (2 * rounds) * 1e3
        print(f"pyHanko PdfSigner, {label}: {per_signature:.2f} ms per signature")

    plain_once = sign(contract, client_signer, "Client", 0, None)
    plain_twice = sign(plain_once, seal_signer, "Seal", 1, None)
    stamped_twice = sign(signed_once, seal_signer, "Seal", 1, seal_content)
    plain = (len(plain_once) - len(contract), len(plain_twice) - len(plain_once))
    stamped = (len(signed_once) - len(contract), len(stamped_twice) - len(signed_once))
    print(f"bytes added, first signature:  {stamped[0]} with stamp, {plain[0]} invisible, "
          f"stamp {stamped[0] - plain[0]}")
    print(f"bytes added, second signature: {stamped[1]} with stamp, {plain[1]} invisible, "
          f"stamp {stamped[1] - plain[1]}")


if __name__ == "__main__":
    main()
