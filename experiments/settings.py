"""The service's one settings class, read from `VEKST_*` environment variables."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/vekst.db"
# Redis key prefix of the event stream; keep the braces (one Redis Cluster hash slot).
DEFAULT_EVENT_STREAM_PREFIX = "{vekst:events}"
# How long the Redis path remembers a client event_id to report a repeat as a duplicate.
DEFAULT_EVENT_DEDUPE_HOURS = 24.0
MIN_SECRET_LENGTH = 16


class Settings(BaseSettings):
    """Everything the service is configured by. Build it with `load_settings()` and pass it in."""

    model_config = SettingsConfigDict(env_prefix="VEKST_", extra="ignore")

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
    # `serve` runs the scheduled looks and the webhook deliveries (once across all workers).
    start_scheduler: bool = True
    webhook_max_attempts: int = Field(default=6, ge=1, le=20)
    webhook_retry_seconds: float = Field(default=30.0, gt=0)
    # Signs the results pages' session cookies; unset: derived from the admin key (see
    # api/pages/sessions.py). Set it when the admin key is not configured and several workers run.
    session_secret: str | None = Field(default=None, repr=False)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
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
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

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
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword arguments win over it (tests, the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
