"""The hierarchy's public face: CA certificates and chains, profiles, refusal reasons."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from cryptography.hazmat.primitives import serialization

from api.http.deps import services
from api.http.rate_limit import limited
from api.wiring import Services
from ca.policy import CENTRES, REFUSAL_REASONS
from ca.profiles import PROFILES

router = APIRouter(tags=["hierarchy"])

PEM = "application/x-pem-file"


# The CA certificates and chains are exempt from rate limits, like CRLs: every certificate's AIA names them
# and relying parties fetch them while validating (docs/SECURITY.md "Rate limits"). The rest are limited.
PUBLIC = [Depends(limited("public"))]


@router.get("/ca", summary="The certification centres (public, rate-limited)", dependencies=PUBLIC)
def centres(svc: Services = Depends(services)) -> list[dict]:
    result = []
    for code in CENTRES:
        ca = svc.hierarchy.issuing_ca(code)
        cert = ca.certificate
        result.append({"code": code, "subject": cert.subject.rfc4514_string(), "serial": format(cert.serial_number, "x"),
                       "not_before": cert.not_valid_before_utc.isoformat(),
                       "not_after": cert.not_valid_after_utc.isoformat(),
                       "crl": ca.endpoints.crl, "ocsp": ca.endpoints.ocsp,
                       "issuer_certificate": ca.endpoints.issuer_certificate})
    return result


@router.get("/ca/{code}/chain", summary="PEM chain, issuing CA first, root last (public)",
            response_class=Response, responses={200: {"content": {PEM: {}}}})
def chain(code: str, svc: Services = Depends(services)) -> Response:
    body = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in svc.hierarchy.chain(code))
    return Response(body, media_type=PEM)


@router.get("/ca/{code}.cer", summary="The CA certificate in DER, as named in AIA (public)",
            response_class=Response, responses={200: {"content": {"application/pkix-cert": {}}}})
def ca_certificate(code: str, svc: Services = Depends(services)) -> Response:
    cert = svc.hierarchy.issuing_ca(code).certificate
    return Response(cert.public_bytes(serialization.Encoding.DER), media_type="application/pkix-cert")


@router.get("/profiles", summary="Certificate profiles (public, rate-limited)", dependencies=PUBLIC)
def profiles() -> list[dict]:
    return [{"name": p.name, "holder_kind": p.holder_kind.value, "centres": sorted(p.centres),
             "key_usage": sorted(p.key_usage), "extended_key_usage": list(p.extended_key_usage),
             "policy": p.policy_oid, "validity_days": p.validity.days, "roles_allowed": p.allows_roles}
            for p in PROFILES.values()]


@router.get("/refusal-reasons", summary="Each centre's enumerated refusal reasons (public, rate-limited)",
            dependencies=PUBLIC)
def refusal_reasons() -> dict[str, list[dict]]:
    return {code: [{"code": r.code, "text": r.text, "rule": r.rule} for r in reasons]
            for code, reasons in REFUSAL_REASONS.items()}
