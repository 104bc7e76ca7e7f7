"""The subject DN string issuance writes to the registry is cryptography's ``rfc4514_string()`` (issue 21, issue.py).

``ca.subject.name_and_dn`` writes the RFC 4514 string from the attribute
pairs it builds the name from, instead of walking the name's objects again;
the row's ``subject_dn`` must stay byte for byte what ``x509.Name.rfc4514_string()``
gives, for every attribute issuance may put in a subject and every
character RFC 4514 section 2.4 escapes.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ca.profiles import PROFILES
from ca.subject import SubjectData, build_name, check_subject, name_and_dn

# Text with every character RFC 4514 escapes, leading and trailing spaces and '#', Cyrillic and Kazakh letters.
TRICKY = st.text(alphabet=st.sampled_from(list('\\"+,;<>#  \0=abcXYZ0123ӘәҚқҢңӨөҰұҮүІіТест.-\'')),
                 min_size=1, max_size=20)


@settings(max_examples=300, deadline=None)
@given(surname=TRICKY, given_name=TRICKY, patronymic=st.none() | TRICKY, organisation=st.none() | TRICKY,
       locality=st.none() | TRICKY, state=st.none() | TRICKY, email=st.none() | TRICKY,
       profile=st.sampled_from(sorted(PROFILES)), common_name=TRICKY)
def test_the_subject_dn_is_cryptographys_rfc4514_string(surname, given_name, patronymic, organisation,
                                                         locality, state, email, profile, common_name) -> None:
    subject = SubjectData(surname=surname, given_name=given_name, patronymic=patronymic, iin="800101300018",
                          bin="071240016266", organisation=organisation, locality=locality, state=state,
                          email=email, common_name=common_name)
    # A common name issuance refuses (over 64 bytes of UTF-8, check_subject) is never built: not drawn here.
    assume(not [p for p in check_subject(PROFILES[profile], subject) if p.field in ("given_name", "common_name")
                and "bytes in UTF-8" in p.message])
    name, dn = name_and_dn(PROFILES[profile], subject)
    assert name == build_name(PROFILES[profile], subject)
    assert dn == name.rfc4514_string()


def test_a_plain_person_reads_as_cryptography_writes_it() -> None:
    subject = SubjectData(surname="Тестов", given_name="Тест", patronymic="Тестович", iin="800101300018")
    name, dn = name_and_dn(PROFILES["individual-sign"], subject)
    assert dn == name.rfc4514_string()
    assert dn == "2.5.4.42=ТЕСТОВИЧ,C=KZ,2.5.4.5=IIN800101300018,2.5.4.4=ТЕСТОВ,CN=ТЕСТОВ ТЕСТ"


def test_a_common_name_over_64_bytes_is_refused_by_name_before_any_certificate_is_built() -> None:
    """A person's CN is their surname and given name; cryptography bounds it at 64 bytes of UTF-8 (X.520's 64),
    so a long Kazakh name is a problem on the field (a 4xx), not a ValueError from building the certificate."""
    from tests.support import factories as f

    iin = f.iin()
    long_person = SubjectData(surname="Мұхамеджанова-Төлегенқызы", given_name="Гүлжанат", iin=iin)
    assert len(f"{long_person.surname} {long_person.given_name}".encode()) > 64
    problems = check_subject(PROFILES["individual-sign"], long_person)
    assert [p.field for p in problems] == ["given_name"] and "64 bytes" in problems[0].message
    assert check_subject(PROFILES["individual-sign"], SubjectData(surname="Мұхамеджанова", given_name="Гүлжанат",
                                                                  iin=iin)) == []
    seal = check_subject(PROFILES["legal-seal"], SubjectData(common_name="Ә" * 33, organisation="ТОО",
                                                             bin="190340000017"))
    assert [p.field for p in seal] == ["common_name"]
