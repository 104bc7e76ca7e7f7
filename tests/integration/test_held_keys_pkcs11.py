"""A borrower's key the service holds, on a PKCS#11 token (SoftHSM2): issued, signs way 1, destroyed (issue 15).

The hierarchy runs on a throwaway SoftHSM2 token; ``HeldKeyCustody`` (what
``POST /certificates`` with ``held`` and ``qoltanba cert issue --held``
call) generates the borrower's key there under a label with no personal
data, the key signs a contract once the borrower's authorisation is given
(pyHanko judges it), and destroying it removes both objects from the token.
"""

from __future__ import annotations

import pytest

from ca.held_keys import HeldKeyIssue
from ca.subject import SubjectData
from keys import KeyAlgorithm, KeyNotFound
from tests.support import factories as f
from tests.support.pdf_judges import pyhanko_statuses
from tests.support.signing import TENANT, authorise, latest_pdf, upload
from tests.support.softhsm import softhsm_token


@pytest.fixture(scope="module")
def token_services(tmp_path_factory):
    from api.settings import Settings
    from api.wiring import Services

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


def test_a_held_key_on_softhsm2_signs_a_contract_and_is_destroyed_on_the_token(token_services) -> None:
    services = token_services
    iin = f.iin()
    held = services.held_key_custody.issue(HeldKeyIssue(
        subject=SubjectData(surname="Сәрсенбаева", given_name="Әйгерім", iin=iin), actor="registrar",
        algorithm=KeyAlgorithm.EC_P256))
    assert held.backend == "pkcs11" and held.key == "held"
    with services.registry.transaction(readonly=True) as tx:
        (row,) = tx.certificates.by_serial(held.serial)
        handle = row.key_handle
    label = handle.removeprefix("pkcs11:")
    assert label.startswith("held-") and iin not in label     # no personal data on the token
    assert label in {k.label for k in services.backend.list_keys()}
    doc = upload(services, iin)
    auth = authorise(services, doc.id, held.serial)
    services.signing.sign_with_client_key("mfo", TENANT, doc.id, authorisation=auth.id, level="B-LT")
    services.signing.sign_with_seal("mfo", TENANT, doc.id, level="B-LT")
    statuses = pyhanko_statuses(latest_pdf(services, doc.id), services.hierarchy.chain("national")[-1],
                                revocation=True)
    assert len(statuses) == 2 and all(s.bottom_line for s in statuses)
    assert format(statuses[0].signing_cert.serial_number, "x") == held.serial
    destroyed = services.held_key_custody.destroy(held.serial, "registrar")
    assert destroyed.key == "destroyed" and destroyed.status == "revoked"
    assert label not in {k.label for k in services.backend.list_keys()}
    with pytest.raises(KeyNotFound):
        services.backend.public_key(handle)
    # A document signed after the destruction: the key is unreachable (no handle, the certificate revoked).
    other = upload(services, iin)
    later = authorise(services, other.id, held.serial)
    with pytest.raises(Exception) as refused:
        services.signing.sign_with_client_key("mfo", TENANT, other.id, authorisation=later.id)
    assert getattr(refused.value, "code", None) in ("invalid-input", "conflict"), refused.value
