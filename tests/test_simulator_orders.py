"""Orders 2026-01-01 in the simulator: filters, includedData, stable pagination, updates."""
from datetime import timedelta

import pytest

from spapi_simulator import factory

SEARCH = "/orders/2026-01-01/orders"


def iso(dt):
    return factory.iso(dt)


def search(sim, http, **params):
    answer = http.get(sim.url + SEARCH, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def all_pages(sim, http, **params):
    ids, token, pages = [], None, 0
    while True:
        page = search(sim, http, **params, **({"paginationToken": token} if token else {}))
        ids += [o["orderId"] for o in page["orders"]]
        pages += 1
        token = (page.get("pagination") or {}).get("nextToken")
        if not token:
            return ids, pages


@pytest.fixture
def orders(simulator):
    """Five orders created an hour apart, two days ago; returns them oldest first."""
    start = simulator.now() - timedelta(days=2)
    made = []
    for n in range(5):
        made.append(simulator.add_order(factory.make_order(
            f"702-000000{n}-0000000", items=[{"sku": f"SKU-{n}", "unit_price": "100.00"}],
            status=["UNSHIPPED", "SHIPPED", "CANCELLED", "PENDING", "SHIPPED"][n],
            fulfilled_by="AMAZON" if n == 4 else "MERCHANT", created=start + timedelta(hours=n))))
    return made


def test_included_data_adds_only_the_sections_asked_for(simulator, sim_http, orders):
    bare = search(simulator, sim_http, createdAfter=iso(simulator.now() - timedelta(days=3)))["orders"][0]
    assert set(bare) <= {"orderId", "orderAliases", "createdTime", "lastUpdatedTime", "programs", "associatedOrders",
                         "salesChannel", "orderItems"}
    assert set(bare["orderItems"][0]) == {"orderItemId", "quantityOrdered", "product"}
    rich = search(simulator, sim_http, createdAfter=iso(simulator.now() - timedelta(days=3)),
                  includedData="BUYER,PROCEEDS,FULFILLMENT")["orders"][0]
    assert {"buyer", "proceeds", "fulfillment"} <= set(rich)
    assert "recipient" not in rich and "packages" not in rich
    assert {"proceeds", "fulfillment"} <= set(rich["orderItems"][0])
    # repeated keys work as well as Amazon's comma-separated form
    repeated = sim_http.get(simulator.url + SEARCH, params=[("createdAfter", iso(simulator.now() - timedelta(days=3))),
                                                            ("includedData", "BUYER"), ("includedData", "RECIPIENT")])
    assert {"buyer", "recipient"} <= set(repeated.json()["orders"][0])


def test_filters(simulator, sim_http, orders):
    since = iso(simulator.now() - timedelta(days=3))
    assert [o["orderId"] for o in search(simulator, sim_http, createdAfter=since,
                                         fulfillmentStatuses="SHIPPED")["orders"]] == \
        [orders[1]["orderId"], orders[4]["orderId"]]
    assert [o["orderId"] for o in search(simulator, sim_http, createdAfter=since, fulfilledBy="AMAZON")["orders"]] == \
        [orders[4]["orderId"]]
    assert search(simulator, sim_http, createdAfter=since, marketplaceIds="ATVPDKIKX0DER")["orders"] == []
    window = search(simulator, sim_http, createdAfter=orders[1]["createdTime"], createdBefore=orders[2]["createdTime"])
    assert [o["orderId"] for o in window["orders"]] == [orders[1]["orderId"], orders[2]["orderId"]]
    assert window["createdBefore"] == orders[2]["createdTime"]
    newer = search(simulator, sim_http, lastUpdatedAfter=orders[3]["lastUpdatedTime"])
    assert [o["orderId"] for o in newer["orders"]] == [orders[3]["orderId"], orders[4]["orderId"]]
    assert "lastUpdatedBefore" in newer


@pytest.mark.parametrize("params, needle", [
    ({}, "Exactly one"),
    ({"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedBefore": "2026-01-02T00:00:00Z"}, "cannot be combined"),
    ({"lastUpdatedAfter": "2026-01-01T00:00:00Z", "createdBefore": "2026-01-02T00:00:00Z"}, "cannot be combined"),
    ({"lastUpdatedAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "101"}, "between 1 and 100"),
    ({"lastUpdatedAfter": "2026-01-02T00:00:00Z", "lastUpdatedBefore": "2026-01-01T00:00:00Z"}, "equal to or after"),
])
def test_invalid_searches(simulator, sim_http, params, needle):
    answer = sim_http.get(simulator.url + SEARCH, params=params)
    assert answer.status_code == 400
    assert needle in answer.json()["errors"][0]["message"]
    assert any(needle in v for v in simulator.contract_violations)


def test_before_must_be_two_minutes_in_the_past(simulator, sim_http):
    now = simulator.now()
    late = sim_http.get(simulator.url + SEARCH, params={"lastUpdatedAfter": iso(now - timedelta(days=1)),
                                                       "lastUpdatedBefore": iso(now - timedelta(seconds=30))})
    assert late.status_code == 400 and "two minutes" in late.json()["errors"][0]["message"]
    ok = sim_http.get(simulator.url + SEARCH, params={"lastUpdatedAfter": iso(now - timedelta(days=1)),
                                                     "lastUpdatedBefore": iso(now - timedelta(minutes=3))})
    assert ok.status_code == 200


def test_pagination_is_stable_while_orders_change(simulator, sim_http):
    start = simulator.now() - timedelta(days=1)
    for n in range(25):
        simulator.add_order(factory.make_order(f"702-{n:07d}-0000001", items=[{"sku": "A"}],
                                               created=start + timedelta(minutes=n)))
    params = {"lastUpdatedAfter": iso(start - timedelta(minutes=1)), "maxResultsPerPage": 10}
    first = search(simulator, sim_http, **params)
    assert len(first["orders"]) == 10
    token = first["pagination"]["nextToken"]
    seen = [o["orderId"] for o in first["orders"]]
    # while the client pages: an order already returned and one not yet returned change, and a new one arrives
    simulator.update_order(seen[0], status="SHIPPED")
    simulator.update_order("702-0000020-0000001", status="CANCELLED")
    simulator.advance(5)
    simulator.add_order(factory.make_order("702-9999999-0000001", items=[{"sku": "A"}], created=simulator.now()))
    while token:
        page = search(simulator, sim_http, **params, paginationToken=token)
        seen += [o["orderId"] for o in page["orders"]]
        token = (page.get("pagination") or {}).get("nextToken")
    # no duplicates, nothing skipped except the order updated after the first page (the next sync sees it)
    assert len(seen) == len(set(seen))
    assert set(seen) == {f"702-{n:07d}-0000001" for n in range(25)} - {"702-0000020-0000001"}
    # the next incremental sync, from the first page's cutoff, gets exactly the changed orders
    since = first["lastUpdatedBefore"]
    changed, _pages = all_pages(simulator, sim_http, lastUpdatedAfter=since)
    assert set(changed) == {seen[0], "702-0000020-0000001", "702-9999999-0000001"}


def test_a_token_is_bound_to_its_filters(simulator, sim_http, orders):
    since = iso(simulator.now() - timedelta(days=3))
    first = search(simulator, sim_http, createdAfter=since, maxResultsPerPage=2)
    token = first["pagination"]["nextToken"]
    other = sim_http.get(simulator.url + SEARCH, params={"createdAfter": iso(simulator.now() - timedelta(days=4)),
                                                        "paginationToken": token})
    assert other.status_code == 400
    garbage = sim_http.get(simulator.url + SEARCH, params={"createdAfter": "2026-01-01T00:00:00Z",
                                                          "paginationToken": "%%%"})
    assert garbage.status_code == 400
    # includedData and maxResultsPerPage may change between pages
    rest = search(simulator, sim_http, createdAfter=since, paginationToken=token, maxResultsPerPage=5,
                  includedData="BUYER")
    assert len(rest["orders"]) == 3 and "buyer" in rest["orders"][0]


def test_update_order_bumps_last_updated(simulator, sim_http, orders):
    simulator.advance(600)
    new = simulator.update_order(orders[0]["orderId"], status="SHIPPED", buyer={"buyerName": "Otra Persona"})
    assert abs(factory.parse_time(new["lastUpdatedTime"]) - simulator.now()) < timedelta(seconds=1)
    assert new["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert new["orderItems"][0]["fulfillment"] == {"quantityFulfilled": 1, "quantityUnfulfilled": 0}
    assert new["packages"][0]["packageItems"] == [{"orderItemId": new["orderItems"][0]["orderItemId"], "quantity": 1}]
    simulator.advance(180)
    recent = search(simulator, sim_http, lastUpdatedAfter=iso(simulator.now() - timedelta(minutes=5)),
                    includedData="BUYER,FULFILLMENT")["orders"]
    assert [o["orderId"] for o in recent] == [orders[0]["orderId"]]
    assert recent[0]["buyer"]["buyerName"] == "Otra Persona"
    assert orders[0]["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"  # the caller's dict is untouched
    with pytest.raises(KeyError):
        simulator.update_order("nope", status="SHIPPED")


def test_get_order(simulator, sim_http, orders):
    answer = sim_http.get(f"{simulator.url}{SEARCH}/{orders[1]['orderId']}", params={"includedData": "PACKAGES"})
    assert answer.status_code == 200
    order = answer.json()["order"]
    assert order["orderId"] == orders[1]["orderId"] and order["packages"]
    missing = sim_http.get(f"{simulator.url}{SEARCH}/702-0000000-9999999")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "NotFound"


def test_page_size_and_count(simulator, sim_http):
    start = simulator.now() - timedelta(days=1)
    for n in range(205):
        simulator.add_order(factory.make_order(f"703-{n:07d}-0000001", items=[{"sku": "A"}],
                                               created=start + timedelta(seconds=n)), check=False)
    ids, pages = all_pages(simulator, sim_http, createdAfter=iso(start - timedelta(minutes=1)))
    assert len(ids) == 205 and pages == 3
    assert simulator.count("searchOrders", 200) == 3
