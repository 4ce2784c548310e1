"""The service's one settings class, read from `VEKST_*` environment variables."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from difflib import get_close_matches
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_DATABASE_URL = "sqlite:///./data/vekst.db"
# Redis key prefix of the event stream; keep the braces (one Redis Cluster hash slot).
DEFAULT_EVENT_STREAM_PREFIX = "{vekst:events}"
# How long the Redis path remembers a client event_id to report a repeat as a duplicate.
DEFAULT_EVENT_DEDUPE_HOURS = 24.0
MIN_SECRET_LENGTH = 16
ENV_PREFIX = "VEKST_"

logger = logging.getLogger(__name__)


class Settings(BaseSettings):
    """Everything the service is configured by. Build it with `load_settings()` and pass it in."""

    # Inputs are left out of errors: they may be keys. A keyword that names no setting is an
    # error (a misspelt override would otherwise be ignored); unknown variables are not read.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", hide_input_in_errors=True
    )

    environment: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    admin_key: str | None = Field(default=None, repr=False)
    sdk_key: str | None = Field(default=None, repr=False)
    # Comma-separated in the environment (NoDecode: not parsed as JSON first).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    # Tighter caps on two public routes (the smaller of each and max_body_bytes applies).
    beacon_max_body_bytes: int = Field(default=64 * 1024, gt=0)
    assign_max_body_bytes: int = Field(default=64 * 1024, gt=0)
    key_cache_seconds: float = Field(default=1.0, ge=0)
    event_max_age_days: int = Field(default=90, gt=0)
    event_dedupe_hours: float = Field(default=DEFAULT_EVENT_DEDUPE_HOURS, gt=0)
    event_stream_prefix: str = Field(default=DEFAULT_EVENT_STREAM_PREFIX, min_length=1)
    start_worker: bool = True
    # How often each process looks for a definition or key changed by another process (s).
    config_poll_seconds: float = Field(default=0.1, gt=0, le=5)
    # Logs: JSON lines (production) or one readable line (development); access log per request.
    log_format: Literal["json", "human"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    request_log: bool = True
    # `GET /metrics` takes the admin key or this token (for a Prometheus scraper).
    metrics_token: str | None = Field(default=None, repr=False)
    # Token buckets per key (0 = no limit): requests/s on assign, events/s on the intake.
    assign_rate_per_second: float = Field(default=20_000.0, ge=0)
    assign_burst: int = Field(default=40_000, ge=1)
    events_rate_per_second: float = Field(default=100_000.0, ge=0)
    events_burst: int = Field(default=200_000, ge=1)
    # Token buckets per client address on the public traffic (sdk key, beacon), beside the key's.
    client_assign_rate_per_second: float = Field(default=100.0, ge=0)
    client_assign_burst: int = Field(default=500, ge=1)
    client_events_rate_per_second: float = Field(default=200.0, ge=0)
    client_events_burst: int = Field(default=1000, ge=1)
    # The client address is the socket peer, unless the peer is one of these proxies: then it is
    # read from this header (comma-separated in the environment, IPs or CIDRs).
    client_ip_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list
    )
    # Running experiments get a new look this often; a page older than this is refreshed.
    snapshot_interval_minutes: float = Field(default=60.0, gt=0)
    # A look starts from the previous look's sums unless the latest full look (from every event)
    # ended this long ago: the guard of incremental looks (docs/results.md).
    full_look_interval_hours: float = Field(default=24.0, gt=0)
    # `serve` runs the scheduled looks and the webhook deliveries (once across all workers).
    start_scheduler: bool = True
    webhook_max_attempts: int = Field(default=6, ge=1, le=20)
    webhook_retry_seconds: float = Field(default=30.0, gt=0)
    # Webhooks may target loopback, private, link-local and other non-public addresses (tests, a
    # receiver on the same network); off, those are refused at creation and at every attempt.
    webhook_allow_private_targets: bool = False
    # Fernet keys (comma-separated) for webhook URLs and secrets at rest: the first encrypts,
    # all decrypt. Unset: a development key file beside the database; refused in production.
    encryption_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    # Signs the results pages' session cookies and CSRF tokens; unset: a random secret made once
    # and kept in the database (table server_secrets), the same for every worker and host.
    session_secret: str | None = Field(default=None, repr=False)
    # Where `serve` writes the keys of a first start when stdout is no terminal (a new 0600
    # file); unset: first-start-keys.txt next to the SQLite database, or in ./data.
    first_start_keys_file: Path | None = None
    # The page cookie's `Secure` flag: true always, false never; unset: always in production,
    # else when the request came over HTTPS (behind a proxy: X-Forwarded-Proto, trusted from
    # `vekst serve --forwarded-allow-ips`).
    cookie_secure: bool | None = None
    # Swagger UI at /docs (served from this server's files); unset: on, except in production.
    docs: bool | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],  # noqa: ARG003 - pydantic-settings' signature
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keywords, then `VEKST_` variables: the service reads no `.env` file and no secrets
        directory (reading for them cost half of every `load_settings`)."""
        return init_settings, env_settings

    @field_validator("cors_origins", "encryption_keys", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_networks(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        networks = []
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                networks.append(ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return networks

    @field_validator(
        "redis_url",
        "client_ip_header",
        "admin_key",
        "sdk_key",
        "metrics_token",
        "session_secret",
        "first_start_keys_file",
        "cookie_secure",
        "docs",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _check_encryption_keys(self) -> Settings:
        for position, key in enumerate(self.encryption_keys, start=1):
            if not _is_fernet_key(key):
                raise ValueError(
                    f"VEKST_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 bytes in "
                    "url-safe base64, 44 characters; make one with `vekst webhooks new-key`)"
                )
        return self

    @model_validator(mode="after")
    def _header_needs_proxies(self) -> Settings:
        if self.client_ip_header is not None and not self.trusted_proxies:
            raise ValueError(
                "VEKST_CLIENT_IP_HEADER is read only from VEKST_TRUSTED_PROXIES: set both "
                "(the proxies' addresses or networks, comma-separated)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            for name in ("admin_key", "sdk_key", "metrics_token", "session_secret"):
                secret = getattr(self, name)
                if secret is not None and len(secret) < MIN_SECRET_LENGTH:
                    raise ValueError(
                        f"VEKST_{name.upper()} must be at least {MIN_SECRET_LENGTH} characters "
                        "in production"
                    )
        return self

    @property
    def serves_docs(self) -> bool:
        """Whether /docs is served: as `docs` says; unset, everywhere but in production."""
        return self.docs if self.docs is not None else self.environment != "production"

    @property
    def full_look_every(self) -> timedelta:
        """The guard of incremental looks (`full_look_interval_hours`)."""
        return timedelta(hours=self.full_look_interval_hours)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
    except (ValueError, UnicodeEncodeError):
        return False


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword arguments win over it (tests, the CLI).

    A keyword that names no setting raises `TypeError` naming it. A `VEKST_` variable that is
    no setting but looks like a misspelt one is logged as a warning (other tools, such as the
    test suite, keep their own `VEKST_` variables, so unknown names are not refused).
    """
    for name in overrides:
        if name not in Settings.model_fields:
            close = _closest_setting(name)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise TypeError(f"load_settings() got an unknown setting {name!r}{hint}")
    _warn_of_misspelt_variables(os.environ)
    return Settings(**overrides)  # type: ignore[arg-type]


def _warn_of_misspelt_variables(environ: Mapping[str, str]) -> None:
    for variable in environ:
        name = variable.lower().removeprefix(ENV_PREFIX.lower())
        if not variable.upper().startswith(ENV_PREFIX) or name in Settings.model_fields:
            continue
        close = _closest_setting(name)
        if close is not None:
            logger.warning(
                "%s is not a setting and is ignored (did you mean %s%s?)",
                variable,
                ENV_PREFIX,
                close.upper(),
            )


def _closest_setting(name: str) -> str | None:
    """The setting whose name is closest to `name`, if one is close enough to be a typo."""
    close = get_close_matches(name.lower(), Settings.model_fields, n=1, cutoff=0.85)
    return close[0] if close else None
