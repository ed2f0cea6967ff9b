"""Bundled and generated scenarios, and the command line."""
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
import requests
from jsonschema import Draft4Validator
from simulator_helpers import MX, authorized_session

from spapi_simulator import LazyOrder, Simulator, factory, generate_scenario
from spapi_simulator.scenario import SCENARIOS_DIR, load_scenario

REPO = Path(__file__).resolve().parents[1]


def test_demo_scenario_is_model_valid_and_recent(spapi_models):
    sim = Simulator("demo")
    checks = [("orders-api-model/orders_2026-01-01.json", "Order", [e.order() for e in sim.state.orders.values()]),
              ("listings-items-api-model/listingsItems_2021-08-01.json", "Item", list(sim.state.listings.values())),
              ("fba-inventory-api-model/fbaInventory.json", "InventorySummary", list(sim.state.inventory.values())),
              ("finances-api-model/finances_2024-06-19.json", "Transaction", [e.txn() for e in sim.state.transactions])]
    for model_file, definition, objects in checks:
        model = spapi_models(model_file)
        validator = Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": model["definitions"]})
        for obj in objects:
            assert list(validator.iter_errors(obj)) == [], (definition, obj)
    orders = [e.order() for e in sim.state.orders.values()]
    statuses = {o["fulfillment"]["fulfillmentStatus"] for o in orders}
    assert statuses == {"UNSHIPPED", "SHIPPED", "CANCELLED", "PARTIALLY_SHIPPED", "PENDING"}
    assert {o["fulfillment"]["fulfilledBy"] for o in orders} == {"MERCHANT", "AMAZON"}
    assert any(i.get("promotion") for o in orders for i in o["orderItems"])
    assert any(o.get("packages") for o in orders)
    channels = {i["fulfillmentAvailability"][0]["fulfillmentChannelCode"] for i in sim.state.listings.values()}
    assert channels == {"DEFAULT", "AMAZON_NA"}
    # time_base moves the data: the newest order is from shortly before the simulator started
    newest = max(e.created for e in sim.state.orders.values())
    assert timedelta(0) < sim.now() - datetime.fromtimestamp(newest, timezone.utc) < timedelta(hours=4)


def test_scenario_files_and_names():
    assert load_scenario("demo") == json.loads((SCENARIOS_DIR / "demo.json").read_text(encoding="utf-8"))
    assert load_scenario(SCENARIOS_DIR / "demo.json")["seller_id"] == "A3SIMSELLER0001"
    assert load_scenario(None) == {}
    with pytest.raises(FileNotFoundError):
        load_scenario("no-such-scenario")


def test_scenario_of_keyword_entries(tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps({
        "seller_id": "A1OTHERSELLER", "store_name": "Otra",
        "listings": [{"sku": "S-1", "price": "10.00"}],
        "orders": [{"order_id": "702-1111111-1111111", "items": [{"sku": "S-1", "unit_price": "10.00"}]}],
        "reports": {"outcomes": {"GET_MERCHANT_LISTINGS_ALL_DATA": "FATAL"}},
    }), encoding="utf-8")
    sim = Simulator(str(path))
    assert sim.seller_id == "A1OTHERSELLER"
    assert sim.get_order("702-1111111-1111111")["orderItems"][0]["product"]["sellerSku"] == "S-1"
    assert sim.state.report_outcomes == {"GET_MERCHANT_LISTINGS_ALL_DATA": "FATAL"}


def test_generated_scenario_buyers_vary_and_buy_again_without_changing_the_orders():
    now = "2026-06-01T12:00:00Z"
    plain = generate_scenario(n_orders=300, n_listings=30, seed=7, now=now)
    varied = generate_scenario(n_orders=300, n_listings=30, seed=7, now=now, buyers=200)
    emails = Counter(o.build().get("buyer", {}).get("buyerEmail") for o in varied["orders"]
                     if o.fulfilled_by == "MERCHANT")
    assert len(emails) > 100, "many buyers"
    assert max(emails.values()) > 1, "some buy again"
    assert {o.build()["buyer"]["buyerName"] for o in plain["orders"]} == {factory.DEFAULT_BUYER["name"]}
    order = varied["orders"][42].build()
    assert order["recipient"]["deliveryAddress"]["countryCode"] == "MX"
    # the same orders otherwise: benchmarks keep their scenario
    assert [(o.order_id, o.status) for o in plain["orders"]] == [(o.order_id, o.status) for o in varied["orders"]]
    assert order["orderItems"] == plain["orders"][42].build()["orderItems"]


