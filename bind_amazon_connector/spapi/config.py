"""Settings of one connection to Amazon: app credentials, seller authorization, where to send calls."""
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .marketplaces import LWA_TOKEN_URL, get_marketplace, get_region

#: Development hook for the plain test suite: loopback addresses (the simulator) are accepted without each
#: caller saying so. Odoo never sets it: it passes ``allow_loopback`` from its own dev/test mode.
LOOPBACK_ALLOWED = False

# Where the server may send requests or a seller's browser: https on Amazon's own hosts only.
_AMAZON_TLDS = (r"com|ca|com\.mx|com\.br|co\.uk|de|fr|it|es|nl|se|pl|com\.tr|com\.be|ie|ae|sa|eg|in|co\.jp|"
                r"com\.au|sg|co\.za")
HOST_PATTERNS = {
    "api": re.compile(r"(sandbox\.)?sellingpartnerapi-(na|eu|fe)\.amazon\.com"),
    "lwa": re.compile(r"api\.amazon\.(com|co\.uk|co\.jp)"),
    "seller_central": re.compile(
        rf"(sellercentral|vendorcentral)(-europe|-japan)?\.amazon\.({_AMAZON_TLDS})"),
    # presigned report documents: Amazon's S3 buckets or its CloudFront distribution (the model's example)
    "document": re.compile(r"([a-z0-9-]+\.)+(amazonaws\.com|cloudfront\.net)"),
}
_WHAT = {"api": "SP-API endpoint", "lwa": "LWA token URL", "seller_central": "Seller Central address",
         "document": "report document URL"}


def is_loopback(host):
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url, kind, allow_loopback=None):
    """``url`` if the server may use it for ``kind`` (a key of ``HOST_PATTERNS``), else ConfigurationError.

    Accepted: https on one of Amazon's hosts for that kind (default port), or any loopback address (127.0.0.0/8,
    ::1, localhost: the project's simulator) when ``allow_loopback`` (None: the module's ``LOOPBACK_ALLOWED``).
    Never link-local, private or foreign hosts, credentials in the URL, or plain http to Amazon.
    """
    what = _WHAT[kind]
    if allow_loopback is None:
        allow_loopback = LOOPBACK_ALLOWED
    text = (url or "").strip()
    if len(text) > 4096 or any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise ConfigurationError(f"The {what} is not a valid address.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"The {what} is not a valid address.") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise ConfigurationError(f"The {what} must be an https:// address of Amazon.")
    if is_loopback(host):
        if not allow_loopback:
            raise ConfigurationError(f"The {what} points at this machine ({host}): allowed only when Odoo runs "
                                     "in development mode or tests.")
        return text.rstrip("/")
    if parts.scheme != "https" or port not in (None, 443) or not HOST_PATTERNS[kind].fullmatch(host):
        raise ConfigurationError(f"The {what} must be an https:// address on one of Amazon's hosts "
                                 f"(got host {host!r}).")
    return text.rstrip("/")


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
    ``allow_loopback``: accept loopback addresses (the simulator) as endpoint, token URL and report document
    URL; None: the module's ``LOOPBACK_ALLOWED``. Other addresses must be https on Amazon's hosts
    (:func:`check_url`).

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
    allow_loopback: bool | None = None

    def __post_init__(self):
        region = get_region(self.region)
        get_marketplace(self.marketplace_id, region.code)
        if not self.lwa_client_id or not self.lwa_client_secret:
            raise ConfigurationError(
                "The app's Login with Amazon client id and client secret are required (Seller Central, "
                "Develop Apps, View LWA credentials)."
            )
        if self.endpoint is not None:
            object.__setattr__(self, "endpoint", check_url(self.endpoint, "api", self.allow_loopback))
        if self.token_url is not None:
            object.__setattr__(self, "token_url", check_url(self.token_url, "lwa", self.allow_loopback))
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
