"""How Amazon's Finances 2024-06-19 transactions are split into sales, refunds, fees and withholdings: every
transaction example of Amazon's model replayed, and the shapes real answers take (fees detailed only in the
items, at both levels, nested deeper, parents that their children explain only in part)."""
from decimal import Decimal

from bind_amazon_connector.spapi.finances import parse_transaction
from bind_amazon_connector.utils.settlement import classify_transaction

MODEL = "finances-api-model/finances_2024-06-19.json"


def model_transactions(model):
    """Every ``Transaction`` example of the model: the definition's example and the sandbox answers'."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "transactionType" in node and "totalAmount" in node:
                found.append(node)
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(model["definitions"]["Transaction"].get("example"))
    for operations in model["paths"].values():
        for op in operations.values():
            for response in op.get("responses", {}).values():
                walk(response.get("x-amzn-api-sandbox"))
                walk(response.get("examples"))
    return found


def bd(kind, amount, children=()):
    return {"breakdownType": kind, "breakdownAmount": {"currencyCode": "MXN", "currencyAmount": amount},
            "breakdowns": list(children)}


def item(sku, quantity, breakdowns, ref=None):
    return {"description": sku, "breakdowns": list(breakdowns),
            "relatedIdentifiers": [{"itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                                    "itemRelatedIdentifierValue": ref or f"OAI-{sku}"}],
            "contexts": [{"contextType": "ProductContext", "sku": sku, "quantityShipped": quantity}]}


def txn(ttype, total, breakdowns=(), items=()):
    return parse_transaction({
        "transactionType": ttype, "transactionId": "T1", "transactionStatus": "RELEASED",
        "postedDate": "2026-01-10T10:00:00Z", "totalAmount": {"currencyCode": "MXN", "currencyAmount": total},
        "marketplaceDetails": {"marketplaceId": "A1AM78C64UM0Y8"}, "breakdowns": list(breakdowns),
        "items": list(items),
    })


def summed(parts):
    return sum((p["amount"] for p in parts), Decimal(0))


def fees(parts):
    return sorted((p["amazon_type"], p["sku"], float(p["amount"]), float(p["tax_amount"]))
                  for p in parts if p["category"] == "fee")


def test_every_transaction_example_of_amazons_model(spapi_models):
    model = spapi_models(MODEL)
    examples = model_transactions(model)
    assert len(examples) >= 2, "the definition's example and the sandbox's"
    for example in examples:
        parsed = parse_transaction(example)
        parts = classify_transaction(parsed)
        # nothing counted twice or lost: the parts add up to Amazon's total, none is explained twice
        assert summed(parts) == parsed.total_amount.amount, (example, parts)
        assert all(p["amount"] for p in parts)
    defined = classify_transaction(parse_transaction(model["definitions"]["Transaction"]["example"]))
    # the same 10.00 at the transaction (Sales) and item level (Product Charges): once, with the item's SKU
    assert [(p["category"], float(p["amount"]), p["sku"], p["quantity"]) for p in defined] == [
        ("sale", 10.0, "sku-12", 1)]


def test_fees_detailed_only_in_the_items():
    """Real answers: the transaction says Expenses / AmazonFees, the items say which fees."""
    parts = classify_transaction(txn("Shipment", 300.0, [
        bd("Sales", 464.0), bd("Expenses", -164.0, [bd("AmazonFees", -164.0)]),
    ], [
        item("MOLCAJETE-GDE", 1, [bd("Sales", 348.0), bd("Expenses", -112.2, [bd("AmazonFees", -112.2, [
            bd("Commission", -52.2, [bd("Base", -45.0), bd("Tax", -7.2)]),
            bd("FBAPerUnitFulfillmentFee", -60.0, [bd("Base", -51.72), bd("Tax", -8.28)])])])]),
        item("REBOZO-SEDA-AZ", 2, [bd("Sales", 116.0), bd("Expenses", -51.8, [bd("AmazonFees", -51.8, [
            bd("Commission", -17.4, [bd("Base", -15.0), bd("Tax", -2.4)]), bd("ShippingHB", -34.4)])])]),
    ]))
    assert summed(parts) == Decimal("300.0")
    assert fees(parts) == [
        ("Commission", "MOLCAJETE-GDE", -52.2, -7.2), ("Commission", "REBOZO-SEDA-AZ", -17.4, -2.4),
        ("FBAPerUnitFulfillmentFee", "MOLCAJETE-GDE", -60.0, -8.28), ("ShippingHB", "REBOZO-SEDA-AZ", -34.4, 0.0)]
    assert not [p for p in parts if p["category"] == "unknown"], "no fee is left in suspense"
    assert {(p["sku"], float(p["amount"])) for p in parts if p["category"] == "sale"} == {
        ("MOLCAJETE-GDE", 348.0), ("REBOZO-SEDA-AZ", 116.0)}


def test_fees_detailed_at_both_levels_are_counted_once():
    detail = [bd("Sales", 116.0), bd("Expenses", -34.8, [bd("AmazonFees", -34.8, [
        bd("Commission", -17.4), bd("FBAPerUnitFulfillmentFee", -17.4)])])]
    parts = classify_transaction(txn("Shipment", 81.2, detail, [item("TAZA", 1, detail)]))
    assert summed(parts) == Decimal("81.2")
    assert fees(parts) == [("Commission", "TAZA", -17.4, 0.0), ("FBAPerUnitFulfillmentFee", "TAZA", -17.4, 0.0)]


def test_items_detail_one_level_lower_and_deeper_nesting():
    """The items start at AmazonFees (no Expenses level) and nest a fee group further down."""
    parts = classify_transaction(txn("Shipment", 50.0, [bd("Sales", 100.0), bd("Expenses", -50.0, [
        bd("AmazonFees", -50.0)])], [item("TAZA", 1, [bd("AmazonFees", -50.0, [
            bd("FBAFees", -30.0, [bd("FBAPickAndPackFee", -20.0), bd("FBAWeightBasedFee", -10.0)]),
            bd("Commission", -20.0)])])]))
    assert summed(parts) == Decimal("50.0")
    assert [p[0] for p in fees(parts)] == ["Commission", "FBAPickAndPackFee", "FBAWeightBasedFee"]


def test_a_parent_its_children_explain_in_part_keeps_the_rest():
    parts = classify_transaction(txn("Shipment", 70.0, [bd("Sales", 100.0), bd("Expenses", -30.0, [
        bd("AmazonFees", -30.0, [bd("Commission", -20.0)])])]))
    assert summed(parts) == Decimal("70.0")
    assert fees(parts) == [("AmazonFees", None, -10.0, 0.0), ("Commission", None, -20.0, 0.0)]


def test_items_that_do_not_add_up_to_the_top_level_are_not_used():
    parts = classify_transaction(txn("Shipment", 80.0, [bd("Sales", 100.0), bd("Expenses", -20.0, [
        bd("AmazonFees", -20.0)])], [item("TAZA", 1, [bd("Expenses", -25.0, [bd("Commission", -25.0)])])]))
    assert summed(parts) == Decimal("80.0")
    assert fees(parts) == [("AmazonFees", "TAZA", -20.0, 0.0)], "Amazon's transaction level is the truth"


def test_refund_lines_by_product_and_charge():
    parts = classify_transaction(txn("Refund", -290.0, [], [
        item("MOLCAJETE-GDE", 1, [bd("Sales", -290.0, [bd("ProductCharges", -232.0, [
            bd("OurPricePrincipal", -200.0), bd("OurPriceTax", -32.0)]), bd("Shipping", -58.0)])])]))
    assert summed(parts) == Decimal("-290.0")
    lines = sorted((p["category"], p["sku"], p["quantity"], p["charge"], float(p["amount"])) for p in parts)
    assert lines == [("refund", "MOLCAJETE-GDE", 1, "product", -232.0),
                     ("refund", "MOLCAJETE-GDE", 1, "shipping", -58.0)]
    product = next(p for p in parts if p["charge"] == "product")
    assert product["item_ref"] == "OAI-MOLCAJETE-GDE"


def test_unknown_leaf_alone_goes_to_suspense():
    parts = classify_transaction(txn("Shipment", 90.0, [bd("Sales", 100.0), bd("Expenses", -10.0, [
        bd("AmazonFees", -10.0, [bd("Commission", -7.0), bd("MysteryFee", -3.0)])])]))
    assert fees(parts) == [("Commission", None, -7.0, 0.0), ("MysteryFee", None, -3.0, 0.0)]
    assert summed(parts) == Decimal("90.0")


def test_fee_transaction_split_only_into_base_and_tax():
    """A monthly subscription: Amazon gives the base and the IVA, the description says which fee."""
    t = parse_transaction({
        "transactionType": "ServiceFee", "transactionId": "T2", "description": "Subscription Fee",
        "totalAmount": {"currencyCode": "MXN", "currencyAmount": -696.0},
        "breakdowns": [bd("Base", -600.0), bd("Tax", -96.0)]})
    parts = classify_transaction(t)
    assert [(p["category"], p["amazon_type"], float(p["amount"]), float(p["tax_amount"]), p["has_tax"])
            for p in parts] == [("fee", "Subscription Fee", -696.0, -96.0, True)]
    grouped = parse_transaction({
        "transactionType": "ServiceFee", "transactionId": "T3", "description": "Subscription Fee",
        "totalAmount": {"currencyCode": "MXN", "currencyAmount": -696.0},
        "breakdowns": [bd("Expenses", -696.0, [bd("Base", -600.0), bd("Tax", -96.0)])]})
    assert fees(classify_transaction(grouped)) == [("Subscription Fee", None, -696.0, -96.0)]
    beside = parse_transaction({
        "transactionType": "ServiceFee", "transactionId": "T4", "description": "Subscription Fee",
        "totalAmount": {"currencyCode": "MXN", "currencyAmount": -696.0},
        "breakdowns": [bd("Subscription", -600.0), bd("Tax", -96.0)]})
    assert fees(classify_transaction(beside)) == [("Subscription", None, -696.0, -96.0)]
