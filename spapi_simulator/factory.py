"""Builders of model-valid SP-API objects for tests and scenarios.

Every builder returns the full object as Amazon's model defines it (Orders 2026-01-01 ``Order``,
Listings Items 2021-08-01 ``Item``, FBA inventory ``InventorySummary``, Finances 2024-06-19
``Transaction``). The simulator stores these whole and leaves out the sections a request did not
ask for (``includedData``).

Conventions (shared with the simulator's reports):

* Money amounts are accepted as ``str``, ``int``, ``float`` or ``Decimal`` and written as strings
  with two decimals (``"199.00"``), as Amazon does in Orders and Listings.
* Times are accepted as ``datetime`` (naive means UTC) or ISO 8601 strings and written as
  ``YYYY-MM-DDTHH:MM:SSZ``.
* Mexico (and Brazil) list prices with tax included: ``unit_price`` is what the buyer pays per unit
  and ``tax`` is the IVA inside it; where prices exclude tax (US, CA) ``tax`` comes on top of it.
* Proceeds follow Amazon's examples (getOrder: ITEM 89.97 + SHIPPING 10.00 + TAX 4.00 = proceedsTotal
  103.97 in a marketplace whose prices include VAT): ITEM, SHIPPING, GIFT_WRAP and DISCOUNT are
  amounts without tax, TAX (detailed by subtype ITEM, SHIPPING, GIFT_WRAP, DISCOUNT) comes on top, and
  the breakdowns add up to ``proceedsTotal``; the order's breakdowns add up to ``grandTotal``.
  ``tax_reading="inside"`` builds the other reading, TAX inside ITEM (the TAX breakdown then only
  reports the tax included and is left out of the totals), so both can be tested.
* DISCOUNT proceeds are negative amounts (money the seller does not receive).
"""
import copy
import hashlib
import itertools
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from .addon import marketplaces

MX = "A1AM78C64UM0Y8"
DEFAULT_SELLER_ID = "A3SIMSELLER0001"
IVA = Decimal("0.16")
#: Readings of an item's TAX breakdown: added to ITEM (Amazon's examples) or reported inside it.
TAX_ON_TOP = "on_top"
TAX_INSIDE = "inside"
CENT = Decimal("0.01")
FULFILLMENT_STATUSES = (
    "PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED", "UNFULFILLABLE",
)
#: Listings Items fulfillment channel codes: merchant-fulfilled, and FBA in North America.
CHANNEL_MFN = "DEFAULT"
CHANNEL_AFN = "AMAZON_NA"

_order_seq = itertools.count(1)
_item_seq = itertools.count(1)
_txn_seq = itertools.count(1)


# ---------------------------------------------------------------- small helpers

def dec(value):
    """A Decimal from a str/int/float/Decimal amount (floats through str, so 0.1 stays 0.1)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def amount(value):
    """An amount as Amazon writes it in Orders and Listings: a string with two decimals."""
    return str(dec(value).quantize(CENT, rounding=ROUND_HALF_UP))


def money(value, currency):
    """An Orders/Listings ``Money`` object."""
    return {"amount": amount(value), "currencyCode": currency}


def parse_time(value):
    """A timezone-aware UTC datetime from a datetime or an ISO 8601 string (``Z`` accepted)."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def iso(value):
    """``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds) from a datetime or ISO string."""
    return parse_time(value).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(value):
    """``YYYY-MM-DDTHH:MM:SS.mmmZ``: ISO 8601 with milliseconds, for changes that must order within a second."""
    return parse_time(value).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def utcnow():
    return datetime.now(timezone.utc).replace(microsecond=0)


def marketplace_info(marketplace_id):
    """(name, currency, country code, prices include tax) of a known marketplace; Mexico's otherwise."""
    mkt = marketplaces.MARKETPLACES.get(marketplace_id) or marketplaces.MARKETPLACES[MX]
    return mkt.name, mkt.currency, mkt.country_code, mkt.prices_include_tax


