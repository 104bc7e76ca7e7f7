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
