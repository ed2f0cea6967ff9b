"""Amazon JSON to :mod:`.types`: one ``parse_*`` function per type.

Tolerant of optional fields (absent, null, or an empty string for optional dates), strict on what the models
require: a missing required field, a wrong JSON type or an unparsable number or date raises :class:`BadData`
whose message names the object and field path (``order 123-...: orderItems[0].quantityOrdered``) but never a
value, so buyer data cannot leak into logs.

Amounts may come as strings (Orders, Listings: ``Decimal`` strings) or JSON numbers (Finances ``BigDecimal``);
numbers are converted through ``repr`` so 19.99 stays Decimal("19.99").
"""
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from . import types as t
from .errors import BadData

_MISSING = object()


def _bad(path, problem):
    return BadData(f"Unexpected answer from Amazon: {path} {problem}.")


def _get(d, key, path, required=False):
    value = d.get(key, _MISSING) if isinstance(d, dict) else _MISSING
    if value is _MISSING or value is None:
        if required:
            raise _bad(f"{path}.{key}", "is missing")
        return None
    return value


def _obj(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is not None and not isinstance(value, dict):
        raise _bad(f"{path}.{key}", "is not an object")
    return value


def _list(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(f"{path}.{key}", "is not a list")
    return value


def _str(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _bad(f"{path}.{key}", "is not text")
    value = str(value)
    if required and not value:
        raise _bad(f"{path}.{key}", "is empty")
    return value


def _strs(d, key, path):
    return tuple(_str({"v": v}, "v", f"{path}.{key}[{i}]") or "" for i, v in enumerate(_list(d, key, path)))


def _int(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None:
        return None
    if isinstance(value, bool):
        raise _bad(f"{path}.{key}", "is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _bad(f"{path}.{key}", "is not a whole number")


def _bool(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(f"{path}.{key}", "is not true or false")


def to_decimal(value, path):
    """A Decimal from a JSON string or number; BadData naming ``path`` otherwise."""
    if isinstance(value, bool):
        raise _bad(path, "is not a number")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise _bad(path, "is not a number") from None
        if result.is_finite():
            return result
    raise _bad(path, "is not a number")


def _decimal(d, key, path, required=False):
    value = _get(d, key, path, required)
    return None if value is None else to_decimal(value, f"{path}.{key}")


def to_datetime(value, path):
    """A timezone-aware datetime from ISO 8601 (``Z`` or an offset; naive and date-only mean UTC)."""
    if not isinstance(value, str):
        raise _bad(path, "is not a date")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        result = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(path, "is not an ISO 8601 date") from None
    if result.tzinfo is None:
        result = result.replace(tzinfo=timezone.utc)
    return result


def _dt(d, key, path, required=False):
    value = _get(d, key, path, required)
    if value is None or (value == "" and not required):
        return None
    return to_datetime(value, f"{path}.{key}")


def parse_money(d, path, amount_key="amount", currency_key="currencyCode"):
    """``Money`` (Orders/Listings) or ``Currency`` (Finances: amount_key="currencyAmount")."""
    if not isinstance(d, dict):
        raise _bad(path, "is not an amount of money")
    amount = _decimal(d, amount_key, path, required=True)
    currency = _str(d, currency_key, path, required=True)
    return t.Money(amount, currency)


def _money(d, key, path, required=False, **kw):
    value = _obj(d, key, path, required)
    return None if value is None else parse_money(value, f"{path}.{key}", **kw)


def _range(d, key, path):
    value = _obj(d, key, path)
    if value is None:
        return None
    p = f"{path}.{key}"
    return t.DateTimeRange(_dt(value, "earliestDateTime", p), _dt(value, "latestDateTime", p))


def _items(d, key, path, parse, required=False):
    return tuple(parse(v, f"{path}.{key}[{i}]") for i, v in enumerate(_list(d, key, path, required)))


def _check_obj(d, path):
    if not isinstance(d, dict):
        raise _bad(path, "is not an object")


# ---------------------------------------------------------------- Sellers v1

def parse_marketplace_participation(d, path="marketplaceParticipation"):
    _check_obj(d, path)
    mkt = _obj(d, "marketplace", path, required=True)
    part = _obj(d, "participation", path, required=True)
    p = f"{path}.marketplace"
    return t.MarketplaceParticipation(
        marketplace_id=_str(mkt, "id", p, required=True),
        name=_str(mkt, "name", p, required=True),
        country_code=_str(mkt, "countryCode", p, required=True),
        currency=_str(mkt, "defaultCurrencyCode", p, required=True),
        is_participating=_bool(part, "isParticipating", f"{path}.participation", required=True),
        has_suspended_listings=bool(_bool(part, "hasSuspendedListings", f"{path}.participation")),
        store_name=_str(d, "storeName", path),
        language_code=_str(mkt, "defaultLanguageCode", p),
        domain_name=_str(mkt, "domainName", p),
        raw=d,
    )


def parse_marketplace_participations(body, path="getMarketplaceParticipations"):
    """The ``payload`` list of a ``GetMarketplaceParticipationsResponse``."""
    _check_obj(body, path)
    return _items(body, "payload", path, parse_marketplace_participation, required=True)


# ---------------------------------------------------------------- Orders 2026-01-01

def parse_address(d, path="address"):
    _check_obj(d, path)
    ext = _obj(d, "extendedFields", path) or {}
    pe = f"{path}.extendedFields"
    return t.Address(
        name=_str(d, "name", path),
        company_name=_str(d, "companyName", path),
        address_line1=_str(d, "addressLine1", path),
        address_line2=_str(d, "addressLine2", path),
        address_line3=_str(d, "addressLine3", path),
        city=_str(d, "city", path),
        district_or_county=_str(d, "districtOrCounty", path),
        state_or_region=_str(d, "stateOrRegion", path),
        municipality=_str(d, "municipality", path),
        postal_code=_str(d, "postalCode", path),
        country_code=_str(d, "countryCode", path),
        phone=_str(d, "phone", path),
        address_type=_str(d, "addressType", path),
        street_name=_str(ext, "streetName", pe),
        street_number=_str(ext, "streetNumber", pe),
        complement=_str(ext, "complement", pe),
        neighborhood=_str(ext, "neighborhood", pe),
    )


def _proceeds_detail(d, path):
    _check_obj(d, path)
    return t.ProceedsDetail(subtype=_str(d, "subtype", path), value=_money(d, "value", path))


def parse_proceeds_breakdown(d, path="breakdown"):
    _check_obj(d, path)
    return t.ProceedsBreakdown(
        type=_str(d, "type", path, required=True),
        subtotal=_money(d, "subtotal", path, required=True),
        status=_str(d, "status", path),
        details=_items(d, "detailedBreakdowns", path, _proceeds_detail),
    )


def _buyer(d, path):
    return t.Buyer(
        name=_str(d, "buyerName", path),
        email=_str(d, "buyerEmail", path),
        company_name=_str(d, "buyerCompanyName", path),
        purchase_order_number=_str(d, "buyerPurchaseOrderNumber", path),
    )


def _recipient(d, path):
    address = _obj(d, "deliveryAddress", path)
    pref = _obj(d, "deliveryPreference", path)
    preference = None
    if pref is not None:
        pp = f"{path}.deliveryPreference"
        preference = t.DeliveryPreference(
            drop_off_location=_str(pref, "dropOffLocation", pp),
            address_instruction=_str(pref, "addressInstruction", pp),
            delivery_capabilities=_strs(pref, "deliveryCapabilities", pp),
            delivery_time=_obj(pref, "deliveryTime", pp),
        )
    return t.Recipient(
        delivery_address=parse_address(address, f"{path}.deliveryAddress") if address is not None else None,
        delivery_preference=preference,
    )


def _tax_registration(d, path):
    _check_obj(d, path)
    address = _obj(d, "taxRegistrationAddress", path)
    attrs = []
    for i, a in enumerate(_list(d, "taxRegistrationAttributes", path)):
        pa = f"{path}.taxRegistrationAttributes[{i}]"
        _check_obj(a, pa)
        attrs.append((_str(a, "key", pa) or "", _str(a, "value", pa) or ""))
    return t.TaxRegistration(
        entity_type=_str(d, "entityType", path),
        legal_name=_str(d, "legalName", path),
        registration_type=_str(d, "taxRegistrationType", path),
        registration_number=_str(d, "taxRegistrationNumber", path),
        address=parse_address(address, f"{path}.taxRegistrationAddress") if address is not None else None,
        attributes=tuple(attrs),
    )


def _order_tax(d, path):
    invoicing = _obj(d, "taxInvoicing", path) or {}
    return t.OrderTax(
        registrations=_items(d, "taxRegistrations", path, _tax_registration),
        buyer_invoice_preference=_str(invoicing, "buyerInvoicePreference", f"{path}.taxInvoicing"),
        invoice_status=_str(invoicing, "invoiceStatus", f"{path}.taxInvoicing"),
    )


def _payment(d, path):
    _check_obj(d, path)
    return t.PaymentExecution(
        payment_method=_str(d, "paymentMethod", path),
        amount=_money(d, "paymentAmount", path),
        card_brand=_str(d, "cardBrand", path),
        acquirer_id=_str(d, "acquirerId", path),
        authorization_code=_str(d, "authorizationCode", path),
    )


def _alias(d, path):
    _check_obj(d, path)
    return t.OrderAlias(_str(d, "aliasId", path, required=True), _str(d, "aliasType", path, required=True))


def _associated_order(d, path):
    _check_obj(d, path)
    return t.AssociatedOrder(_str(d, "orderId", path), _str(d, "associationType", path))


def _associated_item(d, path):
    _check_obj(d, path)
    return t.AssociatedOrderItem(_str(d, "orderId", path), _str(d, "orderItemId", path),
                                 _str(d, "associationType", path))


def _measurement(d, path):
    return t.Measurement(unit=_str(d, "unit", path, required=True), value=_decimal(d, "value", path, required=True))


def _promotion_id(d, path):
    _check_obj(d, path)
    return _str(d, "promotionId", path)


def _tax_collection(d, path):
    _check_obj(d, path)
    return t.TaxCollection(_str(d, "model", path), _str(d, "responsibleParty", path))


def _reporting_scheme(d, path):
    _check_obj(d, path)
    return _str(d, "reportingScheme", path)


def parse_order_item(d, path="orderItem"):
    _check_obj(d, path)
    product = _obj(d, "product", path, required=True)
    pp = f"{path}.product"
    condition = _obj(product, "condition", pp) or {}
    price = _obj(product, "price", pp) or {}
    customization = _obj(product, "customization", pp) or {}
    measurement = _obj(d, "measurement", path)
    proceeds = _obj(d, "proceeds", path) or {}
    expense = _obj(d, "expense", path) or {}
    points = _obj(_obj(expense, "pointsCost", f"{path}.expense") or {}, "pointsGranted",
                  f"{path}.expense.pointsCost")
    promotion = _obj(d, "promotion", path) or {}
    cancel = _obj(d, "cancellation", path)
    fulfillment = _obj(d, "fulfillment", path) or {}
    pf = f"{path}.fulfillment"
    packing = _obj(fulfillment, "packing", pf) or {}
    gift = _obj(packing, "giftOption", f"{pf}.packing")
    serial_req = _obj(packing, "serialNumberRequirement", f"{pf}.packing") or {}
    picking = _obj(fulfillment, "picking", pf) or {}
    substitution = _obj(picking, "substitutionPreference", f"{pf}.picking") or {}
    shipping = _obj(fulfillment, "shipping", pf) or {}
    constraints = _obj(shipping, "shippingConstraints", f"{pf}.shipping") or {}
    tax = _obj(d, "tax", path) or {}

    cancellation = None
    if cancel is not None:
        pc = f"{path}.cancellation"
        req = _obj(cancel, "cancellationRequest", pc) or {}
        exe = _obj(cancel, "cancellationExecution", pc) or {}
        cancellation = t.ItemCancellation(
            requested_by=_str(req, "requester", f"{pc}.cancellationRequest"),
            request_reason=_str(req, "cancelReason", f"{pc}.cancellationRequest"),
            cancelled_by=_str(exe, "cancelledBy", f"{pc}.cancellationExecution"),
            cancel_reason=_str(exe, "cancelReason", f"{pc}.cancellationExecution"),
        )
    points_granted = None
    if points is not None:
        ppg = f"{path}.expense.pointsCost.pointsGranted"
        points_granted = t.PointsGranted(_int(points, "pointsNumber", ppg), _money(points, "pointsMonetaryValue", ppg))
    return t.OrderItem(
        order_item_id=_str(d, "orderItemId", path, required=True),
        quantity_ordered=_int(d, "quantityOrdered", path, required=True),
        asin=_str(product, "asin", pp),
        seller_sku=_str(product, "sellerSku", pp),
        title=_str(product, "title", pp),
        condition_type=_str(condition, "conditionType", f"{pp}.condition"),
        condition_subtype=_str(condition, "conditionSubtype", f"{pp}.condition"),
        condition_note=_str(condition, "conditionNote", f"{pp}.condition"),
        unit_price=_money(price, "unitPrice", f"{pp}.price"),
        price_designation=_str(price, "priceDesignation", f"{pp}.price"),
        serial_numbers=_strs(product, "serialNumbers", pp),
        customized_url=_str(customization, "customizedUrl", f"{pp}.customization"),
        measurement=_measurement(measurement, f"{path}.measurement") if measurement is not None else None,
        programs=_strs(d, "programs", path),
        proceeds_total=_money(proceeds, "proceedsTotal", f"{path}.proceeds"),
        proceeds=_items(proceeds, "breakdowns", f"{path}.proceeds", parse_proceeds_breakdown),
        promotion_ids=tuple(p for p in _items(promotion, "breakdowns", f"{path}.promotion", _promotion_id) if p),
        points_granted=points_granted,
        cancellation=cancellation,
        quantity_shipped=_int(fulfillment, "quantityFulfilled", pf),
        quantity_unshipped=_int(fulfillment, "quantityUnfulfilled", pf),
        gift=t.GiftOption(_str(gift, "giftMessage", f"{pf}.packing.giftOption"),
                          _str(gift, "giftWrapLevel", f"{pf}.packing.giftOption")) if gift is not None else None,
        serial_number_required=_str(serial_req, "requirementType", f"{pf}.packing.serialNumberRequirement")
        == "REQUIRED",
        scheduled_delivery=_range(shipping, "scheduledDeliveryWindow", f"{pf}.shipping"),
        shipping_constraints=tuple(sorted(k for k, v in constraints.items() if v == "MANDATORY")),
        substitution_type=_str(substitution, "substitutionType", f"{pf}.picking.substitutionPreference"),
        tax_collections=_items(tax, "taxCollections", f"{path}.tax", _tax_collection),
        tax_reporting_schemes=tuple(
            s for s in _items(tax, "taxCalculationBreakdowns", f"{path}.tax", _reporting_scheme) if s),
        associated_items=_items(d, "associatedOrderItems", path, _associated_item),
    )


def _package_item(d, path):
    _check_obj(d, path)
    return t.PackageItem(
        order_item_id=_str(d, "orderItemId", path, required=True),
        quantity=_int(d, "quantity", path, required=True),
        transparency_codes=_strs(d, "transparencyCodes", path),
    )


def parse_package(d, path="package"):
    _check_obj(d, path)
    status = _obj(d, "packageStatus", path)
    ship_from = _obj(d, "shipFromAddress", path)
    return t.Package(
        package_reference_id=_str(d, "packageReferenceId", path, required=True),
        created_time=_dt(d, "createdTime", path),
        status=_str(status, "status", f"{path}.packageStatus", required=True) if status is not None else None,
        detailed_status=_str(status, "detailedStatus", f"{path}.packageStatus") if status is not None else None,
        carrier=_str(d, "carrier", path),
        ship_time=_dt(d, "shipTime", path),
        shipping_service=_str(d, "shippingService", path),
        tracking_number=_str(d, "trackingNumber", path),
        ship_from=parse_address(ship_from, f"{path}.shipFromAddress") if ship_from is not None else None,
        items=_items(d, "packageItems", path, _package_item),
    )


def _fulfillment_order_id(d, path):
    _check_obj(d, path)
    return _str(d, "fulfillmentOrderId", path, required=True)


def parse_order(d, path=None):
    """An Orders 2026-01-01 ``Order``."""
    if not isinstance(d, dict):
        raise _bad(path or "order", "is not an object")
    order_id = _str(d, "orderId", path or "order", required=True)
    path = path or f"order {order_id}"
    channel = _obj(d, "salesChannel", path, required=True)
    buyer = _obj(d, "buyer", path)
    recipient = _obj(d, "recipient", path)
    proceeds = _obj(d, "proceeds", path)
    tax = _obj(d, "tax", path)
    payment = _obj(d, "payment", path) or {}
    fulfillment = _obj(d, "fulfillment", path)
    pf = f"{path}.fulfillment"
    ful = fulfillment or {}
    return t.Order(
        order_id=order_id,
        created_time=_dt(d, "createdTime", path, required=True),
        last_updated_time=_dt(d, "lastUpdatedTime", path, required=True),
        sales_channel=_str(channel, "channelName", f"{path}.salesChannel", required=True),
        marketplace_id=_str(channel, "marketplaceId", f"{path}.salesChannel"),
        marketplace_name=_str(channel, "marketplaceName", f"{path}.salesChannel"),
        fulfilled_by=_str(ful, "fulfilledBy", pf),
        fulfillment_status=_str(ful, "fulfillmentStatus", pf, required=fulfillment is not None),
        fulfillment_service_level=_str(ful, "fulfillmentServiceLevel", pf),
        ship_by=_range(ful, "shipByWindow", pf),
        deliver_by=_range(ful, "deliverByWindow", pf),
        label_printing=_range(ful, "labelPrintingWindow", pf),
        programs=_strs(d, "programs", path),
        aliases=_items(d, "orderAliases", path, _alias),
        associated_orders=_items(d, "associatedOrders", path, _associated_order),
        buyer=_buyer(buyer, f"{path}.buyer") if buyer is not None else None,
        recipient=_recipient(recipient, f"{path}.recipient") if recipient is not None else None,
        proceeds=t.OrderProceeds(
            grand_total=_money(proceeds, "grandTotal", f"{path}.proceeds"),
            breakdowns=_items(proceeds, "breakdowns", f"{path}.proceeds", parse_proceeds_breakdown),
        ) if proceeds is not None else None,
        tax=_order_tax(tax, f"{path}.tax") if tax is not None else None,
        payments=_items(payment, "paymentExecutions", f"{path}.payment", _payment),
        items=_items(d, "orderItems", path, parse_order_item, required=True),
        packages=_items(d, "packages", path, parse_package),
        fulfillment_order_ids=_items(d, "fulfillmentOrders", path, _fulfillment_order_id),
        raw=d,
    )


def parse_orders_page(body, path="searchOrders", skip_unreadable=False):
    """A ``SearchOrdersResponse``. With ``skip_unreadable`` an order that breaks the model goes to
    ``rejected`` instead of raising; a page that breaks it (no ``orders`` list, bad pagination) still raises."""
    _check_obj(body, path)
    orders, rejected = [], []
    for i, o in enumerate(_list(body, "orders", path, required=True)):
        order_id = o.get("orderId") if isinstance(o, dict) else None
        order_id = order_id if isinstance(order_id, str) and order_id else None
        try:
            orders.append(parse_order(o, f"{path}.orders[{i}]" + (f" (order {order_id})" if order_id else "")))
        except BadData as exc:
            if not skip_unreadable:
                raise
            rejected.append(t.RejectedOrder(order_id, str(exc), o))
    pagination = _obj(body, "pagination", path) or {}
    return t.OrdersPage(
        orders=tuple(orders),
        next_token=_str(pagination, "nextToken", f"{path}.pagination") or None,
        created_before=_dt(body, "createdBefore", path),
        last_updated_before=_dt(body, "lastUpdatedBefore", path),
        rejected=tuple(rejected),
    )


def parse_get_order(body, path="getOrder"):
    """A ``GetOrderResponse``."""
    _check_obj(body, path)
    return parse_order(_obj(body, "order", path, required=True))


# ---------------------------------------------------------------- Listings Items 2021-08-01

def parse_listing_issue(d, path="issue"):
    _check_obj(d, path)
    enforcements = _obj(d, "enforcements", path) or {}
    pe = f"{path}.enforcements"
    actions = []
    for i, a in enumerate(_list(enforcements, "actions", pe)):
        _check_obj(a, f"{pe}.actions[{i}]")
        actions.append(_str(a, "action", f"{pe}.actions[{i}]", required=True))
    return t.ListingIssue(
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
    return t.ListingSummary(
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
    return t.ListingOffer(
        marketplace_id=_str(d, "marketplaceId", path, required=True),
        offer_type=_str(d, "offerType", path, required=True),
        price=_money(d, "price", path, required=True),
        points=_int(points, "pointsNumber", f"{path}.points"),
        audience=_str(audience, "value", f"{path}.audience"),
    )


def _fulfillment_availability(d, path):
    _check_obj(d, path)
    return t.FulfillmentAvailability(_str(d, "fulfillmentChannelCode", path, required=True),
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
    return t.ListingsItem(
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
    return t.PatchResult(
        status=_str(body, "status", path, required=True),
        submission_id=_str(body, "submissionId", path, required=True),
        issues=_items(body, "issues", path, parse_listing_issue),
        sku=_str(body, "sku", path, required=True),
        raw=body,
    )


# ---------------------------------------------------------------- FBA inventory v1

def parse_inventory_summary(d, path="inventorySummary"):
    _check_obj(d, path)
    details = _obj(d, "inventoryDetails", path) or {}
    pd = f"{path}.inventoryDetails"
    reserved = _obj(details, "reservedQuantity", pd) or {}
    researching = _obj(details, "researchingQuantity", pd) or {}
    unfulfillable = _obj(details, "unfulfillableQuantity", pd) or {}
    return t.InventorySummary(
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


# ---------------------------------------------------------------- Finances 2024-06-19

def _currency(d, key, path):
    return _money(d, key, path, amount_key="currencyAmount", currency_key="currencyCode")


def parse_breakdown(d, path="breakdown"):
    _check_obj(d, path)
    return t.Breakdown(
        type=_str(d, "breakdownType", path),
        amount=_currency(d, "breakdownAmount", path),
        breakdowns=_items(d, "breakdowns", path, parse_breakdown),
    )


def parse_transaction_context(d, path="context"):
    _check_obj(d, path)
    return t.TransactionContext(
        context_type=_str(d, "contextType", path),
        sku=_str(d, "sku", path),
        asin=_str(d, "asin", path),
        quantity_shipped=_int(d, "quantityShipped", path),
        fulfillment_network=_str(d, "fulfillmentNetwork", path),
        store_name=_str(d, "storeName", path),
        order_type=_str(d, "orderType", path),
        channel=_str(d, "channel", path),
        payment_type=_str(d, "paymentType", path),
        payment_method=_str(d, "paymentMethod", path),
        payment_reference=_str(d, "paymentReference", path),
        payment_date=_dt(d, "paymentDate", path),
        deferral_reason=_str(d, "deferralReason", path),
        maturity_date=_dt(d, "maturityDate", path),
        start_time=_dt(d, "startTime", path),
        end_time=_dt(d, "endTime", path),
    )


def _pairs(d, key, path, name_key, value_key):
    pairs = []
    for i, v in enumerate(_list(d, key, path)):
        p = f"{path}.{key}[{i}]"
        _check_obj(v, p)
        pairs.append((_str(v, name_key, p) or "", _str(v, value_key, p) or ""))
    return tuple(pairs)


def _transaction_item(d, path):
    _check_obj(d, path)
    return t.TransactionItem(
        description=_str(d, "description", path),
        total_amount=_currency(d, "totalAmount", path),
        breakdowns=_items(d, "breakdowns", path, parse_breakdown),
        contexts=_items(d, "contexts", path, parse_transaction_context),
        related_identifiers=_pairs(d, "relatedIdentifiers", path, "itemRelatedIdentifierName",
                                   "itemRelatedIdentifierValue"),
    )


def _breakdown_list(d, path):
    """A transaction's breakdowns. Amazon's own example of ``Transaction`` wraps the list in an object
    (``{"breakdowns": [...]}``): read it too rather than refuse the transaction."""
    value = d.get("breakdowns")
    if isinstance(value, dict) and set(value) <= {"breakdowns"}:
        d = value
    return _items(d, "breakdowns", path, parse_breakdown)


def parse_transaction(d, path="transaction"):
    """A Finances 2024-06-19 ``Transaction``."""
    _check_obj(d, path)
    meta = _obj(d, "sellingPartnerMetadata", path) or {}
    details = _obj(d, "marketplaceDetails", path) or {}
    return t.Transaction(
        transaction_id=_str(d, "transactionId", path),
        transaction_type=_str(d, "transactionType", path),
        transaction_status=_str(d, "transactionStatus", path),
        description=_str(d, "description", path),
        posted_date=_dt(d, "postedDate", path),
        total_amount=_currency(d, "totalAmount", path),
        marketplace_id=_str(details, "marketplaceId", f"{path}.marketplaceDetails")
        or _str(meta, "marketplaceId", f"{path}.sellingPartnerMetadata"),
        marketplace_name=_str(details, "marketplaceName", f"{path}.marketplaceDetails"),
        selling_partner_id=_str(meta, "sellingPartnerId", f"{path}.sellingPartnerMetadata"),
        account_type=_str(meta, "accountType", f"{path}.sellingPartnerMetadata"),
        related_identifiers=_pairs(d, "relatedIdentifiers", path, "relatedIdentifierName", "relatedIdentifierValue"),
        items=_items(d, "items", path, _transaction_item),
        contexts=_items(d, "contexts", path, parse_transaction_context),
        breakdowns=_breakdown_list(d, path),
        raw=d,
    )


def parse_transactions_page(body, path="listTransactions"):
    """A ``ListTransactionsResponse``: (transactions, next_token)."""
    _check_obj(body, path)
    payload = _obj(body, "payload", path) or {}
    pp = f"{path}.payload"
    return _items(payload, "transactions", pp, parse_transaction), _str(payload, "nextToken", pp) or None


# ---------------------------------------------------------------- Reports 2021-06-30

def parse_report(d, path="report"):
    """A Reports 2021-06-30 ``Report`` (also the whole ``getReport`` answer)."""
    _check_obj(d, path)
    report_id = _str(d, "reportId", path, required=True)
    path = f"report {report_id}"
    return t.Report(
        report_id=report_id,
        report_type=_str(d, "reportType", path, required=True),
        processing_status=_str(d, "processingStatus", path, required=True),
        created_time=_dt(d, "createdTime", path, required=True),
        report_document_id=_str(d, "reportDocumentId", path),
        data_start_time=_dt(d, "dataStartTime", path),
        data_end_time=_dt(d, "dataEndTime", path),
        processing_start_time=_dt(d, "processingStartTime", path),
        processing_end_time=_dt(d, "processingEndTime", path),
        marketplace_ids=_strs(d, "marketplaceIds", path),
        report_schedule_id=_str(d, "reportScheduleId", path),
        raw=d,
    )


def parse_reports_page(body, path="getReports"):
    """A ``GetReportsResponse``: (reports, next_token)."""
    _check_obj(body, path)
    return (_items(body, "reports", path, parse_report, required=True), _str(body, "nextToken", path) or None)


def parse_create_report(body, path="createReport"):
    _check_obj(body, path)
    return _str(body, "reportId", path, required=True)


def parse_report_document(body, path="getReportDocument"):
    _check_obj(body, path)
    return t.ReportDocument(
        report_document_id=_str(body, "reportDocumentId", path, required=True),
        url=_str(body, "url", path, required=True),
        compression_algorithm=_str(body, "compressionAlgorithm", path),
        raw={k: v for k, v in body.items() if k != "url"},
    )
