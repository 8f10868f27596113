"""The gateway's settings: its own `GRMS_GATEWAY_*` variables and the services' gRPC addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grms_kit.settings import SharedSettings
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from grms_gateway.media import FetchPolicy, parse_networks

__all__ = ["DEFAULT_PORTS", "SERVICES", "GatewaySettings"]

#: The six services, in the order pages and probes list them.
SERVICES: tuple[str, ...] = ("budgeting", "planning", "delivery", "controlling", "monev", "complaints")

#: Each service's default gRPC port; the services read the same defaults.
DEFAULT_PORTS: dict[str, int] = {
    "budgeting": 50151,
    "planning": 50152,
    "delivery": 50153,
    "controlling": 50154,
    "monev": 50155,
    "complaints": 50156,
}


def _svc(service: str, what: str) -> Any:
    # The very names each service reads itself: one variable per thing, never a gateway copy.
    return AliasChoices(f"GRMS_{service.upper()}_GRPC_{what}")


def _gw(name: str) -> Any:
    return AliasChoices(f"GRMS_GATEWAY_{name}")


class GatewaySettings(SharedSettings):
    """Where the gateway listens, where its accounts live and where each service answers."""

    model_config = SettingsConfigDict(env_prefix="GRMS_GATEWAY_", extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", validation_alias=_gw("HOST"))
    port: int = Field(8000, ge=0, le=65535, validation_alias=_gw("PORT"))
    database_url: str = Field("", validation_alias=_gw("DATABASE_URL"))
    grpc_deadline: float = Field(5.0, gt=0, le=120, validation_alias=_gw("GRPC_DEADLINE"))
    probe_timeout: float = Field(1.0, gt=0, le=30, validation_alias=_gw("PROBE_TIMEOUT"))
    token_ttl: int = Field(3600, ge=60, le=86400, validation_alias=_gw("TOKEN_TTL"))

    # Complaint channels (routes/channels.py). A channel whose secret is unset answers 503.
    #: The government whose complaints the WhatsApp number and the SMS centre receive.
    channel_government: str = Field("33", pattern=r"^\d{2}(\.\d{2})?$", validation_alias=_gw("CHANNEL_GOVERNMENT"))
    #: The token Meta echoes in the webhook verification handshake (hub.verify_token).
    whatsapp_verify_token: SecretStr | None = Field(None, validation_alias=_gw("WHATSAPP_VERIFY_TOKEN"))
    #: The Meta app secret: X-Hub-Signature-256 is the HMAC-SHA256 of the raw body under it.
    whatsapp_app_secret: SecretStr | None = Field(None, validation_alias=_gw("WHATSAPP_APP_SECRET"))
    #: The secret the SMS gateway sends in the X-GRMS-SMS-Secret header.
    sms_secret: SecretStr | None = Field(None, validation_alias=_gw("SMS_SECRET"))
    #: The WhatsApp Cloud API access token (a system user's): media of image messages is fetched with it.
    whatsapp_access_token: SecretStr | None = Field(None, validation_alias=_gw("WHATSAPP_ACCESS_TOKEN"))
    #: Where the Graph API answers (GET /{media-id}); tests point it at a local server.
    whatsapp_graph_url: str = Field(
        "https://graph.facebook.com/v21.0", pattern=r"^https?://\S+$", validation_alias=_gw("WHATSAPP_GRAPH_URL")
    )
    #: How long after a sender's text message their image or location without text joins that complaint.
    whatsapp_attach_window: float = Field(1800.0, ge=0, le=86400, validation_alias=_gw("WHATSAPP_ATTACH_WINDOW"))

    #: The largest complaint photo the gateway forwards (413 above it); the complaints service checks again.
    complaint_photo_max_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, le=15 * 1024 * 1024, validation_alias=_gw("COMPLAINT_PHOTO_MAX_BYTES")
    )

    # Photos fetched from URLs others name (media.py): the Open311 media_url and WhatsApp media.
    #: Networks (CIDR) a fetch may reach although they are loopback or private: for tests and a
    #: deliberately local media server only. Empty by default; the address check is never off.
    media_fetch_allow_networks: list[str] = Field([], validation_alias=_gw("MEDIA_FETCH_ALLOW_NETWORKS"))
    #: Seconds to connect, and between two reads, of a fetch.
    media_fetch_timeout: float = Field(5.0, gt=0, le=60, validation_alias=_gw("MEDIA_FETCH_TIMEOUT"))

    # Live complaint tracking (web/complaint_live.py): server-sent events fed by the complaints
    # events on NATS (the shared GRMS_NATS_URL), with a periodic re-check as the fallback.
    live_events: bool = Field(True, validation_alias=_gw("LIVE_EVENTS"))
    #: Seconds between heartbeat comments on an idle stream.
    live_heartbeat: float = Field(15.0, gt=0, le=300, validation_alias=_gw("LIVE_HEARTBEAT"))
    #: Seconds between re-reads of the status when no event came (the fallback).
    live_recheck: float = Field(30.0, gt=0, le=3600, validation_alias=_gw("LIVE_RECHECK"))

    # Rate limits of the public doors (throttle.py): a token bucket per client, `*_per_minute`
    # tokens a minute on top of a `*_burst`; a rate of 0 switches that limit off.
    #: A citizen's filings per client IP: complaints (POST /api/v1/complaints, the /pengaduan form)
    #: and proposals (POST /api/v1/proposals, the /usulan form) share one bucket.
    ratelimit_intake_per_minute: float = Field(5.0, ge=0, validation_alias=_gw("RATELIMIT_INTAKE_PER_MINUTE"))
    ratelimit_intake_burst: int = Field(10, ge=1, validation_alias=_gw("RATELIMIT_INTAKE_BURST"))
    #: Lookups with ticket and PIN per client IP: track, reopen, rate (JSON and pages).
    ratelimit_tracking_per_minute: float = Field(20.0, ge=0, validation_alias=_gw("RATELIMIT_TRACKING_PER_MINUTE"))
    ratelimit_tracking_burst: int = Field(30, ge=1, validation_alias=_gw("RATELIMIT_TRACKING_BURST"))
    #: Photos a complainant adds with ticket and PIN, per client IP.
    ratelimit_photos_per_minute: float = Field(10.0, ge=0, validation_alias=_gw("RATELIMIT_PHOTOS_PER_MINUTE"))
    ratelimit_photos_burst: int = Field(20, ge=1, validation_alias=_gw("RATELIMIT_PHOTOS_BURST"))
    #: Open311 POST requests per client IP (an app on citizens' phones: each phone its own IP).
    ratelimit_open311_ip_per_minute: float = Field(5.0, ge=0, validation_alias=_gw("RATELIMIT_OPEN311_IP_PER_MINUTE"))
    ratelimit_open311_ip_burst: int = Field(10, ge=1, validation_alias=_gw("RATELIMIT_OPEN311_IP_BURST"))
    #: Open311 POST requests per api_key (one app, all its users).
    ratelimit_open311_key_per_minute: float = Field(
        120.0, ge=0, validation_alias=_gw("RATELIMIT_OPEN311_KEY_PER_MINUTE")
    )
    ratelimit_open311_key_burst: int = Field(240, ge=1, validation_alias=_gw("RATELIMIT_OPEN311_KEY_BURST"))
    #: Public reads per client IP: the public complaint list and categories, Open311 GETs, a
    #: proposal's public page, the live-tracking stream (each stream counts once, when opened).
    ratelimit_public_read_per_minute: float = Field(
        300.0, ge=0, validation_alias=_gw("RATELIMIT_PUBLIC_READ_PER_MINUTE")
    )
    ratelimit_public_read_burst: int = Field(300, ge=1, validation_alias=_gw("RATELIMIT_PUBLIC_READ_BURST"))
    #: Open-data downloads per client IP (/open-data/…: a year's Fiscal Data Package is a large answer).
    ratelimit_open_data_per_minute: float = Field(60.0, ge=0, validation_alias=_gw("RATELIMIT_OPEN_DATA_PER_MINUTE"))
    ratelimit_open_data_burst: int = Field(120, ge=1, validation_alias=_gw("RATELIMIT_OPEN_DATA_BURST"))
    #: Clients remembered per limit at most (memory stays bounded under a flood of addresses).
    ratelimit_max_clients: int = Field(100_000, ge=100, le=10_000_000, validation_alias=_gw("RATELIMIT_MAX_CLIENTS"))
    #: The reverse proxies (CIDR, as a JSON list: ["10.0.0.0/8"]) whose X-Forwarded-For is believed;
    #: empty: the socket peer is the client.
    trusted_proxies: list[str] = Field([], validation_alias=_gw("TRUSTED_PROXIES"))

    budgeting_grpc_host: str = Field("127.0.0.1", validation_alias=_svc("budgeting", "HOST"))
    budgeting_grpc_port: int = Field(
        DEFAULT_PORTS["budgeting"], ge=1, le=65535, validation_alias=_svc("budgeting", "PORT")
    )
    planning_grpc_host: str = Field("127.0.0.1", validation_alias=_svc("planning", "HOST"))
    planning_grpc_port: int = Field(
        DEFAULT_PORTS["planning"], ge=1, le=65535, validation_alias=_svc("planning", "PORT")
    )
    delivery_grpc_host: str = Field("127.0.0.1", validation_alias=_svc("delivery", "HOST"))
    delivery_grpc_port: int = Field(
        DEFAULT_PORTS["delivery"], ge=1, le=65535, validation_alias=_svc("delivery", "PORT")
    )
    controlling_grpc_host: str = Field("127.0.0.1", validation_alias=_svc("controlling", "HOST"))
    controlling_grpc_port: int = Field(
        DEFAULT_PORTS["controlling"], ge=1, le=65535, validation_alias=_svc("controlling", "PORT")
    )
    monev_grpc_host: str = Field("127.0.0.1", validation_alias=_svc("monev", "HOST"))
    monev_grpc_port: int = Field(DEFAULT_PORTS["monev"], ge=1, le=65535, validation_alias=_svc("monev", "PORT"))
    complaints_grpc_host: str = Field("127.0.0.1", validation_alias=_svc("complaints", "HOST"))
    complaints_grpc_port: int = Field(
        DEFAULT_PORTS["complaints"], ge=1, le=65535, validation_alias=_svc("complaints", "PORT")
    )

    @field_validator("media_fetch_allow_networks", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)  # a ValueError names the bad one
        return value

    def media_fetch_policy(self) -> FetchPolicy:
        """The limits of a photo fetch: the photo size, the timeouts, the allowed networks."""
        return FetchPolicy(
            max_bytes=self.complaint_photo_max_bytes,
            allow_networks=parse_networks(self.media_fetch_allow_networks),
            connect_timeout=self.media_fetch_timeout,
            read_timeout=self.media_fetch_timeout,
            total_timeout=4 * self.media_fetch_timeout,
        )

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    def accounts_database_url(self) -> str:
        """The configured accounts database, or `<GRMS_VAR_DIR>/gateway.db`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(Path(self.var_dir) / 'gateway.db').resolve()}"

    def target(self, service: str) -> str:
        """host:port of `service`'s gRPC server."""
        if service not in SERVICES:
            raise KeyError(service)
        return f"{getattr(self, f'{service}_grpc_host')}:{getattr(self, f'{service}_grpc_port')}"
