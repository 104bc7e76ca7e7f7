"""Optional linting of each certificate before it is stored (pkilint, RFC 5280).

Off by default: linting costs several times the signature. Operators who
trade speed for it set QOLTANBA_LINT_AT_ISSUANCE=true; a certificate with an
ERROR or FATAL finding is then never stored or returned.
"""

from __future__ import annotations

from functools import lru_cache

from pkilint import loader, report
from pkilint.pkix import certificate, extension, name
from pkilint.validation import ValidationFindingSeverity

from ca.errors import Problem, QoltanbaError

BLOCKING = (ValidationFindingSeverity.ERROR, ValidationFindingSeverity.FATAL)


class LintFailed(QoltanbaError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("lint-failed", "the certificate failed RFC 5280 linting and was not issued", problems)


@lru_cache(maxsize=1)
def _validator():  # noqa: ANN202 - pkilint's container type
    return certificate.create_pkix_certificate_validator_container(
        certificate.create_decoding_validators(name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS),
        [
            certificate.create_issuer_validator_container([]),
            certificate.create_validity_validator_container(),
            certificate.create_subject_validator_container([]),
            certificate.create_extensions_validator_container([]),
            certificate.create_spki_validator_container([]),
        ],
    )


def blocking_findings(der: bytes) -> list[Problem]:
    document = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "issued")
    results = _validator().validate(document.root)
    problems = []
    for result in results:
        for finding in result.finding_descriptions:
            if finding.finding.severity in BLOCKING:
                problems.append(Problem(result.node.path, f"{finding.finding.code}: {finding.message or ''}".strip()))
    return problems


def check(der: bytes) -> None:
    problems = blocking_findings(der)
    if problems:
        raise LintFailed(problems)


__all__ = ["LintFailed", "blocking_findings", "check", "report"]
