"""The ASiC-E container of the credit dossier (LOAN-14): its layout, its reader's refusals, its words in kk/ru/en."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from signing.verification.asic import (
    MANIFEST,
    MIMETYPE,
    SIGNATURE,
    ContainerRefused,
    DataFile,
    manifest_xml,
    parse_manifest,
    read_container,
    write_container,
)
from signing.verification.report import ContainerFile, ContainerProblem, ContainerView, VerificationReport
from signing.verification.words import say_document

FILES = [DataFile("dossier.json", "application/json", b"{}"), DataFile("documents/a.pdf", "application/pdf", b"%PDF")]


def test_LOAN14_a_written_container_is_an_asic_e_its_manifest_listing_each_file_with_its_digest() -> None:
    manifest = manifest_xml(FILES)
    data = write_container(FILES, manifest, b"0\x00")
    assert data[:4] == b"PK\x03\x04" and data[30:38] == b"mimetype" and data[38:38 + len(MIMETYPE)] == MIMETYPE.encode()
    read = read_container(data, 1024 * 1024)
    assert (read.manifest_name, read.signature_name) == (MANIFEST, SIGNATURE)
    assert read.data_names() == ["dossier.json", "documents/a.pdf"]
    parsed = parse_manifest(manifest)
    assert parsed.signature == SIGNATURE
    assert [(r.name, r.mime_type, r.algorithm) for r in parsed.references] == [
        ("dossier.json", "application/json", "sha256"), ("documents/a.pdf", "application/pdf", "sha256")]


def _zip(*entries: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content, compress_type=zipfile.ZIP_STORED if name == "mimetype" else None)
    return out.getvalue()


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "a/../../b", "C:/x", "a\\b", "a//b", "x\x01"])
def test_LOAN14_names_leaving_the_container_are_refused(name: str) -> None:
    with pytest.raises(ContainerRefused) as refused:
        read_container(_zip(("mimetype", MIMETYPE.encode()), (name, b"x")), 1024 * 1024)
    assert any(repr(name) in reason for reason in refused.value.reasons)
    assert [p.field for p in refused.value.problems] == ["file"] * len(refused.value.reasons)


def test_LOAN14_a_zip_bomb_and_every_other_reason_are_refused_at_once_before_inflating() -> None:
    bomb = _zip(("mimetype", MIMETYPE.encode()), ("zeros", b"\0" * (8 * 1024 * 1024)), ("zeros", b"1"))
    with pytest.raises(ContainerRefused) as refused:
        read_container(bomb, 4 * 1024 * 1024)
    reasons = " | ".join(refused.value.reasons)
    assert "over the limit" in reasons and "more than once" in reasons and "no manifest" in reasons
    with pytest.raises(ContainerRefused, match="zip bomb"):
        read_container(_zip(("mimetype", MIMETYPE.encode()), ("zeros", b"\0" * (8 * 1024 * 1024))), 64 * 1024 * 1024)
    with pytest.raises(ContainerRefused, match="DTD"):
        parse_manifest(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    with pytest.raises(ContainerRefused, match="not a readable ZIP"):
        read_container(b"PK\x03\x04" + b"\0" * 100, 1024)


def test_LOAN14_the_containers_findings_fail_the_report_and_are_said_by_name_in_kk_ru_en() -> None:
    from api.pages.i18n import Language

    view = ContainerView(MANIFEST, SIGNATURE, (ContainerFile("a.pdf", None, "missing", None),),
                         (ContainerProblem("missing", "a.pdf", "FORMAT_FAILURE"),
                          ContainerProblem("unlisted", "b.pdf", "FORMAT_FAILURE")))
    report = VerificationReport("asice", (), dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc), "00" * 32, 10,
                                container=view)
    assert report.verdict.indication.value == "TOTAL-FAILED" and not report.all_passed
    said = report.as_json()
    assert said["sentence"] == ("The container is NOT valid: 'a.pdf' is listed in the manifest but missing from the "
                                "container; 'b.pdf' is in the container but not in the signed manifest.")
    assert [p["file"] for p in said["container"]["problems"]] == ["a.pdf", "b.pdf"]
    assert say_document(said, Language("ru").voice).startswith("Контейнер НЕДЕЙСТВИТЕЛЕН: 'a.pdf' указан в манифесте")
    assert "'b.pdf' контейнерде бар" in say_document(said, Language("kk").voice)
    assert say_document(said, Language("en").voice) == said["sentence"]


def test_LOAN14_a_percent_encoded_uri_names_its_file() -> None:
    import asyncio

    from signing.verification.asic import Container
    from signing.verification.container import AsicVerification

    files = [DataFile("a b.pdf", "application/pdf", b"x")]
    manifest = manifest_xml(files).replace(b'URI="a b.pdf"', b'URI="a%20b.pdf"')
    container = Container({"mimetype": MIMETYPE.encode(), "a b.pdf": b"x", MANIFEST: manifest, SIGNATURE: b""},
                          MANIFEST, SIGNATURE)
    checked = AsicVerification(container, None, dt.datetime.now(dt.timezone.utc), None)
    files_seen, problems = checked._files(parse_manifest(manifest))
    assert [(f.name, f.status) for f in files_seen] == [("a b.pdf", "unchanged")] and problems == []
