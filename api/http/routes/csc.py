"""The Cloud Signature Consortium API (issue 19): CSC v1.0.4 as pyHanko's CSCSigner calls it, and v2's names.

Paths are ``/csc/v1/<method>`` (pyHanko's ``CSCServiceSessionInfo.endpoint_url``
with ``service_url`` the server's base URL) and ``/csc/v2/<method>`` where
version 2 renames a field (``hashes``, ``hashAlgorithmOID``). Every method is
a POST of a JSON object; the caller is the MFO, by its API key as a bearer
token or by an access token from ``oauth2/token`` (client credentials: the
key's id as client_id, the key as client_secret). The domain is
signing/requests/csc.py: the same held keys, seals, policies and audit as
the service's own routes.

Errors are the specification's (``error``, ``error_description``; 400, and
401 for the access token), never problem+json and never a 500.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.http.deps import services
from api.http.rate_limit import limited
from api.wiring import Services
from ca.access import Role, Unauthenticated
from ca.errors import QoltanbaError
from keys import SecretBox
from signing.requests.csc import Authorize, SignHash
from signing.requests.csc_credentials import Caller, CSCRefused
from signing.requests.csc_page import PAGE_TTL, PageRequest

# The signing page's cookie (api/pages/sign_csc.py reads it; the rooms share no module).
PAGE_COOKIE = "qoltanba_csc"

# Each call spends from the caller's address's public bucket (QOLTANBA_PUBLIC_RATE_PER_MINUTE) before its token
# is read; the token itself is checked by the route, which answers in CSC's words.
_ERROR = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["error", "error_description"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}}}}}
router = APIRouter(tags=["csc"], dependencies=[Depends(limited("public"))], responses={
    400: {"description": "Refused in the CSC API's words (error, error_description)", **_ERROR},
    401: {"description": "No valid access token (error: invalid_token)", **_ERROR}})

_TOKEN_PREFIX = "csc_"
_TOKEN_TTL = 600
_METHODS = ["credentials/list", "credentials/info", "credentials/sendOTP", "credentials/authorize",
            "signatures/signHash", "oauth2/token", "oauth2/authorize"]
_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}, "required": False}


def _error(refused: CSCRefused) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if refused.status == 401 else None
    return JSONResponse(refused.as_json(), status_code=refused.status, headers=headers)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CSCRefused("invalid_request", "The request body is not a JSON object", audit=False) from None
    if not isinstance(body, dict):
        raise CSCRefused("invalid_request", "The request body is not a JSON object", audit=False)
    return body


def _tokens(svc: Services) -> SecretBox:
    return SecretBox(svc.master_key, "csc access tokens")


def _caller(request: Request, svc: Services) -> Caller:
    """The MFO behind the bearer token: its API key, or an access token oauth2/token gave it."""
    header = request.headers.get("authorization") or ""
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise CSCRefused("invalid_token", "Missing or invalid access token: give the MFO's API key or an "
                                          "oauth2/token access token as a Bearer token", 401, audit=False)
    token = header[7:].strip()
    if token.startswith(_TOKEN_PREFIX):
        try:
            sealed = base64.urlsafe_b64decode(token[len(_TOKEN_PREFIX):] + "==")
            claims = json.loads(_tokens(svc).open(sealed, "csc access token"))
        except Exception:   # noqa: BLE001 - any forged, truncated or foreign token is simply not valid
            raise CSCRefused("invalid_token", "The access token is not valid", 401, audit=False) from None
        if claims.get("exp", 0) <= time.time():
            raise CSCRefused("invalid_token", "The access token has expired", 401, audit=False)
        return Caller(claims["actor"], claims["tenant"])
    try:
        who = request.app.state.access.authenticate(token)
    except Unauthenticated:
        raise CSCRefused("invalid_token", "The access token is not valid", 401, audit=False) from None
    if who.role is not Role.MFO or not who.tenant:
        raise CSCRefused("invalid_token", "Only an MFO's key signs through the CSC API", 401, audit=False)
    return Caller(who.name, who.tenant)


async def _answer(request: Request, svc: Services, work) -> JSONResponse:  # noqa: ANN001 - the method's body
    try:
        await request.body()   # read first (and bounded: 413 past the limit), whoever sent it
        caller = await run_in_threadpool(_caller, request, svc)
        body = await _body(request)
        return JSONResponse(await run_in_threadpool(work, caller, body))
    except CSCRefused as refused:
        return _error(refused)
    except QoltanbaError as refused:   # a suspended tenant, an unusable seal: said in CSC's words
        return _error(CSCRefused("invalid_request", refused.detail))


def _info(version: str, base_url: str) -> dict[str, Any]:
    return {"specs": "1.0.4.0" if version == "v1" else "2.0.0.2", "name": "Qoltanba",
            "logo": "", "region": "KZ", "lang": "en-US",
            "description": "Qoltanba remote signing: borrowers' keys held by the service and each MFO's seal",
            "authType": ["external", "oauth2client", "oauth2code"], "oauth2": f"{base_url.rstrip('/')}/csc/{version}",
            "methods": _METHODS}


def _add(version: str) -> None:
    prefix = f"/csc/{version}"
    hashes, hash_oid = ("hash", "hashAlgo") if version == "v1" else ("hashes", "hashAlgorithmOID")

    @router.post(f"{prefix}/info", summary=f"CSC {version} info: the service and the methods it offers",
                 openapi_extra={"requestBody": _BODY})
    async def info(request: Request, svc: Services = Depends(services)) -> JSONResponse:
        try:
            await _body(request)   # an optional JSON object (v1: lang); nothing in it changes the answer
        except CSCRefused as refused:
            return _error(refused)
        return JSONResponse(_info(version, svc.settings.base_url))

    @router.post(f"{prefix}/oauth2/token", summary=f"CSC {version} OAuth2 client credentials: an access token for "
                                                   "the MFO (client_id: its key's id, client_secret: its API key)",
                 openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {
                     "schema": {"type": "object"}}}, "required": False}})
    async def token(request: Request, svc: Services = Depends(services)) -> JSONResponse:
        try:
            await request.body()   # read (and bounded) whatever its media type
            form = await request.form()
        except HTTPException:   # over the body limit: 413 as everywhere
            raise
        except Exception:   # noqa: BLE001 - a body that is not a form is a bad request
            form = {}
        grant = form.get("grant_type")
        if grant not in ("client_credentials", "authorization_code"):
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "grant_type must be "
                                 "client_credentials or authorization_code"}, status_code=400)
        secret = form.get("client_secret")
        try:
            who = await run_in_threadpool(request.app.state.access.authenticate,
                                          secret if isinstance(secret, str) else None)
        except Unauthenticated:
            return JSONResponse({"error": "invalid_client", "error_description": "Invalid client credentials"},
                                status_code=401)
        if who.role is not Role.MFO or not who.tenant:
            return JSONResponse({"error": "invalid_client", "error_description": "Only an MFO's key signs through "
                                                                                 "the CSC API"}, status_code=401)
        if grant == "authorization_code":   # the borrower authorised on the signing page: the SAD, once
            code, uri = form.get("code"), form.get("redirect_uri")
            try:
                granted = await run_in_threadpool(svc.csc_page.exchange, Caller(who.name, who.tenant),
                                                  code if isinstance(code, str) else "",
                                                  uri if isinstance(uri, str) else "")
            except CSCRefused as refused:
                return _error(refused)
            return JSONResponse({"access_token": granted.sad, "token_type": "SAD", "expires_in": granted.expires_in,
                                 "SAD": granted.sad})
        claims = {"actor": who.name, "tenant": who.tenant, "exp": int(time.time()) + _TOKEN_TTL}
        sealed = _tokens(svc).seal(json.dumps(claims).encode(), "csc access token")
        access = _TOKEN_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": _TOKEN_TTL})

    @router.get(f"{prefix}/oauth2/authorize", summary=f"CSC {version} OAuth2 authorisation code, scope credential: "
                "the borrower's browser goes to the signing page, which does the policy's factors and returns to "
                "redirect_uri with the code", responses={303: {"description": "To the borrower's signing page"}})
    async def oauth2_authorize(request: Request, svc: Services = Depends(services), response_type: str = "",
                               client_id: str = "", redirect_uri: str = "", scope: str = "",
                               credentialID: str = "", numSignatures: str = "", hashes: str = "",  # noqa: N803
                               hashAlgorithmOID: str = "", clientData: str = "", state: str = "",  # noqa: N803
                               ) -> Response:
        page = PageRequest(client_id=client_id, redirect_uri=redirect_uri, response_type=response_type, scope=scope,
                           credential_id=credentialID, num_signatures=numSignatures, hashes=hashes,
                           client_data=clientData, state=state, hash_algo=hashAlgorithmOID)
        try:
            started = await run_in_threadpool(svc.csc_page.begin, page)
        except CSCRefused as refused:
            return _error(refused)
        except QoltanbaError as refused:
            return _error(CSCRefused("invalid_request", refused.detail))
        answer = RedirectResponse(f"/sign-csc/{started.activation}", status_code=303)
        answer.set_cookie(PAGE_COOKIE, started.token, max_age=int(PAGE_TTL.total_seconds()),
                          path=f"/sign-csc/{started.activation}", httponly=True, samesite="lax",
                          secure=svc.settings.base_url.startswith("https://"))
        return answer

    @router.post(f"{prefix}/credentials/list", summary=f"CSC {version} credentials/list: the borrower's (userID: "
                                                       "the MFO's client id) held keys and the tenant's seal",
                 openapi_extra={"requestBody": _BODY})
    async def credentials_list(request: Request, svc: Services = Depends(services)) -> JSONResponse:
        return await _answer(request, svc, lambda caller, body: {
            "credentialIDs": svc.csc.list(caller, body.get("userID"))})

    @router.post(f"{prefix}/credentials/info", summary=f"CSC {version} credentials/info: certificates, key "
                                                       "algorithms, SCAL 2, authMode, multisign",
                 openapi_extra={"requestBody": _BODY})
    async def credentials_info(request: Request, svc: Services = Depends(services)) -> JSONResponse:
        return await _answer(request, svc, lambda caller, body: svc.csc.info(
            caller, body.get("credentialID"), certificates=body.get("certificates", "single"),
            cert_info=body.get("certInfo", False), auth_info=body.get("authInfo", False)).as_json())

    @router.post(f"{prefix}/credentials/sendOTP", summary=f"CSC {version} credentials/sendOTP: an SMS code to the "
                                                          "borrower's phone", openapi_extra={"requestBody": _BODY},
                 status_code=204, responses={204: {"description": "The code is sent"}})
    async def send_otp(request: Request, svc: Services = Depends(services)) -> JSONResponse:
        answer = await _answer(request, svc, lambda caller, body: svc.csc.send_otp(caller, body.get("credentialID")))
        return Response(status_code=204) if answer.status_code == 200 else answer

    @router.post(f"{prefix}/credentials/authorize", summary=f"CSC {version} credentials/authorize: SAD for exactly "
                 "these hashes (clientData: the document kind), once the policy's factors are proven (PIN: the "
                 "borrower's cabinet password; OTP: the SMS code)",
                 openapi_extra={"requestBody": _BODY})
    async def authorize(request: Request, svc: Services = Depends(services)) -> JSONResponse:
        return await _answer(request, svc, lambda caller, body: svc.csc.authorize(caller, Authorize(
            credential_id=body.get("credentialID"), num_signatures=body.get("numSignatures"),
            hashes=body.get(hashes), otp=body.get("OTP"), pin=body.get("PIN"), client_data=body.get("clientData"),
            description=body.get("description"), hash_algo=body.get(hash_oid), api=version)).as_json())

    @router.post(f"{prefix}/signatures/signHash", summary=f"CSC {version} signatures/signHash: the hashes the SAD "
                                                          "names, signed", openapi_extra={"requestBody": _BODY})
    async def sign_hash(request: Request, svc: Services = Depends(services)) -> JSONResponse:
        return await _answer(request, svc, lambda caller, body: {"signatures": svc.csc.sign_hash(caller, SignHash(
            credential_id=body.get("credentialID"), sad=body.get("SAD"), hashes=body.get(hashes),
            hash_algo=body.get(hash_oid), sign_algo=body.get("signAlgo"), client_data=body.get("clientData"),
            api=version))})


for _version in ("v1", "v2"):
    _add(_version)
