"""Settings from the environment and `.env` (DESIGN.md, "Configuration").

``load_settings()`` is the only entry point the application uses: it turns every validation
problem into a ``ConfigError`` whose text is one line naming the variable, so the CLI can
print it and exit 2 without a traceback.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_S = TypeVar("_S", bound="DatabaseSettings")


class ConfigError(Exception):
    """A missing or malformed setting; ``str()`` is one line meant for the operator."""


_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _check_https_url(name: str, value: str) -> str:
    """An http(s) URL that is https:// unless it is on loopback (tests, the sandbox)."""
    value = _check_http_url(name, value)
    if urlsplit(value).scheme != "https" and not is_loopback_url(value):
        raise ValueError(f"{name} must be an https:// URL (plain http only on loopback)")
    return value


# Telegram's alphabet for a webhook secret; 32 characters or more, so it cannot be guessed.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{32,256}")
MAX_INVITE_TTL_HOURS = 168  # a week: an invite link is a grant, not a standing door


def _check_redis_url(value: str) -> str:
    # The message never repeats the value: a Redis URL often carries a password.
    if not value:
        return value
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
        ok = bool(parts.path) if parts.scheme == "unix" else (
            parts.scheme in ("redis", "rediss") and bool(parts.hostname)
        )
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            "REDIS_URL must look like redis://[:password@]host[:port][/db] "
            "(or rediss://, unix:///path)"
        )
    return value


# The drivers installed with the bot (pyproject): any other URL would fail at the first
# connection with an ImportError or "requires an async driver" deep inside SQLAlchemy.
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
_DATABASE_HINT = "use sqlite+aiosqlite:///path/bot.db or postgresql+asyncpg://user:password@host/db"


def _check_database_url(value: str) -> str:
    # The message never repeats the whole value: a database URL often carries a password.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    value = value.strip()
    try:
        driver = make_url(value).drivername
    except (ArgumentError, ValueError):
        raise ValueError(f"DATABASE_URL is not a database URL; {_DATABASE_HINT}") from None
    if driver not in DATABASE_DRIVERS:
        raise ValueError(
            f"DATABASE_URL names the driver {driver!r}, which the bot cannot use; {_DATABASE_HINT}"
        )
    return value


