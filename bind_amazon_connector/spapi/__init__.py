"""The only code of the project that talks to Amazon's Selling Partner API. Plain Python: no Odoo.

    from bind_amazon_connector.spapi import SpApi, SpApiConfig, errors
    api = SpApi(SpApiConfig(client_id, client_secret, refresh_token, marketplace_id="A1AM78C64UM0Y8"))
    for page in api.iter_orders_pages(last_updated_after=cursor):
        ...

Split by Amazon API, as python-amazon-sp-api is: each module holds that API's calls (a part of ``SpApi``), its
types and its parsers: ``sellers``, ``orders`` (types in ``order_types``), ``shipments`` (Orders v0
confirmShipment), ``listings``, ``inventory`` (FBA), ``finances``, ``reports`` (report rows: ``flatfile``),
``auth`` (Login with Amazon: consent URL, code exchange, access tokens). ``client`` composes them into
``SpApi``. Shared: ``transport`` (retries, error mapping, statistics), ``library`` (python-amazon-sp-api
adapted), ``pacing`` (usage-plan token buckets), ``values`` (Money, JSON field readers), ``config``
(SpApiConfig), ``errors``, ``tls``, ``marketplaces``, ``usage_plans``, ``carriers``. The local stand-in for
Amazon lives outside the addon, in the development package ``spapi_simulator``.
"""
from . import errors
from .client import SpApi
from .config import SpApiConfig

__all__ = ["SpApi", "SpApiConfig", "errors"]
