"""The SP-API operations: what the simulated Amazon answers to each request.

Each handler takes the simulator and a ``Call`` and returns ``(status, body)``; problems are raised
as ``ApiError`` with Amazon's error codes. Rules Amazon states only in its models' descriptions
(exactly one of createdAfter/lastUpdatedAfter, page size limits...) are checked here and, being
part of the contract, reported as contract violations too.
"""
import base64
import copy
import gzip
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

from . import reports, returns
from .addon import carriers
from .factory import CHANNEL_MFN, MX, amount, dec, iso, parse_time
from .state import Document, ReportJob

ORDER_BASE_KEYS = ("orderId", "orderAliases", "createdTime", "lastUpdatedTime", "programs", "associatedOrders",
                   "salesChannel")
ORDER_ITEM_BASE_KEYS = ("orderItemId", "quantityOrdered", "measurement", "associatedOrderItems", "programs", "product")
#: includedData value -> (order keys, order item keys) it adds to a searchOrders / getOrder answer.
ORDER_SECTIONS = {
    "BUYER": (("buyer",), ()),
    "RECIPIENT": (("recipient",), ()),
    "PROCEEDS": (("proceeds",), ("proceeds",)),
    "EXPENSE": ((), ("expense",)),
    "PROMOTION": ((), ("promotion",)),
    "CANCELLATION": ((), ("cancellation",)),
    "FULFILLMENT": (("fulfillment",), ("fulfillment",)),
    "PACKAGES": (("packages",), ()),
    "TAX": (("tax",), ("tax",)),
    "PAYMENT": (("payment",), ()),
    "FULFILLMENT_ORDERS": (("fulfillmentOrders",), ()),
}
LISTING_SECTIONS = ("summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement",
                    "relationships", "productTypes")
REQUESTABLE_REPORTS = {"GET_MERCHANT_LISTINGS_ALL_DATA", "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
                       *returns.RETURNS_REPORTS}
SETTLEMENT_REPORTS = {"GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
                      "GET_V2_SETTLEMENT_REPORT_DATA_XML"}
TWO_MINUTES = timedelta(minutes=2)


class ApiError(Exception):
    """An Amazon error answer; ``violation`` marks a request that broke the documented contract."""

    def __init__(self, status, code, message, details=None, violation=False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.violation = violation

    def body(self):
        err = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return {"errors": [err]}


def invalid(message, details=None):
    """400 InvalidInput for a request that breaks a rule of the model."""
    return ApiError(400, "InvalidInput", message, details, violation=True)


@dataclass
class Call:
    operation: str
    method: str
    path: str
    path_params: dict
    query: dict  # name -> list of raw strings
    body: object
    headers: dict

    def one(self, name, default=None):
        values = self.query.get(name)
        return values[-1] if values else default

    def many(self, name):
        out = []
        for raw in self.query.get(name, []):
            out.extend(v for v in raw.split(",") if v)
        return out

    def time(self, name):
        raw = self.one(name)
        if raw is None:
            return None
        try:
            return parse_time(raw)
        except ValueError:
            raise invalid(f"{name} is not an ISO 8601 date-time: {raw!r}") from None

    def integer(self, name, default, low, high):
        raw = self.one(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid(f"{name} must be an integer") from None
        if not low <= value <= high:
            raise invalid(f"{name} must be between {low} and {high}, not {value}")
        return value


# ---------------------------------------------------------------- pagination tokens

def _signature(*parts):
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode(), usedforsecurity=False).hexdigest()[:16]


def encode_token(data):
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token, signature, name="nextToken"):
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        raise ApiError(400, "InvalidInput", f"Invalid {name}.", f"The {name} could not be read.") from None
    if not isinstance(data, dict) or data.get("s") != signature:
        raise invalid(f"Invalid {name}.", f"Send the {name} with the same other parameters as the request "
                      "that returned it.")
    return data


# ---------------------------------------------------------------- orders

def project_order(order, included):
    """The order as a response with ``includedData`` shows it: base fields plus the sections asked for."""
    order_keys = set(ORDER_BASE_KEYS)
    item_keys = set(ORDER_ITEM_BASE_KEYS)
    for section in included:
        keys = ORDER_SECTIONS.get(section)
        if keys:
            order_keys.update(keys[0])
            item_keys.update(keys[1])
    out = {k: v for k, v in order.items() if k in order_keys}
    out["orderItems"] = [{k: v for k, v in item.items() if k in item_keys} for item in order["orderItems"]]
    return out


