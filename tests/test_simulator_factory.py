"""The factory builds objects Amazon's models accept, with consistent Mexican amounts."""
from decimal import Decimal

import pytest
from jsonschema import Draft4Validator

from spapi_simulator import factory

ORDERS = "orders-api-model/orders_2026-01-01.json"


def validator(spapi_models, model_file, definition):
    model = spapi_models(model_file)
    return Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": model["definitions"]})


def errors(val, obj):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in val.iter_errors(obj)]


def breakdown(item, kind):
    return next(b for b in item["proceeds"]["breakdowns"] if b["type"] == kind)


@pytest.mark.parametrize("status", factory.FULFILLMENT_STATUSES)
@pytest.mark.parametrize("fulfilled_by", ["MERCHANT", "AMAZON"])
def test_every_order_status_is_model_valid(spapi_models, status, fulfilled_by):
    shipped = 1 if status == "PARTIALLY_SHIPPED" else None
    items = [{"sku": "SKU-1", "unit_price": "199.00", "quantity": 2, "shipped": shipped},
             {"sku": "SKU-2", "unit_price": "50.00"}]
    order = factory.make_order(items=items, status=status, fulfilled_by=fulfilled_by, shipping={"price": "99.00"},
                               gift_wrap={"price": "30.00"}, promotion={"id": "P-1", "discount": "20.00"},
                               business={"company": "ACME", "po_number": "PO-1", "rfc": "ACM010101AB1"},
                               seller_order_id="MY-1", programs=["PRIME"])
    assert errors(validator(spapi_models, ORDERS, "Order"), order) == []
    assert order["fulfillment"]["fulfillmentStatus"] == status
    assert order["fulfillment"]["fulfilledBy"] == fulfilled_by


def test_listing_inventory_transaction_participation_are_model_valid(spapi_models):
    checks = [
        ("listings-items-api-model/listingsItems_2021-08-01.json", "Item",
         factory.make_listing("SKU-1", fulfillment="AFN", image_url="https://example.com/a.jpg", description="Taza")),
        ("listings-items-api-model/listingsItems_2021-08-01.json", "Item", factory.make_listing("SKU-2", quantity=0)),
        ("fba-inventory-api-model/fbaInventory.json", "InventorySummary",
         factory.make_inventory_summary("SKU-1", fulfillable=5, inbound_shipped=3, unfulfillable=1)),
        ("finances-api-model/finances_2024-06-19.json", "Transaction",
         factory.make_transaction("702-1", sku="SKU-1", fba_fee="30.00", withheld_tax="12.00", group_id="G1")),
        ("finances-api-model/finances_2024-06-19.json", "Transaction",
         factory.make_transaction("702-1", transaction_type="Refund", principal="-199.00")),
        ("finances-api-model/finances_2024-06-19.json", "Transaction",
         factory.make_transaction("702-1", sku="SKU-1", fba_fee="30.00", fee_detail="items", fee_tax=True)),
        ("sellers-api-model/sellers.json", "MarketplaceParticipation", factory.make_marketplace_participation()),
    ]
    for model_file, definition, obj in checks:
        assert errors(validator(spapi_models, model_file, definition), obj) == [], definition


def test_mexican_prices_include_iva():
    order = factory.make_order(items=[{"sku": "SKU-1", "quantity": 2, "unit_price": "199.00", "tax": "27.45"}],
                               shipping={"price": "99.00"}, promotion={"id": "MX-10", "discount": "20.00"})
    item = order["orderItems"][0]
    assert item["product"]["price"]["unitPrice"] == {"amount": "199.00", "currencyCode": "MXN"}
    # Amazon's reading: ITEM, SHIPPING and DISCOUNT without tax, TAX on top, all adding up to proceedsTotal.
    assert breakdown(item, "ITEM")["subtotal"]["amount"] == "343.10"  # 398.00 - 2 x 27.45
    assert breakdown(item, "SHIPPING")["subtotal"]["amount"] == "85.34"  # 99.00 - 13.66
    tax = breakdown(item, "TAX")
    # 2 x 27.45 + the IVA inside 99.00 of shipping (13.66) - the IVA inside the 20.00 promotion (2.76)
    assert tax["subtotal"]["amount"] == "65.80"
    assert {d["subtype"]: d["value"]["amount"] for d in tax["detailedBreakdowns"]} == {
        "ITEM": "54.90", "SHIPPING": "13.66", "DISCOUNT": "-2.76"}
    assert breakdown(item, "DISCOUNT")["subtotal"]["amount"] == "-17.24"
    # what the buyer paid: 398.00 + 99.00 - 20.00
    assert item["proceeds"]["proceedsTotal"]["amount"] == "477.00"
    assert sum(Decimal(b["subtotal"]["amount"]) for b in item["proceeds"]["breakdowns"]) == Decimal("477.00")
    assert order["proceeds"]["grandTotal"]["amount"] == "477.00"
    assert item["promotion"] == {"breakdowns": [{"promotionId": "MX-10"}]}


