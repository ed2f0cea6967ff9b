"""Parsers: Amazon's own sandbox examples replayed through them, and what they refuse."""
import copy
import json
from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest

from bind_amazon_connector.spapi import (
    errors,
    finances,
    inventory,
    listings,
    order_types,
    orders,
    reports,
    sellers,
    values,
)
from bind_amazon_connector.spapi.library import _ClientMixin, _HttpStatus

# model file -> {operationId: parser of the whole 2xx body}
PARSERS = {
    "orders-api-model/orders_2026-01-01.json": {
        "searchOrders": orders.parse_orders_page,
        "getOrder": orders.parse_get_order,
    },
    "listings-items-api-model/listingsItems_2021-08-01.json": {
        "getListingsItem": listings.parse_listings_item,
        "searchListingsItems": listings.parse_listings_search,
        "patchListingsItem": listings.parse_patch_result,
        "putListingsItem": listings.parse_patch_result,
        "deleteListingsItem": listings.parse_patch_result,
    },
    "finances-api-model/finances_2024-06-19.json": {"listTransactions": finances.parse_transactions_page},
    "reports-api-model/reports_2021-06-30.json": {
        "getReports": reports.parse_reports_page,
        "createReport": reports.parse_create_report,
        "getReport": reports.parse_report,
        "getReportDocument": reports.parse_report_document,
    },
    "sellers-api-model/sellers.json": {"getMarketplaceParticipations": sellers.parse_marketplace_participations},
}


def sandbox_cases(model):
    """(operationId, HTTP status, response) of every static sandbox example of a model."""
    for operations in model["paths"].values():
        for op in operations.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, response in op["responses"].items():
                for case in response.get("x-amzn-api-sandbox", {}).get("static", []):
                    if "response" in case:  # some cases (cancelReport) document no body
                        yield op["operationId"], int(status), case["response"]


def replay(spapi_models, model_file):
    """Every 2xx example of the operations we parse, parsed; and every error example."""
    parsed, failures = {}, []
    for operation, status, body in sandbox_cases(spapi_models(model_file)):
        if 200 <= status < 300 and operation in PARSERS[model_file]:
            parsed.setdefault(operation, []).append(PARSERS[model_file][operation](copy.deepcopy(body)))
        elif status >= 400:
            failures.append((operation, status, body))
    return parsed, failures


def test_orders_2026_sandbox_examples(spapi_models):
    parsed, failures = replay(spapi_models, "orders-api-model/orders_2026-01-01.json")
    assert len(parsed["searchOrders"]) == 3 and len(parsed["getOrder"]) == 3 and len(failures) == 2
    jp = parsed["searchOrders"][0]
    assert jp.next_token == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"
    assert jp.created_before == datetime(2024, 12, 25, 3, tzinfo=timezone.utc)
    order = jp.orders[0]
    assert (order.order_id, order.seller_order_id, order.fulfilled_by, order.fulfillment_status) == (
        "250-1234567-8901234", "JP-ORDER-2024-001", "AMAZON", "SHIPPED")
    assert order.is_fba and order.is_prime and order.marketplace_id == "A1VC38T7YXB528"
    assert order.grand_total == values.Money(Decimal("19940"), "JPY") and order.currency == "JPY"
    assert order.buyer.name == "John Smith" and order.delivery_address.postal_code == "150-0002"
    first, second = order.items
    assert (second.seller_sku, second.quantity_ordered, second.quantity_shipped, second.quantity_unshipped) == (
        "FIRE-TV-4K-MAX-JP", 2, 2, 0)
    assert second.unit_price.amount == Decimal("6980") and second.item_price.amount == Decimal("13960")
    assert first.promotion_ids == ("JP-WINTER-SALE-2024",) and first.points_granted.points == 60
    assert first.serial_numbers == ("ED4JP-2024-ABC123456789",)
    assert order.created_time.tzinfo is not None

    uk = parsed["searchOrders"][1].orders[0]
    package = uk.packages[0]
    assert (package.carrier, package.tracking_number, package.status, package.detailed_status) == (
        "DPD", "15501234567890123456", "IN_TRANSIT", "OUT_FOR_DELIVERY")
    assert package.items == (order_types.PackageItem("20276543210987", 1, ("T98765ZYXWV43210UK",)),)
    assert package.ship_from.city == "Reading" and uk.deliver_by.latest.day == 28
    assert uk.items[0].measurement == order_types.Measurement("COUNT", Decimal(1))
    assert uk.items[0].substitution_type == "CUSTOMER_PREFERENCE"

    br = parsed["searchOrders"][2].orders[0]
    assert br.is_business_order and br.buyer.purchase_order_number == "PO-BR-2024-5678"
    assert br.delivery_address.neighborhood == "Bela Vista" and br.delivery_address.street_number == "1000"
    assert [r.registration_type for r in br.tax.registrations] == ["VAT", "CNPJ", None]
    assert br.tax.invoice_status == "PROCESSING"
    assert br.payments[0].amount == values.Money(Decimal("1599.90"), "BRL")
    assert br.items[0].price_designation == "BUSINESS_PRICE"

    gift, turkey, us = parsed["getOrder"]
    assert gift.items[0].gift.wrap_level == "STANDARD" and gift.label_printing.earliest.hour == 17
    assert turkey.tax.buyer_invoice_preference == "BUSINESS"
    assert turkey.tax.registrations[0].attributes == (("TAX_OFFICE", "tax office"),)
    assert turkey.items[0].tax_reporting_schemes == ("IOSS",)
    assert turkey.items[0].tax_collections[0].model == "MARKETPLACE_FACILITATOR"
    item = us.items[0]
    assert item.item_price.amount + item.tax.amount == item.proceeds_total.amount == Decimal("49.99")
    assert item.associated_items[0].association_type == "VALUE_ADD_SERVICE"
    assert us.buyer is None and us.programs == ("IN_STORE_PICK_UP",)
    assert all(isinstance(o.raw, dict) and json.dumps(o.raw) for p in parsed["searchOrders"] for o in p.orders)