def search_orders(sim, call):
    created_after, created_before = call.time("createdAfter"), call.time("createdBefore")
    updated_after, updated_before = call.time("lastUpdatedAfter"), call.time("lastUpdatedBefore")
    if (created_after is None) == (updated_after is None):
        raise invalid("Exactly one of createdAfter and lastUpdatedAfter must be provided.")
    if created_after and updated_before:
        raise invalid("lastUpdatedBefore cannot be combined with createdAfter.")
    if updated_after and created_before:
        raise invalid("createdBefore cannot be combined with lastUpdatedAfter.")
    now = sim.now()
    after, before, name = (created_after, created_before, "createdBefore") if created_after else (
        updated_after, updated_before, "lastUpdatedBefore")
    if before is not None:
        if before > now - TWO_MINUTES:
            raise invalid(f"{name} must be at least two minutes before the time of the request.")
        if before < after:
            raise invalid(f"{name} must be equal to or after the {name.replace('Before', 'After')} date.")
    page_size = call.integer("maxResultsPerPage", 100, 1, 100)
    statuses = set(call.many("fulfillmentStatuses"))
    marketplaces = set(call.many("marketplaceIds"))
    fulfilled_by = set(call.many("fulfilledBy"))
    included = set(call.many("includedData"))
    signature = _signature(call.one("createdAfter"), call.one("createdBefore"), call.one("lastUpdatedAfter"),
                           call.one("lastUpdatedBefore"), sorted(statuses), sorted(marketplaces),
                           sorted(fulfilled_by))
    token = call.one("paginationToken")
    if token:
        data = decode_token(token, signature, "paginationToken")
        snapshot, start_key = data["b"], tuple(data["k"])
    else:
        snapshot = now.timestamp()
        sim.state.order_snapshot = max(sim.state.order_snapshot, snapshot)
        start_key = (updated_after.timestamp(), "") if updated_after else None
    lo = after.timestamp()
    hi = before.timestamp() if before else snapshot
    page, more = [], False
    for entry in sim.state.iter_orders(start_key):
        if entry.updated > snapshot or (updated_after is not None and entry.updated > hi):
            break  # sorted by lastUpdatedTime: nothing further can match
        if created_after is not None and not lo <= entry.created <= hi:
            continue
        if statuses and entry.status not in statuses:
            continue
        if marketplaces and entry.marketplace_id not in marketplaces:
            continue
        if fulfilled_by and entry.fulfilled_by not in fulfilled_by:
            continue
        if len(page) == page_size:
            more = True
            break
        page.append(entry)
    body = {"orders": [project_order(e.order(), included) for e in page]}
    if more:
        body["pagination"] = {"nextToken": encode_token({"s": signature, "b": snapshot, "k": list(page[-1].key)})}
    body["createdBefore" if created_after else "lastUpdatedBefore"] = iso(
        datetime.fromtimestamp(hi, timezone.utc))
    return 200, body


def get_order(sim, call):
    order_id = unquote(call.path_params["orderId"])
    entry = sim.state.orders.get(order_id)
    if entry is None:
        raise ApiError(404, "NotFound", "Order not found.", f"No order {order_id} for this seller.")
    return 200, {"order": project_order(entry.order(), set(call.many("includedData")))}


def _refuse(message):
    """Amazon's refusal of a well-formed confirmShipment (its model documents only the code and message)."""
    return ApiError(400, "InvalidInput", message)