def test_tax_inside_item_reading():
    order = factory.make_order(items=[{"sku": "SKU-1", "quantity": 2, "unit_price": "199.00", "tax": "27.45"}],
                               shipping={"price": "99.00"}, promotion={"id": "MX-10", "discount": "20.00"},
                               tax_reading="inside")
    item = order["orderItems"][0]
    assert breakdown(item, "ITEM")["subtotal"]["amount"] == "398.00"
    assert breakdown(item, "TAX")["subtotal"]["amount"] == "65.80"  # reported, already inside the amounts
    assert breakdown(item, "DISCOUNT")["subtotal"]["amount"] == "-20.00"
    assert item["proceeds"]["proceedsTotal"]["amount"] == "477.00" == order["proceeds"]["grandTotal"]["amount"]
    with pytest.raises(ValueError, match="tax_reading"):
        factory.make_order(items=[{"sku": "A"}], tax_reading="sideways")


def test_delivery_tip_is_an_order_level_charge():
    order = factory.make_order(items=[{"sku": "A", "unit_price": "116.00"}], delivery_tip="20.00")
    assert order["proceeds"]["grandTotal"]["amount"] == "136.00"
    assert {"type": "DELIVERY_TIP", "status": "FINALIZED", "subtotal": {"amount": "20.00", "currencyCode": "MXN"}} \
        in order["proceeds"]["breakdowns"]


def test_default_tax_is_the_iva_inside_the_price_and_us_adds_tax():
    mx = factory.make_order(items=[{"sku": "S", "unit_price": "116.00"}])
    assert breakdown(mx["orderItems"][0], "TAX")["subtotal"]["amount"] == "16.00"
    us = factory.make_order(items=[{"sku": "S", "unit_price": "100.00", "tax": "8.25"}], marketplace_id="ATVPDKIKX0DER")
    assert us["orderItems"][0]["proceeds"]["proceedsTotal"] == {"amount": "108.25", "currencyCode": "USD"}
    assert us["salesChannel"]["marketplaceName"] == "Amazon.com"


def test_quantities_follow_the_status():
    shipped = factory.make_order(items=[{"sku": "A", "quantity": 3}], status="SHIPPED")
    assert shipped["orderItems"][0]["fulfillment"] == {"quantityFulfilled": 3, "quantityUnfulfilled": 0}
    assert shipped["packages"][0]["packageItems"][0]["quantity"] == 3
    partial = factory.make_order(items=[{"sku": "A", "quantity": 3, "shipped": 1}, {"sku": "B"}],
                                 status="PARTIALLY_SHIPPED")
    assert [i["fulfillment"]["quantityFulfilled"] for i in partial["orderItems"]] == [1, 0]
    assert [i["fulfillment"]["quantityUnfulfilled"] for i in partial["orderItems"]] == [2, 1]
    unshipped = factory.make_order(items=[{"sku": "A"}])
    assert "packages" not in unshipped


