"""Invoice amounts read from Amazon's own numbers: every order example of Amazon's Orders 2026-01-01 model,
and the simulator's orders in both readings of TAX (on top of ITEM, inside it)."""
from decimal import Decimal

import pytest
from conftest import spapi_models_dir

from bind_amazon_connector.spapi.orders import parse_order
from bind_amazon_connector.utils import order_totals
from spapi_simulator import contract, factory

ORDERS_MODEL = "orders-api-model/orders_2026-01-01.json"
D = Decimal


def _lines_total(totals):
    return sum((p.gross for i in totals.items for p in i.parts), D(0)) + sum((p.gross for p in totals.extras), D(0))


def model_orders(spapi_models):
    spapi_models(ORDERS_MODEL)  # skips when the models are absent
    return contract.order_examples(spapi_models_dir())


def test_every_model_example_invoices_amazons_total(spapi_models):
    orders = model_orders(spapi_models)
    assert len(orders) >= 8, "Amazon's model lost order examples"
    for where, raw in orders:
        order = parse_order(raw)
        for prices_include_tax in (True, False):  # the marketplace's habit never changes Amazon's totals
            totals = order_totals.read_order(order, prices_include_tax)
            tip = sum((b.subtotal.amount for b in order.proceeds.breakdowns if b.type == "DELIVERY_TIP"), D(0))
            assert totals.invoice_total == order.grand_total.amount - tip, where
            assert _lines_total(totals) == totals.invoice_total, where
            for item in totals.items:
                assert sum((p.gross for p in item.parts), D(0)) == item.item.proceeds_total.amount, where


def test_model_example_with_tax_on_top_and_a_delivery_tip(spapi_models):
    # searchOrders example: item 1 is 2 x 49.99 = ITEM 99.98 + TAX 0.02 = 100.00; the order adds a 5.00 tip.
    raw = next(raw for _w, raw in model_orders(spapi_models) if raw["orderId"] == "123-4567890-1234567")
    totals = order_totals.read_order(parse_order(raw), prices_include_tax=False)
    first = totals.items[0]
    assert first.reading == order_totals.TAX_ON_TOP
    assert [(p.kind, p.gross, p.tax) for p in first.parts] == [("ITEM", D("100.00"), D("0.02"))]
    assert totals.not_invoiced == [("DELIVERY_TIP", D("5.00"))]
    assert totals.grand_total == D("154.99") and totals.invoice_total == D("149.99")
    assert totals.tax == D("0.02")


def test_model_example_tax_detailed_by_subtype(spapi_models):
    # getOrder example (UK, prices with VAT): ITEM 89.97 + SHIPPING 10.00 + TAX 4.00 (3.00 + 1.00) = 103.97.
    raw = next(raw for _w, raw in model_orders(spapi_models) if raw["orderId"] == "202-1234567-8901234")
    totals = order_totals.read_order(parse_order(raw), prices_include_tax=True)
    item = totals.items[0]
    assert item.reading == order_totals.TAX_ON_TOP
    assert [(p.kind, p.gross, p.tax) for p in item.parts] == [
        ("ITEM", D("92.97"), D("3.00")), ("SHIPPING", D("11.00"), D("1.00"))]
    assert totals.invoice_total == D("103.97") and totals.tax == D("4.00")


def _read(raw, prices_include_tax=True):
    return order_totals.read_order(parse_order(raw), prices_include_tax)


@pytest.mark.parametrize("tax_reading", ["on_top", "inside"])
def test_simulator_orders_in_both_readings(tax_reading):
    raw = factory.make_order(
        items=[{"sku": "A", "quantity": 2, "unit_price": "349.00"}, {"sku": "B", "quantity": 3, "unit_price": "33.33"}],
        shipping="99.00", gift_wrap={"price": "30.00"},
        promotion={"id": "BUENFIN", "discount": "50.00", "ship_discount": "99.00"}, tax_reading=tax_reading)
    totals = _read(raw)
    # What the buyer paid: 698.00 + 99.99 + 99.00 + 30.00 - 50.00 - 99.00.
    assert totals.invoice_total == totals.grand_total == D("777.99")
    assert D(raw["proceeds"]["grandTotal"]["amount"]) == D("777.99")
    first, second = totals.items
    assert first.reading == second.reading == tax_reading
    assert {p.kind: p.gross for p in first.parts} == {
        "ITEM": D("698.00"), "SHIPPING": D("99.00"), "GIFT_WRAP": D("30.00"),
        "DISCOUNT": D("-50.00"), "SHIPPING_DISCOUNT": D("-99.00")}
    assert first.part("ITEM").tax == D("96.28")
    assert _lines_total(totals) == D("777.99")
    # Amazon's IVA, per unit for 33.33: 4.60 x 3.
    assert second.tax == D("13.80")
    assert totals.tax == sum(D(b["subtotal"]["amount"]) for it in raw["orderItems"]
                             for b in it["proceeds"]["breakdowns"] if b["type"] == "TAX")