def confirm_shipment(sim, call):
    """Orders v0 confirmShipment: one package of a merchant-fulfilled order shipped. 204 without a body; the
    order shows the package, its items' shipped quantities and PARTIALLY_SHIPPED or SHIPPED afterwards."""
    order_id = unquote(call.path_params["orderId"])
    entry = sim.state.orders.get(order_id)
    if entry is None:
        raise ApiError(404, "NotFound", "Order not found.", f"No order {order_id} for this seller.")
    body = call.body if isinstance(call.body, dict) else {}
    detail = body.get("packageDetail") or {}
    order = entry.order()
    if body.get("marketplaceId") != entry.marketplace_id:
        raise _refuse(f"Order {order_id} does not belong to marketplace {body.get('marketplaceId')}.")
    if entry.fulfilled_by != "MERCHANT":
        raise _refuse(f"Order {order_id} is fulfilled by Amazon: its shipment cannot be confirmed by the seller.")
    if entry.status == "CANCELLED":
        raise _refuse(f"Order {order_id} is cancelled: its shipment cannot be confirmed.")
    if entry.status in ("PENDING", "PENDING_AVAILABILITY", "UNFULFILLABLE"):
        raise _refuse(f"Order {order_id} is {entry.status}: it cannot be shipped yet.")
    carrier = (detail.get("carrierCode") or "").strip()
    if not carrier:
        raise _refuse("CarrierCode is required.")
    if entry.marketplace_id == MX and carrier not in carriers.MEXICAN_CARRIERS:
        raise _refuse(f"Invalid CarrierCode {carrier!r}: use a code of Amazon's carrier list, or Other with the "
                      "CarrierName.")
    if carrier == "Other" and not (detail.get("carrierName") or "").strip():
        raise _refuse("CarrierName is required when CarrierCode is Other.")
    reference = str(detail.get("packageReferenceId") or "")
    if not reference.isdigit() or int(reference) <= 0:
        raise _refuse("packageReferenceId must be a positive number.")
    packages = order.get("packages") or []
    if any(p.get("packageReferenceId") == reference for p in packages):
        raise _refuse(f"Package {reference} of order {order_id} was already confirmed.")
    items = {item["orderItemId"]: item for item in order["orderItems"]}
    wanted = {}
    for line in detail.get("orderItems") or []:
        item_id = line.get("orderItemId")
        if item_id not in items:
            raise _refuse(f"Order item {item_id} is not part of order {order_id}.")
        if line.get("quantity", 0) <= 0:
            raise _refuse(f"The quantity of order item {item_id} must be above 0.")
        wanted[item_id] = wanted.get(item_id, 0) + line["quantity"]
    if not wanted:
        raise _refuse("The package has no order items.")
    new_items = []
    for item in order["orderItems"]:
        item = copy.deepcopy(item)
        fulfillment = item.get("fulfillment") or {}
        shipped = fulfillment.get("quantityFulfilled") or 0
        extra = wanted.get(item["orderItemId"], 0)
        left = fulfillment.get("quantityUnfulfilled")
        if left is None:
            left = item["quantityOrdered"] - shipped
        if extra > left:
            raise _refuse(f"Quantity {extra} of order item {item['orderItemId']} is more than the {left} left to "
                          "ship.")
        item["fulfillment"] = dict(fulfillment, quantityFulfilled=shipped + extra, quantityUnfulfilled=left - extra)
        new_items.append(item)
    ship_time = detail.get("shipDate") or iso(sim.now())
    package = {
        "packageReferenceId": reference,
        "createdTime": iso(sim.now()),
        "packageStatus": {"status": "SHIPPED"},
        "carrier": detail.get("carrierName") if carrier == "Other" else carrier,
        "shipTime": iso(parse_time(ship_time)),
        "trackingNumber": detail.get("trackingNumber") or "",
        "packageItems": [{"orderItemId": i, "quantity": q} for i, q in wanted.items()],
    }
    if detail.get("shippingMethod"):
        package["shippingService"] = detail["shippingMethod"]
    done = all((i["fulfillment"]["quantityUnfulfilled"] or 0) == 0 for i in new_items)
    changed = sim.state.change_order(order_id, {"status": "SHIPPED" if done else "PARTIALLY_SHIPPED",
                                                "orderItems": new_items, "packages": packages + [package]})
    sim._check_model("Order", changed, f"order {order_id} after confirmShipment")
    sim.state.put_order(changed)
    return 204, None


# ---------------------------------------------------------------- listings

def _check_seller(sim, call):
    if call.path_params.get("sellerId") != sim.state.seller_id:
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied.",
                       "The sellerId does not match the selling partner who authorized this application.")


