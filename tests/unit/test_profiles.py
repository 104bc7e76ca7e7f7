"""Profiles are policy as data, checked when built (no I/O)."""

from __future__ import annotations

import dataclasses

import pytest

from ca.policy import REFUSAL_REASONS, default_policy
from ca.profiles import PROFILES, CertificateProfile, HolderKind, Role
from ca.subject import SubjectData, build_name, check_subject


def test_profile_names_are_stable_kebab_case():
    assert set(PROFILES) == {"individual-sign", "individual-auth", "legal-sign", "legal-auth",
                             "government-employee", "subordinate-ca", "root-ca", "ocsp-responder", "tsa", "audit",
                             "legal-seal"}   # issue 15: a tenant's (an MFO's) seal


def test_bad_profile_fails_when_built():
    with pytest.raises(ValueError, match="keyCertSign"):
        CertificateProfile(name="x", holder_kind=HolderKind.SERVICE, key_usage=frozenset({"key_cert_sign"}),
                           policy_oid="1.2.3", centres=frozenset({"root"}))
    with pytest.raises(ValueError, match="unknown key usage"):
        CertificateProfile(name="x", holder_kind=HolderKind.SERVICE, key_usage=frozenset({"fly"}),
                           policy_oid="1.2.3", centres=frozenset({"root"}))


def test_profiles_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["tsa"].validity = None  # type: ignore[misc]


def test_kz3_policy_oids():
    """KZ-3: the NCA RK's policy OIDs per profile."""
    assert PROFILES["legal-sign"].policy_oid == "1.2.398.3.3.2.1"
    assert PROFILES["legal-auth"].policy_oid == "1.2.398.3.3.2.2"
    assert PROFILES["individual-sign"].policy_oid == "1.2.398.3.3.2.3"
    assert PROFILES["individual-auth"].policy_oid == "1.2.398.3.3.2.4"
    assert PROFILES["tsa"].policy_oid == "1.2.398.3.3.2.6.1"


def test_kz4_role_ekus():
    """KZ-4: a legal-entity certificate carries the organisation EKU and the role EKUs."""
    ekus = PROFILES["legal-sign"].ekus((Role.FIRST_HEAD, Role.FINANCIAL))
    assert "1.2.398.3.3.4.1.2" in ekus and "1.2.398.3.3.4.1.2.1" in ekus and "1.2.398.3.3.4.1.2.3" in ekus
    with pytest.raises(ValueError):
        PROFILES["individual-sign"].ekus((Role.FIRST_HEAD,))


def test_kz1_dn_order_follows_the_nca():
    """KZ-1: CN, SURNAME, SERIALNUMBER=IIN, C, O, OU=BIN, G (patronymic), E."""
    name = build_name(PROFILES["legal-sign"], SubjectData(
        surname="Тестов", given_name="Тест", patronymic="Тестович", iin="900101300017", bin="190340000017",
        organisation='АО "ТЕСТ"', email="a@b.kz"))
    short = [a.oid._name for a in name]  # noqa: SLF001
    assert short == ["commonName", "surname", "serialNumber", "countryName", "organizationName",
                     "organizationalUnitName", "givenName", "emailAddress"]
    assert name.rfc4514_string().startswith("1.2.840.113549.1.9.1=a@b.kz,2.5.4.42=ТЕСТОВИЧ")


def test_nat2_org_name_limit_and_person_fields_checked_together():
    """NAT-2: all subject problems at once."""
    problems = check_subject(PROFILES["legal-sign"], SubjectData(
        surname="", given_name="X1", iin="123", bin="1", organisation="O" * 65))
    assert {p.field for p in problems} >= {"surname", "given_name", "iin", "bin", "organisation"}


def test_every_centre_has_refusal_reasons_and_default_policy_validates():
    policy = default_policy()
    assert policy.centre("root").review_working_days == 15  # ROOT-3
    assert all(REFUSAL_REASONS[c] for c in ("root", "national", "government"))
    with pytest.raises(ValueError):
        dataclasses.replace(policy, base_url="ftp://x")


def test_a_tenants_seal_names_the_organisation_and_its_bin_and_no_person_KZ1_KZ3() -> None:
    """Issue 15: the legal-seal profile: CN and O the organisation, OU=BIN, no IIN; the legal-entity signing
    policy (KZ-3) and the organisation's EKU (KZ-4); signing key usage (nonRepudiation, KZ-2)."""
    from cryptography.x509.oid import NameOID

    from ca.subject import SubjectData, build_name, check_subject

    profile = PROFILES["legal-seal"]
    assert profile.policy_oid == "1.2.398.3.3.2.1" and "1.2.398.3.3.4.1.2" in profile.extended_key_usage
    assert profile.key_usage == frozenset({"digital_signature", "content_commitment"}) and not profile.requires_iin
    subject = SubjectData(common_name='ТОО "МФО"', organisation='ТОО "МФО"', bin="190340000017")
    assert check_subject(profile, subject) == []
    name = build_name(profile, subject)
    assert name.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "BIN190340000017"
    assert not name.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    assert [p.field for p in check_subject(profile, SubjectData(common_name="X"))] == ["bin", "organisation"]