class DatabaseSettings(BaseSettings):
    """What `python -m bot migrate` needs, and nothing else (no BOT_TOKEN to migrate)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    database_url: str = "sqlite+aiosqlite:///data/bot.db"

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        return _check_database_url(value)


class Settings(DatabaseSettings):
    bot_token: SecretStr
    telegram_api_url: str = "https://api.telegram.org"

    tmapi_base_url: str = ""
    tmapi_access_token: SecretStr | None = None
    tmapi_refresh_token: SecretStr | None = None
    tmapi_client_id: str = ""
    tmapi_auth_url: str = ""
    tmapi_phone_form: Literal["dotted", "bracket", "json"] = "dotted"

    redis_url: str = ""
    # False for replicas: `python -m bot migrate` runs once per deploy, and a replica whose
    # code is newer than the schema refuses to start (bot/app/preflight.py).
    migrate_on_start: bool = True

    http_host: str = "0.0.0.0"
    http_port: int = Field(8080, ge=0, le=65535)
    public_url: str = ""
    telegram_webhook_secret: SecretStr | None = None

    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    team_chat_id: int | None = None
    default_timezone: str = "Europe/Moscow"

    invite_ttl_hours: int = 72
    default_phone_region: str = "RU"
    reconcile_interval_seconds: int = Field(180, ge=5)
    # A start whose answer was lost (`unknown`) and not found in get-all this long after
    # the attempt is declared not created; the coordinator may start it again.
    start_unknown_bound_seconds: int = Field(300, ge=30)
    # A `starting` record this old was left by a crash mid-call (longer than a start call
    # can take: 15 s timeouts per read/write, an attachment upload of up to 10 MB); checked
    # at start-up at once.
    start_stale_after_seconds: int = Field(120, ge=10)
    # This replica's stable name: a restart releases the outbox claims of its previous
    # process at once. Replicas need distinct names (a dead one's claims pass on in 10 s).
    instance_name: str = Field("main", min_length=1, max_length=24, pattern=r"^[A-Za-z0-9_.-]+$")
    # Outbox sends between Telegram's receipt and their record at most: what a kill -9 may
    # repeat. 1 sends ≈ 1/(round trip) messages/s (README: Operating several replicas).
    outbox_sends_in_flight: int = Field(1, ge=1, le=25)
    reminder_lead_minutes: int = Field(15, ge=0)
    retention_days: int = Field(30, ge=1)
    sandbox_pace_seconds: float = Field(20.0, ge=0)
    max_url_length: int = Field(1800, ge=256)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @property
    def start_settle_within(self) -> timedelta:
        """The longest a lost start stays `unknown`: the bound, then the reconcile tick."""
        return timedelta(
            seconds=self.start_unknown_bound_seconds + self.reconcile_interval_seconds
        )

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value().strip()
        # "<digits>:<secret>" — checked loosely so a test fake's token still passes.
        head, sep, tail = raw.partition(":")
        if not (sep and head.isdigit() and tail):
            raise ValueError("BOT_TOKEN must look like 123456:ABC… (from @BotFather)")
        return SecretStr(raw)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            ids: list[int] = []
            for part in value.replace(";", ",").split(","):
                part = part.strip()
                if not part:
                    continue
                if not part.lstrip("-").isdigit():
                    raise ValueError(
                        f"ADMIN_IDS must be comma-separated Telegram ids, got {part!r}"
                    )
                ids.append(int(part))
            return frozenset(ids)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("team_chat_id", mode="before")
    @classmethod
    def _empty_team_chat(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("tmapi_access_token", "tmapi_refresh_token", "telegram_webhook_secret",
                     mode="before")
    @classmethod
    def _empty_secret(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"DEFAULT_TIMEZONE must be an IANA zone like Europe/Moscow, got {value!r}"
            ) from None
        return value

    @field_validator("default_phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise ValueError(f"DEFAULT_PHONE_REGION must be a 2-letter code, got {value!r}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and -; fewer than 32 could be
        # guessed. The message never repeats the value.
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET must be 32-256 characters of A-Z a-z 0-9 _ - "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @field_validator("invite_ttl_hours")
    @classmethod
    def _invite_ttl(cls, value: int) -> int:
        if not 1 <= value <= MAX_INVITE_TTL_HOURS:
            raise ValueError(
                f"INVITE_TTL_HOURS must be between 1 and {MAX_INVITE_TTL_HOURS} (a week), "
                f"got {value}"
            )
        return value

    @model_validator(mode="after")
    def _urls(self) -> Settings:
        self.telegram_api_url = _check_http_url("TELEGRAM_API_URL", self.telegram_api_url)
        if self.tmapi_base_url.strip():
            self.tmapi_base_url = _check_https_url("TMAPI_BASE_URL", self.tmapi_base_url.strip())
        else:
            self.tmapi_base_url = ""
        if self.tmapi_auth_url.strip():
            self.tmapi_auth_url = _check_https_url("TMAPI_AUTH_URL", self.tmapi_auth_url.strip())
        self.redis_url = _check_redis_url(self.redis_url.strip())
        if not self.public_url.strip():
            self.public_url = f"http://127.0.0.1:{self.http_port}"
        self.public_url = _check_https_url("PUBLIC_URL", self.public_url.strip())
        if (
            self.tmapi_base_url
            and not is_loopback_url(self.tmapi_base_url)
            and is_loopback_url(self.public_url)
        ):
            raise ValueError(
                f"PUBLIC_URL {self.public_url} is a loopback address, but the partner API "
                f"{self.tmapi_base_url} is not: its status notifications could never arrive; "
                "set PUBLIC_URL to an address the partner API can reach"
            )
        if (
            self.telegram_webhook_secret is not None
            and is_loopback_url(self.public_url)
            and not is_loopback_url(self.telegram_api_url)
        ):
            raise ValueError(
                "PUBLIC_URL is a loopback address, so Telegram could never deliver the "
                "webhook set by TELEGRAM_WEBHOOK_SECRET; set PUBLIC_URL or unset the secret"
            )
        return self

    @property
    def is_sandbox(self) -> bool:
        return not self.tmapi_base_url

    @property
    def default_zone(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    @property
    def webhook_mode(self) -> bool:
        return self.telegram_webhook_secret is not None

    def hook_url(self, token: str) -> str:
        """The externalNotificationUrl for one consultation's token."""
        return f"{self.public_url}/hooks/callback/{token}"


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = [str(p) for p in first.get("loc", ()) if p != "__root__"]
    name = loc[0].upper() if loc else ""
    kind = first.get("type", "")
    if kind == "missing":
        return f"{name} is required but not set"
    message = str(first.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if not name:
        return message
    if name in message:
        return message
    return f"{name}: {message}"


def _load(
    model: type[_S], env: dict[str, str] | None, env_file: str | None
) -> _S:
    try:
        if env is not None:
            # Only the given mapping: tests must not depend on the developer's shell or .env.
            lowered = {k.lower(): v for k, v in env.items()}
            return model.model_validate(lowered)
        return model(_env_file=env_file)
    except ValidationError as exc:
        raise ConfigError(" ".join(_one_line(exc).split())) from None


def load_settings(env: dict[str, str] | None = None, *, env_file: str | None = ".env") -> Settings:
    """Settings from ``env`` (tests) or the process environment and ``.env``.

    Raises ``ConfigError`` with a single-line message naming the variable.
    """
    return _load(Settings, env, env_file)


def load_database_settings(
    env: dict[str, str] | None = None, *, env_file: str | None = ".env"
) -> DatabaseSettings:
    """Only DATABASE_URL (for ``migrate``): the other settings, even malformed, do not matter."""
    return _load(DatabaseSettings, env, env_file)
