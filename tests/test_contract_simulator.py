"""Every answer of the simulator is what Amazon's model documents, and broken requests are caught.

The answers are checked twice: by the simulator itself (``contract_violations`` stays empty) and here,
independently, with a plain Draft4Validator built from the model file.
"""
from datetime import timedelta

import pytest
import requests
from simulator_helpers import MX, assert_valid, authorized_session

from spapi_simulator import Simulator, factory
from spapi_simulator.contract import OPERATIONS

ALL_ORDER_DATA = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT," \
                 "FULFILLMENT_ORDERS"
ALL_LISTING_DATA = "summaries,attributes,issues,offers,fulfillmentAvailability,procurement,relationships,productTypes"
ORDER_ID = "701-4000002-7000274"  # a shipped order of the demo scenario
QUANTITY_3 = {"op": "replace", "path": "/attributes/fulfillment_availability",
              "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}]}


def items_path(sim, sku=None):
    base = f"{sim.url}/listings/2021-08-01/items/{sim.seller_id}"
    return f"{base}/{sku}" if sku else base


def confirm_shipment(sim, http):
    """Ship one unit of an unshipped merchant-fulfilled order of the demo seller."""
    entry = next(e for e in sim.state.orders.values() if e.status == "UNSHIPPED" and e.fulfilled_by == "MERCHANT")
    item = entry.order()["orderItems"][0]
    return http.post(f"{sim.url}/orders/v0/orders/{entry.order_id}/shipmentConfirmation", json={
        "marketplaceId": MX, "packageDetail": {
            "packageReferenceId": "1", "carrierCode": "Estafeta", "trackingNumber": "8055123456",
            "shipDate": "2026-03-01T18:00:00Z", "orderItems": [{"orderItemId": item["orderItemId"], "quantity": 1}]}})


def report_flow(sim, http):
    report_id = http.post(f"{sim.url}/reports/2021-06-30/reports", json={
        "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [MX]}).json()["reportId"]
    for _ in range(3):
        report = http.get(f"{sim.url}/reports/2021-06-30/reports/{report_id}").json()
    return report


#: One successful call of every operation the simulator serves (against the demo seller).
CALLS = {
    "searchOrders": lambda sim, http: http.get(f"{sim.url}/orders/2026-01-01/orders", params={
        "lastUpdatedAfter": "2020-01-01T00:00:00Z", "includedData": ALL_ORDER_DATA, "marketplaceIds": MX}),
    "getOrder": lambda sim, http: http.get(f"{sim.url}/orders/2026-01-01/orders/{ORDER_ID}",
                                           params={"includedData": ALL_ORDER_DATA}),
    "getListingsItem": lambda sim, http: http.get(items_path(sim, "MX-TAZA-001"), params={
        "marketplaceIds": MX, "includedData": ALL_LISTING_DATA}),
    "patchListingsItem": lambda sim, http: http.patch(items_path(sim, "MX-TAZA-001"), params={"marketplaceIds": MX},
                                                      json={"productType": "PRODUCT", "patches": [QUANTITY_3]}),
    "searchListingsItems": lambda sim, http: http.get(items_path(sim), params={
        "marketplaceIds": MX, "includedData": ALL_LISTING_DATA, "pageSize": 5}),
    "getInventorySummaries": lambda sim, http: http.get(f"{sim.url}/fba/inventory/v1/summaries", params={
        "granularityType": "Marketplace", "granularityId": MX, "marketplaceIds": MX, "details": "true"}),
    "listTransactions": lambda sim, http: http.get(f"{sim.url}/finances/2024-06-19/transactions", params={
        "postedAfter": (sim.now() - timedelta(days=60)).isoformat()}),
    "createReport": lambda sim, http: http.post(f"{sim.url}/reports/2021-06-30/reports", json={
        "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", "marketplaceIds": [MX],
        "dataStartTime": "2020-01-01T00:00:00Z"}),
    "getReports": lambda sim, http: (report_flow(sim, http), http.get(f"{sim.url}/reports/2021-06-30/reports", params={
        "reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA,GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"}))[1],
    "getReport": lambda sim, http: http.get(f"{sim.url}/reports/2021-06-30/reports/" + http.post(
        f"{sim.url}/reports/2021-06-30/reports", json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA",
                                                       "marketplaceIds": [MX]}).json()["reportId"]),
    "cancelReport": lambda sim, http: http.delete(f"{sim.url}/reports/2021-06-30/reports/" + http.post(
        f"{sim.url}/reports/2021-06-30/reports", json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA",
                                                       "marketplaceIds": [MX]}).json()["reportId"]),
    "getReportDocument": lambda sim, http: http.get(
        f"{sim.url}/reports/2021-06-30/documents/{report_flow(sim, http)['reportDocumentId']}"),
    "getMarketplaceParticipations": lambda sim, http: http.get(f"{sim.url}/sellers/v1/marketplaceParticipations"),
    "createRestrictedDataToken": lambda sim, http: http.post(f"{sim.url}/tokens/2021-03-01/restrictedDataToken", json={
        "restrictedResources": [{"method": "GET", "path": "/orders/2026-01-01/orders"}]}),
    "confirmShipment": confirm_shipment,
}


def test_every_served_operation_has_a_call():
    assert set(CALLS) == set(OPERATIONS)


@pytest.fixture
def demo(spapi_models):
    with Simulator("demo", speed=1000) as sim, authorized_session(sim) as http:
        assert sim.validating
        sim.report_queue_seconds = 3600  # reports move on polls only: cancelReport can catch one IN_QUEUE
        yield sim, http


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_every_answer_validates(spapi_models, demo, operation):
    sim, http = demo
    answer = CALLS[operation](sim, http)
    assert 200 <= answer.status_code < 300, answer.text
    assert answer.headers["x-amzn-RateLimit-Limit"]
    assert answer.headers["x-amzn-RequestId"]
    if operation in ("cancelReport", "confirmShipment"):
        assert answer.content == b""  # the model documents no body for it
    else:
        assert_valid(spapi_models, operation, answer)
    assert sim.contract_violations == []
    assert sim.requests[-1].operation == operation


def test_every_answer_carries_data(demo):
    """The answers validated above are not empty shells."""
    sim, http = demo
    assert len(CALLS["searchOrders"](sim, http).json()["orders"]) == 15
    assert CALLS["getOrder"](sim, http).json()["order"]["packages"]
    assert CALLS["getInventorySummaries"](sim, http).json()["payload"]["inventorySummaries"]
    assert len(CALLS["listTransactions"](sim, http).json()["payload"]["transactions"]) == 7
    reports = CALLS["getReports"](sim, http).json()["reports"]
    assert {r["reportType"] for r in reports} == {"GET_MERCHANT_LISTINGS_ALL_DATA",
                                                  "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"}
    assert CALLS["patchListingsItem"](sim, http).json()["status"] == "ACCEPTED"


@pytest.mark.parametrize("status_case", ["400", "403", "404", "429"])
def test_error_answers_validate(spapi_models, demo, status_case):
    sim, http = demo
    if status_case == "400":
        answer = http.get(f"{sim.url}/orders/2026-01-01/orders", params={"createdAfter": "2020-01-01T00:00:00Z",
                                                                        "lastUpdatedAfter": "2020-01-01T00:00:00Z"})
        operation = "searchOrders"
    elif status_case == "403":
        answer = requests.get(items_path(sim, "MX-TAZA-001"), params={"marketplaceIds": MX}, timeout=5)
        operation = "getListingsItem"
    elif status_case == "404":
        answer = http.get(f"{sim.url}/reports/2021-06-30/documents/nope")
        operation = "getReportDocument"
    else:
        sim.speed = 1.0
        url = f"{sim.url}/fba/inventory/v1/summaries"
        params = {"granularityType": "Marketplace", "granularityId": MX, "marketplaceIds": MX}
        answers = [http.get(url, params=params) for _ in range(3)]
        answer = answers[-1]
        operation = "getInventorySummaries"
    assert answer.status_code == int(status_case)
    assert_valid(spapi_models, operation, answer)


BROKEN_REQUESTS = [
    ("missing required marketplaceIds", "getListingsItem",
     lambda sim, http: http.get(items_path(sim, "MX-TAZA-001")), "marketplaceIds"),
    ("bad includedData enum", "searchOrders",
     lambda sim, http: http.get(f"{sim.url}/orders/2026-01-01/orders", params={
         "lastUpdatedAfter": "2020-01-01T00:00:00Z", "includedData": "BUYERS"}), "BUYERS"),
    ("integer parameter that is not one", "searchOrders",
     lambda sim, http: http.get(f"{sim.url}/orders/2026-01-01/orders", params={
         "lastUpdatedAfter": "2020-01-01T00:00:00Z", "maxResultsPerPage": "many"}), "maxResultsPerPage"),
    ("date-time that is not one", "searchOrders",
     lambda sim, http: http.get(f"{sim.url}/orders/2026-01-01/orders", params={
         "lastUpdatedAfter": "yesterday"}), "date-time"),
    ("body without required marketplaceIds", "createReport",
     lambda sim, http: http.post(f"{sim.url}/reports/2021-06-30/reports", json={
         "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA"}), "marketplaceIds"),
    ("patch body of the wrong shape", "patchListingsItem",
     lambda sim, http: http.patch(items_path(sim, "MX-TAZA-001"), params={"marketplaceIds": MX}, json={
         "productType": "PRODUCT", "patches": {"op": "replace"}}), "patches"),
    ("bad enum in a patch operation", "patchListingsItem",
     lambda sim, http: http.patch(items_path(sim, "MX-TAZA-001"), params={"marketplaceIds": MX}, json={
         "productType": "PRODUCT", "patches": [{"op": "set", "path": "/attributes/x", "value": [{}]}]}), "'set'"),
    ("granularityType outside its enum", "getInventorySummaries",
     lambda sim, http: http.get(f"{sim.url}/fba/inventory/v1/summaries", params={
         "granularityType": "Country", "granularityId": MX, "marketplaceIds": MX}), "Country"),
    ("two marketplaces where the model allows one", "getInventorySummaries",
     lambda sim, http: http.get(f"{sim.url}/fba/inventory/v1/summaries", params={
         "granularityType": "Marketplace", "granularityId": MX, "marketplaceIds": f"{MX},ATVPDKIKX0DER"}), "too long"),
    ("rule stated in the model's description", "searchOrders",
     lambda sim, http: http.get(f"{sim.url}/orders/2026-01-01/orders", params={
         "createdAfter": "2020-01-01T00:00:00Z", "lastUpdatedAfter": "2020-01-01T00:00:00Z"}), "Exactly one"),
    ("nextToken with other getReports parameters", "getReports",
     lambda sim, http: http.get(f"{sim.url}/reports/2021-06-30/reports", params={
         "nextToken": "abc", "reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA"}), "only parameter"),
]


@pytest.mark.parametrize("case", BROKEN_REQUESTS, ids=[c[0] for c in BROKEN_REQUESTS])
def test_broken_requests_are_contract_violations(spapi_models, demo, case):
    _name, operation, send, needle = case
    sim, http = demo
    answer = send(sim, http)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "InvalidInput"
    assert_valid(spapi_models, operation, answer)
    assert len(sim.contract_violations) >= 1
    assert all(v.startswith(f"request {operation} ") for v in sim.contract_violations)
    assert any(needle in v for v in sim.contract_violations), sim.contract_violations


def test_a_response_that_breaks_the_model_is_refused_loudly(demo):
    """The response check can fail: a stored order without its required salesChannel is not served."""
    sim, http = demo
    order = factory.make_order("702-9999999-0000001", items=[{"sku": "X"}])
    del order["salesChannel"]
    with pytest.raises(ValueError, match="salesChannel"):
        sim.add_order(order)  # the data API refuses it ...
    sim.state.put_order(order)  # ... so force it in, as a simulator bug would
    answer = http.get(f"{sim.url}/orders/2026-01-01/orders/702-9999999-0000001")
    assert answer.status_code == 500
    assert answer.json()["errors"][0]["code"] == "InternalFailure"
    assert any(v.startswith("response getOrder 200:") and "salesChannel" in v for v in sim.contract_violations)


def test_without_models_the_simulator_serves_unvalidated(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAPI_MODELS", str(tmp_path))
    monkeypatch.setattr("spapi_simulator.contract.find_models_dir", lambda explicit=None: None)
    monkeypatch.setattr("spapi_simulator.server.find_models_dir", lambda explicit=None: None)
    with pytest.warns(UserWarning, match="without validating"):
        sim = Simulator()
    with sim, authorized_session(sim) as http:
        assert not sim.validating
        answer = http.get(f"{sim.url}/orders/2026-01-01/orders", params={"lastUpdatedAfter": "2020-01-01T00:00:00Z",
                                                                        "includedData": "NOT_A_SECTION"})
        assert answer.status_code == 200
        assert answer.json()["orders"] == []
        assert sim.contract_violations == []