def included_tax(gross, rate=IVA):
    """The tax inside a tax-included amount (IVA 16 % by default): 199.00 -> 27.45."""
    gross = dec(gross)
    return (gross - gross / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def _digits(seed, n):
    return str(int(hashlib.sha1(str(seed).encode(), usedforsecurity=False).hexdigest(), 16))[:n].rjust(n, "0")


def new_order_id():
    """A fresh Amazon-looking order id (``702-XXXXXXX-XXXXXXX``), unique in this process."""
    n = next(_order_seq)
    return f"702-{n:07d}-{_digits(('order', n), 7)}"


def asin_for(sku):
    """A stable fake ASIN for a SKU (B0 + 8 characters)."""
    return "B0" + hashlib.sha1(f"asin:{sku}".encode(), usedforsecurity=False).hexdigest()[:8].upper()


def fnsku_for(sku):
    return "X00" + hashlib.sha1(f"fnsku:{sku}".encode(), usedforsecurity=False).hexdigest()[:7].upper()


def _deep_merge(base, extra):
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value
    return base


# ---------------------------------------------------------------- orders

DEFAULT_BUYER = {"name": "Ana López Hernández", "email": "ana.lopez@marketplace.amazon.com.mx"}
DEFAULT_ADDRESS = {
    "name": "Ana López Hernández",
    "addressLine1": "Av. Insurgentes Sur 1602",
    "addressLine2": "Piso 4, Col. Crédito Constructor",
    "city": "Ciudad de México",
    "districtOrCounty": "Benito Juárez",
    "stateOrRegion": "CDMX",
    "postalCode": "03940",
    "countryCode": "MX",
    "phone": "+52 55 5555 0100",
    "addressType": "RESIDENTIAL",
}
_ADDRESS_KEYS = {
    "street": "addressLine1", "address_line1": "addressLine1", "address_line2": "addressLine2",
    "address_line3": "addressLine3", "colonia": "addressLine2", "state": "stateOrRegion", "zip": "postalCode",
    "postal_code": "postalCode", "country": "countryCode", "country_code": "countryCode",
    "company": "companyName", "district": "districtOrCounty", "address_type": "addressType",
}


def make_buyer(buyer=None, *, fulfilled_by="MERCHANT"):
    """Orders ``Buyer`` from ``{"name", "email", "company", "po_number"}`` or model keys (``buyerName``...).

    Amazon gives the (anonymized) buyer e-mail only for merchant-fulfilled orders.
    """
    src = dict(DEFAULT_BUYER if buyer is None else buyer)
    out = {k: v for k, v in src.items() if k.startswith("buyer")}
    mapping = {"name": "buyerName", "email": "buyerEmail", "company": "buyerCompanyName",
               "po_number": "buyerPurchaseOrderNumber"}
    for key, model_key in mapping.items():
        if src.get(key) is not None:
            out[model_key] = src[key]
    if fulfilled_by == "AMAZON":
        out.pop("buyerEmail", None)
    return out


def make_address(address=None, *, fulfilled_by="MERCHANT"):
    """Orders ``CustomerAddress`` from model keys or friendly ones (street, city, state, zip, country, phone).

    Amazon suppresses the phone of FBA orders.
    """
    src = dict(DEFAULT_ADDRESS if address is None else address)
    out = {}
    for key, value in src.items():
        if value is None:
            continue
        out[_ADDRESS_KEYS.get(key, key)] = value
    if fulfilled_by == "AMAZON":
        out.pop("phone", None)
    return out


def _as_dict(value, key):
    """Order-level options accept a bare amount/id or a dict; normalise to a dict."""
    if value is None or value is False:
        return None
    if value is True:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return {key: value}


def make_order(order_id=None, *, items, status="UNSHIPPED", fulfilled_by="MERCHANT", marketplace_id=MX,
               currency=None, created=None, last_updated=None, buyer=None, recipient=None, shipping=None,
               gift_wrap=None, promotion=None, service_level="STANDARD", programs=None, seller_order_id=None,
               cancellation=None, packages=None, business=None, tax_reading=TAX_ON_TOP, delivery_tip=None,
               extra=None):
    """A complete Orders 2026-01-01 ``Order`` (every optional section filled; the simulator trims them).

    items: list of dicts, one per order item::

        {"sku": "SKU-1", "asin": "B0...", "title": "...", "quantity": 2,
         "unit_price": "199.00",   # per unit, tax included in MX
         "tax": "27.45",           # tax per unit; default: the IVA inside unit_price (MX) or 0
         "shipped": 0,             # units shipped; default from status (SHIPPED: all, else 0)
         # optional: "order_item_id", "condition" ("NEW"), "shipping" / "shipping_tax" (line amounts),
         # "discount" (line promotion discount, positive, tax included as the buyer sees it),
         # "ship_discount", "discount_tax" (the tax in the promotions), "promotion_ids", "gift_message",
         # "gift_wrap" / "gift_wrap_tax" (line amounts), "serial_numbers", "price_designation"}

    status: one of FulfillmentStatus (UNSHIPPED, PARTIALLY_SHIPPED, SHIPPED, CANCELLED, PENDING, ...).
    fulfilled_by: "MERCHANT" (FBM) or "AMAZON" (FBA).
    created / last_updated: datetime or ISO string; created defaults to one hour ago, last_updated to created.
    buyer / recipient: dicts (friendly or model keys; see make_buyer / make_address); False leaves them out.
    shipping: order shipping charge, "99.00" or {"price", "tax", "carrier", "tracking_number",
        "shipping_service", "ship_time", "package_status"}; charged on the first item.
    gift_wrap: {"price", "tax", "message", "level"} (or True) applied to the first item.
    promotion: promotion id or {"id", "discount", "ship_discount"}; the discount goes to the first item.
    cancellation: for CANCELLED orders, {"by": "BUYER"|"MERCHANT"|"AMAZON", "reason": "..."}.
    packages: explicit list of model ``OrderPackage`` (FBM only); by default one package per shipped order.
    business: {"company", "po_number", "rfc", "legal_name", "address"} marks an Amazon Business order
        (address: the tax registration's address, friendly or model keys).
    tax_reading: "on_top" (Amazon's examples: TAX added to ITEM) or "inside" (TAX reported inside ITEM).
    delivery_tip: an order-level DELIVERY_TIP (FINALIZED) the buyer added, e.g. "20.00".
    extra: dict deep-merged into the order last (escape hatch for any other model field).
    """
    if status not in FULFILLMENT_STATUSES:
        raise ValueError(f"status must be one of {FULFILLMENT_STATUSES}, not {status!r}")
    if tax_reading not in (TAX_ON_TOP, TAX_INSIDE):
        raise ValueError(f"tax_reading must be {TAX_ON_TOP!r} or {TAX_INSIDE!r}")
    if fulfilled_by not in ("MERCHANT", "AMAZON"):
        raise ValueError("fulfilled_by must be 'MERCHANT' or 'AMAZON'")
    if not items:
        raise ValueError("an order needs at least one item")
    mkt_name, mkt_currency, _country, tax_included = marketplace_info(marketplace_id)
    currency = currency or mkt_currency
    order_id = order_id or new_order_id()
    created_dt = parse_time(created) if created is not None else utcnow() - timedelta(hours=1)
    updated_dt = parse_time(last_updated) if last_updated is not None else created_dt
    shipping = _as_dict(shipping, "price")
    gift_wrap = _as_dict(gift_wrap, "price")
    promotion = _as_dict(promotion, "id")
    cancellation = _as_dict(cancellation, "reason")
    if status == "CANCELLED" and cancellation is None:
        cancellation = {}

    order_items = []
    totals = {}  # proceeds type -> Decimal
    for index, raw in enumerate(items):
        item = dict(raw)
        if index == 0:
            if shipping:
                item.setdefault("shipping", shipping.get("price", "0"))
                if shipping.get("tax") is not None:
                    item.setdefault("shipping_tax", shipping["tax"])
            if gift_wrap is not None:
                item.setdefault("gift_wrap", gift_wrap.get("price", "0"))
                if gift_wrap.get("tax") is not None:
                    item.setdefault("gift_wrap_tax", gift_wrap["tax"])
                item.setdefault("gift_message", gift_wrap.get("message", "¡Feliz cumpleaños!"))
                item.setdefault("gift_wrap_level", gift_wrap.get("level", "STANDARD"))
            if promotion:
                item.setdefault("discount", promotion.get("discount", "0"))
                item.setdefault("ship_discount", promotion.get("ship_discount", "0"))
                item.setdefault("promotion_ids", [promotion.get("id", "MX-PROMO-SIM")])
        item.setdefault("order_item_id", _digits((order_id, index), 14))
        built, item_totals = _make_order_item(item, status, currency, tax_included, cancellation, tax_reading)
        order_items.append(built)
        for key, value in item_totals.items():
            totals[key] = totals.get(key, Decimal(0)) + value

    order = {
        "orderId": order_id,
        "createdTime": iso(created_dt),
        "lastUpdatedTime": iso(updated_dt),
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": marketplace_id, "marketplaceName": mkt_name},
        "orderItems": order_items,
    }
    if seller_order_id:
        order["orderAliases"] = [{"aliasId": seller_order_id, "aliasType": "SELLER_ORDER_ID"}]
    order_programs = list(programs or [])
    if business and "AMAZON_BUSINESS" not in order_programs:
        order_programs.append("AMAZON_BUSINESS")
    if order_programs:
        order["programs"] = order_programs
    if buyer is not False:
        b = dict(DEFAULT_BUYER if buyer is None else buyer)
        if business:
            b.setdefault("company", business.get("company"))
            b.setdefault("po_number", business.get("po_number"))
        order["buyer"] = make_buyer(b, fulfilled_by=fulfilled_by)
    if recipient is not False:
        order["recipient"] = {"deliveryAddress": make_address(recipient, fulfilled_by=fulfilled_by)}
    grand = sum((v for k, v in totals.items() if k != "TAX" or tax_reading == TAX_ON_TOP), Decimal(0))
    breakdowns = [{"type": k, "subtotal": money(v, currency)} for k, v in totals.items()]
    if delivery_tip:
        breakdowns.append({"type": "DELIVERY_TIP", "status": "FINALIZED", "subtotal": money(delivery_tip, currency)})
        grand += dec(delivery_tip)
    order["proceeds"] = {"grandTotal": money(grand, currency), "breakdowns": breakdowns}
    if business and (business.get("rfc") or business.get("legal_name")):
        registration = {
            "entityType": "BUYER", "legalName": business.get("legal_name") or business.get("company") or "",
            "taxRegistrationType": "BUSINESS", "taxRegistrationNumber": business.get("rfc") or "",
        }
        if business.get("address"):
            registration["taxRegistrationAddress"] = make_address(business["address"])
        order["tax"] = {"taxRegistrations": [registration]}
    fulfillment = {"fulfillmentStatus": status, "fulfilledBy": fulfilled_by, "fulfillmentServiceLevel": service_level}
    if fulfilled_by == "MERCHANT" and status not in ("CANCELLED", "PENDING", "PENDING_AVAILABILITY"):
        fulfillment["shipByWindow"] = {"earliestDateTime": iso(created_dt),
                                       "latestDateTime": iso(created_dt + timedelta(days=2))}
        fulfillment["deliverByWindow"] = {"earliestDateTime": iso(created_dt + timedelta(days=3)),
                                          "latestDateTime": iso(created_dt + timedelta(days=7))}
    order["fulfillment"] = fulfillment
    if fulfilled_by == "MERCHANT":
        if packages is not None:
            order["packages"] = list(packages)
        else:
            shipped = [(it["orderItemId"], it["fulfillment"]["quantityFulfilled"]) for it in order_items
                       if it["fulfillment"]["quantityFulfilled"]]
            if shipped:
                order["packages"] = [make_package(order_id, shipped, shipping or {}, updated_dt)]
    return _deep_merge(order, extra)


def _split(total, parts):
    """``total`` shared in proportion to ``parts`` (cents; the last part takes the rounding)."""
    whole = sum(parts, Decimal(0))
    shares, left = [], total
    for index, part in enumerate(parts):
        share = left if index == len(parts) - 1 else (total * part / whole).quantize(CENT, rounding=ROUND_HALF_UP)
        shares.append(share)
        left -= share
    return shares


def _make_order_item(item, status, currency, tax_included, cancellation, tax_reading=TAX_ON_TOP):
    qty = int(item.get("quantity", 1))
    unit_price = dec(item.get("unit_price", "100.00"))
    if item.get("tax") is not None:
        unit_tax = dec(item["tax"])
    else:
        unit_tax = included_tax(unit_price) if tax_included else Decimal(0)
    if item.get("shipped") is not None:
        shipped = int(item["shipped"])
    else:
        shipped = qty if status == "SHIPPED" else 0
    if status == "CANCELLED":
        shipped = 0
    if not 0 <= shipped <= qty:
        raise ValueError(f"shipped ({shipped}) must be between 0 and quantity ({qty})")
    sku = item.get("sku") or f"SKU-{next(_item_seq)}"

    def charge(price, tax):
        """(what the buyer pays, the tax in it) of a line amount (the tax per line given or computed)."""
        price = dec(price)
        if tax is not None:
            tax = dec(tax)
        else:
            tax = included_tax(price) if tax_included else Decimal(0)
        return (price, tax) if tax_included else (price + tax, tax)

    # What the buyer pays for each part, tax included, and the tax in it (Amazon computes it per unit).
    gross = {"ITEM": charge(unit_price * qty, unit_tax * qty),
             "SHIPPING": charge(item.get("shipping", 0), item.get("shipping_tax")),
             "GIFT_WRAP": charge(item.get("gift_wrap", 0), item.get("gift_wrap_tax"))}
    discounts = {"ITEM": dec(item.get("discount", 0)), "SHIPPING": dec(item.get("ship_discount", 0))}
    # A promotion lowers the price the buyer pays, and the tax in it.
    discount_gross = sum(discounts.values(), Decimal(0))
    discount_tax = Decimal(0)
    if discount_gross:
        if item.get("discount_tax") is not None:
            discount_tax = dec(item["discount_tax"])
        elif tax_included:
            discount_tax = included_tax(discount_gross)
    on_top = tax_reading == TAX_ON_TOP

    totals = {}
    for kind, (price, tax) in gross.items():
        if price:
            totals[kind] = price - tax if on_top else price
    tax_parts = [(kind, tax) for kind, (_price, tax) in gross.items()] + [("DISCOUNT", -discount_tax)]
    tax_total = sum((v for _k, v in tax_parts), Decimal(0))
    if tax_total or any(v for _k, v in tax_parts):
        totals["TAX"] = tax_total
    discount_parts = []
    if discount_gross:
        net = discount_gross - discount_tax if on_top else discount_gross
        names = [k for k, v in discounts.items() if v]
        discount_parts = list(zip(names, _split(net, [discounts[k] for k in names]), strict=True))
        totals["DISCOUNT"] = -net
    if status == "CANCELLED":
        totals = {}
    breakdowns = []
    for kind, value in totals.items():
        entry = {"type": kind, "subtotal": money(value, currency)}
        if kind == "TAX":
            entry["detailedBreakdowns"] = [{"subtype": k, "value": money(v, currency)} for k, v in tax_parts if v]
        elif kind == "DISCOUNT":
            entry["detailedBreakdowns"] = [{"subtype": k, "value": money(-v, currency)} for k, v in discount_parts]
        breakdowns.append(entry)
    proceeds_total = sum((v for k, v in totals.items() if k != "TAX" or on_top), Decimal(0))

    product = {
        "asin": item.get("asin") or asin_for(sku),
        "title": item.get("title") or f"Producto {sku}",
        "sellerSku": sku,
        "condition": {"conditionType": item.get("condition", "NEW"), "conditionSubtype": item.get("condition", "NEW")},
        "price": {"unitPrice": money(unit_price, currency)},
    }
    if item.get("price_designation"):
        product["price"]["priceDesignation"] = item["price_designation"]
    if item.get("serial_numbers"):
        product["serialNumbers"] = list(item["serial_numbers"])
    fulfillment = {"quantityFulfilled": shipped, "quantityUnfulfilled": 0 if status == "CANCELLED" else qty - shipped}
    if item.get("gift_message") or item.get("gift_wrap_level"):
        gift = {}
        if item.get("gift_message"):
            gift["giftMessage"] = item["gift_message"]
        if item.get("gift_wrap_level"):
            gift["giftWrapLevel"] = item["gift_wrap_level"]
        fulfillment["packing"] = {"giftOption": gift}
    built = {
        "orderItemId": str(item["order_item_id"]),
        "quantityOrdered": qty,
        "product": product,
        "proceeds": {"proceedsTotal": money(proceeds_total, currency), "breakdowns": breakdowns},
        "fulfillment": fulfillment,
    }
    if item.get("promotion_ids"):
        built["promotion"] = {"breakdowns": [{"promotionId": p} for p in item["promotion_ids"]]}
    if status == "CANCELLED":
        by = cancellation.get("by", "BUYER")
        reason = cancellation.get("reason", "BUYER_CANCELED" if by == "BUYER" else "NO_INVENTORY")
        built["cancellation"] = {"cancellationExecution": {"cancelledBy": by, "cancelReason": reason}}
        if by == "BUYER":
            built["cancellation"]["cancellationRequest"] = {"requester": "BUYER", "cancelReason": reason}
    return built, totals


def make_package(order_id, shipped, shipping=None, when=None):
    """An Orders ``OrderPackage`` for (orderItemId, quantity) pairs; ``shipping`` as in make_order."""
    shipping = shipping or {}
    when = when or utcnow()
    ship_time = parse_time(shipping["ship_time"]) if shipping.get("ship_time") else when
    return {
        "packageReferenceId": f"PKG-{order_id}-1",
        "createdTime": iso(ship_time),
        "packageStatus": {"status": shipping.get("package_status", "SHIPPED")},
        "carrier": shipping.get("carrier", "Estafeta"),
        "shipTime": iso(ship_time),
        "shippingService": shipping.get("shipping_service", "Estafeta Día Siguiente"),
        "trackingNumber": shipping.get("tracking_number", _digits(("track", order_id), 22)),
        "shipFromAddress": {"name": "Almacén del vendedor", "addressLine1": "Calle Norte 45", "city": "Monterrey",
                            "stateOrRegion": "NL", "postalCode": "64000", "countryCode": "MX"},
        "packageItems": [{"orderItemId": oid, "quantity": q} for oid, q in shipped],
    }


# ---------------------------------------------------------------- listings

def make_listing(sku, *, asin=None, title=None, price="199.00", quantity=10, fulfillment="MFN",
                 marketplace_id=MX, currency=None, status=("BUYABLE", "DISCOVERABLE"), product_type="PRODUCT",
                 condition="new_new", created=None, updated=None, description=None, image_url=None, fnsku=None,
                 issues=None, extra_attributes=None):
    """A complete Listings Items 2021-08-01 ``Item`` (summaries, attributes, offers, availability, issues...).

    fulfillment: "MFN" (merchant, channel DEFAULT, quantity patchable) or "AFN" (FBA, channel AMAZON_NA).
    status: the listing's summary status list (BUYABLE, DISCOVERABLE; empty means inactive).
    issues: list of model ``Issue`` dicts (default none).
    """
    if fulfillment not in ("MFN", "AFN"):
        raise ValueError("fulfillment must be 'MFN' or 'AFN'")
    _name, mkt_currency, _country, _tax = marketplace_info(marketplace_id)
    currency = currency or mkt_currency
    asin = asin or asin_for(sku)
    title = title or f"Producto {sku}"
    created_dt = parse_time(created) if created is not None else utcnow() - timedelta(days=30)
    updated_dt = parse_time(updated) if updated is not None else created_dt
    channel = CHANNEL_MFN if fulfillment == "MFN" else CHANNEL_AFN
    summary = {
        "marketplaceId": marketplace_id, "asin": asin, "productType": product_type, "conditionType": condition,
        "status": list(status), "itemName": title, "createdDate": iso(created_dt), "lastUpdatedDate": iso(updated_dt),
    }
    if fulfillment == "AFN":
        summary["fnSku"] = fnsku or fnsku_for(sku)
    if image_url:
        summary["mainImage"] = {"link": image_url, "height": 500, "width": 500}
    attributes = {
        "item_name": [{"value": title, "language_tag": "es_MX", "marketplace_id": marketplace_id}],
        "condition_type": [{"value": condition, "marketplace_id": marketplace_id}],
        "purchasable_offer": [{"currency": currency, "marketplace_id": marketplace_id,
                               "our_price": [{"schedule": [{"value_with_tax": float(dec(price))}]}]}],
        "fulfillment_availability": [{"fulfillment_channel_code": channel, "quantity": int(quantity)}],
    }
    if description:
        attributes["product_description"] = [{"value": description, "language_tag": "es_MX",
                                              "marketplace_id": marketplace_id}]
    _deep_merge(attributes, extra_attributes)
    return {
        "sku": sku,
        "summaries": [summary],
        "attributes": attributes,
        "issues": list(issues or []),
        "offers": [{"marketplaceId": marketplace_id, "offerType": "B2C", "price": money(price, currency)}],
        "fulfillmentAvailability": [{"fulfillmentChannelCode": channel, "quantity": int(quantity)}],
        "productTypes": [{"marketplaceId": marketplace_id, "productType": product_type}],
    }


def list_in_marketplace(item, marketplace_id, *, price, currency=None, title=None, status=("BUYABLE", "DISCOVERABLE")):
    """A copy of a listings ``Item`` also offered in ``marketplace_id`` (a unified account sells one SKU in
    several marketplaces: one summary, offer and product type per marketplace, as in Amazon's model)."""
    item = copy.deepcopy(item)
    _name, mkt_currency, _country, _tax = marketplace_info(marketplace_id)
    currency = currency or mkt_currency
    base = item["summaries"][0]
    item["summaries"].append(dict(base, marketplaceId=marketplace_id, status=list(status),
                                  itemName=title or base.get("itemName")))
    item["offers"].append({"marketplaceId": marketplace_id, "offerType": "B2C", "price": money(price, currency)})
    item["productTypes"].append({"marketplaceId": marketplace_id, "productType": base.get("productType", "PRODUCT")})
    attributes = item.setdefault("attributes", {})
    attributes.setdefault("purchasable_offer", []).append({
        "currency": currency, "marketplace_id": marketplace_id,
        "our_price": [{"schedule": [{"value_with_tax": float(dec(price))}]}]})
    return item


# ---------------------------------------------------------------- FBA inventory

def make_inventory_summary(sku, *, asin=None, fnsku=None, title=None, fulfillable=10, inbound_working=0,
                           inbound_shipped=0, inbound_receiving=0, reserved=0, unfulfillable=0, researching=0,
                           condition="NewItem", updated=None):
    """An FBA inventory ``InventorySummary`` with details; totalQuantity adds every bucket."""
    updated_dt = parse_time(updated) if updated is not None else utcnow() - timedelta(hours=2)
    total = fulfillable + inbound_working + inbound_shipped + inbound_receiving + reserved + unfulfillable + researching
    return {
        "asin": asin or asin_for(sku),
        "fnSku": fnsku or fnsku_for(sku),
        "sellerSku": sku,
        "condition": condition,
        "inventoryDetails": {
            "fulfillableQuantity": fulfillable,
            "inboundWorkingQuantity": inbound_working,
            "inboundShippedQuantity": inbound_shipped,
            "inboundReceivingQuantity": inbound_receiving,
            "reservedQuantity": {"totalReservedQuantity": reserved, "pendingCustomerOrderQuantity": reserved,
                                 "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0},
            "researchingQuantity": {"totalResearchingQuantity": researching, "researchingQuantityBreakdown": []},
            "unfulfillableQuantity": {"totalUnfulfillableQuantity": unfulfillable, "customerDamagedQuantity": 0,
                                      "warehouseDamagedQuantity": unfulfillable, "distributorDamagedQuantity": 0,
                                      "carrierDamagedQuantity": 0, "defectiveQuantity": 0, "expiredQuantity": 0},
        },
        "lastUpdatedTime": iso(updated_dt),
        "productName": title or f"Producto {sku}",
        "totalQuantity": total,
    }


# ---------------------------------------------------------------- finances

def _cur(value, currency):
    """Finances 2024-06-19 ``Currency`` (the amount is a JSON number there)."""
    return {"currencyCode": currency, "currencyAmount": float(dec(value).quantize(CENT, rounding=ROUND_HALF_UP))}


def _bd(kind, value, currency, children=()):
    return {"breakdownType": kind, "breakdownAmount": _cur(value, currency), "breakdowns": list(children)}


def make_transaction(order_id=None, *, posted=None, transaction_type="Shipment", sku=None, asin=None, quantity=1,
                     principal="199.00", tax=None, shipping="0.00", commission=None, fba_fee="0.00",
                     withheld_tax="0.00", total=None, marketplace_id=MX, currency=None, status="RELEASED",
                     seller_id=DEFAULT_SELLER_ID, transaction_id=None, group_id=None, description=None,
                     fulfillment_network="MFN", fee_detail="both", fee_tax=False):
    """A Finances 2024-06-19 ``Transaction`` (a shipment by default) for one order line.

    Sales = principal + shipping (tax included in MX; ``tax`` defaults to the IVA inside principal);
    Expenses = -(commission (default 15 % of principal) + fba_fee); withheld_tax is Amazon Mexico's
    IVA/ISR withholding, negative in the total. ``total`` defaults to the sum of those breakdowns.
    Refunds: pass transaction_type="Refund" and negative principal.
    With a ``sku`` the transaction has one item; ``fee_detail`` says where Amazon details the fees: "both"
    (same breakdowns at the transaction and item level), "items" (the transaction level only says
    Expenses / AmazonFees, the item has the fees) or "top" (the item has no breakdowns). ``fee_tax`` splits
    each fee into its Base and Tax (IVA 16 % inside the fee, as Amazon Mexico charges it).
    """
    _name, mkt_currency, _c, tax_included = marketplace_info(marketplace_id)
    currency = currency or mkt_currency
    principal_d = dec(principal)
    tax_d = dec(tax) if tax is not None else (included_tax(principal_d) if tax_included else Decimal(0))
    ship_d = dec(shipping)
    commission_d = dec(commission) if commission is not None else (abs(principal_d) * Decimal("0.15")).quantize(CENT)
    if principal_d < 0 and commission is None:
        commission_d = -commission_d  # a refund gives part of the commission back
    fee_d = dec(fba_fee)
    withheld_d = dec(withheld_tax)
    sales = principal_d + ship_d + (Decimal(0) if tax_included else tax_d)
    expenses = -(commission_d + fee_d)
    total_d = dec(total) if total is not None else sales + expenses - withheld_d
    posted_dt = parse_time(posted) if posted is not None else utcnow() - timedelta(days=1)
    n = next(_txn_seq)
    related = []
    if group_id:
        related.append({"relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID", "relatedIdentifierValue": group_id})
    if order_id:
        related.append({"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": order_id})
    sales_children = [_bd("ProductCharges", principal_d, currency, [
        _bd("OurPricePrincipal", principal_d - (tax_d if tax_included else 0), currency),
        _bd("OurPriceTax", tax_d, currency)])]
    if ship_d:
        sales_children.append(_bd("Shipping", ship_d, currency))
    def fee(kind, value):
        if not fee_tax:
            return _bd(kind, -value, currency)
        base = (value / (1 + IVA)).quantize(CENT, rounding=ROUND_HALF_UP)
        return _bd(kind, -value, currency, [_bd("Base", -base, currency), _bd("Tax", base - value, currency)])

    expense_children = [fee("Commission", commission_d)]
    if fee_d:
        expense_children.append(fee("FBAPerUnitFulfillmentFee", fee_d))
    breakdowns = [_bd("Sales", sales, currency, sales_children),
                  _bd("Expenses", expenses, currency, [_bd("AmazonFees", expenses, currency, expense_children)])]
    if withheld_d:
        breakdowns.append(_bd("TaxWithholding", -withheld_d, currency))
    item_breakdowns = breakdowns
    if sku and fee_detail == "items":
        breakdowns = [breakdowns[0], _bd("Expenses", expenses, currency, [_bd("AmazonFees", expenses, currency)]),
                      *breakdowns[2:]]
    elif sku and fee_detail == "top":
        item_breakdowns = []
    txn = {
        "sellingPartnerMetadata": {"sellingPartnerId": seller_id, "accountType": "PAYABLE",
                                   "marketplaceId": marketplace_id},
        "relatedIdentifiers": related,
        "transactionType": transaction_type,
        "transactionId": transaction_id or f"SIMTXN{n:010d}{_digits(('txn', n), 6)}",
        "transactionStatus": status,
        "description": description or ("Order Payment" if transaction_type == "Shipment" else transaction_type),
        "postedDate": iso(posted_dt),
        "totalAmount": _cur(total_d, currency),
        "marketplaceDetails": {"marketplaceId": marketplace_id, "marketplaceName": _name},
        "breakdowns": breakdowns,
    }
    if sku:
        txn["items"] = [{
            "description": f"{sku}",
            "totalAmount": _cur(total_d, currency),
            "breakdowns": item_breakdowns,
            "contexts": [{"contextType": "ProductContext", "asin": asin or asin_for(sku), "sku": sku,
                          "quantityShipped": int(quantity), "fulfillmentNetwork": fulfillment_network}],
        }]
    return txn


def make_marketplace_participation(marketplace_id=MX, *, store_name="Tienda Simulada MX", participating=True,
                                   suspended=False):
    """Sellers API ``MarketplaceParticipation`` for a known marketplace."""
    mkt = marketplaces.MARKETPLACES.get(marketplace_id) or marketplaces.MARKETPLACES[MX]
    language = {"MX": "es_MX", "US": "en_US", "CA": "en_CA", "BR": "pt_BR"}.get(mkt.country_code, "en_US")
    domain = mkt.seller_central.replace("sellercentral.", "www.")
    return {
        "marketplace": {"id": mkt.id, "name": mkt.name, "countryCode": mkt.country_code,
                        "defaultCurrencyCode": mkt.currency, "defaultLanguageCode": language, "domainName": domain},
        "participation": {"isParticipating": participating, "hasSuspendedListings": suspended},
        "storeName": store_name,
    }
