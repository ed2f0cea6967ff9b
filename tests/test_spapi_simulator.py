"""SpApi against the SP-API simulator: every operation end to end, faults, pacing under a tight plan.

Each test also checks that no request of ours broke Amazon's model (``sim.contract_violations``).
"""
import random
import threading
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bind_amazon_connector.spapi import SpApi, SpApiConfig, errors
from bind_amazon_connector.spapi.auth import build_consent_url, exchange_authorization_code
from bind_amazon_connector.spapi.pacing import Pacer
from bind_amazon_connector.spapi.usage_plans import USAGE_PLANS, UsagePlan
from bind_amazon_connector.spapi.values import Money

sim_pkg = pytest.importorskip("spapi_simulator", reason="the SP-API simulator is absent")
Simulator, factory = sim_pkg.Simulator, sim_pkg.factory
from simulator_helpers import ago, simulator_api  # noqa: E402 - needs the simulator, checked above

SPEED = 1000.0
MX = "A1AM78C64UM0Y8"
SECRETS = (sim_pkg.CLIENT_SECRET, sim_pkg.REFRESH_TOKEN, "Atza|")


def assert_no_secret(text):
    for secret in SECRETS:
        assert secret not in text


# ---------------------------------------------------------------- operations

def test_marketplace_participations(sim):
    (mx,) = simulator_api(sim, SPEED).get_marketplace_participations()
    assert (mx.marketplace_id, mx.country_code, mx.currency, mx.is_participating) == (MX, "MX", "MXN", True)
    assert mx.raw["marketplace"]["id"] == MX


def test_orders_with_every_dataset(sim):
    created = ago(hours=3)
    sim.add_order(factory.make_order(
        "701-0000001-0000001", created=created, status="SHIPPED",
        items=[{"sku": "CAFE-1", "title": "Café Ñandú", "quantity": 2, "unit_price": "174.00", "shipping": "99.00",
                "discount": "20.00", "promotion_ids": ["PROMO-1"], "gift_wrap": "30.00", "gift_message": "¡Feliz!"}],
        shipping={"carrier": "Estafeta", "tracking_number": "1234567890"}, seller_order_id="PO-77",
        business={"company": "Hogar SA de CV", "po_number": "OC-1", "rfc": "HOG010101AAA",
                  "legal_name": "Hogar SA de CV"}))
    sim.add_order(factory.make_order("701-0000002-0000002", created=created + timedelta(minutes=1),
                                     status="CANCELLED", cancellation={"by": "BUYER", "reason": "Ya no lo quiero"},
                                     items=[{"sku": "TAZA-1", "unit_price": "120.00"}]))
    sim.add_order(factory.make_order("701-0000003-0000003", created=created + timedelta(minutes=2),
                                     fulfilled_by="AMAZON", status="SHIPPED",
                                     items=[{"sku": "FBA-1", "unit_price": "58.00", "quantity": 3}]))
    api = simulator_api(sim, SPEED)
    pages = list(api.iter_orders_pages(last_updated_after=ago(days=1), max_results=2))
    assert len(pages) == 2 and pages[0].next_token and pages[1].next_token is None
    orders = {o.order_id: o for p in pages for o in p.orders}
    assert list(orders) == ["701-0000001-0000001", "701-0000002-0000002", "701-0000003-0000003"]

    order = orders["701-0000001-0000001"]
    assert (order.fulfilled_by, order.fulfillment_status, order.sales_channel, order.marketplace_id) == (
        "MERCHANT", "SHIPPED", "AMAZON", MX)
    assert order.seller_order_id == "PO-77" and order.is_business_order
    assert order.buyer.company_name == "Hogar SA de CV" and order.delivery_address.country_code == "MX"
    assert order.created_time == created.replace(microsecond=0)
    assert isinstance(order.grand_total.amount, Decimal) and order.grand_total.currency == "MXN"
    item = order.items[0]
    assert (item.seller_sku, item.title, item.quantity_ordered, item.quantity_shipped, item.quantity_unshipped) == (
        "CAFE-1", "Café Ñandú", 2, 2, 0)
    assert item.unit_price == Money(Decimal("174.00"), "MXN")
    # Amazon's reading: amounts without tax, TAX on top (the IVA inside the Mexican prices), adding up.
    iva = factory.included_tax
    assert item.item_tax.amount == iva(Decimal("348.00")) and item.shipping_tax.amount == iva(Decimal("99.00"))
    assert item.item_price.amount == Decimal("348.00") - iva(Decimal("348.00"))
    assert item.shipping_price.amount == Decimal("99.00") - iva(Decimal("99.00"))
    assert item.discount.amount == item.item_discount.amount == Decimal("-20.00") + iva(Decimal("20.00"))
    assert item.gift_wrap_price.amount == Decimal("30.00") - iva(Decimal("30.00")) and item.gift.message == "¡Feliz!"
    assert item.promotion_ids == ("PROMO-1",)
    assert item.proceeds_total.amount == Decimal("348.00") + Decimal("99.00") + Decimal("30.00") - Decimal("20.00")
    assert item.proceeds_total.amount == sum(b.subtotal.amount for b in item.proceeds)
    (package,) = order.packages
    assert (package.carrier, package.tracking_number, package.items[0].order_item_id) == (
        "Estafeta", "1234567890", item.order_item_id)

    cancelled = orders["701-0000002-0000002"]
    assert cancelled.is_cancelled and cancelled.items[0].is_cancelled
    assert cancelled.items[0].cancellation.cancelled_by == "BUYER"
    assert orders["701-0000003-0000003"].is_fba and orders["701-0000003-0000003"].packages == ()

    again = api.get_order("701-0000001-0000001")
    assert again == order  # raw is excluded from comparison; every parsed field matches
    slim = api.get_order("701-0000001-0000001", included_data=("PROCEEDS",))
    assert slim.buyer is None and slim.recipient is None and slim.grand_total == order.grand_total
    with pytest.raises(errors.NotFound):
        api.get_order("701-9999999-9999999")
    assert api.stats["searchOrders"].pages == 2