def test_listings_items_sandbox_examples(spapi_models):
    parsed, failures = replay(spapi_models, "listings-items-api-model/listingsItems_2021-08-01.json")
    assert sum(len(v) for v in parsed.values()) == 9 and len(failures) == 5
    item = listings.parse_listings_item(
        next(b for op, s, b in sandbox_cases(spapi_models("listings-items-api-model/listingsItems_2021-08-01.json"))
             if op == "getListingsItem" and s == 200), marketplace_id="A2EUQ1WTGCTBG2")
    assert item.sku == "GM-ZDPI-9B4E" and item.asin == "B071VG5N9D" and item.product_type == "LUGGAGE"
    assert item.price == values.Money(Decimal("130.00"), "CAD") and item.merchant_quantity == 100
    assert item.status == () and not item.is_buyable  # buyable in the US, not in Canada
    assert item.summaries[0].created_date == datetime(2021, 2, 1, tzinfo=timezone.utc)
    issue = item.issues[1]
    assert issue.enforcement_actions == ("SEARCH_SUPPRESSED",) and issue.exemption_status == "EXEMPT_UNTIL_EXPIRY_DATE"
    assert len(item.errors) == len(item.issues)
    items, token = parsed["searchListingsItems"][0]
    assert token == "xsdflkj324lkjsdlkj3423klkjsdfkljlk2j34klj2l3k4jlksdjl234" and items[0].sku == "GM-ZDPI-9B4E"
    statuses = [r.status for r in parsed["patchListingsItem"]]
    assert statuses == ["ACCEPTED", "VALID", "INVALID"]
    invalid = parsed["patchListingsItem"][2]
    assert not invalid.accepted and invalid.issues[0].attribute_names == ("fake_attribute",)


def test_finances_2024_06_19_sandbox_examples(spapi_models):
    parsed, failures = replay(spapi_models, "finances-api-model/finances_2024-06-19.json")
    (transactions, token), = parsed["listTransactions"]
    assert token == "Next token value" and len(failures) == 3
    txn = transactions[0]
    assert txn.total_amount == values.Money(Decimal("10"), "USD") and isinstance(txn.total_amount.amount, Decimal)
    assert txn.order_id == "8129762527551" and txn.financial_event_group_id.startswith("4MVaHcs")
    assert txn.posted_date == datetime(2020, 7, 14, 3, 35, 13, 214000, tzinfo=timezone.utc)
    assert (txn.selling_partner_id, txn.account_type, txn.transaction_type) == ("A3TH9S8BH6GOGM", "PAYABLE",
                                                                                "Shipment")
    assert txn.transaction_id is None  # the model requires nothing


