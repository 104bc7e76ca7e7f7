"""Signing contracts: client first, seal last, every way a signature arrives (issue 4)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader

from ca.errors import ConflictError, InvalidInput, NotFound
from keys import KeyAlgorithm, load_pkcs12
from signing.factors.authorisation import NotAuthorised
from signing.stamps import holder_numbers
from signing.requests.service import STATUS_CLIENT_SIGNED, STATUS_SEALED, InvalidSignature
from tests.support import factories as f
from tests.support.factors import token_cms
from tests.support.pdf_judges import pyhanko_statuses
from tests.support.signing import TENANT, authorise, client_with_held_key, latest_pdf, sign_client_and_seal, upload


def _root(services):
    return services.hierarchy.chain("national")[-1]


def _versions(services, document_id: str) -> list:
    return list(services.documents.get(TENANT, document_id).versions)


def test_client_then_seal_both_valid_trusted_and_the_seal_covers_everything(services) -> None:
    """The default level is B-LT; both signatures intact, valid and trusted; the seal locks the file."""
    client = client_with_held_key(services)
    doc = upload(services, client.iin)
    first, second = sign_client_and_seal(services, client, doc.id)
    assert (first.status, second.status) == (STATUS_CLIENT_SIGNED, STATUS_SEALED)
    assert first.level == second.level == "B-LT"
    pdf = latest_pdf(services, doc.id)
    client_status, seal_status = pyhanko_statuses(pdf, _root(services))
    for status in (client_status, seal_status):
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert client_status.signing_cert.serial_number == client.certificate.serial_number
    assert seal_status.coverage.name == "ENTIRE_FILE" or seal_status.modification_level.name == "LTA_UPDATES"
    reader = PdfFileReader(io.BytesIO(pdf))
    seal_field = reader.embedded_regular_signatures[1].sig_field
    assert seal_field["/Lock"]["/Action"] == "/All" and seal_field["/Lock"]["/P"] == 1
    versions = _versions(services, doc.id)
    assert [v.reason for v in versions] == ["uploaded", "signature", "seal"]
    assert all(later.previous_sha256 == earlier.sha256 for earlier, later in zip(versions, versions[1:]))
    assert versions[-1].sha256 == hashlib.sha256(pdf).hexdigest()


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_each_pades_level_is_what_pyhanko_finds(services, level: str) -> None:
    client = client_with_held_key(services, algorithm=KeyAlgorithm.RSA_2048)
    doc = upload(services, client.iin)
    sign_client_and_seal(services, client, doc.id, level=level)
    pdf = latest_pdf(services, doc.id)
    reader = PdfFileReader(io.BytesIO(pdf))
    for sig in reader.embedded_regular_signatures:
        has_token = "signature_time_stamp_token" in (sig.signer_info["unsigned_attrs"].native or [{}])[0].get(
            "type", "") if sig.signer_info["unsigned_attrs"].native else False
        assert has_token == (level != "B-B")
    assert ("/DSS" in reader.root) == (level in ("B-LT", "B-LTA"))
    assert (len(reader.embedded_timestamp_signatures) > 0) == (level == "B-LTA")
    if level in ("B-LT", "B-LTA"):
        # Validation from the document alone: no fetching, revocation checks
        # mandatory, answered only by what the DSS holds.
        for status in pyhanko_statuses(pdf, _root(services), revocation=True):
            assert status.bottom_line, status.pretty_print_details()


def test_no_authorisation_no_signature_and_nothing_is_stored(services) -> None:
    """The hook for the factor work: a held key signs only with a fitting, unused, fresh authorisation."""
    client = client_with_held_key(services)
    doc = upload(services, client.iin)
    other = upload(services, client.iin)
    sign = services.signing.sign_with_client_key
    with pytest.raises(NotAuthorised):
        sign("mfo", TENANT, doc.id, authorisation=None)
    with pytest.raises(NotAuthorised):
        sign("mfo", TENANT, doc.id, authorisation="0" * 32)
    for_other = authorise(services, other.id, client.serial)
    with pytest.raises(NotAuthorised, match="no such authorisation"):
        sign("mfo", TENANT, doc.id, authorisation=for_other.id)
    with pytest.raises(NotFound):
        sign("mfo", "another-mfo", doc.id, authorisation=for_other.id)
    assert len(_versions(services, doc.id)) == 1
    good = authorise(services, doc.id, client.serial)
    sign("mfo", TENANT, doc.id, authorisation=good.id)
    with pytest.raises((NotAuthorised, ConflictError)):
        sign("mfo", TENANT, doc.id, authorisation=good.id)
    assert len(_versions(services, doc.id)) == 2


def test_an_expired_authorisation_or_one_for_an_older_state_unlocks_nothing(services) -> None:
    client = client_with_held_key(services)
    doc = upload(services, client.iin)
    auth = authorise(services, doc.id, client.serial)
    with services.registry.transaction() as tx:
        row = tx.authorisations.by_public_id(TENANT, auth.id)
        row.expires_at = services.clock.now() - dt.timedelta(seconds=1)
    with pytest.raises(NotAuthorised, match="expired"):
        services.signing.sign_with_client_key("mfo", TENANT, doc.id, authorisation=auth.id)
    with services.registry.transaction() as tx:
        row = tx.authorisations.by_public_id(TENANT, auth.id)
        row.expires_at = services.clock.now() + dt.timedelta(minutes=5)
        row.document_sha256 = "0" * 64
    with pytest.raises(NotAuthorised, match="another state"):
        services.signing.sign_with_client_key("mfo", TENANT, doc.id, authorisation=auth.id)
    assert len(_versions(services, doc.id)) == 1


def test_order_client_first_seal_last_then_nothing_more(services) -> None:
    client = client_with_held_key(services)
    doc = upload(services, client.iin)
    with pytest.raises(ConflictError, match="after the client"):
        services.signing.sign_with_seal("mfo", TENANT, doc.id)
    sign_client_and_seal(services, client, doc.id, level="B-B")
    with pytest.raises(ConflictError):
        services.signing.sign_with_seal("mfo", TENANT, doc.id)
    with pytest.raises(ConflictError):
        services.signing.start_external("mfo", TENANT, doc.id, certificate=client.certificate.public_bytes(
            serialization.Encoding.PEM), authorisation=None)
    assert [v.reason for v in _versions(services, doc.id)] == ["uploaded", "signature", "seal"]


def test_only_the_documents_client_may_sign_and_other_tenants_see_nothing(services) -> None:
    client = client_with_held_key(services)
    stranger = client_with_held_key(services)
    doc = upload(services, client.iin)
    auth = authorise(services, doc.id, stranger.serial)
    with pytest.raises(InvalidInput, match="cannot sign"):
        services.signing.sign_with_client_key("mfo", TENANT, doc.id, authorisation=auth.id)
    with pytest.raises(NotFound):
        services.signing.sign_with_seal("mfo", "another-mfo", doc.id)
    assert len(_versions(services, doc.id)) == 1


@pytest.mark.parametrize("returns", ["raw", "cms"])
def test_external_signature_round_trip(services, returns: str) -> None:
    """Way 2: the service hands out what to sign; the client's token signs; it is embedded and verifies."""
    import base64

    issued = f.issue_person(services, password=b"token-pin")
    key, certificate, _chain = load_pkcs12(issued.pkcs12, b"token-pin")
    doc = upload(services, holder_numbers(certificate)[0])
    auth = authorise(services, doc.id, issued.serial)
    session = services.signing.start_external("mfo", TENANT, doc.id, certificate=certificate.public_bytes(
        serialization.Encoding.PEM), authorisation=auth.id, level="B-T")
    view = session.as_json()
    attrs = base64.b64decode(view["signed_attributes"])
    assert base64.b64decode(view["signed_attributes_digest"]) == hashlib.sha256(attrs).digest()
    if returns == "raw":
        result = services.signing.complete_external("mfo", TENANT, session.id, signature=key.sign(attrs, "sha256"))
    else:
        cms = token_cms(key, certificate, base64.b64decode(view["document_digest"]))
        result = services.signing.complete_external("mfo", TENANT, session.id, cms=cms)
    assert result.status == STATUS_CLIENT_SIGNED
    (status,) = pyhanko_statuses(latest_pdf(services, doc.id), _root(services))
    assert status.intact and status.valid and status.trusted
    assert status.timestamp_validity is not None and status.timestamp_validity.valid
    with pytest.raises(ConflictError):
        services.signing.complete_external("mfo", TENANT, session.id, signature=key.sign(attrs, "sha256"))


