"""SpApi: the one object the rest of the connector uses to call Amazon's Selling Partner API.

Composed, as python-amazon-sp-api is split, of one part per Amazon API, each module holding that API's calls,
types and parsers: :mod:`.sellers`, :mod:`.orders` (types in :mod:`.order_types`), :mod:`.shipments`
(Orders v0 confirmShipment), :mod:`.listings`, :mod:`.inventory` (FBA), :mod:`.finances`, :mod:`.reports`;
Login with Amazon tokens are :mod:`.auth`. Under them :class:`.transport.Transport` sends every call through
python-amazon-sp-api's API classes as adapted in :mod:`.library`: it paces calls (:mod:`.pacing`), retries
throttled, failed and timed-out calls with exponential backoff and jitter, maps failures to :mod:`.errors`;
each API part follows pagination and parses answers into its types.
"""
from .finances import FinancesApi
from .inventory import InventoryApi
from .listings import ListingsApi
from .orders import OrdersApi
from .reports import ReportsApi
from .sellers import SellersApi
from .shipments import ShipmentsApi
from .transport import Transport


class SpApi(SellersApi, OrdersApi, ShipmentsApi, ListingsApi, InventoryApi, FinancesApi, ReportsApi, Transport):
    """Calls to Amazon for one connection (:class:`.config.SpApiConfig`).

    ``sleep`` and ``clock`` are injectable (tests); ``rng`` gives the backoff jitter; ``pacer`` replaces the
    process-wide pacer of the connection.

    ``deadline`` (a value of ``clock``, or None): the caller must be done by then, e.g. a scheduled job before
    Odoo's time limit kills it. No pause (pacing, backoff, report polling) goes past it: the call raises
    ``RetryLater(retry_after=...)`` instead, and the caller plans the next try at that time.

    Not thread-safe: use one SpApi per thread (pacing buckets are shared safely between them).
    """