def test_factory_follows_amazon_tax_on_top_by_default():
    raw = factory.make_order(items=[{"sku": "A", "quantity": 2, "unit_price": "349.00"}])
    item = raw["orderItems"][0]["proceeds"]
    amounts = {b["type"]: b["subtotal"]["amount"] for b in item["breakdowns"]}
    assert amounts == {"ITEM": "601.72", "TAX": "96.28"}
    assert item["proceedsTotal"]["amount"] == "698.00" == raw["proceeds"]["grandTotal"]["amount"]


def test_inconsistent_item_is_not_guessed():
    raw = factory.make_order(items=[{"sku": "A", "quantity": 2, "unit_price": "349.00"}])
    raw["orderItems"][0]["proceeds"]["proceedsTotal"]["amount"] = "650.00"
    with pytest.raises(order_totals.Unreconciled) as caught:
        _read(raw)
    assert caught.value.expected == D("650.00") and caught.value.difference == D("-48.00")


def test_inconsistent_order_total_is_not_guessed():
    raw = factory.make_order(items=[{"sku": "A", "quantity": 1, "unit_price": "349.00"}])
    raw["proceeds"]["grandTotal"]["amount"] = "400.00"
    with pytest.raises(order_totals.Unreconciled) as caught:
        _read(raw)
    assert (caught.value.what, caught.value.expected, caught.value.computed) == ("order", D("400.00"), D("349.00"))


def test_a_cent_of_amazon_rounding_is_kept_apart():
    raw = factory.make_order(items=[{"sku": "A", "quantity": 1, "unit_price": "349.00"}])
    raw["orderItems"][0]["proceeds"]["proceedsTotal"]["amount"] = "349.01"
    raw["proceeds"]["grandTotal"]["amount"] = "349.01"
    totals = _read(raw)
    assert totals.invoice_total == D("349.01") and _lines_total(totals) == D("349.00")


def test_order_level_charge_gets_its_own_amount():
    raw = factory.make_order(items=[{"sku": "A", "quantity": 1, "unit_price": "349.00"}])
    raw["proceeds"]["breakdowns"].append({"type": "OTHER", "subtotal": {"amount": "20.00", "currencyCode": "MXN"}})
    raw["proceeds"]["grandTotal"]["amount"] = "369.00"
    totals = _read(raw)
    assert [(p.kind, p.gross) for p in totals.extras] == [("OTHER", D("20.00"))]
    assert totals.invoice_total == D("369.00") == _lines_total(totals)


def test_marketplace_facilitator_tax_is_not_invoiced():
    raw = factory.make_order(items=[{"sku": "A", "quantity": 1, "unit_price": "100.00", "tax": "8.25"}],
                             marketplace_id="ATVPDKIKX0DER")
    raw["orderItems"][0]["tax"] = {"taxCollections": [{"model": "MARKETPLACE_FACILITATOR",
                                                       "responsibleParty": "Amazon Services LLC"}]}
    totals = _read(raw, prices_include_tax=False)
    assert totals.grand_total == D("108.25") and totals.invoice_total == D("100.00")
    assert totals.not_invoiced == [("TAX", D("8.25"))] and totals.tax is None


def test_unit_price_is_amazons_when_it_gives_the_line():
    item = parse_order(factory.make_order(items=[{"sku": "A", "quantity": 3, "unit_price": "33.33"}])).items[0]
    assert order_totals.unit_price(item, D("99.99")) == D("33.33")
    assert order_totals.unit_price(item, D("100.00")) == D("33.333333")


def test_charge_on_an_item_ordered_zero_times_is_not_guessed():
    raw = factory.make_order(items=[{"sku": "A", "quantity": 1, "unit_price": "349.00"},
                                    {"sku": "B", "quantity": 1, "unit_price": "100.00"}])
    raw["orderItems"][1]["quantityOrdered"] = 0
    with pytest.raises(order_totals.Unreconciled) as caught:
        _read(raw)
    assert caught.value.what == "quantity" and caught.value.expected == D("100.00")
    # Nothing ordered and nothing charged: no line, no error.
    for breakdown in raw["orderItems"][1]["proceeds"]["breakdowns"]:
        breakdown["subtotal"]["amount"] = "0.00"
    raw["orderItems"][1]["proceeds"]["proceedsTotal"]["amount"] = "0.00"
    raw["proceeds"]["grandTotal"]["amount"] = "349.00"
    totals = _read(raw)
    assert totals.items[1].parts == [] and totals.invoice_total == D("349.00")
