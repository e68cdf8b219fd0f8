"""Typed settings for eSocial.

Settings come from ``config/<environment>.toml`` (non-secret, checked in) and are
overridden by environment variables ``ESOCIAL_<NAME>`` (secrets, deployment
specifics).  :func:`load_settings` refuses to return settings that would be
unsafe: a production configuration with the default secret or with the
development identity provider is an error, not a warning.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"

DEFAULT_SECRET = "development-only-secret-change-me"


class SettingsError(RuntimeError):
    """Raised when the configuration is missing a value or holds an unsafe one."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: str = DEFAULT_SECRET
    database_url: str = "sqlite:///instance/esocial.db"
    instance_path: str = "instance"
    # Public address of the portal, used for SAML endpoints and links in e-mails.
    base_url: str = "http://localhost:5000"
    default_language: str = "ro"
    languages: tuple[str, ...] = ("ro", "ru", "en")
    default_timezone: str = "Europe/Chisinau"

    # SAML service provider (eSocial) and the identity provider we trust (MPass).
    sp_entity_id: str = ""
    sp_cert_file: str = ""
    sp_key_file: str = ""
    idp_metadata_file: str = ""
    # Marks the trusted IdP as the bundled development IdP; refused in production.
    dev_idp: bool = False
    saml_message_timeout_seconds: int = 600

    # Registries (MConnect in production, the simulator in development).
    registry_base_url: str = "http://127.0.0.1:5002"
    registry_client_id: str = "MD/GOV/MMPS/ESOCIAL"
    registry_timeout_seconds: float = 5.0
    # Mutual TLS to the MConnect security server: eSocial's client certificate and key (PEM files) and the CA
    # bundle that signs the security server's certificate ("" = the system's CAs).
    registry_client_cert: str = ""
    registry_client_key: str = ""
    registry_ca_file: str = ""
    # Resilience: attempts per query on transient errors, circuit breaker per registry, cache for own queries.
    registry_retry_attempts: int = 3
    registry_breaker_failures: int = 5
    registry_breaker_cooldown_seconds: float = 30.0
    registry_cache_seconds: int = 180
    # MConnect Events (CloudEvents feed, long polling): "" = registry_base_url.
    registry_events_url: str = ""
    registry_events_wait_seconds: float = 1.0

    # Notifications.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "eSocial <noreply@esocial.gov.md>"
    sms_gateway_url: str = "http://127.0.0.1:5003/sms/send"
    sms_gateway_token: str = ""
    # Which SMS gateway class sends: "http" (JSON over HTTP, portal.notifications.gateways) or "module:Class".
    sms_gateway: str = "http"
    # Reminders (portal.notifications.reminders): days before/after the event that is due.
    reminder_info_days: int = 7  # a request for information still unanswered after this many days
    reminder_deadline_days: int = 3  # working days before the legal decision deadline
    reminder_renewal_days: int = 30  # days before a benefit must be renewed
    # Live status: how often each process reads which watched applications changed (seconds).
    live_poll_seconds: float = 0.25

    # Uploads.
    upload_dir: str = "instance/uploads"
    max_upload_bytes: int = 5 * 1024 * 1024

    session_cookie_secure: bool = False
    session_idle_minutes: int = 30
    # A login session ends this long after login, however active (portal.accounts.sessions).
    session_absolute_hours: int = 12

    # Security (issue 9; README "Security").  Documents are encrypted at rest with AES-256-GCM under
    # document_key: 32 random bytes, base64 (python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())").
    # "" outside production = a key made once in <instance>/keys/document.key.  Older keys, still able to decrypt
    # what they encrypted: document_old_keys (comma-separated).
    document_key: str = ""
    document_old_keys: tuple[str, ...] = ()
    # Rate limits (Flask-Limiter notation), per client address; storage "" = memory (one process) or redis_url.
    ratelimit_enabled: bool = True
    ratelimit_storage_url: str = ""
    ratelimit_login: str = "30 per minute;300 per hour"
    ratelimit_status_lookup: str = "10 per minute;60 per hour"
    ratelimit_api: str = "600 per minute"
    # Strict-Transport-Security max-age, sent when base_url is https (always in production).
    hsts_seconds: int = 31536000
    # Retention periods per record type: config/retention.toml (portal.privacy.retention).
    retention_file: str = "config/retention.toml"

    # Redis (production shape): the background job queue (RQ) and anything else shared between processes.
    # "" = none: the embedded default runs background work in threads.  Example: redis://127.0.0.1:6379/0
    redis_url: str = ""
    # /metrics answers only with "Authorization: Bearer <metrics_token>" when set ("" = open; keep it internal).
    metrics_token: str = ""

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def instance_dir(self) -> Path:
        path = Path(self.instance_path)
        return path if path.is_absolute() else ROOT / path

    def resolve(self, value: str) -> Path:
        """Resolve a configured file path relative to the project root."""
        path = Path(value)
        return path if path.is_absolute() else ROOT / path


