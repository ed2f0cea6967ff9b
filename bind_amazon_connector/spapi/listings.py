"""Listings Items 2021-08-01: read one listing, search listings, set the quantity the seller offers."""
from dataclasses import dataclass, field
from datetime import datetime

from .errors import ConfigurationError
from .transport import _csv, _iso, _Pages
from .values import Money, _bad, _check_obj, _dt, _get, _int, _items, _list, _money, _obj, _str, _strs

DEFAULT_LISTING_DATA = ("summaries", "offers", "fulfillmentAvailability", "issues", "attributes")


@dataclass(frozen=True)
class ListingSummary:
    marketplace_id: str
    product_type: str
    status: tuple[str, ...]  # BUYABLE, DISCOVERABLE
    created_date: datetime
    last_updated_date: datetime
    asin: str | None = None
    condition_type: str | None = None
    fn_sku: str | None = None
    item_name: str | None = None
    main_image_url: str | None = None


@dataclass(frozen=True)
class ListingOffer:
    marketplace_id: str
    offer_type: str  # B2C, B2B
    price: Money
    points: int | None = None
    audience: str | None = None


@dataclass(frozen=True)
class FulfillmentAvailability:
    channel_code: str  # DEFAULT (merchant) or AMAZON_NA, ... (FBA)
    quantity: int | None = None


@dataclass(frozen=True)
class ListingIssue:
    code: str
    message: str
    severity: str  # ERROR, WARNING, INFO
    categories: tuple[str, ...] = ()
    attribute_names: tuple[str, ...] = ()
    marketplace_ids: tuple[str, ...] = ()
    enforcement_actions: tuple[str, ...] = ()
    exemption_status: str | None = None


@dataclass(frozen=True)
class ListingsItem:
    """A listings item (``Item``). ``marketplace_id`` is the marketplace the connection asked about; the
    convenience properties read that marketplace's summary and offer (else the first one)."""

    sku: str
    marketplace_id: str | None = None
    summaries: tuple[ListingSummary, ...] = ()
    offers: tuple[ListingOffer, ...] = ()
    fulfillment_availability: tuple[FulfillmentAvailability, ...] = ()
    issues: tuple[ListingIssue, ...] = ()
    attributes: dict = field(default_factory=dict, compare=False)
    product_types: tuple[tuple[str, str], ...] = ()  # (marketplace_id, product_type)
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def _pick(self, rows):
        for row in rows:
            if row.marketplace_id == self.marketplace_id:
                return row
        return rows[0] if rows else None

    @property
    def summary(self):
        return self._pick(self.summaries)

    @property
    def asin(self):
        return self.summary.asin if self.summary else None

    @property
    def item_name(self):
        return self.summary.item_name if self.summary else None

    @property
    def product_type(self):
        if self.summary:
            return self.summary.product_type
        for marketplace_id, product_type in self.product_types:
            if marketplace_id == self.marketplace_id:
                return product_type
        return self.product_types[0][1] if self.product_types else None

    @property
    def status(self):
        return self.summary.status if self.summary else ()

    @property
    def is_buyable(self):
        return "BUYABLE" in self.status

    @property
    def price(self):
        offer = self._pick([o for o in self.offers if o.offer_type == "B2C"] or list(self.offers))
        return offer.price if offer else None

    @property
    def merchant_quantity(self):
        """Quantity offered by the seller itself (channel DEFAULT), or None."""
        for fa in self.fulfillment_availability:
            if fa.channel_code == "DEFAULT":
                return fa.quantity
        return None

    @property
    def errors(self):
        return tuple(i for i in self.issues if i.severity == "ERROR")


@dataclass(frozen=True)
class PatchResult:
    """Amazon's answer to a listings submission (``ListingsItemSubmissionResponse``).

    ACCEPTED means queued for processing, not applied: issues found later show up on the item."""

    status: str  # ACCEPTED, INVALID, VALID
    submission_id: str
    issues: tuple[ListingIssue, ...] = ()
    sku: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def accepted(self):
        return self.status in ("ACCEPTED", "VALID")


def parse_listing_issue(d, path="issue"):
    _check_obj(d, path)
    enforcements = _obj(d, "enforcements", path) or {}
    pe = f"{path}.enforcements"
    actions = []
    for i, a in enumerate(_list(enforcements, "actions", pe)):
        _check_obj(a, f"{pe}.actions[{i}]")
        actions.append(_str(a, "action", f"{pe}.actions[{i}]", required=True))
    return ListingIssue(
        code=_str(d, "code", path, required=True),
        message=_str(d, "message", path, required=True),
        severity=_str(d, "severity", path, required=True),
        categories=_strs(d, "categories", path),
        attribute_names=_strs(d, "attributeNames", path),
        marketplace_ids=_strs(d, "marketplaceIds", path),
        enforcement_actions=tuple(actions),
        exemption_status=_str(_obj(enforcements, "exemption", pe) or {}, "status", f"{pe}.exemption"),
    )