def test_listings_search_get_and_quantity_patch(sim):
    for i in range(25):
        sim.add_listing(sku=f"SKU-{i:02d}", title=f"Artículo {i} de cerámica", price=f"{100 + i}.50", quantity=i)
    sim.add_listing(sku="FBA-SKU", fulfillment="AFN", quantity=5, product_type="HOME")
    api = simulator_api(sim, SPEED)
    items = list(api.iter_listings_items())
    assert sorted(i.sku for i in items) == sorted([f"SKU-{i:02d}" for i in range(25)] + ["FBA-SKU"])
    assert api.stats["searchListingsItems"].pages == 2  # 20 per page

    item = api.get_listings_item("SKU-07")
    assert item.price == Money(Decimal("107.50"), "MXN") and item.merchant_quantity == 7
    assert item.item_name == "Artículo 7 de cerámica" and item.product_type == "PRODUCT" and item.is_buyable
    assert item.attributes["fulfillment_availability"][0]["quantity"] == 7

    result = api.patch_listing_quantity("SKU-07", 0, item.product_type)
    assert result.status == "ACCEPTED" and result.accepted and result.issues == ()
    assert api.get_listings_item("SKU-07").merchant_quantity == 0
    refused = api.patch_listing_quantity("FBA-SKU", 3, "HOME")  # Amazon manages FBA quantities
    assert refused.status == "INVALID" and refused.issues[0].severity == "ERROR"
    with pytest.raises(errors.NotFound):
        api.get_listings_item("NO-SUCH-SKU")


def test_fba_inventory(sim):
    sim.page_sizes["getInventorySummaries"] = 10
    for i in range(60):
        sim.add_inventory(sku=f"FBA-{i:03d}", fulfillable=i, reserved=1, unfulfillable=2, inbound_shipped=3)
    api = simulator_api(sim, SPEED)
    summaries = list(api.iter_inventory_summaries())
    assert len(summaries) == 60 and api.stats["getInventorySummaries"].pages == 6
    s = next(x for x in summaries if x.seller_sku == "FBA-007")
    assert (s.fulfillable_quantity, s.reserved_quantity, s.unfulfillable_quantity, s.inbound_shipped_quantity,
            s.total_quantity) == (7, 1, 2, 3, 13)
    wanted = [f"FBA-{i:03d}" for i in range(55)]
    sim.reset_records()
    assert sorted(s.seller_sku for s in api.iter_inventory_summaries(seller_skus=wanted)) == wanted
    sizes = [len(r.query["sellerSkus"][0].split(",")) for r in sim.requests if "nextToken" not in r.query]
    assert sizes == [50, 5]  # Amazon's limit of 50 SKUs per request
    changed = list(api.iter_inventory_summaries(start_date_time=ago(days=1), seller_skus=["FBA-001", "FBA-002"]))
    assert [s.seller_sku for s in changed] == ["FBA-001", "FBA-002"]


