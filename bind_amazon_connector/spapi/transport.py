"""The plumbing every API's calls go through: pacing (:mod:`.pacing`), retries of throttled, failed and
timed-out calls with exponential backoff and jitter, error mapping (:mod:`.errors`), statistics, and the
helpers that build request parameters and follow page tokens.

:class:`Transport` is the base of :class:`.client.SpApi`; each API's mixin (``orders``, ``listings``, ...)
sends its operations with :meth:`Transport._call`. Not thread-safe: use one SpApi per thread (pacing
buckets are shared safely between them).
"""
import logging
import random
import time
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone

import httpx
from sp_api.base.credential_provider import FromCodeCredentialProvider

from .auth import forget_token, token_client_class
from .config import SpApiConfig
from .errors import AuthorizationError, BadData, ConfigurationError, NotFound, RetryLater
from .library import _HttpStatus, _Malformed, _Marketplace, library_client_class
from .pacing import shared_pacer
from .tls import tls_context

_logger = logging.getLogger(__name__)


# Operations that change something on Amazon and are not safe to send twice: a second confirmShipment of the
# same package is refused (or ships more), a second createReport is a second report. When Amazon may have
# acted before the answer was lost, the layer does not resend them itself; it tells the caller, who can ask
# Amazon what happened first. (patchListingsItem sets an absolute quantity: repeating it is harmless.)
NOT_SAFE_TO_REPEAT = frozenset({"confirmShipment", "createReport"})
# Failures after which Amazon cannot have acted: the request never left, or Amazon says it did not process it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_NOT_PROCESSED_STATUSES = frozenset({408, 429, 503})


# ---------------------------------------------------------------- statistics

@dataclass
class OperationStats:
    """Counters of one operation: HTTP calls sent, 429 answers, retries, pages read, seconds waited."""

    calls: int = 0
    throttled: int = 0
    retries: int = 0
    pages: int = 0
    waited: float = 0.0

    def __getitem__(self, name):
        return getattr(self, name)

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Stats(dict):
    """``{operation: OperationStats}``; an operation never called reads as zeros."""

    def __missing__(self, operation):
        stats = self[operation] = OperationStats()
        return stats

    def total(self, name):
        return sum(getattr(s, name) for s in self.values())


# ---------------------------------------------------------------- helpers