def project_listing(item, included, marketplaces):
    """The Item as a listings answer shows it: the sku plus the asked sections, for the asked marketplaces."""
    out = {"sku": item["sku"]}
    for section in LISTING_SECTIONS:
        if section not in included or section not in item:
            continue
        value = item[section]
        if section in ("summaries", "offers", "productTypes", "relationships") and marketplaces:
            value = [v for v in value if v.get("marketplaceId") in marketplaces]
        elif section == "issues" and marketplaces:
            value = [v for v in value if not v.get("marketplaceIds") or set(v["marketplaceIds"]) & marketplaces]
        out[section] = value
    return out


def get_listings_item(sim, call):
    _check_seller(sim, call)
    sku = unquote(call.path_params["sku"])
    marketplaces = set(call.many("marketplaceIds"))
    item = sim.state.listings.get(sku)
    if item is None:
        raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {', '.join(sorted(marketplaces))}.")
    included = set(call.many("includedData")) or {"summaries"}
    return 200, project_listing(item, included, marketplaces)


def _summary(item, marketplaces=None):
    summaries = item.get("summaries") or [{}]
    if marketplaces:
        return next((s for s in summaries if s.get("marketplaceId") in marketplaces), summaries[0])
    return summaries[0]


def search_listings_items(sim, call):
    _check_seller(sim, call)
    marketplaces = set(call.many("marketplaceIds"))
    identifiers = call.many("identifiers")
    id_type = call.one("identifiersType")
    if identifiers and not id_type:
        raise invalid("identifiersType is required when identifiers are given.")
    page_size = call.integer("pageSize", 10, 1, 20)
    sort_by = call.one("sortBy", "lastUpdatedDate")
    descending = call.one("sortOrder", "DESC") == "DESC"
    with_status, without_status = set(call.many("withStatus")), set(call.many("withoutStatus"))
    severities = set(call.many("withIssueSeverity"))
    times = {n: call.time(n) for n in ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore")}
    selected = []
    for item in sim.state.listings.values():
        summary = _summary(item, marketplaces)
        if identifiers:
            values = {"SKU": item["sku"], "ASIN": summary.get("asin"), "FNSKU": summary.get("fnSku")}
            if values.get(id_type) not in identifiers:
                continue
        if call.one("variationParentSku") or call.one("packageHierarchySku"):
            continue  # the simulator's listings have no relationships
        status = set(summary.get("status") or [])
        if with_status and not with_status & status or without_status & status:
            continue
        if severities and not any(i.get("severity") in severities for i in item.get("issues", [])):
            continue
        created, updated = summary.get("createdDate"), summary.get("lastUpdatedDate")
        if times["createdAfter"] and parse_time(created) < times["createdAfter"]:
            continue
        if times["createdBefore"] and parse_time(created) > times["createdBefore"]:
            continue
        if times["lastUpdatedAfter"] and parse_time(updated) < times["lastUpdatedAfter"]:
            continue
        if times["lastUpdatedBefore"] and parse_time(updated) > times["lastUpdatedBefore"]:
            continue
        selected.append(item)
    sort_key = {"sku": lambda i: i["sku"],
                "createdDate": lambda i: (_summary(i).get("createdDate", ""), i["sku"]),
                "lastUpdatedDate": lambda i: (_summary(i).get("lastUpdatedDate", ""), i["sku"])}[sort_by]
    selected.sort(key=sort_key, reverse=descending)
    signature = _signature(sorted(marketplaces), identifiers, id_type, sort_by, descending, sorted(with_status),
                           sorted(without_status), sorted(severities), {k: str(v) for k, v in times.items()})
    token = call.one("pageToken")
    offset = decode_token(token, signature, "pageToken")["o"] if token else 0
    included = set(call.many("includedData")) or {"summaries"}
    page = selected[offset:offset + page_size]
    body = {"numberOfResults": len(selected), "items": [project_listing(i, included, marketplaces) for i in page]}
    pagination = {}
    if offset + page_size < len(selected):
        pagination["nextToken"] = encode_token({"s": signature, "o": offset + page_size})
    if offset > 0:
        pagination["previousToken"] = encode_token({"s": signature, "o": max(0, offset - page_size)})
    if pagination:
        body["pagination"] = pagination
    return 200, body


def _issue(code, message, attribute=None, category="INVALID_ATTRIBUTE", marketplace_id=None):
    issue = {"code": code, "message": message, "severity": "ERROR", "categories": [category]}
    if attribute:
        issue["attributeNames"] = [attribute]
    if marketplace_id:
        issue["marketplaceIds"] = [marketplace_id]
    return issue


def _check_patch(item, patch, marketplace_id):
    """Issues of one patch operation against a listing (empty when it can be applied)."""
    path = patch.get("path", "")
    parts = path.strip("/").split("/")
    if len(parts) != 2 or parts[0] != "attributes" or not parts[1]:
        return [_issue("90000900", f"The patch path '{path}' is invalid: use /attributes/<attribute name>.")]
    name, op, value = parts[1], patch.get("op"), patch.get("value")
    if op == "delete":
        return []
    if not isinstance(value, list) or not value:
        return [_issue("90000900", f"The value of '{name}' must be a non-empty list.", name)]
    issues = []
    if name == "fulfillment_availability":
        channel = ((item.get("fulfillmentAvailability") or [{}])[0]).get("fulfillmentChannelCode", CHANNEL_MFN)
        for entry in value:
            qty = entry.get("quantity")
            code = entry.get("fulfillment_channel_code", CHANNEL_MFN)
            if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
                issues.append(_issue("90000900", f"The value '{qty}' for 'quantity' is invalid: it must be a whole "
                                     "number of 0 or more.", name, marketplace_id=marketplace_id))
            elif code != channel:
                issues.append(_issue("90000900", f"Fulfillment channel '{code}' does not match the listing's channel "
                                     f"'{channel}'; Amazon manages the quantity of FBA listings.", name,
                                     marketplace_id=marketplace_id))
    elif name == "purchasable_offer":
        for entry in value:
            try:
                price = entry["our_price"][0]["schedule"][0]["value_with_tax"]
                if isinstance(price, bool) or dec(price) <= 0:
                    raise ValueError
            except (KeyError, IndexError, TypeError, ValueError, ArithmeticError):
                issues.append(_issue("90000900", "The price in 'purchasable_offer' must be our_price[0].schedule[0]."
                                     "value_with_tax, a number above 0.", name, marketplace_id=marketplace_id))
    return issues


def _apply_patch(item, patch, now):
    name = patch["path"].strip("/").split("/")[1]
    attributes = item.setdefault("attributes", {})
    if patch["op"] == "delete":
        attributes.pop(name, None)
    else:
        attributes[name] = copy.deepcopy(patch["value"])
    if name == "fulfillment_availability" and patch["op"] != "delete":
        entry = patch["value"][0]
        qty = entry["quantity"]
        item["fulfillmentAvailability"] = [{"fulfillmentChannelCode": entry.get("fulfillment_channel_code",
                                                                                CHANNEL_MFN), "quantity": qty}]
        for summary in item.get("summaries", []):
            if entry.get("fulfillment_channel_code", CHANNEL_MFN) == CHANNEL_MFN:
                summary["status"] = ["BUYABLE", "DISCOVERABLE"] if qty > 0 else ["DISCOVERABLE"]
    if name == "purchasable_offer" and patch["op"] != "delete":
        entry = patch["value"][0]
        price = entry["our_price"][0]["schedule"][0]["value_with_tax"]
        for offer in item.get("offers", []):
            if not entry.get("marketplace_id") or offer["marketplaceId"] == entry["marketplace_id"]:
                offer["price"]["amount"] = amount(price)
    for summary in item.get("summaries", []):
        summary["lastUpdatedDate"] = iso(now)


def _listed_in(item, marketplace_id):
    """Whether an Item is offered in the marketplace (an Item without summaries counts as everywhere)."""
    summaries = item.get("summaries") or []
    return not summaries or any(s.get("marketplaceId") == marketplace_id for s in summaries)


def patch_listings_item(sim, call):
    _check_seller(sim, call)
    sku = unquote(call.path_params["sku"])
    marketplaces = call.many("marketplaceIds")
    marketplace_id = marketplaces[0] if marketplaces else sim.state.marketplace_id
    included = set(call.many("includedData")) or {"issues"}
    preview = call.one("mode") == "VALIDATION_PREVIEW"
    body = call.body if isinstance(call.body, dict) else {}
    patches = body.get("patches") if isinstance(body.get("patches"), list) else []
    if not patches or not body.get("productType"):
        raise invalid("The request body needs productType and at least one patch.")
    item = sim.state.listings.get(sku)
    if item is not None and not _listed_in(item, marketplace_id):
        item = None  # the seller has this SKU in another marketplace of the region only
    if item is None:
        issues = [_issue("4000001", f"SKU '{sku}' does not exist for this seller in marketplace {marketplace_id}; "
                         "create it before patching.", category="MISSING_LISTING", marketplace_id=marketplace_id)]
    else:
        issues = [i for p in patches for i in _check_patch(item, p, marketplace_id)]
    if issues:
        status = "INVALID"
    elif preview:
        status = "VALID"
    else:
        status = "ACCEPTED"
        for patch in patches:
            _apply_patch(item, patch, sim.now())
    answer = {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex}
    if "issues" in included:
        answer["issues"] = issues
    if preview and "identifiers" in included:
        answer["identifiers"] = [{"marketplaceId": marketplace_id, "asin": _summary(item).get("asin")}] if item else []
    return 200, answer


# ---------------------------------------------------------------- FBA inventory

#: Marketplaces whose FBA stock is one pool in North America's unified account (US, Canada, Mexico).
NA_UNIFIED = ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8")


def get_inventory_summaries(sim, call):
    granularity_id = call.one("granularityId")
    if call.one("granularityType") != "Marketplace" or not granularity_id:
        raise invalid("granularityType must be Marketplace and granularityId a marketplace id.")
    marketplaces = call.many("marketplaceIds")
    if len(marketplaces) != 1:
        raise invalid("marketplaceIds must hold exactly one marketplace id.")
    details = (call.one("details") or "false").lower() == "true"
    start = call.time("startDateTime")
    skus = call.many("sellerSkus") or ([call.one("sellerSku")] if call.one("sellerSku") else [])
    if start is not None:
        skus = []  # Amazon ignores the SKU filters when startDateTime is given
    # North America's unified account: the US, Canada and Mexico each show the same pooled units
    shown = dict(sim.state.inventory) if granularity_id in NA_UNIFIED else {}
    shown.update(sim.state.marketplace_inventory.get(granularity_id, {}))
    selected = []
    for summary in shown.values():
        if skus and summary["sellerSku"] not in skus:
            continue
        if start is not None and parse_time(summary["lastUpdatedTime"]) < start:
            continue
        selected.append(summary)
    signature = _signature(granularity_id, marketplaces, details, call.one("startDateTime"), skus)
    token = call.one("nextToken")
    offset = decode_token(token, signature)["o"] if token else 0
    size = sim.page_sizes["getInventorySummaries"]
    page = selected[offset:offset + size]
    if not details:
        page = [{k: v for k, v in s.items() if k != "inventoryDetails"} for s in page]
    body = {"payload": {"granularity": {"granularityType": "Marketplace", "granularityId": granularity_id},
                        "inventorySummaries": page}}
    if offset + size < len(selected):
        body["pagination"] = {"nextToken": encode_token({"s": signature, "o": offset + size})}
    return 200, body


# ---------------------------------------------------------------- finances

def list_transactions(sim, call):
    related_name, related_value = call.one("relatedIdentifierName"), call.one("relatedIdentifierValue")
    posted_after, posted_before = call.time("postedAfter"), call.time("postedBefore")
    now = sim.now()
    if posted_after is None and not related_name:
        raise invalid("postedAfter is required when no related identifier is given.")
    if bool(related_name) != bool(related_value):
        raise invalid("relatedIdentifierName and relatedIdentifierValue go together.")
    if posted_after is not None and posted_after > now - TWO_MINUTES:
        raise invalid("postedAfter must be more than two minutes before the time of the request.")
    if posted_before is not None:
        if posted_before > now - TWO_MINUTES:
            raise invalid("postedBefore must be more than two minutes before the time of the request.")
        if posted_after is not None and posted_before <= posted_after:
            raise invalid("postedBefore must be later than postedAfter.")
    before = posted_before or now - TWO_MINUTES
    marketplace = call.one("marketplaceId")
    status = call.one("transactionStatus")
    selected = []
    if posted_after is None or before - posted_after <= timedelta(days=180):
        lo = posted_after.timestamp() if posted_after is not None else None
        hi = before.timestamp()
        for entry in sim.state.sorted_transactions():
            if lo is not None and entry.posted < lo or entry.posted >= hi:
                continue
            if marketplace and entry.marketplace_id != marketplace:
                continue
            if status and entry.status != status:
                continue
            if related_name and (related_name, related_value) not in entry.related:
                continue
            selected.append(entry)
    signature = _signature(call.one("postedAfter"), call.one("postedBefore"), marketplace, status, related_name,
                           related_value)
    token = call.one("nextToken")
    offset = decode_token(token, signature)["o"] if token else 0
    size = sim.page_sizes["listTransactions"]
    payload = {"transactions": [e.txn() for e in selected[offset:offset + size]]}
    if offset + size < len(selected):
        payload["nextToken"] = encode_token({"s": signature, "o": offset + size})
    return 200, {"payload": payload}


# ---------------------------------------------------------------- reports

def create_report(sim, call):
    body = call.body if isinstance(call.body, dict) else {}
    report_type = body.get("reportType")
    marketplaces = body.get("marketplaceIds")
    if not report_type or not isinstance(marketplaces, list) or not marketplaces:
        raise invalid("reportType and marketplaceIds are required.")
    if report_type in SETTLEMENT_REPORTS:
        raise ApiError(400, "InvalidInput", f"Report type {report_type} cannot be requested.",
                       "Amazon creates settlement reports on its own schedule: list them with getReports.")
    state = sim.state
    outcome = state.report_outcomes.get(report_type)
    if outcome is None:
        known = report_type in REQUESTABLE_REPORTS or report_type in state.report_documents
        outcome = "DONE" if known else "CANCELLED"  # Amazon cancels reports that have no data
    job = ReportJob(state.next_report_id(), report_type, list(marketplaces), sim.now(), state.clock.monotonic(),
                    outcome, data_start=body.get("dataStartTime"), data_end=body.get("dataEndTime"),
                    options=dict(body.get("reportOptions") or {}))
    state.reports[job.report_id] = job
    return 202, {"reportId": job.report_id}


def advance_report(sim, job, poll=False):
    """Move a report along IN_QUEUE -> IN_PROGRESS -> outcome, by polls or by the simulator's clock."""
    if job.status in ("DONE", "CANCELLED", "FATAL"):
        return
    if poll:
        job.polls += 1
    elapsed = (sim.state.clock.monotonic() - job.created_mono) * sim.speed
    stage = 0
    if elapsed >= sim.report_queue_seconds or job.polls >= 2:
        stage = 1
    if elapsed >= sim.report_queue_seconds + sim.report_processing_seconds or job.polls >= 3:
        stage = 2
    if job.outcome == "IN_PROGRESS_FOREVER":
        stage = min(stage, 1)
    now = sim.now()
    if stage >= 1 and job.started is None:
        job.status, job.started = "IN_PROGRESS", now
    if stage == 2:
        if job.outcome == "CANCELLED":
            job.status, job.ended = "CANCELLED", now
            return
        job.status, job.ended = job.outcome, now
        if job.outcome == "DONE":
            content, content_type = report_content(sim, job)
        else:
            content = json.dumps({"errorDetails": "The report could not be generated. Request it again later."})
            content, content_type = content.encode(), "application/json"
        job.document_id = store_document(sim, content, content_type,
                                         gzip_it=sim.state.report_gzip.get(job.report_type, False))


def report_content(sim, job):
    """(bytes, content type) of a finished report: the one set by the test, else generated."""
    state = sim.state
    if job.report_type in state.report_documents:
        return state.report_documents[job.report_type]
    if job.report_type == "GET_MERCHANT_LISTINGS_ALL_DATA":
        text = reports.merchant_listings(list(state.listings.values()), job.marketplace_ids[0])
    elif job.report_type in returns.RETURNS_REPORTS:
        text = returns.returns_report(job.report_type, list(state.returns.values()), job.data_start, job.data_end)
    else:
        start = parse_time(job.data_start).timestamp() if job.data_start else None
        end = parse_time(job.data_end).timestamp() if job.data_end else None
        orders = [e.order() for e in state.iter_orders() if (start is None or e.updated >= start)
                  and (end is None or e.updated <= end)]
        text = reports.all_orders(orders)
    return text.encode(state.report_encoding, errors="replace"), "text/plain"


def store_document(sim, content, content_type, gzip_it=False):
    doc_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}"
    if gzip_it:
        content = gzip.compress(content)
    sim.state.documents[doc_id] = Document(content, content_type, "GZIP" if gzip_it else None)
    return doc_id