def test_finance_transactions(sim):
    sim.page_sizes["listTransactions"] = 3
    for i in range(7):
        sim.add_transaction(order_id=f"701-000000{i}-0000000", posted=ago(days=2, minutes=i), sku="CAFE-1",
                            principal="174.00", withheld_tax="12.50")
    api = simulator_api(sim, SPEED)
    txns = list(api.iter_transactions(ago(days=5)))
    assert len(txns) == 7 and api.stats["listTransactions"].pages == 3
    assert len({t.transaction_id for t in txns}) == 7
    txn = txns[0]
    assert txn.order_id.startswith("701-") and txn.marketplace_id == MX and txn.transaction_type == "Shipment"
    commission = (Decimal("174.00") * Decimal("0.15")).quantize(Decimal("0.01"))
    assert txn.total_amount == Money(Decimal("174.00") - commission - Decimal("12.50"), "MXN")
    assert txn.breakdowns[0].find("Commission") is None and txn.breakdowns[1].find("Commission").amount.amount < 0
    assert txn.items[0].contexts[0].sku == "CAFE-1"
    assert list(api.iter_transactions(ago(days=5), marketplace_id="ATVPDKIKX0DER")) == []


def test_requested_report_rows_in_cp1252(sim):
    sim.add_listing(sku="CAFE-1", title="Café Ñandú de Oaxaca", price="174.00", quantity=3)
    sim.add_listing(sku="PIÑA-2", title="Piña colada – mezcla", price="99.50", quantity=0)
    sim.state.report_encoding = "cp1252"
    api = simulator_api(sim, SPEED)
    report_id = api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA")
    report = api.wait_for_report(report_id, poll_interval=0.01, timeout=10)
    assert report.is_done and report.report_document_id
    rows = {r["seller-sku"]: r for r in api.iter_report_rows(report.report_document_id)}
    assert rows["CAFE-1"]["item-name"] == "Café Ñandú de Oaxaca" and rows["CAFE-1"]["quantity"] == "3"
    assert rows["PIÑA-2"]["item-name"] == "Piña colada – mezcla" and Decimal(rows["PIÑA-2"]["price"]) == Decimal("99.5")


def test_gzipped_document_and_settlement_reports(sim):
    text = "seller-sku\tdescription\n" + "".join(f"SKU-{i}\tRenglón {i} — ñ\n" for i in range(500))
    sim.set_report_document("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", "\ufeff" + text,
                            encoding="utf-8", gzip=True)
    api = simulator_api(sim, SPEED)
    report = api.wait_for_report(api.create_report("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
                                                   data_start_time=ago(days=2), data_end_time=ago(hours=1)),
                                 poll_interval=0.01, timeout=10)
    rows = list(api.iter_report_rows(report.report_document_id))
    assert len(rows) == 500 and rows[7] == {"seller-sku": "SKU-7", "description": "Renglón 7 — ñ"}

    sim.add_transaction(order_id="701-1", posted=ago(days=3), sku="CAFE-1")
    sim.publish_settlement_report()
    (settlement,) = api.iter_reports(["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"], processing_statuses=["DONE"])
    rows = list(api.iter_report_rows(settlement.report_document_id))
    assert rows and {"settlement-id", "amount-type", "amount"} <= set(rows[0])
    assert any(r.get("order-id") == "701-1" for r in rows)


@pytest.mark.parametrize("outcome, error, match", [
    ("FATAL", errors.BadData, "could not produce"), ("CANCELLED", errors.BadData, "no data"),
    ("IN_PROGRESS_FOREVER", errors.RetryLater, "still in progress")])
