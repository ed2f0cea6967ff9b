"""A connection reading several marketplaces of its region (Mexico plus the United States on the North
America unified account): orders in each marketplace's currency with its own price list and fiscal position,
listings and stock per marketplace. Against the SP-API simulator."""
import json
from urllib.parse import unquote

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from spapi_simulator import factory

from .common import REPORT_TYPE, AmazonOrderCommon, AmazonTestCommon

MX, US, CA = "A1AM78C64UM0Y8", "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"


class MarketplaceMixin:
    """Mexico, the United States and Canada; US dollars and a price list in them; the foreign fiscal position."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mkt_mx = cls.env.ref("bind_amazon_connector.marketplace_mx")
        cls.mkt_us = cls.env.ref("bind_amazon_connector.marketplace_us")
        cls.mkt_ca = cls.env.ref("bind_amazon_connector.marketplace_ca")
        cls.usd = cls.env.ref("base.USD")
        cls.usd.active = True
        cls.pricelist_us = cls.env["product.pricelist"].create({
            "name": "Amazon US", "currency_id": cls.usd.id, "company_id": cls.company.id,
        })
        cls.foreign_fpos = cls.env["account.chart.template"].with_company(cls.company).ref(
            "account_fiscal_position_foreign")

    def _read_us(self, pricelist=None, confirm=True):
        """The connection also reads Amazon.com, with ``pricelist`` (default: the test's USD one)."""
        self.amazon.marketplace_ids = self.mkt_mx | self.mkt_us
        line = self.amazon.env["amazon.account.marketplace"]._for(self.amazon, self.mkt_us)
        line.pricelist_id = pricelist if pricelist is not None else self.pricelist_us
        if confirm:
            line.action_confirm()
        return line


@tagged("post_install", "-at_install")
class TestMarketplaceSettings(MarketplaceMixin, AmazonTestCommon):
    def test_mexico_only_connection_needs_nothing_more(self):
        line = self.amazon.marketplace_setting_ids
        self.assertEqual(line.marketplace_id, self.mkt_mx)
        self.assertTrue(line.confirmed and line.is_main)
        self.assertFalse(self.amazon.env["amazon.account.marketplace"]._missing_text_for(self.amazon, self.mkt_mx))
        Line = self.env["amazon.account.marketplace"]
        self.assertEqual(Line._pricelist_for(self.amazon, self.mkt_mx), self.pricelist)

    def test_new_marketplace_gets_proposals_to_confirm(self):
        self.amazon.marketplace_ids = self.mkt_mx | self.mkt_us
        line = self.amazon.env["amazon.account.marketplace"]._for(self.amazon, self.mkt_us)
        self.assertEqual(line.pricelist_id.currency_id, self.usd, "a price list in the marketplace's currency")
        self.assertEqual(line.fiscal_position_id, self.foreign_fpos, "a foreign customer: no Mexican IVA")
        iva16 = self.company.account_sale_tax_id
        self.assertEqual(line.fiscal_position_id.map_tax(iva16).amount, 0.0)
        self.assertFalse(line.confirmed)
        self.assertIn("proposals", self.env["amazon.account.marketplace"]._missing_text_for(self.amazon, self.mkt_us))
        line.action_confirm()
        self.assertTrue(line.confirmed)
        self.assertFalse(self.amazon.env["amazon.account.marketplace"]._missing_text_for(self.amazon, self.mkt_us))
        # a marketplace no longer read loses its line
        self.amazon.marketplace_ids = self.mkt_mx
        self.assertEqual(self.amazon.marketplace_setting_ids.marketplace_id, self.mkt_mx)

    def test_form_shows_the_marketplaces_tab(self):
        from lxml import etree

        arch = etree.fromstring(self.env["amazon.account"].get_views([(False, "form")])["views"]["form"]["arch"])
        page = arch.xpath("//page[@name='marketplaces']")
        self.assertTrue(page and page[0].xpath(".//field[@name='marketplace_setting_ids']"))
        self.assertTrue(page[0].xpath(".//button[@name='action_confirm']"))

    def test_price_list_must_be_in_the_marketplace_currency(self):
        line = self._read_us(confirm=False)
        with self.assertRaisesRegex(ValidationError, "sells in USD"):
            line.pricelist_id = self.pricelist  # MXN
        line.pricelist_id = False
        with self.assertRaisesRegex(ValidationError, "need a price list in USD"):
            line.action_confirm()

    def test_only_managers_confirm(self):
        line = self._read_us(confirm=False)
        with self.assertRaises(AccessError):
            line.with_user(self.amazon_user).action_confirm()
        self.assertFalse(line.confirmed)


@tagged("post_install", "-at_install")
class TestMarketplaceOrders(MarketplaceMixin, AmazonOrderCommon):
    def _us_order(self, price="20.00", **kw):
        return self._make_order([{"sku": "MUG-01", "quantity": 1, "unit_price": price}], marketplace_id=US,
                                buyer=False, recipient=False, **kw)

    def test_orders_of_mexico_and_us_each_in_their_currency(self):
        self._read_us()
        self.sim.reset_records()
        mx_order = self._make_order()
        us_order = self._us_order()
        result = self._sync()
        self.assertEqual(result["counts"], {"imported": 2})
        searches = [r for r in self.sim.requests if r.operation == "searchOrders"]
        self.assertEqual(len(searches), 1, "both marketplaces in one call")
        self.assertEqual(set(",".join(searches[0].query["marketplaceIds"]).split(",")), {MX, US})

        mx = self._amazon_order(mx_order["orderId"])
        self.assertEqual(mx.state, "imported", mx.reason)
        self.assertEqual(mx.marketplace_id, self.mkt_mx)
        self.assertEqual(mx.sale_order_id.currency_id.name, "MXN")
        self.assertEqual(mx.sale_order_id.pricelist_id, self.pricelist)
        self.assertEqual(mx.sale_order_id.amount_total, 199.0)
        self.assertEqual(mx.sale_order_id.order_line.filtered("amazon_order_item_id").tax_ids.amount, 16.0)

        us = self._amazon_order(us_order["orderId"])
        self.assertEqual(us.state, "imported", us.reason)
        self.assertEqual(us.marketplace_id, self.mkt_us)
        so = us.sale_order_id
        self.assertEqual(so.currency_id, self.usd)
        self.assertEqual(so.pricelist_id, self.pricelist_us)
        self.assertEqual(so.fiscal_position_id, self.foreign_fpos)
        self.assertEqual(so.partner_id.country_id.code, "US")
        line = so.order_line.filtered("amazon_order_item_id")
        self.assertEqual(line.price_unit, 20.0)
        self.assertFalse(line.tax_ids.filtered("amount"), "no Mexican IVA on a sale abroad")
        self.assertEqual(so.amount_total, 20.0)

    def test_marketplace_without_price_list_keeps_its_orders_in_error(self):
        line = self._read_us(pricelist=False, confirm=False)
        mx_order = self._make_order()
        us_order = self._us_order()
        self._sync()
        self.assertEqual(self._amazon_order(mx_order["orderId"]).state, "imported")
        us = self._amazon_order(us_order["orderId"])
        self.assertEqual(us.state, "error")
        self.assertIn("Amazon.com (United States)", us.reason)
        self.assertIn("price list in USD", us.reason)
        self.assertFalse(us.sale_order_id)
        self.assertFalse(self.env["sale.order"].search([("client_order_ref", "=", us.name)]),
                         "nothing recorded in another currency")
        # once set and confirmed, the waiting orders come in
        line.pricelist_id = self.pricelist_us
        line.action_confirm()
        self.assertEqual(us.state, "imported", us.reason)
        self.assertEqual(us.sale_order_id.currency_id, self.usd)
        self.assertEqual(us.sale_order_id.pricelist_id, self.pricelist_us)

    def test_proposed_settings_wait_for_confirmation(self):
        self.amazon.marketplace_ids = self.mkt_mx | self.mkt_us
        us_order = self._us_order()
        self._sync()
        us = self._amazon_order(us_order["orderId"])
        self.assertEqual(us.state, "error")
        self.assertIn("proposals", us.reason)
        self.amazon.env["amazon.account.marketplace"]._for(self.amazon, self.mkt_us).action_confirm()
        self.assertEqual(us.state, "imported", us.reason)
        self.assertEqual(us.sale_order_id.currency_id, self.usd)

    def test_order_of_a_marketplace_not_read_names_what_to_set(self):
        # a Canadian order reaching a connection that reads Mexico only (e.g. retried from its payload)
        raw = factory.make_order(items=[{"sku": "MUG-01", "quantity": 1, "unit_price": "25.00"}],
                                 marketplace_id=CA, status="SHIPPED", buyer=False, recipient=False)
        rec = self._import_order(raw, force=False)
        self.assertEqual(rec.state, "error")
        self.assertIn("add Amazon.ca (Canada) to the marketplaces", rec.reason)

    def test_currency_other_than_the_price_list_is_refused(self):
        self._read_us()
        us_order = self._us_order()
        # Amazon.com reporting an order in Canadian dollars: not priced with the USD list
        raw = json.loads(json.dumps(self.sim.get_order(us_order["orderId"])).replace('"USD"', '"CAD"'))
        self.sim.add_order(raw)
        self._sync()
        rec = self._amazon_order(us_order["orderId"])
        self.assertEqual(rec.state, "error")
        self.assertIn("in CAD", rec.reason)
        self.assertFalse(rec.sale_order_id)


@tagged("post_install", "-at_install")
class TestMarketplaceListings(MarketplaceMixin, AmazonTestCommon):
    def setUp(self):
        super().setUp()
        with self.sim.state.lock:
            self.sim.state.listings.clear()
            self.sim.state.report_documents.pop(REPORT_TYPE, None)
            self.sim.state.report_outcomes.pop(REPORT_TYPE, None)
        self.sim.reset_records()

    def test_listings_of_two_marketplaces(self):
        mug = self.env["product.product"].create({"name": "Mug", "default_code": "MUG-01", "is_storable": True})
        self.sim.add_listing(factory.list_in_marketplace(factory.make_listing("MUG-01", price="199.00"), US,
                                                         price="12.50"))
        self.sim.add_listing(sku="TEE-MX", price="150.00")
        self.sim.add_listing(sku="CAP-US", price="9.99", marketplace_id=US)
        self._read_us()
        self.assertEqual(self._import_listings(), "done")

        reports = [r for r in self.sim.requests if r.operation == "createReport"]
        self.assertEqual(sorted(r.body["marketplaceIds"][0] for r in reports), sorted([MX, US]))
        self.assertTrue(all(len(r.body["marketplaceIds"]) == 1 for r in reports), "one report per marketplace")
        Listing = self.env["amazon.listing"]
        found = {(lst.marketplace_id.marketplace_id, lst.seller_sku): lst
                 for lst in Listing.search([("account_id", "=", self.amazon.id)])}
        self.assertEqual(set(found), {(MX, "MUG-01"), (MX, "TEE-MX"), (US, "MUG-01"), (US, "CAP-US")})
        self.assertEqual((found[US, "MUG-01"].price, found[US, "MUG-01"].currency_id), (12.5, self.usd))
        self.assertEqual(found[MX, "MUG-01"].currency_id.name, "MXN")
        self.assertEqual(found[US, "MUG-01"].product_id, mug)
        # each marketplace's prices go to its own price list
        self.assertEqual(self.pricelist._get_product_price(mug, 1.0), 199.0)
        self.assertEqual(self.pricelist_us._get_product_price(mug, 1.0), 12.5)
        self.assertEqual(self.amazon.listing_import_rows, 4)
        summary = str(self.amazon.listing_import_summary)
        self.assertIn("Amazon.com (United States)", summary)
        self.assertIn("Amazon.com.mx (Mexico)", summary)

    def test_each_marketplace_keeps_its_pending_report(self):
        self.sim.add_listing(sku="TEE-MX", price="150.00")
        self._read_us()
        self.sim.set_report_outcome(REPORT_TYPE, "IN_PROGRESS_FOREVER")
        self.assertEqual(self._import_listings(wait=0.3), "waiting")
        us_line = self.amazon.env["amazon.account.marketplace"]._for(self.amazon, self.mkt_us)
        self.assertTrue(self.amazon.listing_report_id and us_line.listing_report_id, "each keeps its report")
        self.assertNotEqual(self.amazon.listing_report_id, us_line.listing_report_id)
        # the next import waits for the same reports instead of asking again
        self.sim.reset_records()
        self.sim.set_report_outcome(REPORT_TYPE, "DONE")
        self.assertEqual(self._import_listings(wait=0.3), "waiting", "the reports asked for still never finish")
        self.assertFalse([r for r in self.sim.requests if r.operation == "createReport"])
        self.assertFalse(self.env["amazon.listing"].search([("account_id", "=", self.amazon.id)]))


@tagged("post_install", "-at_install")
class TestMarketplaceStock(MarketplaceMixin, AmazonOrderCommon):
    def setUp(self):
        super().setUp()
        self._reset_amazon()

    def test_stock_pushed_per_marketplace(self):
        self._read_us()
        self.sim.add_listing(factory.list_in_marketplace(factory.make_listing("MUG-01", quantity=0), US,
                                                         price="12.50"))
        self.sim.add_listing(sku="TEE-02", quantity=0)
        us_listing = self._make_listing("MUG-01", self.product_mug, marketplace=self.mkt_us)
        # Canada is not read by the connection
        ca_listing = self._make_listing("MUG-01", self.product_mug, marketplace=self.mkt_ca)
        mx_listing = self.env["amazon.listing"].search([
            ("account_id", "=", self.amazon.id), ("seller_sku", "=", "MUG-01"),
            ("marketplace_id", "=", self.mkt_mx.id)])
        self._put_stock(self.product_mug, 7)
        result = self.amazon.with_context(amazon_pacing_speed=self.sim_speed).action_push_stock_now()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        patches = [r for r in self.sim.requests if r.operation == "patchListingsItem" and "MUG-01" in r.path]
        sent = sorted((",".join(r.query["marketplaceIds"]), unquote(r.path).rsplit("/", 1)[1]) for r in patches)
        self.assertEqual(sent, sorted([(MX, "MUG-01"), (US, "MUG-01")]), "once per marketplace the connection reads")
        for listing in (mx_listing, us_listing):
            self.assertEqual((listing.stock_push_state, listing.stock_sent_qty), ("done", 7))
        self.assertFalse(ca_listing.stock_sent_date)
        self.assertIn("Amazon.ca (Canada) is not among the marketplaces", ca_listing.stock_push_blocked)
        self.assertEqual(self.sim.get_listing("MUG-01")["fulfillmentAvailability"][0]["quantity"], 7)
        # even when asked explicitly, a marketplace the connection does not read is left alone
        self.sim.reset_records()
        result = self.env["amazon.stock.sync"]._push_now(self.amazon.with_context(amazon_pacing_speed=self.sim_speed),
                                                         ca_listing)
        self.assertEqual((result["counts"]["sent"], result["counts"]["skipped"]), (0, 1))
        self.assertFalse([r for r in self.sim.requests if r.operation == "patchListingsItem"])
