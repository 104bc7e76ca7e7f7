"""Settings: one object, from QOLTANBA_* environment variables, failing closed.

Secrets are referenced (a file path), never stored in the database. In
production mode the service refuses to start on embedded defaults.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from keys import KeyAlgorithm

if TYPE_CHECKING:   # types only: reading the settings needs neither the registry nor a clock
    from ca.clock import Clock
    from registry import Registry


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QOLTANBA_", extra="ignore", validate_default=True)

    home: Path = Path(".qoltanba")
    mode: Literal["embedded", "production"] = "embedded"
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in the home")
    key_backend: Literal["software", "pkcs11"] = "software"
    master_key_file: Path | None = Field(default=None, description="default <home>/master.key")
    master_key: SecretStr | None = Field(default=None, description="hex or base64; overrides the file")
    pkcs11_module: str | None = None
    pkcs11_token_label: str | None = None
    pkcs11_pin_file: Path | None = None
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="worker processes of `qoltanba serve` (uvicorn's; "
                         "issue 17)")
    cpu_affinity: bool = Field(default=True, description="keep each worker of `qoltanba serve` to one CPU of its "
                               "own (api/http/workers.py); false where other services need the cores")
    ca_algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256
    root_algorithm: KeyAlgorithm | None = Field(default=None, description="the root CA's key; default ca_algorithm")
    national_algorithm: KeyAlgorithm | None = Field(default=None, description="the national CA's key; default "
                                                                             "ca_algorithm")
    government_algorithm: KeyAlgorithm | None = Field(
        default=None, description="the government-bodies CA's key; default gost2015-512 (GOV-7) on the software "
                                  "backend, ca_algorithm on PKCS#11 (no GOST mechanism there yet)")
    service_algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256
    organisation: str = Field(default="QOLTANBA", min_length=1, max_length=64)
    root_name: str = Field(default="QOLTANBA ROOT CA", min_length=1, max_length=64)
    national_name: str = Field(default="QOLTANBA NATIONAL CA", min_length=1, max_length=64)
    government_name: str = Field(default="QOLTANBA GOVERNMENT CA", min_length=1, max_length=64)
    end_entity_validity_days: int = Field(default=365, ge=1, le=3650)
    lint_at_issuance: bool = False
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024,
                                   description="largest body of any route but the uploads (POST /documents, "
                                               "POST /verify: their own limits); 413 before reading further")
    request_timeout_seconds: float = Field(default=120, gt=0, le=3600,
                                           description="a request still unanswered after this gets 504 problem+json "
                                                       "(api/http/limits.py); above verify_timeout_seconds")
    keep_alive_seconds: int = Field(default=5, ge=1, le=300, description="uvicorn --timeout-keep-alive of "
                                                                         "`qoltanba serve`")
    public_rate_per_minute: float = Field(default=120, gt=0, description="public reads (/ca, /profiles, reasons "
                                          "and grounds) per client address")
    public_burst: int = Field(default=60, ge=1, description="public reads a client may make at once")
    tsa_rate_per_minute: float = Field(default=600, gt=0, description="POST /tsa per client address (each one "
                                       "is a signature and a registry write)")
    tsa_burst: int = Field(default=100, ge=1, description="time-stamp queries a client may make at once")
    login_rate_per_minute: float = Field(default=30, gt=0, description="POST /console/login per client address "
                                         "(each attempt costs an argon2 hash; lockout is per account)")
    login_burst: int = Field(default=20, ge=1, description="console logins a client address may try at once")
    auth_failure_rate_per_minute: float = Field(default=30, gt=0, description="rejected API keys and console "
                                                "session tokens per client address (429 with Retry-After beyond)")
    auth_failure_burst: int = Field(default=20, ge=1, description="rejected credentials a client address may "
                                                                  "present at once before the rate applies")
    auth_failure_summary_minutes: float = Field(default=5, gt=0, le=24 * 60,
                                                description="how often the rejected credentials counted per "
                                                            "source are written as one audit entry")
    crl_next_update_hours: float = Field(default=24, gt=0, le=24 * 31, description="CRL nextUpdate - thisUpdate")
    crl_refresh_hours: float = Field(default=6, gt=0, description="re-issue CRLs older than this (schedule)")
    crl_full_on_revocation: bool = Field(default=True, description="re-issue the full CRL, not only the delta, "
                                                                   "after each revocation")
    crl_export_dir: Path | None = Field(default=None, description="default <home>/public/crl; serve it as /crl/")
    ocsp_export_dir: Path | None = Field(default=None, description="default <home>/public/ocsp; serve it as /ocsp/ "
                                         "(each kept OCSP answer at its GET path, issue 17)")
    ocsp_validity_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    status_poll_seconds: float = Field(default=0.2, gt=0, le=0.5,
                                       description="how often a serving process looks for revocations made by "
                                                   "others (the one-second guarantee needs it well under 1 s)")
    crl_schedule_seconds: float = Field(default=60, gt=0)
    max_document_bytes: int = Field(default=20 * 1024 * 1024, ge=1024,
                                    description="largest PDF an MFO may upload to be signed")
    # The monthly calculation index (МРП) changes every 1 January with the
    # republican budget law; 4325 KZT is 2026's. LOAN-13 caps a loan at 1100
    # MRP, which must stay above its 10 000 KZT floor, hence at least 10.
    mrp_kzt: int = Field(default=4325, ge=10, description="monthly calculation index in KZT (LOAN-13: loans up to "
                                                          "1100 MRP)")
    default_signature_level: Literal["B-B", "B-T", "B-LT", "B-LTA"] = Field(
        default="B-LT", description="PAdES level when a request names none (issue 4: B-LT for contracts)")
    signing_session_minutes: int = Field(default=15, ge=1, le=24 * 60,
                                         description="how long an external signature may take to come back")
    authorisation_ttl_minutes: int = Field(default=5, ge=1, le=60,
                                           description="how long a client's signing authorisation stays usable")
    # The audit trail (issues 8 and 18): a checkpoint is due after so many entries or minutes, whichever first.
    audit_checkpoint_minutes: float = Field(default=60, gt=0, description="a checkpoint is due when the oldest "
                                            "entry no checkpoint seals is this old")
    audit_checkpoint_entries: int = Field(default=1000, ge=1, le=1_000_000, description="a checkpoint is due when "
                                          "this many entries are not sealed by one")
    audit_checkpoint_grace_seconds: float = Field(default=60, ge=0, le=24 * 3600, description="how late a due "
                                                  "checkpoint may come before `audit verify` reports the entries "
                                                  "written meanwhile")
    audit_export_file: Path | None = Field(default=None, description="append-only JSON-lines copy of every "
                                           "checkpoint; default <home>/audit/checkpoints.jsonl")
    audit_anchor_file: Path | None = Field(default=None, description="the audit and TSA certificates pinned at "
                                           "init; default <home>/audit/anchor.pem")
    audit_witness_url: str | None = Field(default=None, pattern=r"^https?://", description="each checkpoint is "
                                          "also POSTed here (best effort; a failure is logged)")
    tsa_policy_oid: str = Field(default="1.2.398.3.3.2.6.1", pattern=r"^[0-2](\.(0|[1-9][0-9]*))+$",
                                description="policy of the time-stamp tokens (DOMAIN.md KZ-3)")
    tsa_accuracy_ms: int = Field(default=1000, ge=1, le=60_000, description="accuracy the tokens claim")
    # The client's will (issue 5).
    signing_policy_file: Path | None = Field(default=None, description="JSON signing policies (signing/policies/policy.py); "
                                                                       "default: DOMAIN.md §3's")
    sms_gateway_url: str | None = Field(default=None, pattern=r"^https?://", description="the SMS gateway's HTTP "
                                        "webhook; unset: the development outbox (embedded mode only)")
    sms_gateway_token_file: Path | None = Field(default=None, description="bearer token for the SMS gateway")
    biometric_provider: str = Field(default="simulator", min_length=1, max_length=64,
                                    description="the identity provider's name, the iss of its assertions")
    biometric_provider_key_file: Path | None = Field(default=None, description="the provider's public key (PEM, "
                                                     "EC P-256 or Ed25519); unset: the simulator's, embedded only")
    biometric_provider_url: str | None = Field(
        default=None, pattern=r"^https?://[!-~]+$", max_length=500,
        description="the identity provider's page the Sign page sends the borrower to for the biometric step "
                    "(a form POST: challenge, movements, iin, return, lang); it films the movements and sends the "
                    "borrower back to `return` with `?assertion=<JWS>`; unset: the simulator in the page, embedded "
                    "only")
    # The borrower's signing page (issue 20).
    ncalayer_url: str = Field(default="wss://127.0.0.1:13579", pattern=r"^wss?://[!-~]+$", max_length=200,
                              description="where the signing page finds NCALayer (the NCA RK's signing "
                                          "application listens on wss://127.0.0.1:13579)")
    handoff_link_minutes: int = Field(default=5, ge=1, le=60, description="how long an eGov mobile QR / deep "
                                      "link for the EDS stays usable (never past its EDS session)")
    client_rate_per_minute: int = Field(default=60, ge=1, le=10_000, description="client API calls a minute per "
                                        "address (token bucket)")
    client_rate_burst: int = Field(default=30, ge=1, le=10_000, description="client API calls at once per address")
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="how often each serving process "
                                        "looks for due webhook deliveries and due jobs (the shared queue)")
    webhook_lease_seconds: float = Field(default=120, gt=0, le=3600, description="how long a worker holds a "
                                         "webhook delivery it is sending; past it another worker sends it")
    # The job queue every worker shares (issue 17, item 2: ca/jobs.py).
    job_lease_seconds: float = Field(default=60, gt=0, le=3600, description="how long a worker holds a job it "
                                     "runs; past it (the worker died) another worker runs it")
    job_max_attempts: int = Field(default=5, ge=1, le=50, description="attempts of a one-off job before it is "
                                  "dead (the dead-letter state)")
    job_first_retry_seconds: float = Field(default=5, gt=0, le=3600, description="wait after a job's first "
                                           "failure, doubled after each further one (at most an hour)")
    retention_schedule_hours: float = Field(default=24, ge=0, le=24 * 366, description="how often the retention "
                                            "of certificates runs as a scheduled job; 0: only `qoltanba retention`")
    # Verification (issue 6): anyone may upload, so every bound is a setting.
    verify_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024,
                                  description="largest PDF or CMS (and detached file) a verification reads")
    verify_timeout_seconds: float = Field(default=30, gt=0, le=600,
                                          description="wall-clock limit of one verification's worker process")
    verify_memory_mb: int = Field(default=1024, ge=256, le=65536,
                                  description="address space one verification's worker may add to what it "
                                              "maps when it starts (RLIMIT_AS)")
    verify_workers: int = Field(default=2, ge=1, le=64, description="verifications running at once per process")
    verify_per_address: int = Field(default=1, ge=1, le=63,
                                    description="verifications one client address may have running or waiting "
                                                "at once per process (429 beyond); below verify_workers, so one "
                                                "address always leaves a worker to the others")
    verify_rate_per_minute: float = Field(default=30, gt=0,
                                          description="POST /verify and GET /verify/{id} per client address")
    verify_burst: int = Field(default=10, ge=1, description="requests a client may make at once before the rate "
                                                            "applies")
    verify_online: bool = Field(default=False, description="let public verifications fetch OCSP/CRL from the "
                                                           "URLs in uploaded certificates")

    # People of the certification centre (issue 8): console logins.
    console_idle_minutes: float = Field(default=15, gt=0, le=24 * 60,
                                        description="a console session ends after this long without a request")
    console_session_hours: float = Field(default=8, gt=0, le=7 * 24,
                                         description="a console session ends this long after login, used or not")
    console_lockout_failures: int = Field(default=5, ge=1, le=100,
                                          description="consecutive failed logins that lock a console account")
    console_lockout_minutes: float = Field(default=15, gt=0, le=7 * 24 * 60,
                                           description="how long a locked console account stays locked")
    approval_ttl_hours: float = Field(default=24, gt=0, le=30 * 24,
                                      description="how long a dual-control request waits for a second "
                                                  "administrator before it lapses")

    # Operations (issue 17): logs, readiness.
    log_format: Literal["json", "text"] | None = Field(
        default=None, description="json: one JSON object a line with the request id, personal data scrubbed "
                                  "(api/http/logs.py); text: the logging configuration's own format; "
                                  "default json in production mode, text in embedded mode")
    ready_max_queue: int = Field(default=10_000, ge=0, description="GET /readyz fails when more webhook "
                                 "deliveries or due jobs than this are pending")
    ready_cache_seconds: float = Field(default=1.0, ge=0, le=60, description="how long a process reuses its last "
                                       "readiness checks (GET /readyz, the scraped gauges of /metrics)")

    @model_validator(mode="after")
    def _production_is_explicit(self) -> "Settings":
        if self.mode == "production":
            problems = []
            if not (self.database_url or "").startswith("postgresql"):
                problems.append("QOLTANBA_DATABASE_URL must name a PostgreSQL database")
            if self.key_backend != "pkcs11":
                problems.append("QOLTANBA_KEY_BACKEND must be pkcs11 (the root key lives in an HSM)")
            if self.base_url.startswith("http://127.") or "localhost" in self.base_url:
                problems.append("QOLTANBA_BASE_URL must be the public address written into certificates")
            if not self.sms_gateway_url:
                problems.append("QOLTANBA_SMS_GATEWAY_URL must name the SMS gateway (the outbox is for development)")
            if self.biometric_provider == "simulator" or not self.biometric_provider_key_file:
                problems.append("QOLTANBA_BIOMETRIC_PROVIDER and QOLTANBA_BIOMETRIC_PROVIDER_KEY_FILE must name the "
                                "real identity provider (the simulator is for development)")
            if not self.biometric_provider_url:
                problems.append("QOLTANBA_BIOMETRIC_PROVIDER_URL must name the identity provider's page the "
                                "borrower is sent to for the biometric check")
            if problems:
                raise ValueError("production mode refuses embedded defaults: " + "; ".join(problems))
        if self.key_backend == "pkcs11" and not (self.pkcs11_module and self.pkcs11_token_label
                                                 and self.pkcs11_pin_file):
            raise ValueError("the pkcs11 key backend needs QOLTANBA_PKCS11_MODULE, "
                             "QOLTANBA_PKCS11_TOKEN_LABEL and QOLTANBA_PKCS11_PIN_FILE")
        if self.key_backend == "pkcs11" and any(a.is_gost for a in self.centre_algorithms.values()):
            raise ValueError("the pkcs11 key backend cannot hold GOST keys yet: choose another "
                             "QOLTANBA_ROOT/NATIONAL/GOVERNMENT_ALGORITHM")
        if self.crl_refresh_hours >= self.crl_next_update_hours:
            raise ValueError("QOLTANBA_CRL_REFRESH_HOURS must be below QOLTANBA_CRL_NEXT_UPDATE_HOURS")
        if self.verify_per_address > max(1, self.verify_workers - 1):
            raise ValueError("QOLTANBA_VERIFY_PER_ADDRESS must be below QOLTANBA_VERIFY_WORKERS (1 with one "
                             "worker), or one client address could hold every verification worker")
        return self

    @property
    def centre_algorithms(self) -> dict[str, KeyAlgorithm]:
        """Each centre's key algorithm, defaults resolved.

        GOV-7 names GOST for the government-bodies CA: GOST R 34.10-2015
        512-bit, the NCA RK's current parameter set (DOMAIN.md KZ-5). Only
        the software backend holds GOST keys so far; on PKCS#11 the default
        falls back to ``ca_algorithm`` rather than failing every HSM setup.
        """
        government = self.government_algorithm or (
            KeyAlgorithm.GOST_2015_512 if self.key_backend == "software" else self.ca_algorithm)
        return {"root": self.root_algorithm or self.ca_algorithm,
                "national": self.national_algorithm or self.ca_algorithm, "government": government}

    @property
    def resolved_log_format(self) -> str:
        return self.log_format or ("json" if self.mode == "production" else "text")

    @property
    def sms_outbox(self) -> bool:
        """SMS kept in the development outbox (and viewable over the API) rather than sent."""
        return self.mode == "embedded" and not self.sms_gateway_url

    @property
    def resolved_crl_export_dir(self) -> Path:
        return self.crl_export_dir or self.home / "public" / "crl"

    @property
    def resolved_ocsp_export_dir(self) -> Path:
        return self.ocsp_export_dir or self.home / "public" / "ocsp"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home.resolve() / 'registry.db'}"

    @property
    def resolved_audit_export_file(self) -> Path:
        return self.audit_export_file or self.home / "audit" / "checkpoints.jsonl"

    @property
    def resolved_audit_anchor_file(self) -> Path:
        return self.audit_anchor_file or self.home / "audit" / "anchor.pem"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.home / "master.key"


_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def settings_snapshot(settings: Settings) -> dict[str, object]:
    """Every setting as JSON for the audit log, with nothing secret in it.

    A SecretStr (the master key) becomes a SHA-256 fingerprint (of a 256-bit
    key: says whether it changed, reveals nothing); a password inside a
    database URL is masked. Secret *files* (master key, PKCS#11 PIN) appear
    as their paths only.
    """
    snapshot = settings.model_dump(mode="json")
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            snapshot[name] = "sha256:" + hashlib.sha256(value.get_secret_value().encode()).hexdigest()
        elif isinstance(value, str) and "://" in value:
            snapshot[name] = _URL_PASSWORD.sub(r"\1***@", value)
    return snapshot


def record_settings(settings: Settings, registry: "Registry", clock: "Clock", actor: str = "system") -> list[str]:
    """An audit entry when the settings in force differ from the last ones recorded (issue 8).

    The entry names every changed setting with its new value; a secret
    (SecretStr: the master key) is recorded by a keyed fingerprint only,
    so the log says that it changed, never what it is. Returns the names
    of the changed settings ([] when nothing changed).
    """
    snapshot = settings_snapshot(settings)
    with registry.transaction() as tx:
        last = tx.audit.latest("settings.changed")
        previous = dict(last.details.get("settings", {})) if last is not None else {}
        changed = sorted(name for name in snapshot.keys() | previous.keys()
                         if snapshot.get(name) != previous.get(name))
        if not changed:
            return []
        tx.audit.append(at=clock.now(), actor=actor, action="settings.changed", subject="settings",
                        details={"changed": changed, "settings": snapshot})
    return changed