def test_reports_that_do_not_finish(sim, outcome, error, match):
    sim.set_report_outcome("GET_MERCHANT_LISTINGS_ALL_DATA", outcome)
    api = simulator_api(sim, SPEED)
    with pytest.raises(error, match=match):
        api.wait_for_report(api.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"), poll_interval=0.01, timeout=0.2)


# ---------------------------------------------------------------- faults

def test_5xx_then_success(sim):
    sim.inject_fault("getMarketplaceParticipations", "5xx", times=2)
    api = simulator_api(sim, SPEED)
    assert len(api.get_marketplace_participations()) == 1
    assert sim.count("getMarketplaceParticipations", 503) == 2
    assert api.stats["getMarketplaceParticipations"].retries == 2


def test_slow_answers_time_out_into_retry_later(sim):
    sim.inject_fault("getMarketplaceParticipations", "slow", times=2, delay=2.0)
    api = simulator_api(sim, SPEED, timeout=0.3, max_retries=1)
    started = time.monotonic()
    with pytest.raises(errors.RetryLater, match="did not answer within 0.3 seconds") as info:
        api.get_marketplace_participations()
    # it gave up on each slow answer instead of waiting for it (two answers of 2 s would take 4 s)
    assert time.monotonic() - started < 4.0 and api.stats["getMarketplaceParticipations"].calls == 2
    assert info.value.operation == "getMarketplaceParticipations"


def test_malformed_json_is_bad_data(sim):
    sim.inject_fault("searchOrders", "malformed_json")
    with pytest.raises(errors.BadData, match="not a JSON object"):
        simulator_api(sim, SPEED).search_orders_page(created_after=ago(days=1))


def test_expired_token_is_renewed_and_revoked_token_needs_reauthorization(sim):
    api = simulator_api(sim, SPEED)
    api.get_marketplace_participations()
    sim.inject_fault("getMarketplaceParticipations", "expired_token")
    api.get_marketplace_participations()
    assert sim.count("token") == 2 and sim.count("getMarketplaceParticipations", 403) == 1
    sim.expire_access_tokens()
    sim.revoke_refresh_token()
    with pytest.raises(errors.AuthorizationError, match="re-authorize") as info:
        api.get_marketplace_participations()
    assert info.value.amazon_code == "invalid_grant"
    assert_no_secret(str(info.value))


def test_revoked_token_fault(sim):
    sim.inject_fault("getOrder", "revoked_token")
    with pytest.raises(errors.AuthorizationError) as info:
        simulator_api(sim, SPEED).get_order("701-1")
    assert_no_secret(str(info.value))


def test_wrong_client_secret_is_configuration_error(sim):
    with pytest.raises(errors.ConfigurationError, match="client id or client secret") as info:
        simulator_api(sim, SPEED, lwa_client_secret="not-the-secret").get_marketplace_participations()
    assert "not-the-secret" not in str(info.value)


class _Greedy(Pacer):
    """A client that does not pace: it ignores the rate header and 429s (only retries hold it back)."""

    def observe(self, operation, headers):
        pass

    def throttled(self, operation):
        pass


def test_429_storm_ends_in_retry_later(spapi_clean):
    with Simulator(speed=0.001) as slow_sim:  # Amazon's plans divided by 1000: a few calls then 429s
        greedy = _Greedy(plans={"getOrder": UsagePlan(1000, 1000)})
        api = simulator_api(slow_sim, SPEED, pacer=greedy, max_retries=3)
        not_found = 0
        with pytest.raises(errors.RetryLater, match="429") as info:
            for _ in range(40):
                try:
                    api.get_order("701-1")
                except errors.NotFound:  # answered (no such order) while the burst lasts
                    not_found += 1
    stats = api.stats["getOrder"]
    assert not_found == 30  # getOrder's burst
    assert stats.throttled == slow_sim.throttled == 4 and stats.retries == 3 and info.value.status == 429
    assert_no_secret(str(info.value))


def test_many_pages_under_a_tight_usage_plan(spapi_clean):
    """Two workers (two processes: each its own pacing buckets) read searchOrders of one seller at once.

    The simulated plan (burst 20, then 0.0056 x 1800 = 10 calls/s) is shared on Amazon's side, so the workers
    together ask for twice what it allows: Amazon answers 429s, the workers retry, and each still gets every
    page exactly once. (The simulator does not validate here: the other tests check our requests.)

    The workers and the simulator share a simulated clock (calls take no time on it), so the counts and the
    time the plan imposes are the pacing's doing, not the machine's load.
    """
    from spapi_fakes import SharedVirtualClock

    from spapi_simulator.state import Clock

    speed = 1800.0
    scenario = sim_pkg.generate_scenario(n_orders=100, n_listings=10, seed=7, days=10)
    clock = SharedVirtualClock()

    class SimulatedClock(Clock):
        def monotonic(self):
            return clock() + self.offset

    results, failures = {}, []
    with Simulator(scenario=scenario, speed=speed, validate=False) as big:
        big.state.clock = SimulatedClock()
        workers = {
            "by-update": {"last_updated_after": ago(days=11)},
            "by-creation": {"created_after": ago(days=11)},
        }

        def run(name, filters, seed):
            clock.join()
            try:
                pacer = Pacer(speed=speed, clock=clock, sleep=clock.sleep)
                values = {"lwa_client_id": sim_pkg.CLIENT_ID, "lwa_client_secret": sim_pkg.CLIENT_SECRET,
                          "refresh_token": sim_pkg.REFRESH_TOKEN, "seller_id": big.seller_id, "endpoint": big.url,
                          "token_url": big.token_url, "pacing_speed": speed, "backoff_base": 0.01, "timeout": 5.0,
                          "max_retries": 10}
                api = SpApi(SpApiConfig(**values), sleep=clock.sleep, clock=clock, rng=random.Random(seed),
                            pacer=pacer)
                ids = [o.order_id for p in api.iter_orders_pages(max_results=5, **filters) for o in p.orders]
                results[name] = (ids, api.stats["searchOrders"])
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                failures.append(exc)
            finally:
                clock.leave()

        started = clock()
        threads = [threading.Thread(target=run, args=(*item, seed)) for seed, item in enumerate(workers.items())]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        elapsed = clock() - started
        served, throttled = big.count("searchOrders", 200), big.throttled
    assert failures == []
    assert set(results) == set(workers)
    for name, (ids, stats) in results.items():
        print(f"\n{name}: {stats.pages} pages, {len(ids)} orders, {stats.throttled} x 429, {stats.retries} retries")
        assert len(ids) == len(set(ids)) == 100 and stats.pages == 20
        assert stats.retries == stats.throttled
    print(f"simulator served {served} pages and {throttled} x 429 in {elapsed:.2f} simulated seconds")
    assert served == 40
    assert throttled > 0, "the two workers together asked for more than the plan allows"
    # the plan allows its burst at once, then rate x speed per second (0.0056 x 1800 = 10.08, not 10):
    # the pages past the burst take at least that long; retrying costs little more
    plan = USAGE_PLANS["searchOrders"]
    floor = (served - plan.burst) / (plan.rate * speed)
    assert floor <= elapsed < 2 * floor, (floor, elapsed)
    assert throttled == sum(stats.throttled for _, stats in results.values()) > 0


# ---------------------------------------------------------------- authorization

def test_website_authorization_flow(sim):
    redirect = "https://odoo.example.com/amazon/callback"
    url = build_consent_url(sim.url, "amzn1.sp.solution.sim", "st4te", redirect_uri=redirect)
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == ["st4te"] and back["selling_partner_id"] == [sim.seller_id]
    config = SpApiConfig(sim_pkg.CLIENT_ID, sim_pkg.CLIENT_SECRET, endpoint=sim.url, token_url=sim.token_url)
    grant = exchange_authorization_code(config, back["spapi_oauth_code"][0], redirect)
    assert grant.refresh_token == sim_pkg.REFRESH_TOKEN and grant.expires_in > 0
    with pytest.raises(errors.AuthorizationError):  # single use
        exchange_authorization_code(config, back["spapi_oauth_code"][0], redirect)
