"""Settings of one connection to Amazon: app credentials, seller authorization, where to send calls."""
import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .marketplaces import LWA_TOKEN_URL, get_marketplace, get_region


def _check_url(url, what):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"The {what} must be an http:// or https:// address (got {url!r}).")
    return url.rstrip("/")


@dataclass(frozen=True)
class SpApiConfig:
    """Everything the SP-API layer needs to talk to Amazon for one seller account.

    ``lwa_client_id`` / ``lwa_client_secret``: the app's Login with Amazon credentials.
    ``refresh_token``: the seller's authorization (None until the seller authorized the app).
    ``region`` / ``marketplace_id``: checked against the known regions and marketplaces
    (:class:`ConfigurationError` otherwise). ``seller_id``: the merchant token, needed by listings calls.
    ``endpoint`` / ``token_url``: override Amazon's API host and LWA token URL (sandbox, simulator).
    ``timeout``: seconds per HTTP call. ``max_retries``: retries after a throttled, failed or timed-out call
    before :class:`RetryLater`. ``backoff_base``: first backoff delay in seconds (doubles each retry, with jitter).
    ``pacing_speed``: multiplies every published usage-plan rate (1.0 for Amazon; the simulator's speed for it).
    ``max_wait``: longest single pause (pacing or backoff, seconds) before giving up with
    ``RetryLater(retry_after=...)`` instead of sleeping.

    Secrets are left out of ``repr()`` so that a logged config never shows them.
    """

    lwa_client_id: str
    lwa_client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    region: str = "NA"
    marketplace_id: str = "A1AM78C64UM0Y8"
    seller_id: str | None = None
    endpoint: str | None = None
    token_url: str | None = None
    timeout: float = 30.0
    max_retries: int = 5
    backoff_base: float = 1.0
    pacing_speed: float = 1.0
    max_wait: float = 600.0

    def __post_init__(self):
        region = get_region(self.region)
        get_marketplace(self.marketplace_id, region.code)
        if not self.lwa_client_id or not self.lwa_client_secret:
            raise ConfigurationError(
                "The app's Login with Amazon client id and client secret are required (Seller Central, "
                "Develop Apps, View LWA credentials)."
            )
        if self.endpoint is not None:
            object.__setattr__(self, "endpoint", _check_url(self.endpoint, "SP-API endpoint"))
        if self.token_url is not None:
            object.__setattr__(self, "token_url", _check_url(self.token_url, "LWA token URL"))
        if not self.timeout or self.timeout <= 0:
            raise ConfigurationError("The timeout must be a positive number of seconds.")
        if self.max_retries < 0:
            raise ConfigurationError("The number of retries cannot be negative.")
        if self.pacing_speed <= 0:
            raise ConfigurationError("The pacing speed must be positive.")

    @property
    def api_endpoint(self):
        """Base URL of API calls: the override, else the region's Amazon endpoint."""
        return self.endpoint or get_region(self.region).endpoint

    @property
    def lwa_token_url(self):
        return self.token_url or LWA_TOKEN_URL

    @property
    def marketplace(self):
        return get_marketplace(self.marketplace_id, self.region)

    @property
    def connection_key(self):
        """Stable, non-secret identifier of this seller authorization at this endpoint.

        Used to key access-token caches and pacing buckets, so two connections never share either.
        """
        parts = (self.lwa_token_url, self.api_endpoint, self.lwa_client_id, self.refresh_token or "")
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
