"""confirmShipment end to end: SpApi's request against the simulator (validated by Amazon's Orders v0 model),
Amazon's refusals, and the order Amazon shows afterwards."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from bind_amazon_connector.spapi import errors
from bind_amazon_connector.spapi.shipments import ShipmentPackage
from bind_amazon_connector.spapi.usage_plans import USAGE_PLANS

sim_pkg = pytest.importorskip("spapi_simulator", reason="the SP-API simulator is absent")
Simulator, factory = sim_pkg.Simulator, sim_pkg.factory
from simulator_helpers import simulator_api  # noqa: E402 - needs the simulator, checked above

SPEED = 1000.0


def make_api(sim, **kw):
    """The client of these tests: its retries wait a tenth of the other tests' (``backoff_base``)."""
    return simulator_api(sim, SPEED, backoff_base=0.001, **kw)


def add_order(sim, **kw):
    kw.setdefault("created", datetime.now(timezone.utc) - timedelta(hours=1))
    items = kw.pop("items", [{"sku": "MUG-01", "quantity": 3, "unit_price": "100.00"},
                             {"sku": "TEE-02", "quantity": 1, "unit_price": "50.00"}])
    return sim.add_order(factory.make_order(items=items, **kw))


def package(order, ref="1", quantities=(2, 0), **kw):
    items = tuple((item["orderItemId"], qty) for item, qty in zip(order["orderItems"], quantities, strict=False)
                  if qty)
    values = {"package_reference_id": ref, "carrier_code": "Estafeta", "tracking_number": "8055123456",
              "ship_date": datetime(2026, 3, 1, 18, 0), "items": items, "shipping_method": "Día siguiente"}
    values.update(kw)
    return ShipmentPackage(**values)


def test_usage_plan_is_amazons():
    assert (USAGE_PLANS["confirmShipment"].rate, USAGE_PLANS["confirmShipment"].burst) == (2, 10)


