"""Tab-separated flat-file reports built from the simulator's data, with Amazon's column names."""
from decimal import Decimal

from .factory import dec, parse_time

MERCHANT_LISTINGS_COLUMNS = [
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date", "image-url",
    "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note", "item-condition",
    "zshop-category1", "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2", "asin3",
    "will-ship-internationally", "expedited-shipping", "zshop-boldface", "product-id",
    "bid-for-featured-placement", "add-delete", "pending-quantity", "fulfillment-channel",
    "merchant-shipping-group", "status",
]
ALL_ORDERS_COLUMNS = [
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order", "purchase-order-number",
    "price-designation",
]
SETTLEMENT_COLUMNS = [
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
    "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id",
]
STATUS_NAMES = {
    "PENDING_AVAILABILITY": "PendingAvailability", "PENDING": "Pending", "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped", "SHIPPED": "Shipped", "CANCELLED": "Cancelled",
    "UNFULFILLABLE": "Unfulfillable",
}


def _clean(value):
    return "" if value is None else str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def tsv(columns, rows):
    lines = ["\t".join(columns)]
    lines += ["\t".join(_clean(row.get(c)) for c in columns) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def _flat_date(value):
    return parse_time(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def _first_value(attributes, name):
    values = attributes.get(name) or []
    return values[0].get("value") if values and isinstance(values[0], dict) else None


def merchant_listings(listings, marketplace_id):
    """GET_MERCHANT_LISTINGS_ALL_DATA from Listings Items ``Item`` objects."""
    rows = []
    for item in listings:
        summaries = item.get("summaries") or []
        summary = next((s for s in summaries if s.get("marketplaceId") == marketplace_id), None)
        if summary is None and summaries:
            continue  # listed in other marketplaces only: not in this marketplace's report
        summary = summary or {}
        offer = next((o for o in item.get("offers", []) if o.get("marketplaceId") == marketplace_id), None)
        avail = (item.get("fulfillmentAvailability") or [{}])[0]
        channel = avail.get("fulfillmentChannelCode", "DEFAULT")
        attributes = item.get("attributes") or {}
        rows.append({
            "item-name": summary.get("itemName"),
            "item-description": _first_value(attributes, "product_description"),
            "listing-id": "0" + item["sku"].encode().hex()[:10].upper(),
            "seller-sku": item["sku"],
            "price": offer["price"]["amount"] if offer else "",
            "quantity": avail.get("quantity", 0) if channel == "DEFAULT" else "",
            "open-date": _flat_date(summary["createdDate"]) if summary.get("createdDate") else "",
            "image-url": (summary.get("mainImage") or {}).get("link"),
            "item-is-marketplace": "y",
            "product-id-type": 1,
            "item-condition": 11,
            "asin1": summary.get("asin"),
            "will-ship-internationally": 1 if channel == "DEFAULT" else "",
            "product-id": summary.get("asin"),
            "pending-quantity": 0,
            "fulfillment-channel": channel,
            "merchant-shipping-group": "Plantilla de Amazon" if channel == "DEFAULT" else "",
            "status": "Active" if "BUYABLE" in (summary.get("status") or []) else "Inactive",
        })
    return tsv(MERCHANT_LISTINGS_COLUMNS, rows)


def _charged(item, kind):
    """What the buyer paid for a charge (ITEM, SHIPPING, GIFT_WRAP): the breakdown, plus its tax when the
    item's TAX comes on top of it (the breakdowns then add up to proceedsTotal)."""
    amount = _breakdown(item, kind)
    if amount == "":
        return amount
    proceeds = item.get("proceeds") or {}
    total = sum(Decimal(b["subtotal"]["amount"]) for b in proceeds.get("breakdowns", []))
    if proceeds.get("proceedsTotal") and Decimal(proceeds["proceedsTotal"]["amount"]) == total:
        return str(Decimal(amount) + Decimal(_breakdown(item, "TAX", kind) or "0"))
    return amount


def _promotion(item, subtype):
    """A promotion as the buyer saw it: the DISCOUNT detail, plus its share of the tax given back when the
    item's TAX comes on top."""
    amount = _breakdown(item, "DISCOUNT", subtype)
    proceeds = item.get("proceeds") or {}
    total = sum(Decimal(b["subtotal"]["amount"]) for b in proceeds.get("breakdowns", []))
    discount = Decimal(_breakdown(item, "DISCOUNT"))
    if not discount or not proceeds.get("proceedsTotal") or Decimal(proceeds["proceedsTotal"]["amount"]) != total:
        return amount
    share = Decimal(_breakdown(item, "TAX", "DISCOUNT") or "0") * Decimal(amount) / discount
    return str((Decimal(amount) + share).quantize(Decimal("0.01")))


def _breakdown(item, kind, subtype=None):
    for entry in (item.get("proceeds") or {}).get("breakdowns", []):
        if entry["type"] != kind:
            continue
        if subtype is None:
            return entry["subtotal"]["amount"]
        for detail in entry.get("detailedBreakdowns", []):
            if detail.get("subtype") == subtype:
                return detail["value"]["amount"]
    return "0.00" if subtype is None or kind in ("TAX", "DISCOUNT") else ""


def all_orders(orders):
    """GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL: one row per order item."""
    rows = []
    for order in orders:
        ful = order.get("fulfillment") or {}
        status = ful.get("fulfillmentStatus", "UNSHIPPED")
        address = (order.get("recipient") or {}).get("deliveryAddress") or {}
        alias = next((a["aliasId"] for a in order.get("orderAliases", []) if a["aliasType"] == "SELLER_ORDER_ID"), "")
        for item in order["orderItems"]:
            product = item["product"]
            item_ful = item.get("fulfillment") or {}
            if status == "CANCELLED":
                item_status = "Cancelled"
            elif item_ful.get("quantityFulfilled") and not item_ful.get("quantityUnfulfilled"):
                item_status = "Shipped"
            else:
                item_status = "Unshipped"
            promos = [p["promotionId"] for p in (item.get("promotion") or {}).get("breakdowns", [])]
            price = (product.get("price") or {}).get("unitPrice") or {}
            rows.append({
                "amazon-order-id": order["orderId"],
                "merchant-order-id": alias,
                "purchase-date": order["createdTime"].replace("Z", "+00:00"),
                "last-updated-date": order["lastUpdatedTime"].replace("Z", "+00:00"),
                "order-status": STATUS_NAMES.get(status, status),
                "fulfillment-channel": "Amazon" if ful.get("fulfilledBy") == "AMAZON" else "Merchant",
                "sales-channel": order["salesChannel"].get("marketplaceName", "Amazon.com.mx"),
                "ship-service-level": ful.get("fulfillmentServiceLevel", "Standard").title(),
                "product-name": product.get("title"),
                "sku": product.get("sellerSku"),
                "asin": product.get("asin"),
                "item-status": item_status,
                "quantity": item["quantityOrdered"],
                "currency": price.get("currencyCode", ""),
                "item-price": _charged(item, "ITEM"),
                "item-tax": _breakdown(item, "TAX", "ITEM"),
                "shipping-price": _charged(item, "SHIPPING"),
                "shipping-tax": _breakdown(item, "TAX", "SHIPPING"),
                "gift-wrap-price": _charged(item, "GIFT_WRAP"),
                "gift-wrap-tax": _breakdown(item, "TAX", "GIFT_WRAP"),
                "item-promotion-discount": _promotion(item, "ITEM"),
                "ship-promotion-discount": _promotion(item, "SHIPPING"),
                "ship-city": address.get("city"),
                "ship-state": address.get("stateOrRegion"),
                "ship-postal-code": address.get("postalCode"),
                "ship-country": address.get("countryCode"),
                "promotion-ids": ",".join(promos),
                "is-business-order": "true" if "AMAZON_BUSINESS" in order.get("programs", []) else "false",
                "purchase-order-number": (order.get("buyer") or {}).get("buyerPurchaseOrderNumber"),
                "price-designation": "BusinessPrice" if price and product["price"].get("priceDesignation") else "",
            })
    return tsv(ALL_ORDERS_COLUMNS, rows)


def _leaves(breakdowns, parents=()):
    for bd in breakdowns or []:
        if bd.get("breakdowns"):
            yield from _leaves(bd["breakdowns"], parents + (bd["breakdownType"],))
        else:
            yield parents + (bd["breakdownType"],), bd["breakdownAmount"]["currencyAmount"]


_AMOUNT_TYPES = {"Sales": "ItemPrice", "Expenses": "ItemFees", "TaxWithholding": "ItemWithheldTax"}


def settlement(transactions, settlement_id, start, end, currency, marketplace_name):
    """GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 from Finances 2024-06-19 transactions."""
    total = sum((dec(t["totalAmount"]["currencyAmount"]) for t in transactions), Decimal(0))
    rows = [{"settlement-id": settlement_id, "settlement-start-date": _flat_date(start),
             "settlement-end-date": _flat_date(end), "deposit-date": _flat_date(end),
             "total-amount": f"{total:.2f}", "currency": currency}]
    for txn in transactions:
        order_id = next((r["relatedIdentifierValue"] for r in txn.get("relatedIdentifiers", [])
                         if r["relatedIdentifierName"] == "ORDER_ID"), "")
        context = next((c for it in txn.get("items", []) for c in it.get("contexts", [])
                        if c.get("contextType") == "ProductContext"), {})
        for path, value in _leaves(txn.get("breakdowns")):
            if len(path) > 1 and path[-1] == "ProductCharges":
                continue
            rows.append({
                "settlement-id": settlement_id,
                "transaction-type": "Order" if txn.get("transactionType") == "Shipment" else txn.get("transactionType"),
                "order-id": order_id, "shipment-id": "", "marketplace-name": marketplace_name,
                "amount-type": _AMOUNT_TYPES.get(path[0], path[0]),
                "amount-description": path[-1].replace("OurPrice", "") or path[-1],
                "amount": f"{dec(value):.2f}",
                "fulfillment-id": "AFN" if context.get("fulfillmentNetwork") == "AFN" else "MFN",
                "posted-date": parse_time(txn["postedDate"]).strftime("%Y-%m-%d"),
                "posted-date-time": _flat_date(txn["postedDate"]),
                "sku": context.get("sku", ""), "quantity-purchased": context.get("quantityShipped", ""),
            })
    return tsv(SETTLEMENT_COLUMNS, rows)
