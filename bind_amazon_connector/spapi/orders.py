"""Orders 2026-01-01: search orders page by page, get one order, and their parsers (types in
:mod:`.order_types`)."""
from .errors import BadData
from .order_types import (
    DEFAULT_ORDER_DATA,
    Address,
    AssociatedOrder,
    AssociatedOrderItem,
    Buyer,
    DeliveryPreference,
    GiftOption,
    ItemCancellation,
    Measurement,
    Order,
    OrderAlias,
    OrderItem,
    OrderProceeds,
    OrdersPage,
    OrderTax,
    Package,
    PackageItem,
    PaymentExecution,
    PointsGranted,
    ProceedsBreakdown,
    ProceedsDetail,
    Recipient,
    RejectedOrder,
    TaxCollection,
    TaxRegistration,
)
from .transport import _csv, _iso, _marketplace_list, _Pages
from .values import (
    _bad,
    _check_obj,
    _decimal,
    _dt,
    _int,
    _items,
    _list,
    _money,
    _obj,
    _range,
    _str,
    _strs,
)

#: Most marketplace ids one searchOrders call takes (Amazon's model: maxItems 50).
MAX_ORDER_MARKETPLACES = 50


def parse_address(d, path="address"):
    _check_obj(d, path)
    ext = _obj(d, "extendedFields", path) or {}
    pe = f"{path}.extendedFields"
    return Address(
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
    return ProceedsDetail(subtype=_str(d, "subtype", path), value=_money(d, "value", path))


def parse_proceeds_breakdown(d, path="breakdown"):
    _check_obj(d, path)
    return ProceedsBreakdown(
        type=_str(d, "type", path, required=True),
        subtotal=_money(d, "subtotal", path, required=True),
        status=_str(d, "status", path),
        details=_items(d, "detailedBreakdowns", path, _proceeds_detail),
    )


def _buyer(d, path):
    return Buyer(
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
        preference = DeliveryPreference(
            drop_off_location=_str(pref, "dropOffLocation", pp),
            address_instruction=_str(pref, "addressInstruction", pp),
            delivery_capabilities=_strs(pref, "deliveryCapabilities", pp),
            delivery_time=_obj(pref, "deliveryTime", pp),
        )
    return Recipient(
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
    return TaxRegistration(
        entity_type=_str(d, "entityType", path),
        legal_name=_str(d, "legalName", path),
        registration_type=_str(d, "taxRegistrationType", path),
        registration_number=_str(d, "taxRegistrationNumber", path),
        address=parse_address(address, f"{path}.taxRegistrationAddress") if address is not None else None,
        attributes=tuple(attrs),
    )


def _order_tax(d, path):
    invoicing = _obj(d, "taxInvoicing", path) or {}
    return OrderTax(
        registrations=_items(d, "taxRegistrations", path, _tax_registration),
        buyer_invoice_preference=_str(invoicing, "buyerInvoicePreference", f"{path}.taxInvoicing"),
        invoice_status=_str(invoicing, "invoiceStatus", f"{path}.taxInvoicing"),
    )


def _payment(d, path):
    _check_obj(d, path)
    return PaymentExecution(
        payment_method=_str(d, "paymentMethod", path),
        amount=_money(d, "paymentAmount", path),
        card_brand=_str(d, "cardBrand", path),
        acquirer_id=_str(d, "acquirerId", path),
        authorization_code=_str(d, "authorizationCode", path),
    )


def _alias(d, path):
    _check_obj(d, path)
    return OrderAlias(_str(d, "aliasId", path, required=True), _str(d, "aliasType", path, required=True))


def _associated_order(d, path):
    _check_obj(d, path)
    return AssociatedOrder(_str(d, "orderId", path), _str(d, "associationType", path))


def _associated_item(d, path):
    _check_obj(d, path)
    return AssociatedOrderItem(_str(d, "orderId", path), _str(d, "orderItemId", path),
                                 _str(d, "associationType", path))


def _measurement(d, path):
    return Measurement(unit=_str(d, "unit", path, required=True), value=_decimal(d, "value", path, required=True))


def _promotion_id(d, path):
    _check_obj(d, path)
    return _str(d, "promotionId", path)


def _tax_collection(d, path):
    _check_obj(d, path)
    return TaxCollection(_str(d, "model", path), _str(d, "responsibleParty", path))


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
        cancellation = ItemCancellation(
            requested_by=_str(req, "requester", f"{pc}.cancellationRequest"),
            request_reason=_str(req, "cancelReason", f"{pc}.cancellationRequest"),
            cancelled_by=_str(exe, "cancelledBy", f"{pc}.cancellationExecution"),
            cancel_reason=_str(exe, "cancelReason", f"{pc}.cancellationExecution"),
        )
    points_granted = None
    if points is not None:
        ppg = f"{path}.expense.pointsCost.pointsGranted"
        points_granted = PointsGranted(_int(points, "pointsNumber", ppg), _money(points, "pointsMonetaryValue", ppg))
    return OrderItem(
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
        gift=GiftOption(_str(gift, "giftMessage", f"{pf}.packing.giftOption"),
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
    return PackageItem(
        order_item_id=_str(d, "orderItemId", path, required=True),
        quantity=_int(d, "quantity", path, required=True),
        transparency_codes=_strs(d, "transparencyCodes", path),
    )


def parse_package(d, path="package"):
    _check_obj(d, path)
    status = _obj(d, "packageStatus", path)
    ship_from = _obj(d, "shipFromAddress", path)
    return Package(
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
    return Order(
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
        proceeds=OrderProceeds(
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
            rejected.append(RejectedOrder(order_id, str(exc), o))
    pagination = _obj(body, "pagination", path) or {}
    return OrdersPage(
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


class OrdersApi:
    """The Orders 2026-01-01 calls of :class:`.client.SpApi`."""

    def search_orders_page(self, *, last_updated_after=None, last_updated_before=None, created_after=None,
                           created_before=None, fulfillment_statuses=None, included_data=DEFAULT_ORDER_DATA,
                           max_results=100, pagination_token=None, fulfilled_by=None, skip_unreadable=False,
                           marketplace_ids=None):
        """One page of ``searchOrders`` in the connection's marketplace, or in ``marketplace_ids`` (up to 50
        marketplace ids of the region, read together: one call, one page token for all).

        Give exactly one of ``last_updated_after`` (status changes too: use this to poll) and ``created_after``.
        Upper bounds must be at least two minutes in the past (Amazon's rule). Datetimes may be naive (UTC).
        ``skip_unreadable=True``: an order that breaks Amazon's model lands in ``page.rejected`` instead of
        failing the whole page with BadData (so one bad order does not block the others).
        """
        if (last_updated_after is None) == (created_after is None):
            raise ValueError("Give exactly one of last_updated_after and created_after.")
        if created_after is not None and last_updated_before is not None or (
                last_updated_after is not None and created_before is not None):
            raise ValueError("Do not mix created_* and last_updated_* bounds.")
        if not 1 <= int(max_results) <= 100:
            raise ValueError("max_results must be between 1 and 100.")
        marketplaces = _marketplace_list(marketplace_ids, self.config.marketplace_id, MAX_ORDER_MARKETPLACES)
        params = {
            "marketplaceIds": ",".join(marketplaces),
            "createdAfter": _iso(created_after, "created_after"),
            "createdBefore": _iso(created_before, "created_before"),
            "lastUpdatedAfter": _iso(last_updated_after, "last_updated_after"),
            "lastUpdatedBefore": _iso(last_updated_before, "last_updated_before"),
            "fulfillmentStatuses": _csv(fulfillment_statuses, "fulfillment_statuses"),
            "fulfilledBy": _csv(fulfilled_by, "fulfilled_by"),
            "includedData": _csv(included_data, "included_data") if included_data else None,
            "maxResultsPerPage": int(max_results),
            "paginationToken": pagination_token,
        }
        reply = self._call("searchOrders", "orders", "search_orders",
                           **{k: v for k, v in params.items() if v is not None})
        page = parse_orders_page(reply.body, skip_unreadable=skip_unreadable)
        self.stats["searchOrders"].pages += 1
        return page

    def iter_orders_pages(self, pagination_token=None, **filters):
        """Every page of a ``searchOrders`` run, each exactly once (same filters as :meth:`search_orders_page`).

        ``pagination_token`` resumes an interrupted run: pass the ``next_token`` of the last page processed
        (with the same filters).
        """
        pages = _Pages("searchOrders")
        token = pages.next(pagination_token)
        while True:
            page = self.search_orders_page(pagination_token=token, **filters)
            yield page
            token = pages.next(page.next_token)
            if token is None:
                return

    def get_order(self, order_id, included_data=DEFAULT_ORDER_DATA):
        if not order_id:
            raise ValueError("order_id is required")
        kwargs = {"includedData": _csv(included_data, "included_data")} if included_data else {}
        reply = self._call("getOrder", "orders", "get_order", order_id, **kwargs)
        return parse_get_order(reply.body)
