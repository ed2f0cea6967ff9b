"""FBA inventory v1: the FBA stock of the marketplace, SKU by SKU, and the stock of several marketplaces counted
once (:func:`pooled_stock`)."""
from dataclasses import dataclass, field
from datetime import datetime

from .transport import _iso, _Pages
from .values import _check_obj, _dt, _int, _items, _obj, _str, _strs

#: Amazon's fulfilment networks: marketplaces whose FBA units are one pool. In North America's unified account
#: the units in Amazon's warehouses are offered in the US, Canada and Mexico (Remote Fulfillment), and
#: getInventorySummaries at the granularity of each of these marketplaces (``granularityType`` Marketplace,
#: ``granularityId`` its id) counts the units that can be fulfilled there, the pooled ones included. Brazil has
#: its own network. A marketplace not listed is a network of its own.
FULFILLMENT_NETWORKS = {
    "ATVPDKIKX0DER": "NA", "A2EUQ1WTGCTBG2": "NA", "A1AM78C64UM0Y8": "NA",
    "A2Q3Y263D00KWC": "BR",
}


def fulfillment_network(marketplace_id):
    return FULFILLMENT_NETWORKS.get(marketplace_id, marketplace_id)


@dataclass(frozen=True)
class InventorySummary:
    """FBA stock of one SKU in the marketplace. Quantities other than ``total_quantity`` are None unless
    details were returned."""

    seller_sku: str | None
    asin: str | None = None
    fn_sku: str | None = None
    condition: str | None = None
    product_name: str | None = None
    last_updated_time: datetime | None = None
    total_quantity: int | None = None
    fulfillable_quantity: int | None = None
    inbound_working_quantity: int | None = None
    inbound_shipped_quantity: int | None = None
    inbound_receiving_quantity: int | None = None
    reserved_quantity: int | None = None
    pending_customer_order_quantity: int | None = None
    researching_quantity: int | None = None
    unfulfillable_quantity: int | None = None
    stores: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def parse_inventory_summary(d, path="inventorySummary"):
    _check_obj(d, path)
    details = _obj(d, "inventoryDetails", path) or {}
    pd = f"{path}.inventoryDetails"
    reserved = _obj(details, "reservedQuantity", pd) or {}
    researching = _obj(details, "researchingQuantity", pd) or {}
    unfulfillable = _obj(details, "unfulfillableQuantity", pd) or {}
    return InventorySummary(
        seller_sku=_str(d, "sellerSku", path),
        asin=_str(d, "asin", path),
        fn_sku=_str(d, "fnSku", path),
        condition=_str(d, "condition", path),
        product_name=_str(d, "productName", path),
        last_updated_time=_dt(d, "lastUpdatedTime", path),
        total_quantity=_int(d, "totalQuantity", path),
        fulfillable_quantity=_int(details, "fulfillableQuantity", pd),
        inbound_working_quantity=_int(details, "inboundWorkingQuantity", pd),
        inbound_shipped_quantity=_int(details, "inboundShippedQuantity", pd),
        inbound_receiving_quantity=_int(details, "inboundReceivingQuantity", pd),
        reserved_quantity=_int(reserved, "totalReservedQuantity", f"{pd}.reservedQuantity"),
        pending_customer_order_quantity=_int(reserved, "pendingCustomerOrderQuantity", f"{pd}.reservedQuantity"),
        researching_quantity=_int(researching, "totalResearchingQuantity", f"{pd}.researchingQuantity"),
        unfulfillable_quantity=_int(unfulfillable, "totalUnfulfillableQuantity", f"{pd}.unfulfillableQuantity"),
        stores=_strs(d, "stores", path),
        raw=d,
    )


def parse_inventory_page(body, path="getInventorySummaries"):
    """A ``GetInventorySummariesResponse``: (summaries, next_token)."""
    _check_obj(body, path)
    payload = _obj(body, "payload", path, required=True)
    summaries = _items(payload, "inventorySummaries", f"{path}.payload", parse_inventory_summary, required=True)
    pagination = _obj(body, "pagination", path) or {}
    return summaries, _str(pagination, "nextToken", f"{path}.pagination") or None


class InventoryApi:
    """The FBA inventory call of :class:`.client.SpApi`."""

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
                summaries, next_token = parse_inventory_page(reply.body)
                self.stats["getInventorySummaries"].pages += 1
                yield from (s for s in summaries if wanted is None or s.seller_sku in wanted)
                token = pages.next(next_token)
                if token is None:
                    break


def pooled_stock(summaries):
    """The FBA units of several marketplaces, each counted once: ``summaries`` are (marketplace id,
    InventorySummary) pairs. Within a fulfilment network, the same unit (its FNSKU, else its SKU) is one stock
    whatever the marketplaces that show it: the summary with the most fulfillable units stands for it (a unit of
    the pool is fulfillable in each marketplace; one held for a marketplace only adds to that one's count).
    Networks are separate stock. Returns ``{(network, unit): (summary, marketplace ids showing it)}``."""
    units = {}
    for marketplace_id, summary in summaries:
        key = (fulfillment_network(marketplace_id), summary.fn_sku or summary.seller_sku)
        best, shown_in = units.get(key, (None, ()))
        if best is None or (summary.fulfillable_quantity or 0) > (best.fulfillable_quantity or 0):
            best = summary
        units[key] = (best, (*shown_in, marketplace_id))
    return units
