"""Login with Amazon (LWA): the seller's consent URL, the code exchange, and access tokens.

Token requests go through python-amazon-sp-api's ``AccessTokenClient``; :func:`token_client_class` builds a
subclass per connection that
- sends token requests to the configured token URL (class attributes ``scheme``, ``host``, ``path``),
- uses the connection's timeout,
- keys cached access tokens by token URL, client id and refresh token (the library keys by refresh token only,
  in a shared cache of 10 entries), expires them with the ``expires_in`` Amazon sent, and lets tests and a
  rejected call drop them (:func:`clear_token_cache`, :func:`forget_token`),
- turns LWA refusals into this layer's errors, with plain messages that never contain a token or secret.
"""
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx
from sp_api.auth import AccessTokenClient, AccessTokenResponse
from sp_api.auth import access_token_client as _library_token_module
from sp_api.base._transport_httpx import HttpxTransport
from sp_api.base.credential_provider import CredentialProvider

from .config import check_url
from .errors import AuthorizationError, BadData, ConfigurationError, RetryLater
from .tls import tls_context

# LWA error codes (RFC 6749 section 5.2) that only a new authorization by the seller can fix.
_REAUTHORIZE = {"invalid_grant", "unauthorized_client", "access_denied", "invalid_token", "invalid_scope"}
_EXPIRY_MARGIN = 120.0  # seconds: refresh a token this long before Amazon says it expires

_cache = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class TokenGrant:
    """Result of an authorization-code exchange. Tokens are kept out of ``repr``; ``raw`` has no token."""

    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_in: int = 0
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def clear_token_cache():
    """Forget every cached access token (ours and python-amazon-sp-api's own module-level caches)."""
    with _cache_lock:
        _cache.clear()
    _library_token_module.cache.clear()
    _library_token_module.grantless_cache.clear()


def forget_token(config):
    """Drop the cached access token of one connection (after Amazon rejected it)."""
    key = token_cache_key(config.lwa_token_url, config.lwa_client_id, config.refresh_token)
    with _cache_lock:
        _cache.pop(key, None)


def token_cache_key(token_url, client_id, refresh_token, flavor=""):
    raw = "\x1f".join((token_url, client_id or "", refresh_token or "__grantless__", flavor))
    return "bac_access_token_" + hashlib.sha256(raw.encode()).hexdigest()


class LwaTokenClient(AccessTokenClient):
    """python-amazon-sp-api's token client, pointed at a configurable token URL. Use :func:`token_client_class`."""

    lwa_url = "https://api.amazon.com/auth/o2/token"
    timeout = 30.0
    redirect_uri = None

    def __init__(self, refresh_token=None, credentials=None, proxies=None, verify=True):
        if verify is True:
            verify = tls_context()
        super().__init__(refresh_token=refresh_token, credentials=credentials, proxies=proxies, verify=verify)
        self._transport.close()  # the library's has no timeout: ours replaces it
        self._transport = HttpxTransport(timeout=self.timeout, proxies=proxies, verify=verify)

    def _get_cache_key(self, token_flavor=""):
        return token_cache_key(self.lwa_url, self.cred.client_id, self.cred.refresh_token, token_flavor)

    def get_auth(self) -> AccessTokenResponse:
        key = self._get_cache_key()
        now = time.monotonic()
        with _cache_lock:
            hit = _cache.get(key)
        if hit and hit[1] > now:
            return AccessTokenResponse(**hit[0])
        data = self._request(self.scheme + self.host + self.path, self.data, self.headers)
        if not data.get("access_token"):
            raise BadData("Amazon's login service answered without an access token.")
        try:
            ttl = float(data.get("expires_in") or 3600)
        except (TypeError, ValueError):
            ttl = 3600.0
        with _cache_lock:
            _cache[key] = (data, now + max(30.0, ttl - _EXPIRY_MARGIN))
        return AccessTokenResponse(**data)

    def _auth_code_request_body(self, auth_code):
        body = super()._auth_code_request_body(auth_code)
        if self.redirect_uri:
            body["redirect_uri"] = self.redirect_uri
        return body

    def _request(self, url, data, headers):
        try:
            response = self._transport.request("POST", url, data=data, headers=headers)
        except httpx.TimeoutException:
            raise RetryLater(
                f"Amazon's login service did not answer within {self.timeout:g} seconds.", operation="lwaToken"
            ) from None
        except httpx.TransportError as exc:
            raise RetryLater(
                f"Amazon's login service could not be reached ({type(exc).__name__}).", operation="lwaToken"
            ) from None
        status = response.status_code
        try:
            body = response.json()
        except (ValueError, json.JSONDecodeError):
            body = None
        if status == 429 or status >= 500:
            raise RetryLater(f"Amazon's login service is unavailable (HTTP {status}).",
                             operation="lwaToken", status=status)
        if not isinstance(body, dict):
            raise BadData(f"Amazon's login service answered HTTP {status} with something that is not JSON.",
                          operation="lwaToken", status=status)
        if status != 200:
            code = str(body.get("error") or "unknown_error")
            if code == "invalid_client":
                raise ConfigurationError(
                    "Amazon does not accept the app's client id or client secret (invalid_client): check the "
                    "LWA credentials of the app.", operation="lwaToken", status=status, amazon_code=code)
            if code in _REAUTHORIZE or status in (400, 401, 403):
                raise AuthorizationError(
                    f"Amazon refused this connection's authorization ({code}): re-authorize the connection "
                    "in Seller Central.", operation="lwaToken", status=status, amazon_code=code)
            raise AuthorizationError(f"Amazon's login service refused the request (HTTP {status}, {code}).",
                                     operation="lwaToken", status=status, amazon_code=code)
        return body