def test_cancellation_fba_privacy_and_gift():
    cancelled = factory.make_order(items=[{"sku": "A", "unit_price": "10"}], status="CANCELLED",
                                   cancellation={"by": "BUYER", "reason": "Ya no lo quiero"})
    item = cancelled["orderItems"][0]
    assert item["cancellation"]["cancellationExecution"] == {"cancelledBy": "BUYER", "cancelReason": "Ya no lo quiero"}
    assert item["cancellation"]["cancellationRequest"]["requester"] == "BUYER"
    assert item["proceeds"]["proceedsTotal"]["amount"] == "0.00"
    fba = factory.make_order(items=[{"sku": "A"}], fulfilled_by="AMAZON", status="SHIPPED")
    assert "buyerEmail" not in fba["buyer"] and "phone" not in fba["recipient"]["deliveryAddress"]
    assert "packages" not in fba  # Amazon gives packages of merchant-fulfilled orders only
    gift = factory.make_order(items=[{"sku": "A"}], gift_wrap={"price": "45.00", "message": "¡Felicidades!"})
    assert gift["orderItems"][0]["fulfillment"]["packing"]["giftOption"]["giftMessage"] == "¡Felicidades!"
    assert breakdown(gift["orderItems"][0], "GIFT_WRAP")["subtotal"]["amount"] == "38.79"  # 45.00 - IVA 6.21


def test_ids_times_and_bad_input():
    a = factory.make_order(items=[{"sku": "A"}], created="2026-01-05T10:00:00-06:00")
    b = factory.make_order(items=[{"sku": "A"}])
    assert a["orderId"] != b["orderId"]
    assert a["createdTime"] == "2026-01-05T16:00:00Z" == a["lastUpdatedTime"]
    same = factory.make_order("702-0000000-0000001", items=[{"sku": "A"}, {"sku": "B"}])
    again = factory.make_order("702-0000000-0000001", items=[{"sku": "A"}, {"sku": "B"}])
    assert [i["orderItemId"] for i in same["orderItems"]] == [i["orderItemId"] for i in again["orderItems"]]
    assert len({i["orderItemId"] for i in same["orderItems"]}) == 2
    with pytest.raises(ValueError, match="status"):
        factory.make_order(items=[{"sku": "A"}], status="DELIVERED")
    with pytest.raises(ValueError, match="shipped"):
        factory.make_order(items=[{"sku": "A", "quantity": 1, "shipped": 2}])
    with pytest.raises(ValueError):
        factory.make_order(items=[])


def test_listing_and_transaction_amounts():
    listing = factory.make_listing("SKU-9", price=249.5, quantity=7)
    assert listing["offers"][0]["price"] == {"amount": "249.50", "currencyCode": "MXN"}
    assert listing["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 7}]
    assert factory.make_listing("SKU-9", fulfillment="AFN")["fulfillmentAvailability"][0]["fulfillmentChannelCode"] \
        == "AMAZON_NA"
    txn = factory.make_transaction("702-1", principal="200.00", commission="30.00", withheld_tax="10.00")
    assert txn["totalAmount"] == {"currencyCode": "MXN", "currencyAmount": 160.0}
    sales = next(b for b in txn["breakdowns"] if b["breakdownType"] == "Sales")
    assert Decimal(str(sales["breakdownAmount"]["currencyAmount"])) == Decimal("200")
    assert factory.included_tax("199.00") == Decimal("27.45")


def test_transaction_fees_where_amazon_details_them():
    """fee_detail="items": the transaction level says only Expenses / AmazonFees, the item has the fees (each
    with its Base and Tax when fee_tax); "top": the item carries no breakdowns."""
    txn = factory.make_transaction("702-1", sku="SKU-1", commission="30.17", fba_fee="20.00", fee_detail="items",
                                   fee_tax=True)
    top_fees = txn["breakdowns"][1]
    assert top_fees["breakdownType"] == "Expenses"
    assert top_fees["breakdowns"][0]["breakdownType"] == "AmazonFees"
    assert top_fees["breakdowns"][0]["breakdowns"] == []
    item_fees = txn["items"][0]["breakdowns"][1]["breakdowns"][0]["breakdowns"]
    commission = item_fees[0]
    assert commission["breakdownType"] == "Commission"
    assert [(b["breakdownType"], b["breakdownAmount"]["currencyAmount"]) for b in commission["breakdowns"]] == [
        ("Base", -26.01), ("Tax", -4.16)]
    top_only = factory.make_transaction("702-1", sku="SKU-1", fee_detail="top")
    assert top_only["items"][0]["breakdowns"] == []
    assert top_only["breakdowns"][1]["breakdowns"][0]["breakdowns"], "fees detailed at the top"
