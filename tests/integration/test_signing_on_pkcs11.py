"""Way 1 and the seal on a PKCS#11 token: the client's key and the MFO's seal in SoftHSM2 (issue 4).

The whole hierarchy runs on a throwaway SoftHSM2 token; the client's signing
key is generated there by the national CA, signs a contract once the
client's authorisation is given, and the seal (also on the token) signs last.
pyHanko judges the result with revocation data from the document only.
"""

from __future__ import annotations

import pytest

from keys import KeyAlgorithm
from signing.factors.authorisation import NotAuthorised
from tests.support import factories as f
from tests.support.pdf_judges import pyhanko_statuses
from tests.support.signing import TENANT, authorise, client_with_held_key, latest_pdf, upload
from tests.support.softhsm import softhsm_token


@pytest.fixture(scope="module")
def token_services(tmp_path_factory):
    from api.wiring import Services
    from api.settings import Settings

    token = softhsm_token(tmp_path_factory.mktemp("hsm"))
    home = tmp_path_factory.mktemp("home")
    pin_file = home / "pin"
    pin_file.write_text(token.pin + "\n")
    pin_file.chmod(0o600)
    services = Services.build(Settings(home=home / "qoltanba", database_url=f"sqlite:///{home / 'registry.db'}",
                                       key_backend="pkcs11", pkcs11_module=token.module_path,
                                       pkcs11_token_label=token.label, pkcs11_pin_file=pin_file))
    services.migrate()
    services.bootstrap.initialise()
    try:
        yield services
    finally:
        services.backend.close()
        services.close()


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.EC_P256, KeyAlgorithm.RSA_2048])
def test_client_key_and_seal_on_the_token_sign_a_contract_at_b_lt(token_services, algorithm) -> None:
    services = token_services
    client = client_with_held_key(services, algorithm=algorithm)
    assert client.key_handle.startswith("pkcs11:")
    doc = upload(services, client.iin)
    with pytest.raises(NotAuthorised):
        services.signing.sign_with_client_key("mfo", TENANT, doc.id, authorisation=None)
    auth = authorise(services, doc.id, client.serial)
    services.signing.sign_with_client_key("mfo", TENANT, doc.id, authorisation=auth.id, level="B-LT")
    services.signing.sign_with_seal("mfo", TENANT, doc.id, level="B-LT")
    statuses = pyhanko_statuses(latest_pdf(services, doc.id), services.hierarchy.chain("national")[-1],
                                revocation=True)
    assert len(statuses) == 2
    for status in statuses:
        assert status.bottom_line, status.pretty_print_details()
    assert statuses[0].signing_cert.serial_number == client.certificate.serial_number


def test_a_tenants_seal_key_is_generated_on_the_token_and_seals_with_its_bin(token_services) -> None:
    """Issue 15: a tenant created on a PKCS#11 installation gets its seal key on the token (SoftHSM2)."""
    from cryptography import x509

    from tests.support.tenants import ensure_tenant

    services = token_services
    tenant = ensure_tenant(services, "hsm-mfo")
    with services.registry.transaction(readonly=True) as tx:
        row = tx.tenants.by_code("hsm-mfo")
    assert row.seal_key_handle.startswith("pkcs11:")
    client = client_with_held_key(services)
    doc = upload(services, client.iin, tenant="hsm-mfo")
    auth = authorise(services, doc.id, client.serial, tenant="hsm-mfo")
    services.signing.sign_with_client_key("mfo", "hsm-mfo", doc.id, authorisation=auth.id, level="B-LT")
    services.signing.sign_with_seal("mfo", "hsm-mfo", doc.id, level="B-LT")
    statuses = pyhanko_statuses(latest_pdf(services, doc.id, tenant="hsm-mfo"),
                                services.hierarchy.chain("national")[-1], revocation=True)
    assert len(statuses) == 2 and all(s.bottom_line for s in statuses)
    seal = x509.load_der_x509_certificate(statuses[1].signing_cert.dump())
    assert format(seal.serial_number, "x") == tenant.seal.serial
    assert seal.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == f"BIN{tenant.bin}"