def _job(sim, call):
    job = sim.state.reports.get(unquote(call.path_params["reportId"]))
    if job is None:
        raise ApiError(404, "NotFound", "Report not found.", "No report with this reportId for this seller.")
    return job


def get_report(sim, call):
    job = _job(sim, call)
    advance_report(sim, job, poll=True)
    return 200, job.to_model()


def cancel_report(sim, call):
    job = _job(sim, call)
    advance_report(sim, job)
    if job.status != "IN_QUEUE":
        raise ApiError(400, "InvalidInput", f"Report {job.report_id} is {job.status} and can no longer be cancelled.")
    job.status, job.ended = "CANCELLED", sim.now()
    return 200, None


def get_reports(sim, call):
    token = call.one("nextToken")
    others = [n for n in ("reportTypes", "processingStatuses", "marketplaceIds", "pageSize", "createdSince",
                          "createdUntil") if n in call.query]
    if token:
        if others:
            raise invalid("nextToken must be the only parameter of a getReports request.")
        data = decode_token(token, "getReports")
        filters, offset = data["f"], data["o"]
    else:
        types = call.many("reportTypes")
        if not types:
            raise invalid("Either reportTypes or nextToken is required.")
        now = sim.now()
        since = call.time("createdSince") or now - timedelta(days=90)
        until = call.time("createdUntil") or now
        filters = {"types": types, "statuses": call.many("processingStatuses"),
                   "marketplaces": call.many("marketplaceIds"), "size": call.integer("pageSize", 10, 1, 100),
                   "since": since.timestamp(), "until": until.timestamp()}
        offset = 0
    selected = []
    for job in sim.state.reports.values():
        advance_report(sim, job)
        if job.report_type not in filters["types"]:
            continue
        if filters["statuses"] and job.status not in filters["statuses"]:
            continue
        if filters["marketplaces"] and not set(filters["marketplaces"]) & set(job.marketplace_ids):
            continue
        if not filters["since"] <= job.created.timestamp() <= filters["until"]:
            continue
        selected.append(job)
    selected.sort(key=lambda j: (j.created, j.report_id), reverse=True)
    size = filters["size"]
    body = {"reports": [j.to_model() for j in selected[offset:offset + size]]}
    if offset + size < len(selected):
        body["nextToken"] = encode_token({"s": "getReports", "f": filters, "o": offset + size})
    return 200, body


