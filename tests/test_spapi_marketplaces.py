"""One connection, several marketplaces of its region: the SP-API layer against the simulator."""

import pytest

sim_pkg = pytest.importorskip("spapi_simulator", reason="the SP-API simulator is absent")
Simulator, factory = sim_pkg.Simulator, sim_pkg.factory
from simulator_helpers import ago, simulator_api  # noqa: E402 - needs the simulator, checked above

SPEED = 1000.0
MX, US, CA = "A1AM78C64UM0Y8", "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"


def test_orders_of_several_marketplaces_in_one_call(sim):
    for marketplace in (MX, US, CA):
        sim.add_order(factory.make_order(items=[{"sku": "S", "unit_price": "10.00"}], marketplace_id=marketplace,
                                         created=ago(hours=1)))
    api = simulator_api(sim, SPEED)
    page = api.search_orders_page(last_updated_after=ago(hours=2), last_updated_before=ago(minutes=3),
                                  marketplace_ids=[MX, US])
    assert sorted((o.marketplace_id, o.currency) for o in page.orders) == [(MX, "MXN"), (US, "USD")]
    (call,) = [r for r in sim.requests if r.operation == "searchOrders"]
    assert call.query["marketplaceIds"] == [f"{MX},{US}"]
    # without marketplaces: the connection's own, as before
    page = api.search_orders_page(last_updated_after=ago(hours=2), last_updated_before=ago(minutes=3))
    assert [o.marketplace_id for o in page.orders] == [MX]


def test_marketplace_lists_are_checked():
    from bind_amazon_connector.spapi.transport import _marketplace_list

    assert _marketplace_list(None, MX, 50) == [MX]
    assert _marketplace_list([US, MX, US], MX, 50) == [US, MX]
    with pytest.raises(ValueError):
        _marketplace_list([], MX, 50)
    with pytest.raises(ValueError):
        _marketplace_list([f"M{n}" for n in range(26)], MX, 25)


def test_listings_report_and_patch_per_marketplace(sim):
    sim.add_listing(factory.list_in_marketplace(factory.make_listing("BOTH", price="199.00"), US, price="12.50"))
    sim.add_listing(sku="MX-ONLY", price="150.00")
    sim.add_listing(sku="US-ONLY", price="9.99", marketplace_id=US)
    api = simulator_api(sim, SPEED)
    us_api = api.for_marketplace(US)
    assert us_api.pacer is api.pacer, "one seller, one set of quotas"
    assert api.for_marketplace(MX) is api
    rows = {}
    for marketplace, client in ((MX, api), (US, us_api)):
        report_id = api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", marketplace_ids=[marketplace])
        report = client.wait_for_report(report_id, poll_interval=0.01, timeout=5)
        rows[marketplace] = {r["seller-sku"]: r["price"] for r in client.iter_report_rows(report.report_document_id)}
    assert rows == {MX: {"BOTH": "199.00", "MX-ONLY": "150.00"}, US: {"BOTH": "12.50", "US-ONLY": "9.99"}}
    assert us_api.get_listings_item("BOTH").price.amount == 12.5
    assert us_api.patch_listing_quantity("BOTH", 4, "PRODUCT").accepted
    assert not us_api.patch_listing_quantity("MX-ONLY", 4, "PRODUCT").accepted, "not listed in the US"
    patches = [r for r in sim.requests if r.operation == "patchListingsItem"]
    assert [r.query["marketplaceIds"] for r in patches] == [[US], [US]]