def test_an_imported_seal_of_an_accredited_centre_with_its_key_on_the_token_seals(token_services,
                                                                                   tmp_path_factory) -> None:
    """Issue 15: a seal certificate of another accredited centre (as the NCA RK's), its key in our HSM.

    The key is made on the token; the other centre (a real server on loopback: its chain, OCSP and CRL
    over HTTP) certifies it for the MFO's BIN. Refused while that centre is not trusted, or for another
    BIN, or with a key that is not the certificate's; taken once its root is a trust anchor, and the
    document's seal then verifies with that centre's revocation data embedded.
    """
    from ca.issuance import IssueRequest, KeySource
    from ca.profiles import Role
    from ca.subject import SubjectData
    from ca.errors import InvalidInput
    from cryptography.hazmat.primitives import serialization
    from signing.tenants import NewTenant, SealOrder
    from tests.support.accredited import served_centre
    from tests.support.tenants import legal_bin

    services = token_services
    bin_ = legal_bin(4242)
    key = services.backend.generate(KeyAlgorithm.EC_P256, "imported-seal")
    other_key = services.backend.generate(KeyAlgorithm.EC_P256, "not-the-seal")
    with served_centre(tmp_path_factory.mktemp("accredited") / "home") as centre:
        with centre._services() as theirs:   # noqa: SLF001 - the other centre issues as its registrar would
            issued = theirs.issuance.issue(IssueRequest(
                centre="national", profile="legal-sign", actor="their-registrar", key=KeySource(csr=b"-"),
                subject=SubjectData(surname="Сейтқали", given_name="Айгүл", iin=f.iin(), bin=bin_,
                                    organisation='ТОО "МФО Импорт"', roles=(Role.FIRST_HEAD,))),
                public_key=services.backend.public_key(key.handle))
        pem = issued.certificate.public_bytes(serialization.Encoding.PEM)
        command = NewTenant(name='ТОО "МФО Импорт"', bin=bin_, code="imported",
                            seal=SealOrder(certificate=pem, key_handle=key.handle))
        with pytest.raises(InvalidInput) as untrusted:
            services.tenants.create("test", command)
        assert {p.field for p in untrusted.value.problems} == {"seal.certificate"}
        services.trust_store.add(centre.root_pem().encode(), "Test accredited centre", actor="test")
        wrong = NewTenant(name='ТОО "МФО Импорт"', bin=legal_bin(4343), code="imported",
                          seal=SealOrder(certificate=pem, key_handle=other_key.handle))
        with pytest.raises(InvalidInput) as refused:
            services.tenants.create("test", wrong)
        assert sorted(p.field for p in refused.value.problems) == ["seal.certificate", "seal.key_handle"], str(refused.value)
        assert "names BIN" in str(refused.value)
        view = services.tenants.create("test", command)
        assert view.seal.source == "imported" and view.seal.bin == bin_
        client = client_with_held_key(services)
        doc = upload(services, client.iin, tenant="imported")
        auth = authorise(services, doc.id, client.serial, tenant="imported")
        services.signing.sign_with_client_key("mfo", "imported", doc.id, authorisation=auth.id, level="B-LT")
        services.signing.sign_with_seal("mfo", "imported", doc.id, level="B-LT")
        statuses = pyhanko_statuses(latest_pdf(services, doc.id, tenant="imported"),
                                    services.hierarchy.chain("national")[-1], revocation=True,
                                    extra_roots=[centre.root])
        assert len(statuses) == 2 and all(s.bottom_line for s in statuses), [s.pretty_print_details()
                                                                              for s in statuses]
        assert statuses[1].signing_cert.serial_number == issued.certificate.serial_number