def get_report_document(sim, call):
    doc_id = unquote(call.path_params["reportDocumentId"])
    doc = sim.state.documents.get(doc_id)
    if doc is None:
        raise ApiError(404, "NotFound", "Report document not found.", f"No report document {doc_id}.")
    body = {"reportDocumentId": doc_id, "url": f"{sim.url}/_sim/documents/{doc_id}"}
    if doc.compression:
        body["compressionAlgorithm"] = doc.compression
    return 200, body


# ---------------------------------------------------------------- sellers, tokens

def get_marketplace_participations(sim, call):
    return 200, {"payload": sim.state.participation_list()}


def create_restricted_data_token(sim, call):
    body = call.body if isinstance(call.body, dict) else {}
    if not isinstance(body.get("restrictedResources"), list) or not body["restrictedResources"]:
        raise invalid("restrictedResources is required.")
    token = "Atz.sprdt|sim-" + uuid.uuid4().hex
    sim._grant_access_token(token)
    return 200, {"restrictedDataToken": token, "expiresIn": sim.access_token_ttl}


HANDLERS = {
    "searchOrders": search_orders,
    "getOrder": get_order,
    "getListingsItem": get_listings_item,
    "patchListingsItem": patch_listings_item,
    "searchListingsItems": search_listings_items,
    "getInventorySummaries": get_inventory_summaries,
    "listTransactions": list_transactions,
    "createReport": create_report,
    "getReports": get_reports,
    "getReport": get_report,
    "cancelReport": cancel_report,
    "getReportDocument": get_report_document,
    "getMarketplaceParticipations": get_marketplace_participations,
    "createRestrictedDataToken": create_restricted_data_token,
    "confirmShipment": confirm_shipment,
}