def test_external_signature_that_does_not_verify_is_refused_and_nothing_stored(services) -> None:
    issued = f.issue_person(services, password=b"token-pin")
    key, certificate, _ = load_pkcs12(issued.pkcs12, b"token-pin")
    other = f.issue_person(services, password=b"token-pin")
    other_key, _other_cert, _ = load_pkcs12(other.pkcs12, b"token-pin")
    doc = upload(services, holder_numbers(certificate)[0])
    auth = authorise(services, doc.id, issued.serial)
    session = services.signing.start_external("mfo", TENANT, doc.id, certificate=certificate.public_bytes(
        serialization.Encoding.DER), authorisation=auth.id, level="B-B")
    with pytest.raises(InvalidSignature):
        services.signing.complete_external("mfo", TENANT, session.id, signature=other_key.sign(
            session.signed_attributes, "sha256"))
    with pytest.raises(InvalidSignature):
        services.signing.complete_external("mfo", TENANT, session.id, cms=b"\x30\x03\x02\x01\x01")
    assert len(_versions(services, doc.id)) == 1
    services.signing.complete_external("mfo", TENANT, session.id, signature=key.sign(session.signed_attributes,
                                                                                     "sha256"))
    assert len(_versions(services, doc.id)) == 2


def test_amendment_refers_to_its_contract_and_both_verify(services) -> None:
    """LOAN-10: an amendment is concluded the same way as the contract, chained to its signed version."""
    client = client_with_held_key(services)
    contract = upload(services, client.iin)
    sign_client_and_seal(services, client, contract.id, level="B-T")
    meta = f.loan_metadata(client_id_number=client.iin, kind="amendment", contract=contract.id,
                           contract_number=contract.metadata.contract_number)
    amendment = services.documents.upload("mfo", TENANT, __import__("tests.support.pdfs", fromlist=["x"])
                                          .contract_pdf(pages=1, text="Supplementary agreement No. 1"), meta)
    assert amendment.contract == contract.id
    assert amendment.base_version == _versions(services, contract.id)[-1].number
    sign_client_and_seal(services, client, amendment.id, level="B-T")
    for document in (contract.id, amendment.id):
        statuses = pyhanko_statuses(latest_pdf(services, document), _root(services))
        assert len(statuses) == 2
        for s in statuses:
            assert s.bottom_line, s.pretty_print_details()
    reader = PdfFileReader(io.BytesIO(latest_pdf(services, amendment.id)))
    reason = reader.embedded_regular_signatures[0].sig_object["/Reason"]
    assert contract.metadata.contract_number in reason


