"""SpApi: the one object the rest of the connector uses to call Amazon's Selling Partner API.

Built on python-amazon-sp-api: its API classes (Orders 2026-01-01, ListingsItems 2021-08-01, Inventories,
Finances 2024-06-19, Reports, Sellers) build the requests and its ``AccessTokenClient`` gets LWA tokens. This
module subclasses them (:class:`_ClientMixin`, :func:`.auth.token_client_class`) to
- send calls to the configured endpoint with a correct ``Host`` header (the library uses ``endpoint[8:]``,
  wrong for ``http://``), whatever the ``SP_API_DEFAULT_MARKETPLACE`` environment variable says;
- see every HTTP status (the library turns a 429 with an empty body into an empty, successful answer, and
  swallows non-JSON bodies), and keep the full JSON body (``ApiResponse`` drops keys such as ``pagination``);
- never add the library's four guessed marketplace query parameters: each call passes what the model wants.

On top, :class:`SpApi` paces calls (:mod:`.pacing`), retries throttled, failed and timed-out calls with
exponential backoff and jitter, maps failures to :mod:`.errors`, follows pagination and parses answers into
:mod:`.types`. Not thread-safe: use one SpApi per thread (pacing buckets are shared safely between them).
"""
import json
import logging
import random
import time
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from urllib.parse import urlsplit

import httpx
from sp_api.api import Finances, Inventories, ListingsItems, Orders, Reports, Sellers
from sp_api.base.credential_provider import FromCodeCredentialProvider

from . import parsers, types
from .auth import forget_token, token_client_class
from .config import SpApiConfig, check_url
from .errors import AuthorizationError, BadData, ConfigurationError, NotFound, RetryLater
from .flatfile import DocumentSpool, iter_rows
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


class _RedactHeaders(logging.Filter):
    """python-amazon-sp-api logs request headers (with the access token) at DEBUG: blank them."""

    def filter(self, record):
        if isinstance(record.msg, str) and "Headers" in record.msg and record.args:
            record.args = ("<redacted>",)
        return True


logging.getLogger("sp_api.base.client").addFilter(_RedactHeaders())


# ---------------------------------------------------------------- library adaptation

@dataclass(frozen=True)
class _Marketplace:
    """What python-amazon-sp-api reads from a ``Marketplaces`` member."""

    endpoint: str
    marketplace_id: str
    region: str