def token_client_class(config):
    """A :class:`LwaTokenClient` subclass for this connection, to pass as ``auth_token_client_class=``."""
    parts = urlsplit(config.lwa_token_url)
    return type("LwaTokenClientFor" + config.connection_key[:8], (LwaTokenClient,), {
        "scheme": parts.scheme + "://",
        "host": parts.netloc,
        "path": parts.path or "/",
        "lwa_url": config.lwa_token_url,
        "timeout": float(config.timeout),
    })


def _credentials(config):
    return CredentialProvider.Config(lwa_app_id=config.lwa_client_id, lwa_client_secret=config.lwa_client_secret,
                                     refresh_token=config.refresh_token)


def build_consent_url(seller_central_host, application_id, state, redirect_uri=None, beta=False,
                      allow_loopback=None):
    """Where to send the seller to authorize the app (Amazon's website authorization workflow).

    ``seller_central_host`` is a Seller Central host such as ``sellercentral.amazon.com.mx`` (https is
    assumed) or a full ``http(s)://host[:port]`` base (simulator). ``state`` is an opaque anti-forgery
    value that Amazon sends back. ``beta=True`` adds ``version=beta`` (apps still in draft). The address must
    be https on an Amazon Seller Central (or Vendor Central) host, or loopback when ``allow_loopback``
    (:func:`.config.check_url`): the seller's login and the state never go anywhere else.
    """
    if not application_id:
        raise ConfigurationError("The app's application id (amzn1.sp.solution...) is required.")
    if not state:
        raise ConfigurationError("A state value is required to protect the authorization from forgery.")
    host = (seller_central_host or "").strip().rstrip("/")
    if not host:
        raise ConfigurationError("The Seller Central host of the marketplace is required.")
    base = host if host.startswith(("https://", "http://")) else "https://" + host
    base = check_url(base, "seller_central", allow_loopback)
    params = {"application_id": application_id, "state": state}
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    if beta:
        params["version"] = "beta"
    return f"{base}/apps/authorize/consent?{urlencode(params)}"


def exchange_authorization_code(config, code, redirect_uri):
    """Trade the ``spapi_oauth_code`` Amazon redirected with for the seller's refresh token.

    Posts ``grant_type=authorization_code, code, redirect_uri, client_id, client_secret`` to the LWA token URL
    (python-amazon-sp-api's ``authorize_auth_code`` leaves ``redirect_uri`` out; Amazon's guide lists it, so the
    token client adds it). One attempt only: a code is single-use and valid five minutes.
    """
    if not code:
        raise AuthorizationError("Amazon did not send an authorization code: start the authorization again.")
    client_class = type("LwaCodeExchange", (token_client_class(config),), {"redirect_uri": redirect_uri})
    client = client_class(refresh_token=None, credentials=_credentials(config))
    try:
        data = client.authorize_auth_code(code)
    finally:
        client._transport.close()
    if not data.get("refresh_token"):
        raise BadData("Amazon's login service answered without a refresh token.", operation="lwaToken")
    try:
        expires_in = int(data.get("expires_in") or 0)
    except (TypeError, ValueError):
        expires_in = 0
    return TokenGrant(refresh_token=data["refresh_token"], access_token=data.get("access_token"),
                      expires_in=expires_in, raw={k: v for k, v in data.items() if "token" not in k})
