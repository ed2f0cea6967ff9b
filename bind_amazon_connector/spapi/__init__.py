"""The only code of the project that talks to Amazon's Selling Partner API. Plain Python: no Odoo.

    from bind_amazon_connector.spapi import SpApi, SpApiConfig, types, errors
    api = SpApi(SpApiConfig(client_id, client_secret, refresh_token, marketplace_id="A1AM78C64UM0Y8"))
    for page in api.iter_orders_pages(last_updated_after=cursor):
        ...

Modules: ``config`` (SpApiConfig), ``client`` (SpApi), ``auth`` (consent URL, code exchange, token cache),
``pacing`` (usage-plan token buckets), ``parsers`` (JSON to ``types``), ``flatfile`` (report rows),
``errors``, ``marketplaces``, ``usage_plans``. The local stand-in for Amazon lives outside the addon, in
the development package ``spapi_simulator``.
"""
from . import errors, types
from .client import SpApi
from .config import SpApiConfig

__all__ = ["SpApi", "SpApiConfig", "errors", "types"]