def test_reports_sandbox_examples(spapi_models):
    parsed, failures = replay(spapi_models, "reports-api-model/reports_2021-06-30.json")
    (listed, token), = parsed["getReports"]
    assert token.startswith("VGhpcyB0b2tlbi") and listed[0].processing_status == "IN_PROGRESS"
    assert parsed["createReport"] == ["ID323"]
    report = parsed["getReport"][0]
    assert report.report_type == "FEE_DISCOUNTS_REPORT" and not report.is_final
    assert report.data_start_time == datetime(2024, 3, 11, 13, 47, 20, 677000, tzinfo=timezone.utc)
    document = parsed["getReportDocument"][0]
    assert document.compression_algorithm is None and document.url.startswith("https://")
    assert document.url not in repr(document)
    assert {op for op, _, _ in failures} >= {"getReports", "createReport", "getReport", "getReportDocument"}


def test_sellers_sandbox_examples(spapi_models):
    parsed, _ = replay(spapi_models, "sellers-api-model/sellers.json")
    (participation,), = parsed["getMarketplaceParticipations"]
    assert participation == sellers.MarketplaceParticipation(
        "ATVPDKIKX0DER", "Amazon.com", "US", "USD", True, False, "BestSellerStore", "en_US", "www.amazon.com")


@pytest.mark.parametrize("model_file", sorted(PARSERS))
def test_sandbox_error_examples_become_amazon_codes(spapi_models, model_file):
    _, failures = replay(spapi_models, model_file)
    assert failures
    for operation, status, body in failures:
        response = httpx.Response(status, json=body)
        with pytest.raises(_HttpStatus) as info:
            _ClientMixin._check_response(None, response)
        assert info.value.status == status and info.value.code, operation


# ---------------------------------------------------------------- what parsers refuse

def minimal_order():
    return {"orderId": "701-1", "createdTime": "2026-01-01T00:00:00Z", "lastUpdatedTime": "2026-01-01T00:00:00Z",
            "salesChannel": {"channelName": "AMAZON"},
            "buyer": {"buyerName": "Ana Privada", "buyerEmail": "ana@example.com"},
            "orderItems": [{"orderItemId": "1", "quantityOrdered": 1, "product": {},
                            "proceeds": {"proceedsTotal": {"amount": "10.00", "currencyCode": "MXN"}}}]}


def test_minimal_order_parses_with_optional_sections_absent():
    order = orders.parse_order(minimal_order())
    assert order.proceeds is None and order.recipient is None and order.packages == ()
    assert order.fulfilled_by is None and order.items[0].quantity_shipped is None
    assert order.currency == "MXN" and order.items[0].item_price is None


@pytest.mark.parametrize("mutate, field", [
    (lambda o: o.pop("createdTime"), "order 701-1.createdTime is missing"),
    (lambda o: o["orderItems"][0].pop("product"), "orderItems[0].product is missing"),
    (lambda o: o["orderItems"][0].update(quantityOrdered="two"), "orderItems[0].quantityOrdered is not a whole"),
    (lambda o: o["orderItems"][0]["proceeds"]["proceedsTotal"].update(amount="10,0x"),
     "proceeds.proceedsTotal.amount is not a number"),
    (lambda o: o["orderItems"][0]["proceeds"]["proceedsTotal"].pop("currencyCode"), "currencyCode is missing"),
    (lambda o: o.update(lastUpdatedTime="yesterday"), "lastUpdatedTime is not an ISO 8601 date"),
    (lambda o: o.update(orderItems={"a": 1}), "orderItems is not a list"),
    (lambda o: o.update(fulfillment={"fulfilledBy": "MERCHANT"}), "fulfillment.fulfillmentStatus is missing"),
    (lambda o: o.update(packages=[{"packageReferenceId": "P", "packageItems": [{"orderItemId": "1"}]}]),
     "packages[0].packageItems[0].quantity is missing"),
])
def test_required_or_unparsable_fields_raise_bad_data_naming_the_field(mutate, field):
    order = minimal_order()
    mutate(order)
    with pytest.raises(errors.BadData) as info:
        orders.parse_order(order)
    message = str(info.value)
    assert field in message
    assert "Ana" not in message and "example.com" not in message and "two" not in message.split("is not")[0]


