"""Each centre's key algorithm is a setting; the government-bodies CA defaults to GOST (GOV-7, KZ-5)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.wiring import policy_from
from api.settings import Settings
from keys import KeyAlgorithm

PKCS11 = dict(key_backend="pkcs11", pkcs11_module="/usr/lib/softhsm/libsofthsm2.so", pkcs11_token_label="q",
              pkcs11_pin_file="/run/secrets/pin")


def test_gov7_government_ca_defaults_to_gost_2015_512_and_the_others_to_ca_algorithm() -> None:
    policy = policy_from(Settings(home="/tmp/q", ca_algorithm="rsa-3072"))
    assert {code: c.algorithm for code, c in policy.centres.items()} == {
        "root": KeyAlgorithm.RSA_3072, "national": KeyAlgorithm.RSA_3072,
        "government": KeyAlgorithm.GOST_2015_512}


def test_each_centre_algorithm_can_be_chosen() -> None:
    settings = Settings(home="/tmp/q", root_algorithm="rsa-4096", national_algorithm="ec-p384",
                        government_algorithm="gost2015-256")
    assert settings.centre_algorithms == {"root": KeyAlgorithm.RSA_4096, "national": KeyAlgorithm.EC_P384,
                                          "government": KeyAlgorithm.GOST_2015_256}
    assert Settings(home="/tmp/q", government_algorithm="ec-p256").centre_algorithms["government"] \
        is KeyAlgorithm.EC_P256


def test_pkcs11_has_no_gost_yet_so_the_default_falls_back_and_an_explicit_gost_is_refused() -> None:
    assert Settings(home="/tmp/q", **PKCS11).centre_algorithms["government"] is KeyAlgorithm.EC_P256
    with pytest.raises(ValidationError, match="cannot hold GOST keys"):
        Settings(home="/tmp/q", government_algorithm="gost2015-512", **PKCS11)
