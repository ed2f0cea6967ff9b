"""python-amazon-sp-api adapted: the library classes :class:`.transport.Transport` sends every call with.

Its API classes (Orders 2026-01-01 and v0, ListingsItems 2021-08-01, Inventories, Finances 2024-06-19, Reports,
Sellers) build the requests. :class:`_ClientMixin` subclasses them to
- send calls to the configured endpoint with a correct ``Host`` header (the library uses ``endpoint[8:]``,
  wrong for ``http://``), whatever the ``SP_API_DEFAULT_MARKETPLACE`` environment variable says;
- see every HTTP status (the library turns a 429 with an empty body into an empty, successful answer, and
  swallows non-JSON bodies), and keep the full JSON body (``ApiResponse`` drops keys such as ``pagination``);
- never add the library's four guessed marketplace query parameters: each call passes what the model wants.
"""
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from sp_api.api import Finances, Inventories, ListingsItems, Orders, Reports, Sellers


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