def _listing_summary(d, path):
    _check_obj(d, path)
    image = _obj(d, "mainImage", path) or {}
    return ListingSummary(
        marketplace_id=_str(d, "marketplaceId", path, required=True),
        product_type=_str(d, "productType", path, required=True),
        status=_strs(d, "status", path) if _get(d, "status", path, required=True) is not None else (),
        created_date=_dt(d, "createdDate", path, required=True),
        last_updated_date=_dt(d, "lastUpdatedDate", path, required=True),
        asin=_str(d, "asin", path),
        condition_type=_str(d, "conditionType", path),
        fn_sku=_str(d, "fnSku", path),
        item_name=_str(d, "itemName", path),
        main_image_url=_str(image, "link", f"{path}.mainImage"),
    )


def _listing_offer(d, path):
    _check_obj(d, path)
    points = _obj(d, "points", path) or {}
    audience = _obj(d, "audience", path) or {}
    return ListingOffer(
        marketplace_id=_str(d, "marketplaceId", path, required=True),
        offer_type=_str(d, "offerType", path, required=True),
        price=_money(d, "price", path, required=True),
        points=_int(points, "pointsNumber", f"{path}.points"),
        audience=_str(audience, "value", f"{path}.audience"),
    )


def _fulfillment_availability(d, path):
    _check_obj(d, path)
    return FulfillmentAvailability(_str(d, "fulfillmentChannelCode", path, required=True),
                                     _int(d, "quantity", path))


def _product_type(d, path):
    _check_obj(d, path)
    return (_str(d, "marketplaceId", path, required=True), _str(d, "productType", path, required=True))


def parse_listings_item(d, path=None, marketplace_id=None):
    """A Listings Items 2021-08-01 ``Item``; ``marketplace_id`` selects what the convenience properties read."""
    if not isinstance(d, dict):
        raise _bad(path or "listingsItem", "is not an object")
    sku = _str(d, "sku", path or "listingsItem", required=True)
    path = path or f"listings item {sku}"
    return ListingsItem(
        sku=sku,
        marketplace_id=marketplace_id,
        summaries=_items(d, "summaries", path, _listing_summary),
        offers=_items(d, "offers", path, _listing_offer),
        fulfillment_availability=_items(d, "fulfillmentAvailability", path, _fulfillment_availability),
        issues=_items(d, "issues", path, parse_listing_issue),
        attributes=_obj(d, "attributes", path) or {},
        product_types=_items(d, "productTypes", path, _product_type),
        raw=d,
    )


def parse_listings_search(body, path="searchListingsItems", marketplace_id=None):
    """An ``ItemSearchResults``: (items, next_token)."""
    _check_obj(body, path)
    items = tuple(parse_listings_item(v, f"{path}.items[{i}]", marketplace_id)
                  for i, v in enumerate(_list(body, "items", path, required=True)))
    pagination = _obj(body, "pagination", path) or {}
    return items, _str(pagination, "nextToken", f"{path}.pagination") or None


def parse_patch_result(body, path="patchListingsItem"):
    """A ``ListingsItemSubmissionResponse``."""
    _check_obj(body, path)
    return PatchResult(
        status=_str(body, "status", path, required=True),
        submission_id=_str(body, "submissionId", path, required=True),
        issues=_items(body, "issues", path, parse_listing_issue),
        sku=_str(body, "sku", path, required=True),
        raw=body,
    )


_LISTING_FILTERS = {
    "identifiers": "identifiers", "identifiers_type": "identifiersType", "variation_parent_sku": "variationParentSku",
    "package_hierarchy_sku": "packageHierarchySku", "created_after": "createdAfter",
    "created_before": "createdBefore", "last_updated_after": "lastUpdatedAfter",
    "last_updated_before": "lastUpdatedBefore", "with_issue_severity": "withIssueSeverity",
    "with_status": "withStatus", "without_status": "withoutStatus", "sort_by": "sortBy", "sort_order": "sortOrder",
    "page_size": "pageSize", "included_data": "includedData", "issue_locale": "issueLocale",
}


class ListingsApi:
    """The Listings Items calls of :class:`.client.SpApi`."""

    def _seller_id(self):
        if not self.config.seller_id:
            raise ConfigurationError("The seller id (merchant token) of the connection is needed for listings: "
                                     "Seller Central, Settings, Account Info, Merchant Token.")
        return self.config.seller_id

    def get_listings_item(self, sku, included_data=DEFAULT_LISTING_DATA):
        if not sku:
            raise ValueError("sku is required")
        reply = self._call("getListingsItem", "listings", "get_listings_item", self._seller_id(), sku,
                           marketplaceIds=self.config.marketplace_id,
                           includedData=_csv(included_data, "included_data"))
        return parse_listings_item(reply.body, marketplace_id=self.config.marketplace_id)

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
            items, next_token = parse_listings_search(reply.body, marketplace_id=self.config.marketplace_id)
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
        return parse_patch_result(reply.body)