def test_generated_scenario_is_deterministic_lazy_and_fast():
    now = "2026-06-01T12:00:00Z"
    one = generate_scenario(n_orders=300, n_listings=30, seed=7, now=now)
    two = generate_scenario(n_orders=300, n_listings=30, seed=7, now=now)
    assert [o.order_id for o in one["orders"]] == [o.order_id for o in two["orders"]]
    assert one["orders"][42].build() == two["orders"][42].build()
    assert generate_scenario(n_orders=300, n_listings=30, seed=8, now=now)["orders"][42].order_id \
        != one["orders"][42].order_id
    assert all(isinstance(o, LazyOrder) for o in one["orders"])
    # fast = lazy: generating and loading builds no order or transaction and checks none against the model
    # (counted, not timed: a loaded machine must not fail this)
    built, checked = Counter(), Counter()

    def counting(name, real):
        def build(*args, **kwargs):
            built[name] += 1
            return real(*args, **kwargs)
        return build

    real_check = Simulator._check_model

    def check_model(self, definition, obj, what, check=True):
        checked[definition] += bool(check and self.contract is not None)
        return real_check(self, definition, obj, what, check)

    with patch.object(factory, "make_order", counting("order", factory.make_order)), \
            patch.object(factory, "make_transaction", counting("transaction", factory.make_transaction)), \
            patch.object(Simulator, "_check_model", check_model):
        big = generate_scenario(n_orders=5000, n_listings=250, seed=1)
        sim = Simulator(big)
        assert len(sim.state.orders) == 5000 and len(sim.state.listings) == 250 and sim.state.transactions
        assert built == Counter() and checked["Order"] == checked["Transaction"] == 0
        assert sum(1 for e in sim.state.orders.values() if e.obj is not None) == 0  # nothing built yet
        # the counters see a build when an answer needs the order
        order_id = big["orders"][42].order_id
        assert sim.get_order(order_id)["orderId"] == order_id
        assert built["order"] == 1


def test_generated_orders_are_served_and_valid(spapi_models):
    with Simulator(generate_scenario(n_orders=120, n_listings=20, seed=3), speed=100) as sim, \
            authorized_session(sim) as http:
        ids, token = [], None
        while True:
            params = {"createdAfter": "2000-01-01T00:00:00Z", "includedData": "BUYER,PROCEEDS,FULFILLMENT,PACKAGES",
                      "maxResultsPerPage": 50}
            page = http.get(sim.url + "/orders/2026-01-01/orders",
                            params={**params, **({"paginationToken": token} if token else {})})
            assert page.status_code == 200, page.text
            ids += [o["orderId"] for o in page.json()["orders"]]
            token = (page.json().get("pagination") or {}).get("nextToken")
            if not token:
                break
        assert len(ids) == len(set(ids)) == 120
        assert sim.contract_violations == []  # every page validated by the simulator against the model
        stock = http.get(sim.url + "/fba/inventory/v1/summaries", params={
            "granularityType": "Marketplace", "granularityId": MX, "marketplaceIds": MX})
        assert stock.status_code == 200


def test_command_line_serves_until_interrupted():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "spapi_simulator", "--scenario", "demo",
                             "--port", "0"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("SP-API simulator on http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split()[3]
        token = requests.post(url + "/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": "Atzr|sim-refresh-token", "client_id": "sim-client-id",
            "client_secret": "sim-client-secret"}, timeout=5).json()["access_token"]
        answer = requests.get(url + "/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": token},
                              timeout=5)
        assert answer.status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_demo_pays_every_shipped_order_in_full():
    """`make demo` shows no unexplained partly-paid sale: each shipped order of a listed SKU has Amazon's shipment
    transactions for all its charges (items and shipping), less its refunds. (An order of an SKU with no listing
    stops at the import with its reason, so it has no invoice to pay.)"""
    scenario = load_scenario("demo")
    listed = {entry["sku"] for entry in scenario["listings"]}
    paid = {}
    for txn in scenario["transactions"]:
        if txn.get("transaction_type", "Shipment") == "Shipment":
            paid[txn["order_id"]] = paid.get(txn["order_id"], Decimal(0)) + Decimal(txn["principal"]) + Decimal(
                txn.get("shipping", "0"))
    for order in scenario["orders"]:
        if order["status"] != "SHIPPED" or not all(item["sku"] in listed for item in order["items"]):
            continue
        charged = sum(Decimal(item["unit_price"]) * item["quantity"] for item in order["items"])
        charged += Decimal(order.get("shipping", {}).get("price", "0"))
        assert paid.get(order["order_id"]) == charged, (
            f"{order['order_id']}: Amazon charged {charged} but the demo's transactions pay "
            f"{paid.get(order['order_id'], 0)}: its invoice would stay partly paid with no reason shown")