def _iso(value, name):
    """ISO 8601 UTC text for a datetime (naive means UTC, as Odoo stores them) or a string given as is."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime or an ISO 8601 string")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _marketplace_list(marketplace_ids, default, limit):
    """The marketplace ids of a call: ``default`` when none are given; unique, in order, at most ``limit``."""
    if marketplace_ids is None:
        return [default]
    if isinstance(marketplace_ids, str):
        marketplace_ids = [marketplace_ids]
    ids = list(dict.fromkeys(str(m) for m in marketplace_ids if m))
    if not ids:
        raise ValueError("marketplace_ids cannot be empty")
    if len(ids) > limit:
        raise ValueError(f"At most {limit} marketplaces per call, not {len(ids)}.")
    return ids


def _csv(values, name):
    if values is None:
        return None
    if isinstance(values, str):
        return values
    values = [str(v) for v in values]
    if not values:
        raise ValueError(f"{name} cannot be an empty list")
    return ",".join(values)


class _Pages:
    """Token bookkeeping of one paginated run: a token seen twice would read a page twice."""

    def __init__(self, operation):
        self.operation = operation
        self.seen = set()

    def next(self, token):
        """Return the token to request next, or None at the end."""
        if not token:
            return None
        if token in self.seen:
            raise BadData(f"Amazon sent the same page token twice for {self.operation}: stopping so that no page "
                          "is read twice.", operation=self.operation)
        self.seen.add(token)
        return token


# ---------------------------------------------------------------- the plumbing

class Transport:
    """The plumbing of :class:`.client.SpApi` (its arguments are described there): the library clients, pacing,
    retries and error mapping of one connection."""

    def __init__(self, config, sleep=time.sleep, clock=time.monotonic, *, rng=None, pacer=None, deadline=None):
        if not isinstance(config, SpApiConfig):
            raise TypeError("SpApi needs an SpApiConfig")
        if not config.refresh_token:
            raise ConfigurationError("This connection is not authorized yet: authorize the app in Seller Central "
                                     "to get a refresh token.")
        self.config = config
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - backoff jitter, not security
        self.pacer = pacer or shared_pacer(config.connection_key, speed=config.pacing_speed, clock=clock, sleep=sleep)
        self.stats = Stats()
        self._marketplace = _Marketplace(config.api_endpoint, config.marketplace_id, config.region)
        self._token_client_class = token_client_class(config)
        self._clients = {}
        self._download_client = None
        self.deadline = deadline

    def for_marketplace(self, marketplace_id):
        """The same connection in another marketplace of its region: same authorization, same usage plans
        (the pacer is shared, so calls of both count against the seller's quotas together)."""
        if not marketplace_id or marketplace_id == self.config.marketplace_id:
            return self
        return type(self)(replace(self.config, marketplace_id=marketplace_id), sleep=self._sleep,
                          clock=self._clock, rng=self._rng, pacer=self.pacer)

    def allowed_wait(self):
        """The longest pause allowed now: the configured ``max_wait``, less when the caller's deadline is near."""
        if self.deadline is None:
            return self.config.max_wait
        return max(0.0, min(self.config.max_wait, self.deadline - self._clock()))

    def close(self):
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self._download_client is not None:
            self._download_client.close()
            self._download_client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _client(self, api):
        client = self._clients.get(api)
        if client is None:
            cls, version = library_client_class(api)
            cfg = self.config
            try:
                client = cls(
                    self._marketplace,
                    refresh_token=cfg.refresh_token,
                    credentials={"lwa_app_id": cfg.lwa_client_id, "lwa_client_secret": cfg.lwa_client_secret,
                                 "refresh_token": cfg.refresh_token},
                    credential_providers=(FromCodeCredentialProvider,),
                    timeout=cfg.timeout,
                    verify=tls_context(),
                    version=version,
                    auth_token_client_class=self._token_client_class,
                )
            except KeyError:
                raise ConfigurationError("The SP_API_DEFAULT_MARKETPLACE environment variable names no marketplace "
                                         "python-amazon-sp-api knows: unset it.") from None
            self._clients[api] = client
        return client

    def _backoff(self, attempt):
        delay = min(self.config.backoff_base * 2 ** (attempt - 1), 300.0)
        return delay * (0.5 + self._rng.random() / 2)

    def _call(self, operation, api, method, *args, **kwargs):
        """Send one operation with pacing and retries; return its :class:`_Reply`."""
        cfg = self.config
        stats = self.stats[operation]
        call = getattr(self._client(api), method)
        attempt = 0
        token_refreshed = False
        while True:
            stats.waited += self.pacer.acquire(operation, max_wait=self.allowed_wait())
            stats.calls += 1
            status = retry_after = None
            maybe_done = False
            try:
                reply = call(*args, **kwargs)
            except _HttpStatus as exc:
                self.pacer.observe(operation, exc.headers)
                status = exc.status
                detail = f"HTTP {status}" + (f", {exc.code}" if exc.code else "")
                if status == 429:
                    stats.throttled += 1
                    self.pacer.throttled(operation)
                    reason = "Amazon throttled the calls (HTTP 429)"
                    retry_after = 1.0 / self.pacer.bucket(operation).rate
                elif status in (401, 403):
                    if not token_refreshed:  # an expired access token: get a new one, once
                        token_refreshed = True
                        forget_token(cfg)
                        stats.retries += 1
                        continue
                    said = f" {exc.message.rstrip('.')}." if exc.message else ""
                    raise AuthorizationError(
                        f"Amazon refused access to {operation} ({detail}).{said} Re-authorize the connection in "
                        "Seller Central; if that does not help, check the seller id and that the app has the role "
                        "this call needs.", operation=operation, status=status, amazon_code=exc.code) from None
                elif status >= 500 or status == 408:
                    reason = f"Amazon failed to answer ({detail})"
                elif status == 404:
                    raise NotFound(f"Amazon does not know the requested object ({operation}, {detail}).",
                                   operation=operation, status=status, amazon_code=exc.code) from None
                else:
                    message = f": {exc.message}" if exc.message else ""
                    raise BadData(f"Amazon refused {operation} ({detail}){message}", operation=operation,
                                  status=status, amazon_code=exc.code) from None
            except _Malformed as exc:
                raise BadData(f"Amazon answered {operation} with something that is not a JSON object "
                              f"(HTTP {exc.status}).", operation=operation, status=exc.status) from None
            except httpx.TimeoutException as exc:
                reason = f"Amazon did not answer within {cfg.timeout:g} seconds"
                maybe_done = not isinstance(exc, _NOT_SENT)
            except httpx.TransportError as exc:
                reason = f"Amazon could not be reached ({type(exc).__name__})"
                maybe_done = not isinstance(exc, _NOT_SENT)
            except RetryLater as exc:  # from the token client: the operation itself was not sent
                reason = exc.message.rstrip(".")
            else:
                self.pacer.observe(operation, reply.headers)
                return reply
            if status is not None:
                maybe_done = status not in _NOT_PROCESSED_STATUSES
            if operation in NOT_SAFE_TO_REPEAT and maybe_done:
                _logger.warning("SP-API %s: %s; not resent, Amazon may have acted on it", operation, reason)
                raise RetryLater(f"{reason}; Amazon may have received {operation}: check before sending it again.",
                                 operation=operation, status=status, maybe_done=True)
            if attempt >= cfg.max_retries:
                _logger.warning("SP-API %s gave up after %d attempts: %s", operation, attempt + 1, reason)
                raise RetryLater(f"{reason}; {operation} was tried {attempt + 1} times. Try again later.",
                                 operation=operation, status=status, retry_after=retry_after)
            attempt += 1
            stats.retries += 1
            delay = self._backoff(attempt)
            if delay > self.allowed_wait():
                raise RetryLater(f"{reason}; {operation} can be retried in {delay:.0f} seconds.",
                                 operation=operation, status=status, retry_after=delay)
            _logger.info("SP-API %s: %s; retry %d/%d in %.1f s", operation, reason, attempt, cfg.max_retries, delay)
            stats.waited += delay
            self._sleep(delay)