class _Reply:
    """A successful answer: HTTP status, headers and the whole JSON body."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def payload(self):  # python-amazon-sp-api's ApiResponse name, for library code that reads it
        return self.body


class _HttpStatus(Exception):
    """An answer other than 2xx (internal: SpApi turns it into an SpApiError)."""

    def __init__(self, status, headers, code=None, message=None):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers
        self.code = code
        self.message = message


class _Malformed(Exception):
    """A 2xx answer whose body is not a JSON object (internal)."""

    def __init__(self, status):
        super().__init__(f"HTTP {status}")
        self.status = status


class _ClientMixin:
    """Adapts a python-amazon-sp-api client class; see the module docstring."""

    def __init__(self, marketplace, **kw):
        super().__init__(marketplace, **kw)
        # Client.__init__ replaces our marketplace when SP_API_DEFAULT_MARKETPLACE is set: put it back.
        self.endpoint = marketplace.endpoint
        self.marketplace_id = marketplace.marketplace_id
        self.region = marketplace.region

    @property
    def headers(self):
        headers = super().headers
        headers["host"] = urlsplit(self.endpoint).netloc
        return headers

    def _request(self, path, *, data=None, params=None, headers=None, add_marketplace=True, **kw):
        return super()._request(path, data=data, params=params, headers=headers, add_marketplace=False, **kw)

    def _check_response(self, res, res_no_data=False, bulk=False, wrap_list=False):
        status = res.status_code
        try:
            body = json.loads(res.content) if res.content.strip() else None
        except ValueError:
            body = None
            if 200 <= status < 300:
                raise _Malformed(status) from None
        if 200 <= status < 300:
            if status == 204 and body is None:
                return _Reply(status, res.headers, {})  # "No Content": success without a body (confirmShipment)
            if not isinstance(body, dict):
                raise _Malformed(status)
            return _Reply(status, res.headers, body)
        code = message = None
        errors = body.get("errors") if isinstance(body, dict) else body if isinstance(body, list) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code, message = errors[0].get("code"), errors[0].get("message")
        raise _HttpStatus(status, res.headers, code, message)


_LIBRARY_APIS = {
    "orders": (Orders, "2026-01-01"),
    "listings": (ListingsItems, "2021-08-01"),
    "inventory": (Inventories, None),
    "finances": (Finances, "2024-06-19"),
    "reports": (Reports, None),
    "sellers": (Sellers, None),
    "orders_v0": (Orders, "v0"),  # shipment confirmation has no 2026-01-01 equivalent
}
_client_classes = {}


def library_client_class(api):
    """The adapted python-amazon-sp-api class of ``api`` (a key of ``_LIBRARY_APIS``) and its version.

    Versioned front classes (``Orders(version=...)``) dispatch to an implementation class through their
    ``_VERSION_MAP``; the adapter subclasses that implementation.
    """
    front, version = _LIBRARY_APIS[api]
    if api not in _client_classes:
        impl = front
        if version and getattr(front, "_VERSION_MAP", None):
            impl = front._VERSION_MAP[front._VERSION_ALIASES.get(version, version)]
        _client_classes[api] = type("Bac" + impl.__name__, (_ClientMixin, impl), {})
    return _client_classes[api], version


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


#: Most marketplace ids one call takes (Amazon's models: searchOrders maxItems 50, createReport 25).
MAX_ORDER_MARKETPLACES = 50
MAX_REPORT_MARKETPLACES = 25


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


_LISTING_FILTERS = {
    "identifiers": "identifiers", "identifiers_type": "identifiersType", "variation_parent_sku": "variationParentSku",
    "package_hierarchy_sku": "packageHierarchySku", "created_after": "createdAfter",
    "created_before": "createdBefore", "last_updated_after": "lastUpdatedAfter",
    "last_updated_before": "lastUpdatedBefore", "with_issue_severity": "withIssueSeverity",
    "with_status": "withStatus", "without_status": "withoutStatus", "sort_by": "sortBy", "sort_order": "sortOrder",
    "page_size": "pageSize", "included_data": "includedData", "issue_locale": "issueLocale",
}


# ---------------------------------------------------------------- the API

class SpApi:
    """Calls to Amazon for one connection (:class:`SpApiConfig`).

    ``sleep`` and ``clock`` are injectable (tests); ``rng`` gives the backoff jitter; ``pacer`` replaces the
    process-wide pacer of the connection.

    ``deadline`` (a value of ``clock``, or None): the caller must be done by then, e.g. a scheduled job before
    Odoo's time limit kills it. No pause (pacing, backoff, report polling) goes past it: the call raises
    ``RetryLater(retry_after=...)`` instead, and the caller plans the next try at that time.
    """

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
        return SpApi(replace(self.config, marketplace_id=marketplace_id), sleep=self._sleep, clock=self._clock,
                     rng=self._rng, pacer=self.pacer)

    # ------------------------------------------------------------ plumbing

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

    def _seller_id(self):
        if not self.config.seller_id:
            raise ConfigurationError("The seller id (merchant token) of the connection is needed for listings: "
                                     "Seller Central, Settings, Account Info, Merchant Token.")
        return self.config.seller_id

    # ------------------------------------------------------------ Sellers

    def get_marketplace_participations(self):
        """The marketplaces of the seller account (also a cheap check that the authorization works)."""
        reply = self._call("getMarketplaceParticipations", "sellers", "get_marketplace_participation")
        return list(parsers.parse_marketplace_participations(reply.body))

    def seller_id_matches(self, seller_id):
        """Whether ``seller_id`` is the selling partner who gave this authorization.

        The Sellers API does not return the merchant token, but the Listings Items API refuses (403) a seller id
        other than the authorizing one: one ``searchListingsItems`` call for a single item tells them apart.
        """
        if not seller_id or not isinstance(seller_id, str) or len(seller_id) > 64:
            return False
        try:
            self._call("searchListingsItems", "listings", "search_listings_items", seller_id,
                       marketplaceIds=self.config.marketplace_id, pageSize=1)
        except (AuthorizationError, BadData):
            return False
        return True

    # ------------------------------------------------------------ Orders 2026-01-01

    def search_orders_page(self, *, last_updated_after=None, last_updated_before=None, created_after=None,
                           created_before=None, fulfillment_statuses=None, included_data=types.DEFAULT_ORDER_DATA,
                           max_results=100, pagination_token=None, fulfilled_by=None, skip_unreadable=False,
                           marketplace_ids=None):
        """One page of ``searchOrders`` in the connection's marketplace, or in ``marketplace_ids`` (up to 50
        marketplace ids of the region, read together: one call, one page token for all).

        Give exactly one of ``last_updated_after`` (status changes too: use this to poll) and ``created_after``.
        Upper bounds must be at least two minutes in the past (Amazon's rule). Datetimes may be naive (UTC).
        ``skip_unreadable=True``: an order that breaks Amazon's model lands in ``page.rejected`` instead of
        failing the whole page with BadData (so one bad order does not block the others).
        """
        if (last_updated_after is None) == (created_after is None):
            raise ValueError("Give exactly one of last_updated_after and created_after.")
        if created_after is not None and last_updated_before is not None or (
                last_updated_after is not None and created_before is not None):
            raise ValueError("Do not mix created_* and last_updated_* bounds.")
        if not 1 <= int(max_results) <= 100:
            raise ValueError("max_results must be between 1 and 100.")
        marketplaces = _marketplace_list(marketplace_ids, self.config.marketplace_id, MAX_ORDER_MARKETPLACES)
        params = {
            "marketplaceIds": ",".join(marketplaces),
            "createdAfter": _iso(created_after, "created_after"),
            "createdBefore": _iso(created_before, "created_before"),
            "lastUpdatedAfter": _iso(last_updated_after, "last_updated_after"),
            "lastUpdatedBefore": _iso(last_updated_before, "last_updated_before"),
            "fulfillmentStatuses": _csv(fulfillment_statuses, "fulfillment_statuses"),
            "fulfilledBy": _csv(fulfilled_by, "fulfilled_by"),
            "includedData": _csv(included_data, "included_data") if included_data else None,
            "maxResultsPerPage": int(max_results),
            "paginationToken": pagination_token,
        }
        reply = self._call("searchOrders", "orders", "search_orders",
                           **{k: v for k, v in params.items() if v is not None})
        page = parsers.parse_orders_page(reply.body, skip_unreadable=skip_unreadable)
        self.stats["searchOrders"].pages += 1
        return page

    def iter_orders_pages(self, pagination_token=None, **filters):
        """Every page of a ``searchOrders`` run, each exactly once (same filters as :meth:`search_orders_page`).

        ``pagination_token`` resumes an interrupted run: pass the ``next_token`` of the last page processed
        (with the same filters).
        """
        pages = _Pages("searchOrders")
        token = pages.next(pagination_token)
        while True:
            page = self.search_orders_page(pagination_token=token, **filters)
            yield page
            token = pages.next(page.next_token)
            if token is None:
                return

    def get_order(self, order_id, included_data=types.DEFAULT_ORDER_DATA):
        if not order_id:
            raise ValueError("order_id is required")
        kwargs = {"includedData": _csv(included_data, "included_data")} if included_data else {}
        reply = self._call("getOrder", "orders", "get_order", order_id, **kwargs)
        return parsers.parse_get_order(reply.body)

    # ------------------------------------------------------------ Orders v0: shipment confirmation

    def confirm_shipment(self, order_id, package, marketplace_id=None):
        """Tell Amazon one package of a merchant-fulfilled order has shipped (``confirmShipment``, 204 on success).

        ``package``: a :class:`types.ShipmentPackage`. Amazon's refusals (unknown item, quantity above what is
        left to ship, cancelled order, carrier code missing or unknown) raise :class:`BadData` (or
        :class:`NotFound` for an unknown order) carrying Amazon's message; throttling raises RetryLater.
        """
        if not order_id:
            raise ValueError("order_id is required")
        if not isinstance(package, types.ShipmentPackage):
            raise TypeError("package must be a types.ShipmentPackage")
        body = {"marketplaceId": marketplace_id or self.config.marketplace_id,
                "packageDetail": package.to_request(_iso(package.ship_date, "ship_date"))}
        self._call("confirmShipment", "orders_v0", "confirm_shipment", order_id, **body)

    # ------------------------------------------------------------ Listings Items 2021-08-01

    def get_listings_item(self, sku, included_data=types.DEFAULT_LISTING_DATA):
        if not sku:
            raise ValueError("sku is required")
        reply = self._call("getListingsItem", "listings", "get_listings_item", self._seller_id(), sku,
                           marketplaceIds=self.config.marketplace_id,
                           includedData=_csv(included_data, "included_data"))
        return parsers.parse_listings_item(reply.body, marketplace_id=self.config.marketplace_id)

    def iter_listings_items(self, **filters):
        """Every listings item matching ``searchListingsItems`` filters (snake_case names of the model's query
        parameters: ``identifiers``, ``identifiers_type``, ``with_status``, ``last_updated_after``, ...).
        Amazon caps a search at 1000 items: narrow with filters (or use the listings report) beyond that."""
        unknown = set(filters) - set(_LISTING_FILTERS)
        if unknown:
            raise TypeError(f"Unknown listings filters: {', '.join(sorted(unknown))}")
        params = {"marketplaceIds": self.config.marketplace_id, "pageSize": 20,
                  "includedData": ("summaries", "offers", "fulfillmentAvailability", "issues")}
        for name, value in filters.items():
            if value is not None:
                params[_LISTING_FILTERS[name]] = value
        for name in ("identifiers", "withIssueSeverity", "withStatus", "withoutStatus", "includedData"):
            if name in params:
                params[name] = _csv(params[name], name)
        for name in ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore"):
            if name in params:
                params[name] = _iso(params[name], name)
        seller_id = self._seller_id()
        pages = _Pages("searchListingsItems")
        token = None
        while True:
            extra = {"pageToken": token} if token else {}
            reply = self._call("searchListingsItems", "listings", "search_listings_items", seller_id,
                               **params, **extra)
            items, next_token = parsers.parse_listings_search(reply.body, marketplace_id=self.config.marketplace_id)
            self.stats["searchListingsItems"].pages += 1
            yield from items
            token = pages.next(next_token)
            if token is None:
                return

    def patch_listing_quantity(self, sku, quantity, product_type):
        """Set the quantity the seller offers itself (fulfillment channel DEFAULT).

        A JSON ``merge`` patch of ``/attributes/fulfillment_availability``: other channels (FBA) are left alone.
        Safe to repeat (absolute quantity). ``ACCEPTED`` means queued: Amazon reports problems as issues later.
        """
        if not sku:
            raise ValueError("sku is required")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ValueError("quantity must be a whole number, 0 or more")
        if not product_type:
            raise ValueError("product_type is required (the listing's summary has it)")
        body = {
            "productType": product_type,
            "patches": [{
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }],
        }
        reply = self._call("patchListingsItem", "listings", "patch_listings_item", self._seller_id(), sku,
                           body=body, marketplaceIds=self.config.marketplace_id, includedData="issues")
        return parsers.parse_patch_result(reply.body)

    # ------------------------------------------------------------ FBA inventory v1

    def iter_inventory_summaries(self, start_date_time=None, seller_skus=None):
        """FBA stock of the marketplace, with details: every SKU, the SKUs changed since ``start_date_time``, or
        the given ``seller_skus`` (asked 50 at a time, Amazon's limit). Amazon ignores SKU filters when a start
        time is given, so with both the SKUs are filtered here."""
        base = {
            "details": "true",
            "granularityType": "Marketplace",
            "granularityId": self.config.marketplace_id,
            "marketplaceIds": self.config.marketplace_id,
        }
        if isinstance(seller_skus, str):
            seller_skus = [seller_skus]
        wanted = set(seller_skus) if seller_skus is not None else None
        if start_date_time is not None:
            base["startDateTime"] = _iso(start_date_time, "start_date_time")
            batches = [None]
        elif wanted is not None:
            skus = list(dict.fromkeys(seller_skus))
            batches = [skus[i:i + 50] for i in range(0, len(skus), 50)]
        else:
            batches = [None]
        for batch in batches:
            params = dict(base, sellerSkus=",".join(batch)) if batch else dict(base)
            pages = _Pages("getInventorySummaries")
            token = None
            while True:
                extra = {"nextToken": token} if token else {}
                reply = self._call("getInventorySummaries", "inventory", "get_inventory_summary_marketplace",
                                   **params, **extra)
                summaries, next_token = parsers.parse_inventory_page(reply.body)
                self.stats["getInventorySummaries"].pages += 1
                yield from (s for s in summaries if wanted is None or s.seller_sku in wanted)
                token = pages.next(next_token)
                if token is None:
                    break

    # ------------------------------------------------------------ Finances 2024-06-19

    def iter_transactions(self, posted_after, posted_before=None, marketplace_id=None):
        """Financial transactions posted in [posted_after, posted_before) in the connection's marketplace
        (or ``marketplace_id``). ``posted_before`` defaults to two minutes ago (Amazon); at most 180 days."""
        for transactions, _next_token in self.iter_transaction_pages(posted_after, posted_before, marketplace_id):
            yield from transactions  # Amazon may send empty pages with a token: keep following

    def iter_transaction_pages(self, posted_after, posted_before=None, marketplace_id=None, next_token=None):
        """:meth:`iter_transactions` page by page: (transactions, token of the next page or None).
        ``next_token`` resumes an interrupted run (with the same dates and marketplace)."""
        if posted_after is None:
            raise ValueError("posted_after is required")
        params = {
            "postedAfter": _iso(posted_after, "posted_after"),
            "postedBefore": _iso(posted_before, "posted_before"),
            "marketplaceId": marketplace_id or self.config.marketplace_id,
        }
        params = {k: v for k, v in params.items() if v is not None}
        pages = _Pages("listTransactions")
        token = pages.next(next_token)
        while True:
            extra = {"nextToken": token} if token else {}
            reply = self._call("listTransactions", "finances", "list_transactions", **params, **extra)
            transactions, page_token = parsers.parse_transactions_page(reply.body)
            self.stats["listTransactions"].pages += 1
            token = pages.next(page_token)
            yield transactions, token
            if token is None:
                return

    # ------------------------------------------------------------ Reports 2021-06-30

    def create_report(self, report_type, data_start_time=None, data_end_time=None, report_options=None,
                      marketplace_ids=None):
        """Ask Amazon for a report of the connection's marketplace (or of ``marketplace_ids``); returns its
        report id."""
        if not report_type:
            raise ValueError("report_type is required")
        marketplaces = _marketplace_list(marketplace_ids, self.config.marketplace_id, MAX_REPORT_MARKETPLACES)
        body = {"reportType": report_type, "marketplaceIds": marketplaces}
        if data_start_time is not None:
            body["dataStartTime"] = _iso(data_start_time, "data_start_time")
        if data_end_time is not None:
            body["dataEndTime"] = _iso(data_end_time, "data_end_time")
        if report_options:
            body["reportOptions"] = dict(report_options)
        reply = self._call("createReport", "reports", "create_report", **body)
        return parsers.parse_create_report(reply.body)

    def get_report(self, report_id):
        if not report_id:
            raise ValueError("report_id is required")
        reply = self._call("getReport", "reports", "get_report", report_id)
        return parsers.parse_report(reply.body)

    def iter_reports(self, report_types, processing_statuses=None, created_since=None):
        """Reports of these types (e.g. settlement reports Amazon generates on its own), newest first."""
        params = {
            "reportTypes": _csv(report_types, "report_types"),
            "processingStatuses": _csv(processing_statuses, "processing_statuses"),
            "createdSince": _iso(created_since, "created_since"),
            "marketplaceIds": self.config.marketplace_id,
            "pageSize": 100,
        }
        params = {k: v for k, v in params.items() if v is not None}
        pages = _Pages("getReports")
        while True:
            reply = self._call("getReports", "reports", "get_reports", **params)
            reports, next_token = parsers.parse_reports_page(reply.body)
            self.stats["getReports"].pages += 1
            yield from reports
            token = pages.next(next_token)
            if token is None:
                return
            params = {"nextToken": token}  # the model: the token must be the only parameter

    def wait_for_report(self, report_id, poll_interval=30, timeout=3600):
        """Poll ``getReport`` until DONE. CANCELLED/FATAL raise BadData; still running after ``timeout`` seconds
        raises RetryLater (the report keeps being prepared: wait for it again later)."""
        deadline = self._clock() + timeout
        while True:
            report = self.get_report(report_id)
            if report.is_done:
                return report
            if report.processing_status == "CANCELLED":
                raise BadData(f"Amazon cancelled report {report_id} ({report.report_type}); it does this when the "
                              "period has no data.", operation="getReport")
            if report.processing_status == "FATAL":
                raise BadData(f"Amazon could not produce report {report_id} ({report.report_type}). Ask for it "
                              "again later or for a shorter period.", operation="getReport")
            if self._clock() + poll_interval > deadline or poll_interval > self.allowed_wait():
                raise RetryLater(f"Report {report_id} ({report.report_type}) is still "
                                 f"{report.processing_status.lower().replace('_', ' ')} after {timeout:g} seconds.",
                                 operation="getReport", retry_after=poll_interval)
            self._sleep(poll_interval)

    def get_report_document(self, document_id):
        """Where to download a report document (presigned URL, valid five minutes)."""
        if not document_id:
            raise ValueError("document_id is required")
        reply = self._call("getReportDocument", "reports", "get_report_document", document_id)
        return parsers.parse_report_document(reply.body)

    def iter_report_rows(self, document_id):
        """Rows of a tab-separated report document as dicts of column to text (see :mod:`.flatfile`).

        The document is downloaded (gunzipped when compressed) into a temporary spool, then read row by row.
        """
        spool = self._download_document(document_id)
        try:
            encoding = spool.finish()
            yield from iter_rows(spool.file, encoding)
        finally:
            spool.close()

    def _download_document(self, document_id):
        operation = "downloadReportDocument"
        stats = self.stats[operation]
        cfg = self.config
        attempt = 0
        while True:
            document = self.get_report_document(document_id)
            try:  # a presigned URL of Amazon's storage: never another host (nor this machine's network)
                url = check_url(document.url, "document", cfg.allow_loopback)
            except ConfigurationError as exc:
                raise BadData(f"Report document {document_id}: {exc}", operation=operation) from None
            spool = DocumentSpool()
            stats.calls += 1
            try:
                if self._download_client is None:  # no token or SP-API header goes to the storage URL
                    self._download_client = httpx.Client(timeout=cfg.timeout, verify=tls_context())
                with self._download_client.stream("GET", url) as response:
                    if response.status_code == 200:
                        for chunk in response.iter_bytes():
                            spool.write(chunk)
                        return spool
                    # 403/400: the presigned URL expired (fetch a new one); 5xx: storage trouble
                    reason = f"the report download answered HTTP {response.status_code}"
            except httpx.TimeoutException:
                reason = f"the report download stalled for {cfg.timeout:g} seconds"
            except httpx.TransportError as exc:
                reason = f"the report download failed ({type(exc).__name__})"
            except BaseException:
                spool.close()
                raise
            spool.close()
            if attempt >= cfg.max_retries:
                raise RetryLater(f"Report document {document_id}: {reason}; tried {attempt + 1} times.",
                                 operation=operation)
            attempt += 1
            stats.retries += 1
            delay = self._backoff(attempt)
            if delay > self.allowed_wait():
                raise RetryLater(f"Report document {document_id}: {reason}; it can be retried in {delay:.0f} "
                                 "seconds.", operation=operation, retry_after=delay)
            stats.waited += delay
            self._sleep(delay)