def test_two_packages_ship_the_order(sim):
    order = add_order(sim)
    api = make_api(sim)
    api.confirm_shipment(order["orderId"], package(order, "1", (2, 0)))
    after = sim.get_order(order["orderId"])
    assert after["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    assert [i["fulfillment"]["quantityFulfilled"] for i in after["orderItems"]] == [2, 0]
    api.confirm_shipment(order["orderId"], package(order, "2", (1, 1), carrier_code="Other", carrier_name="Mensajería"))
    after = sim.get_order(order["orderId"])
    assert after["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert [p["packageReferenceId"] for p in after["packages"]] == ["1", "2"]
    assert after["packages"][1]["carrier"] == "Mensajería"
    assert after["lastUpdatedTime"] > order["lastUpdatedTime"]
    sent = [r for r in sim.requests if r.operation == "confirmShipment"]
    assert [r.status for r in sent] == [204, 204]
    assert sent[0].path == f"/orders/v0/orders/{order['orderId']}/shipmentConfirmation"
    assert sent[0].body == {"marketplaceId": factory.MX, "packageDetail": {
        "packageReferenceId": "1", "carrierCode": "Estafeta", "trackingNumber": "8055123456",
        "shipDate": "2026-03-01T18:00:00Z", "shippingMethod": "Día siguiente",
        "orderItems": [{"orderItemId": order["orderItems"][0]["orderItemId"], "quantity": 2}]}}
    assert api.stats["confirmShipment"].calls == 2


@pytest.mark.parametrize(("change", "needle"), [
    ({"quantities": (4, 0)}, "more than the 3 left"),
    ({"carrier_code": "Estafeta Express"}, "Invalid CarrierCode"),
])
def test_refusals_carry_amazons_reason(sim, change, needle):
    order = add_order(sim)
    quantities = change.pop("quantities", (1, 0))
    with pytest.raises(errors.BadData) as caught:
        make_api(sim).confirm_shipment(order["orderId"], package(order, quantities=quantities, **change))
    assert needle in str(caught.value)
    assert caught.value.status == 400
    assert sim.get_order(order["orderId"])["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"


def test_unknown_item_cancelled_order_and_reused_reference_are_refused(sim):
    api = make_api(sim)
    order = add_order(sim)
    bad = ShipmentPackage("1", "DHL", (("999999", 1),), datetime(2026, 3, 1), "123")
    with pytest.raises(errors.BadData, match="not part of order"):
        api.confirm_shipment(order["orderId"], bad)
    api.confirm_shipment(order["orderId"], package(order, "1", (1, 0)))
    with pytest.raises(errors.BadData, match="already confirmed"):
        api.confirm_shipment(order["orderId"], package(order, "1", (1, 0)))
    cancelled = add_order(sim, status="CANCELLED")
    with pytest.raises(errors.BadData, match="cancelled"):
        api.confirm_shipment(cancelled["orderId"], package(cancelled))
    with pytest.raises(errors.NotFound):
        api.confirm_shipment("701-0000000-0000000", package(order))


def test_missing_carrier_code_is_refused_in_mexico(sim):
    order = add_order(sim)
    api = make_api(sim)
    # Built past the package's own check, as an integration that forgot it would send it.
    detail = package(order).to_request("2026-03-01T18:00:00Z")
    detail["carrierCode"] = ""
    with pytest.raises(errors.BadData, match="CarrierCode is required"):
        api._call("confirmShipment", "orders_v0", "confirm_shipment", order["orderId"],
                  marketplaceId=factory.MX, packageDetail=detail)
    with pytest.raises(ValueError, match="carrier_name"):
        package(order, carrier_code="Other")
    with pytest.raises(ValueError, match="positive number"):
        package(order, ref="PKG-1")


def test_throttled_confirmation_raises_retry_later(sim):
    order = add_order(sim, items=[{"sku": "MUG-01", "quantity": 20, "unit_price": "10.00"}])
    sim.speed = 0.001  # the bucket does not refill during the test: after the burst, 429s only
    api = make_api(sim, max_retries=1, max_wait=2.0)
    sent = 0
    with pytest.raises(errors.RetryLater):
        for n in range(1, 20):
            api.confirm_shipment(order["orderId"], package(order, str(n), (1,)))
            sent += 1
    assert sent == 10  # the burst
    assert api.stats["confirmShipment"].throttled >= 1
    assert sim.get_order(order["orderId"])["orderItems"][0]["fulfillment"]["quantityFulfilled"] == 10


def test_a_lost_answer_is_not_resent(sim):
    """Amazon took the confirmation but its answer came after the client's timeout: resending it would be
    refused (or ship more), so the layer stops at once and says Amazon may have it."""
    order = add_order(sim)
    sim.inject_fault("confirmShipment", "slow", delay=0.8)
    api = make_api(sim, timeout=0.2, max_retries=3)
    with pytest.raises(errors.RetryLater, match="may have received confirmShipment") as info:
        api.confirm_shipment(order["orderId"], package(order, "1", (2, 0)))
    assert info.value.maybe_done and api.stats["confirmShipment"].calls == 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sim.count("confirmShipment", 204) == 0:
        time.sleep(0.05)
    assert sim.get_order(order["orderId"])["orderItems"][0]["fulfillment"]["quantityFulfilled"] == 2


def test_refusals_that_amazon_did_not_process_are_resent(sim):
    """A 503 or a 429 means Amazon did not act: those are resent by the layer."""
    order = add_order(sim)
    sim.inject_fault("confirmShipment", "5xx", times=2)
    api = make_api(sim, max_retries=3)
    api.confirm_shipment(order["orderId"], package(order, "1", (2, 0)))
    assert api.stats["confirmShipment"].calls == 3
    assert sim.get_order(order["orderId"])["orderItems"][0]["fulfillment"]["quantityFulfilled"] == 2


def _listing_reports(sim):
    with sim.state.lock:
        return [job for job in sim.state.reports.values() if job.report_type == "GET_MERCHANT_LISTINGS_ALL_DATA"]


def test_a_lost_report_request_is_looked_for_before_asking_again(sim):
    """createReport is not sent twice: Amazon takes the request but answers after the client's timeout; the
    layer says it may have it, and the next try finds the report Amazon made instead of asking for a second."""
    sim.inject_fault("createReport", "slow", delay=0.8)
    api = make_api(sim, timeout=0.2, max_retries=3)
    with pytest.raises(errors.RetryLater, match="may have received createReport") as info:
        api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", marketplace_ids=[factory.MX])
    assert info.value.maybe_done and info.value.asked_at and api.stats["createReport"].calls == 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _listing_reports(sim):
        time.sleep(0.05)
    made = _listing_reports(sim)
    assert len(made) == 1  # Amazon took the first request
    again = make_api(sim, timeout=5.0)
    report_id = again.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", marketplace_ids=[factory.MX],
                                    asked_since=info.value.asked_at)
    assert report_id == made[0].report_id
    assert again.stats["createReport"].calls == 0 and len(_listing_reports(sim)) == 1


def test_a_lost_report_request_found_at_once_is_the_answer(sim):
    """When Amazon lists the report by the time the lost answer is noticed, that report is the answer."""
    api = make_api(sim)
    real_call = api._call

    def answer_lost(operation, *args, **kwargs):
        reply = real_call(operation, *args, **kwargs)
        if operation == "createReport":  # Amazon made the report; its answer never came back
            raise errors.RetryLater("Amazon did not answer", operation=operation, maybe_done=True)
        return reply

    api._call = answer_lost
    report_id = api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", marketplace_ids=[factory.MX])
    assert [job.report_id for job in _listing_reports(sim)] == [report_id]


def test_a_report_request_amazon_did_not_take_is_asked_again(sim):
    """A 503 means Amazon did not act: the layer resends it, and the next try without a lost request asks."""
    sim.inject_fault("createReport", "5xx", times=1)
    api = make_api(sim, max_retries=2)
    report_id = api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", marketplace_ids=[factory.MX])
    assert api.stats["createReport"].calls == 2 and [j.report_id for j in _listing_reports(sim)] == [report_id]
