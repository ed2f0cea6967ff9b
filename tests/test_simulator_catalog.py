"""Listings Items, FBA inventory, Finances and Sellers in the simulator."""
from datetime import timedelta

import pytest
from simulator_helpers import MX, authorized_session

from spapi_simulator import Simulator, factory

QTY = "/attributes/fulfillment_availability"


@pytest.fixture
def demo(demo_simulator):
    with authorized_session(demo_simulator) as http:
        yield demo_simulator, http


def items(sim, sku=None):
    base = f"{sim.url}/listings/2021-08-01/items/{sim.seller_id}"
    return f"{base}/{sku}" if sku else base


def patch_quantity(sim, http, sku, quantity, channel="DEFAULT", **params):
    return http.patch(items(sim, sku), params={"marketplaceIds": MX, **params}, json={
        "productType": "PRODUCT",
        "patches": [{"op": "replace", "path": QTY,
                     "value": [{"fulfillment_channel_code": channel, "quantity": quantity}]}]})


def test_get_listing_sections_and_errors(demo):
    sim, http = demo
    default = http.get(items(sim, "MX-TAZA-001"), params={"marketplaceIds": MX}).json()
    assert set(default) == {"sku", "summaries"}  # includedData defaults to summaries
    assert default["summaries"][0]["itemName"] == "Taza de cerámica Talavera 350 ml"
    full = http.get(items(sim, "MX-TAZA-001"), params={"marketplaceIds": MX,
                                                       "includedData": "offers,fulfillmentAvailability,attributes"})
    assert full.json()["offers"][0]["price"] == {"amount": "249.00", "currencyCode": "MXN"}
    assert full.json()["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 35}]
    assert http.get(items(sim, "NOPE"), params={"marketplaceIds": MX}).status_code == 404
    wrong_seller = http.get(f"{sim.url}/listings/2021-08-01/items/AOTHERSELLER/MX-TAZA-001",
                            params={"marketplaceIds": MX})
    assert wrong_seller.status_code == 403
    other_marketplace = http.get(items(sim, "MX-TAZA-001"), params={"marketplaceIds": "ATVPDKIKX0DER"}).json()
    assert other_marketplace["summaries"] == []


def test_patch_quantity(demo):
    sim, http = demo
    answer = patch_quantity(sim, http, "MX-TAZA-001", 7)
    assert answer.json()["status"] == "ACCEPTED" and answer.json()["issues"] == []
    assert sim.get_listing("MX-TAZA-001")["fulfillmentAvailability"][0]["quantity"] == 7
    zero = patch_quantity(sim, http, "MX-TAZA-001", 0)
    assert zero.json()["status"] == "ACCEPTED"
    assert "BUYABLE" not in sim.get_listing("MX-TAZA-001")["summaries"][0]["status"]
    preview = patch_quantity(sim, http, "MX-TAZA-001", 9, mode="VALIDATION_PREVIEW")
    assert preview.json()["status"] == "VALID"
    assert sim.get_listing("MX-TAZA-001")["fulfillmentAvailability"][0]["quantity"] == 0  # a preview changes nothing


@pytest.mark.parametrize("sku, quantity, channel, code", [
    ("MX-TAZA-001", -1, "DEFAULT", "90000900"),
    ("MX-TAZA-001", "5", "DEFAULT", "90000900"),
    ("MX-TAZA-001", 2.5, "DEFAULT", "90000900"),
    ("MX-MOCHILA-003", 5, "DEFAULT", "90000900"),  # FBA: Amazon manages the quantity
    ("NO-SUCH-SKU", 5, "DEFAULT", "4000001"),
])
def test_patch_rejections_are_invalid_with_issues(demo, sku, quantity, channel, code):
    sim, http = demo
    before = sim.get_listing("MX-TAZA-001")["fulfillmentAvailability"][0]["quantity"]
    answer = patch_quantity(sim, http, sku, quantity, channel)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "INVALID"
    assert body["issues"][0]["code"] == code and body["issues"][0]["severity"] == "ERROR"
    assert sim.get_listing("MX-TAZA-001")["fulfillmentAvailability"][0]["quantity"] == before


def test_patch_price(demo):
    sim, http = demo
    answer = http.patch(items(sim, "MX-TERMO-002"), params={"marketplaceIds": MX}, json={
        "productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/purchasable_offer", "value": [
            {"marketplace_id": MX, "currency": "MXN", "our_price": [{"schedule": [{"value_with_tax": 429.5}]}]}]}]})
    assert answer.json()["status"] == "ACCEPTED"
    assert sim.get_listing("MX-TERMO-002")["offers"][0]["price"]["amount"] == "429.50"