def _coerce(kind: type, raw: str):
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if kind == tuple[str, ...]:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def load_settings(env: str | None = None, overrides: dict | None = None) -> Settings:
    """Build the settings for ``env`` (default ``$ESOCIAL_ENV`` or development)."""
    env = env or os.environ.get("ESOCIAL_ENV", "development")
    values: dict = {}
    path = CONFIG_DIR / f"{env}.toml"
    if not path.exists():
        raise SettingsError(f"no configuration file for environment {env!r} ({path.name})")
    with path.open("rb") as fh:
        values.update(tomllib.load(fh))
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    hints = {name: eval(t) if isinstance(t, str) else t for name, t in types.items()}  # noqa: S307 - our own annotations
    for name in hints:
        raw = os.environ.get(f"ESOCIAL_{name.upper()}")
        if raw is not None:
            values[name] = _coerce(hints[name], raw)
    values.update(overrides or {})
    unknown = set(values) - set(hints)
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
    if "languages" in values and isinstance(values["languages"], list):
        values["languages"] = tuple(values["languages"])
    values["env"] = env
    settings = Settings(**values)
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    if settings.default_language not in settings.languages:
        raise SettingsError("default_language must be one of languages")
    if bool(settings.registry_client_cert) != bool(settings.registry_client_key):
        raise SettingsError("registry_client_cert and registry_client_key are set together (mutual TLS to MConnect)")
    if settings.is_production:
        if settings.secret_key == DEFAULT_SECRET or len(settings.secret_key) < 32:
            raise SettingsError("production needs ESOCIAL_SECRET_KEY: a random value of 32 characters or more")
        if settings.dev_idp:
            raise SettingsError("the development identity provider is never trusted in production")
        if not settings.base_url.startswith("https://"):
            raise SettingsError("production base_url must use https")
        if settings.database_url.startswith("sqlite"):
            raise SettingsError("production runs on PostgreSQL, not SQLite")
        for name in ("sp_cert_file", "sp_key_file", "idp_metadata_file"):
            if not getattr(settings, name):
                raise SettingsError(f"production needs {name}")
        if not settings.document_key:
            raise SettingsError("production needs ESOCIAL_DOCUMENT_KEY: documents are encrypted at rest")
        if not settings.session_cookie_secure:
            raise SettingsError("production sends the session cookie over HTTPS only (session_cookie_secure)")
    _check_upload_dir(settings)


def _check_upload_dir(settings: Settings) -> None:
    """Uploaded documents live outside anything the web server serves."""
    uploads = settings.resolve(settings.upload_dir).resolve()
    for served in (ROOT / "static", ROOT / "templates"):
        if uploads == served.resolve() or served.resolve() in uploads.parents:
            raise SettingsError("upload_dir must be outside the web root (static/, templates/)")
