"""Settings of the client's will fail closed (issue 5): production names a real SMS gateway and identity provider."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings

PRODUCTION = dict(mode="production", database_url="postgresql+psycopg://q@db/q", key_backend="pkcs11",
                  pkcs11_module="/usr/lib/softhsm/libsofthsm2.so", pkcs11_token_label="q",
                  pkcs11_pin_file="/run/secrets/pin", base_url="https://pki.example.kz")


def test_production_refuses_the_sms_outbox_and_the_biometric_simulator() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**PRODUCTION)
    message = str(refused.value)
    assert "QOLTANBA_SMS_GATEWAY_URL" in message and "QOLTANBA_BIOMETRIC_PROVIDER" in message
    assert "QOLTANBA_BIOMETRIC_PROVIDER_URL" in message
    real = dict(sms_gateway_url="https://sms.example.kz/send", biometric_provider="tsoid",
                biometric_provider_key_file="/etc/qoltanba/tsoid.pem")
    with pytest.raises(ValidationError, match="QOLTANBA_BIOMETRIC_PROVIDER_URL"):   # issue 20: the provider's page
        Settings(**PRODUCTION, **real)
    settings = Settings(**PRODUCTION, **real, biometric_provider_url="https://tsoid.example.kz/liveness")
    assert not settings.sms_outbox
    with pytest.raises(ValidationError):
        Settings(home="/tmp/q", biometric_provider_url="javascript:alert(1)")


def test_the_outbox_is_the_embedded_default_and_goes_once_a_gateway_is_named() -> None:
    assert Settings(home="/tmp/q").sms_outbox
    assert not Settings(home="/tmp/q", sms_gateway_url="http://127.0.0.1:9/sms").sms_outbox
    with pytest.raises(ValidationError):
        Settings(home="/tmp/q", sms_gateway_url="ftp://sms")