def test_numbers_and_dates():
    assert values.to_decimal(19.99, "x") == Decimal("19.99")  # JSON numbers (finances) without float noise
    assert values.to_decimal("-0.10", "x") == Decimal("-0.10")
    for bad in ("NaN", "Infinity", True, None, "1,5"):
        with pytest.raises(errors.BadData):
            values.to_decimal(bad, "x")
    assert values.to_datetime("2025-01-12T10:30:00+09:00", "x").utcoffset().total_seconds() == 9 * 3600
    assert values.to_datetime("2025-01-12", "x") == datetime(2025, 1, 12, tzinfo=timezone.utc)
    summary = inventory.parse_inventory_summary({"sellerSku": "A", "lastUpdatedTime": "", "totalQuantity": 3,
                                               "inventoryDetails": {"fulfillableQuantity": 2,
                                                                    "reservedQuantity": {"totalReservedQuantity": 1}}})
    assert (summary.last_updated_time, summary.total_quantity, summary.fulfillable_quantity,
            summary.reserved_quantity, summary.unfulfillable_quantity) == (None, 3, 2, 1, None)


def test_finance_breakdowns_and_contexts():
    txn = finances.parse_transaction({
        "transactionId": "T1", "postedDate": "2026-02-01T00:00:00Z",
        "totalAmount": {"currencyAmount": 250.5, "currencyCode": "MXN"},
        "marketplaceDetails": {"marketplaceId": "A1AM78C64UM0Y8", "marketplaceName": "Amazon.com.mx"},
        "relatedIdentifiers": [{"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": "701-1"},
                               {"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": "S9"}],
        "breakdowns": [{"breakdownType": "Sales", "breakdownAmount": {"currencyAmount": 300, "currencyCode": "MXN"},
                        "breakdowns": [{"breakdownType": "Tax", "breakdownAmount": {"currencyAmount": 41.38,
                                                                                     "currencyCode": "MXN"}}]},
                       {"breakdownType": "Expenses",
                        "breakdownAmount": {"currencyAmount": -49.5, "currencyCode": "MXN"}}],
        "items": [{"description": "Café", "contexts": [{"contextType": "ProductContext", "sku": "CAFE-1",
                                                        "quantityShipped": 2, "fulfillmentNetwork": "MFN"}]}],
        "contexts": [{"contextType": "DeferredContext", "deferralReason": "DD7",
                      "maturityDate": "2026-02-08T00:00:00Z"}],
    })
    assert txn.total_amount.amount == Decimal("250.5") and txn.order_id == "701-1" and txn.settlement_id == "S9"
    assert txn.breakdowns[0].find("Tax").amount.amount == Decimal("41.38")
    assert txn.breakdowns[1].amount.amount == Decimal("-49.5")
    assert txn.items[0].contexts[0].sku == "CAFE-1" and txn.items[0].contexts[0].quantity_shipped == 2
    assert txn.contexts[0].maturity_date.day == 8 and txn.marketplace_id == "A1AM78C64UM0Y8"


def test_pooled_stock_counts_each_unit_once_per_fulfilment_network():
    """North America's unified account shows its pooled units in the US, Canada and Mexico alike: one stock,
    not three; Brazil's network is separate stock; a unit is its FNSKU (the SKU when Amazon sends none)."""
    def summary(sku, qty, fnsku=None):
        return inventory.InventorySummary(seller_sku=sku, fn_sku=fnsku, fulfillable_quantity=qty)

    mx, us, ca, br = "A1AM78C64UM0Y8", "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A2Q3Y263D00KWC"
    units = inventory.pooled_stock([
        (mx, summary("MUG", 7, "X001")), (us, summary("MUG", 7, "X001")), (ca, summary("MUG", 6, "X001")),
        (br, summary("MUG", 3, "X001")),
        (mx, summary("TEE", 4)), (us, summary("TEE", 5)),  # more fulfillable in the US: the pool's larger view
    ])
    assert {key: (s.fulfillable_quantity, shown) for key, (s, shown) in units.items()} == {
        ("NA", "X001"): (7, (mx, us, ca)), ("BR", "X001"): (3, (br,)), ("NA", "TEE"): (5, (mx, us))}
    assert sum(s.fulfillable_quantity for s, _shown in units.values() if s.seller_sku == "MUG") == 10
    assert inventory.fulfillment_network("A1PA6795UKMFR9") == "A1PA6795UKMFR9"  # unknown: a network of its own