def test_one_changed_byte_breaks_the_signature(services) -> None:
    client = client_with_held_key(services)
    doc = upload(services, client.iin)
    sign_client_and_seal(services, client, doc.id, level="B-B")
    pdf = bytearray(latest_pdf(services, doc.id))
    position = pdf.index(b"Microcredit contract")
    pdf[position] ^= 0x01
    statuses = pyhanko_statuses(bytes(pdf), _root(services))
    assert statuses and not any(s.intact for s in statuses)


def test_two_seals_at_once_one_wins_and_the_other_changes_nothing(services) -> None:
    """Signing happens outside the lock; storing checks the version signed is still the latest."""
    from concurrent.futures import ThreadPoolExecutor

    client = client_with_held_key(services)
    doc = upload(services, client.iin)
    auth = authorise(services, doc.id, client.serial)
    services.signing.sign_with_client_key("mfo", TENANT, doc.id, authorisation=auth.id, level="B-B")

    def seal():
        try:
            return services.signing.sign_with_seal("mfo", TENANT, doc.id, level="B-T")
        except ConflictError as error:
            return error

    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(lambda _: seal(), range(3)))
    assert sum(not isinstance(o, ConflictError) for o in outcomes) == 1, outcomes
    assert [v.reason for v in _versions(services, doc.id)] == ["uploaded", "signature", "seal"]
    assert all(s.bottom_line for s in pyhanko_statuses(latest_pdf(services, doc.id), _root(services)))


def test_an_external_session_needs_the_clients_authorisation_for_that_certificate(services) -> None:
    """Issue 5: the client's own token signs only after the other factors granted an authorisation.

    The authorisation names the certificate the token will sign with and is
    consumed when the session opens; one for another signer or another
    document opens nothing.
    """
    issued = f.issue_person(services, password=b"token-pin")
    _key, certificate, _ = load_pkcs12(issued.pkcs12, b"token-pin")
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    doc = upload(services, holder_numbers(certificate)[0])
    other = upload(services, holder_numbers(certificate)[0])
    start = services.signing.start_external
    with pytest.raises(NotAuthorised):
        start("mfo", TENANT, doc.id, certificate=pem, authorisation=None)
    with pytest.raises(NotAuthorised, match="no such authorisation"):
        start("mfo", TENANT, doc.id, certificate=pem, authorisation=authorise(services, other.id, issued.serial).id)
    stranger = client_with_held_key(services)
    with pytest.raises(NotAuthorised, match="another signer"):
        start("mfo", TENANT, doc.id, certificate=pem, authorisation=authorise(services, doc.id, stranger.serial).id)
    auth = authorise(services, doc.id, issued.serial)
    session = start("mfo", TENANT, doc.id, certificate=pem, authorisation=auth.id, level="B-B")
    with pytest.raises(NotAuthorised, match="already used"):
        start("mfo", TENANT, doc.id, certificate=pem, authorisation=auth.id, level="B-B")
    with services.registry.transaction() as tx:
        assert tx.signing_sessions.by_public_id(TENANT, session.id).authorisation == auth.id
