"""python-amazon-sp-api 2.1.35 works against the simulator unchanged (its wrong Host header included)."""
from datetime import timedelta

import pytest

sp_api = pytest.importorskip("sp_api")

from simulator_helpers import MX  # noqa: E402
from sp_api.api import Finances, Inventories, ListingsItems, Orders, Reports, Sellers  # noqa: E402
from sp_api.auth import AccessTokenClient, access_token_client  # noqa: E402
from sp_api.base.exceptions import SellingApiForbiddenException  # noqa: E402

from spapi_simulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, factory  # noqa: E402


class SimMarketplace:
    """What python-amazon-sp-api reads from a marketplace: endpoint, marketplace_id, region."""

    def __init__(self, url):
        self.endpoint, self.marketplace_id, self.region = url, MX, "NA"


@pytest.fixture
def sp(demo_simulator, monkeypatch):
    """Keyword arguments for any python-amazon-sp-api client pointed at the demo simulator."""
    monkeypatch.delenv("SP_API_DEFAULT_MARKETPLACE", raising=False)
    access_token_client.cache.clear()
    token_class = type("SimTokenClient", (AccessTokenClient,), {
        "scheme": "http://", "host": demo_simulator.url.removeprefix("http://"), "path": "/auth/o2/token"})
    yield {"marketplace": SimMarketplace(demo_simulator.url), "refresh_token": REFRESH_TOKEN,
           "credentials": {"lwa_app_id": CLIENT_ID, "lwa_client_secret": CLIENT_SECRET},
           "auth_token_client_class": token_class}
    access_token_client.cache.clear()


def test_orders_listings_inventory_finances_sellers(demo_simulator, sp):
    sim = demo_simulator
    orders = Orders(version="2026-01-01", **sp).search_orders(
        lastUpdatedAfter=factory.iso(sim.now() - timedelta(days=30)), includedData=["BUYER", "PROCEEDS"],
        marketplaceIds=[MX])
    assert len(orders.payload["orders"]) == 15
    assert "buyer" in orders.payload["orders"][0]
    one = Orders(version="2026-01-01", **sp).get_order("701-4000002-7000274", includedData=["PACKAGES"])
    assert one.payload["order"]["packages"][0]["carrier"] == "Estafeta"
    item = ListingsItems(**sp).get_listings_item(sim.seller_id, "MX-TAZA-001", includedData="summaries,offers")
    assert item.payload["offers"][0]["price"]["amount"] == "249.00"
    patched = ListingsItems(**sp).patch_listings_item(sim.seller_id, "MX-TAZA-001", body={
        "productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                               "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 4}]}]})
    assert patched.payload["status"] == "ACCEPTED"
    stock = Inventories(**sp).get_inventory_summary_marketplace(details=True, granularityType="Marketplace",
                                                                granularityId=MX, marketplaceIds=[MX])
    assert {s["sellerSku"] for s in stock.payload["inventorySummaries"]} >= {"MX-MOCHILA-003", "MX-CARG-009"}
    txns = Finances(version="2024-06-19", **sp).list_transactions(
        postedAfter=factory.iso(sim.now() - timedelta(days=30)))
    assert len(txns.payload["transactions"]) == 7
    participations = Sellers(**sp).get_marketplace_participation()
    assert participations.payload[0]["marketplace"]["id"] == MX
    assert participations.headers["x-amzn-RateLimit-Limit"] == "0.016"
    assert sim.contract_violations == []
    assert all(r.headers["host"] != sim.url.removeprefix("http://") for r in sim.requests if r.operation != "token")


def test_report_download(demo_simulator, sp):
    reports = Reports(**sp)
    report_id = reports.create_report(reportType="GET_MERCHANT_LISTINGS_ALL_DATA", marketplaceIds=[MX]).payload[
        "reportId"]
    for _ in range(3):
        report = reports.get_report(report_id).payload
    assert report["processingStatus"] == "DONE"
    document = reports.get_report_document(report["reportDocumentId"], download=True, character_code="cp1252")
    assert "Taza de cerámica Talavera 350 ml" in document.payload["document"]
    assert demo_simulator.contract_violations == []


def test_errors_reach_the_library(demo_simulator, sp):
    demo_simulator.inject_fault("getMarketplaceParticipations", "expired_token")
    with pytest.raises(SellingApiForbiddenException) as err:
        Sellers(**sp).get_marketplace_participation()
    assert err.value.amzn_code == "Unauthorized"