def test_search_listings(demo):
    sim, http = demo
    skus, token = [], None
    while True:
        params = {"marketplaceIds": MX, "pageSize": 3, "sortBy": "sku", "sortOrder": "ASC"}
        page = http.get(items(sim), params={**params, **({"pageToken": token} if token else {})}).json()
        assert page["numberOfResults"] == 10
        skus += [i["sku"] for i in page["items"]]
        token = (page.get("pagination") or {}).get("nextToken")
        if not token:
            break
    assert skus == sorted(skus) and len(skus) == 10
    by_sku = http.get(items(sim), params={"marketplaceIds": MX, "identifiers": "MX-CAFE-005,MX-LIBRO-010",
                                          "identifiersType": "SKU"}).json()
    assert sorted(i["sku"] for i in by_sku["items"]) == ["MX-CAFE-005", "MX-LIBRO-010"]
    sim.advance(1)  # stay inside the 5 requests/second plan
    inactive = http.get(items(sim), params={"marketplaceIds": MX, "withoutStatus": "BUYABLE"}).json()
    assert [i["sku"] for i in inactive["items"]] == ["MX-SARTEN-006"]
    assert http.get(items(sim), params={"marketplaceIds": MX, "pageSize": 21}).status_code == 400
    assert http.get(items(sim), params={"marketplaceIds": MX, "identifiers": "X"}).status_code == 400


def test_inventory_summaries_pages_and_filters(simulator, sim_http):
    for n in range(7):
        simulator.add_inventory(sku=f"FBA-{n}", fulfillable=n,
                                updated=simulator.now() - timedelta(days=1 if n < 5 else 0, hours=1))
    simulator.page_sizes["getInventorySummaries"] = 3
    url = simulator.url + "/fba/inventory/v1/summaries"
    params = {"granularityType": "Marketplace", "granularityId": MX, "marketplaceIds": MX}
    seen, token = [], None
    while True:
        simulator.advance(1)  # stay inside the 2 requests/second plan
        page = sim_http.get(url, params={**params, **({"nextToken": token} if token else {})}).json()
        seen += page["payload"]["inventorySummaries"]
        token = (page.get("pagination") or {}).get("nextToken")
        if not token:
            break
    assert [s["sellerSku"] for s in seen] == [f"FBA-{n}" for n in range(7)]
    assert "inventoryDetails" not in seen[0]  # details=false by default
    simulator.advance(1)
    detailed = sim_http.get(url, params={**params, "details": "true", "sellerSkus": "FBA-3"}).json()
    summary = detailed["payload"]["inventorySummaries"]
    assert [s["sellerSku"] for s in summary] == ["FBA-3"]
    assert summary[0]["inventoryDetails"]["fulfillableQuantity"] == 3
    simulator.advance(1)
    changed = sim_http.get(url, params={**params, "startDateTime": factory.iso(simulator.now() - timedelta(hours=6)),
                                        "sellerSkus": "FBA-0"}).json()
    assert [s["sellerSku"] for s in changed["payload"]["inventorySummaries"]] == ["FBA-5", "FBA-6"]


def test_transactions(simulator, sim_http):
    now = simulator.now()
    for n in range(5):
        simulator.add_transaction(order_id=f"702-000000{n}-0000000", posted=now - timedelta(days=n + 1),
                                  sku="SKU-1", transaction_id=f"T{n}")
    simulator.add_transaction(order_id="702-X", posted=now - timedelta(days=200), transaction_id="OLD")
    simulator.page_sizes["listTransactions"] = 2
    url = simulator.url + "/finances/2024-06-19/transactions"
    after = factory.iso(now - timedelta(days=30))
    seen, token = [], None
    while True:
        page = sim_http.get(url, params={"postedAfter": after, **({"nextToken": token} if token else {})}).json()
        seen += [t["transactionId"] for t in page["payload"]["transactions"]]
        token = page["payload"].get("nextToken")
        if not token:
            break
    assert seen == ["T4", "T3", "T2", "T1", "T0"]  # oldest first
    by_order = sim_http.get(url, params={"relatedIdentifierName": "ORDER_ID",
                                         "relatedIdentifierValue": "702-0000002-0000000"}).json()
    assert [t["transactionId"] for t in by_order["payload"]["transactions"]] == ["T2"]
    assert sim_http.get(url, params={"postedAfter": factory.iso(now - timedelta(days=1, hours=12)),
                                     "marketplaceId": "ATVPDKIKX0DER"}).json()["payload"]["transactions"] == []
    for params in ({}, {"postedAfter": factory.iso(now)},
                   {"postedAfter": after, "postedBefore": factory.iso(now - timedelta(seconds=30))}):
        assert sim_http.get(url, params=params).status_code == 400


def test_marketplace_participations(demo):
    sim, http = demo
    payload = http.get(sim.url + "/sellers/v1/marketplaceParticipations").json()["payload"]
    assert payload == [{"marketplace": {"id": MX, "name": "Amazon.com.mx", "countryCode": "MX",
                                        "defaultCurrencyCode": "MXN", "defaultLanguageCode": "es_MX",
                                        "domainName": "www.amazon.com.mx"},
                        "participation": {"isParticipating": True, "hasSuspendedListings": False},
                        "storeName": "Artesanías y Hogar Demo"}]


def test_scenario_objects_are_checked_on_the_way_in(simulator, spapi_models):
    if not simulator.validating:  # spapi_models fails in strict mode when the models are absent
        pytest.skip("Amazon's SP-API models are absent: the simulator cannot check scenario objects.")
    bad = factory.make_listing("SKU-BAD")
    bad["summaries"][0]["status"] = ["ON_SALE"]
    with pytest.raises(ValueError, match="ON_SALE"):
        simulator.add_listing(item=bad)
    with pytest.raises(ValueError):
        Simulator({"orders": [{**factory.make_order(items=[{"sku": "A"}]), "createdTime": "yesterday"}]})
