"""The first hour of a new seller in a real browser (Odoo's tour framework, headless Chromium).

Skipped with a message where no Chromium can run, except in strict mode (CI=true or STRICT=1), where a
missing browser is a failure. With BAC_SCREENSHOTS=<folder> (``make screenshots``) the run also saves the
screenshots README shows, at the tour's ``bac-screenshot:<name>`` steps.
"""
import os
import unittest
from datetime import timedelta
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tests import common as odoo_test_common

from spapi_simulator import factory

from ..models.connection import amazon_account as connection_module
from ..models.listings import amazon_listing_sync as listings_module
from .common import (
    REPORT_TYPE,
    SIM_CLIENT_ID,
    SIM_CLIENT_SECRET,
    AmazonTestCommon,
    report_row,
    report_text,
    screenshot_console,
    screenshots_dir,
)


def _strict():
    return os.environ.get("CI") == "true" or os.environ.get("STRICT") == "1"


@tagged("post_install", "-at_install")
class TestFirstHourTour(AmazonTestCommon, HttpCase):
    browser_size = "1280x800"  # README's screenshots: small enough, the whole form header visible

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the simulator's consent page authorizes A3SIMSELLER0001: the shared test connection is another seller
        cls.amazon.seller_id = "A3SIMSELLER0002"
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param(connection_module.PARAM_APPLICATION_ID, "amzn1.sp.solution.sim-app")
        # a new connection of this database talks to the simulator (as a sandbox set-up would), with its own
        # app credentials: the system-wide ones are only ever sent to Amazon
        defaults = cls.env["ir.default"].sudo()
        defaults.set("amazon.account", "lwa_client_id", SIM_CLIENT_ID)
        defaults.set("amazon.account", "lwa_client_secret", SIM_CLIENT_SECRET)
        defaults.set("amazon.account", "endpoint_override", cls.sim.url)
        defaults.set("amazon.account", "token_url_override", cls.sim.token_url)
        defaults.set("amazon.account", "seller_central_override", cls.sim.url)
        Product = cls.env["product.product"]
        cls.mug = Product.create({"name": "Taza Talavera", "default_code": "MUG-01", "type": "consu",
                                  "is_storable": True, "list_price": 199.0})
        cls.cap = Product.create({"name": "Gorra de charro", "default_code": "GORRA-1", "type": "consu",
                                  "is_storable": True, "list_price": 250.0})
        cls.user_login = cls.env.user.login
        # README's screenshots show a Mexican seller (as `make demo` does), not the test fixtures' names
        cls.company.name = "Artesanías Tonalá S.A. de C.V."
        cls.env.user.name = "Laura Gómez"
        cls.warehouse.name = "Tonalá"
        if cls.env["res.lang"]._lang_get("es_MX"):
            # the seller works in Spanish: the tour (and README's screenshots) go through the Spanish screens
            cls.env.user.lang = "es_MX"

    def setUp(self):
        super().setUp()
        try:
            odoo_test_common._find_executable()
            if odoo_test_common.websocket is None:
                raise unittest.SkipTest("the Python package websocket-client is missing")
        except unittest.SkipTest as exc:
            if _strict():
                raise AssertionError(f"The browser test cannot run: {exc} (apt-get install chromium; "
                                     "pip install websocket-client)") from None
            self.skipTest(f"Browser test skipped: {exc} (apt-get install chromium; pip install websocket-client; "
                          "CI=true or STRICT=1 makes this a failure)")
        self.sim.set_report_outcome(REPORT_TYPE, "DONE")
        self.sim.set_report_document(REPORT_TYPE, report_text([
            report_row("MUG-01", title="Taza Talavera 350 ml", price="199.00"),
            report_row("CAP-03", title="Gorra charro <b>bordada</b> a mano", price="250.00"),
        ]).encode(), content_type="text/plain")
        order = factory.make_order(items=[{"sku": "CAP-03", "quantity": 1, "unit_price": "250.00",
                                           "title": "Gorra charro <b>bordada</b> a mano"}],
                                   created=self.sim.now() - timedelta(days=20), status="SHIPPED")
        # placed before the connection existed: the 30 days of history bring it (within the pages the button reads)
        self.sim.add_order(order)
        self.order_id = order["orderId"]
        # Amazon released the sale into a settlement not deposited yet: "Synchronize payouts" shows it to book
        with self.sim.state.lock:
            self.sim.state.transactions.clear()
        self.sim.add_transaction(factory.make_transaction(
            self.order_id, group_id="FEG-TOUR00000001", sku="CAP-03", principal="250.00",
            posted=self.sim.now() - timedelta(days=18), seller_id=self.sim.seller_id))

    def test_first_hour_of_a_new_seller(self):
        # Amazon's report is ready in moments on the simulator: no need to poll every 15 seconds
        with patch.object(listings_module, "REPORT_POLL_INTERVAL", 0.2), screenshot_console(screenshots_dir()):
            self.start_tour(f"/odoo/action-base.action_res_company_form/{self.company.id}", "amazon_first_hour",
                            login=self.user_login, timeout=600)
        account = self.env["amazon.account"].search([("company_id", "=", self.company.id),
                                                     ("seller_id", "=", self.sim.seller_id)])
        self.assertEqual(account.state, "authorized")
        self.assertTrue(account.is_configured)
        self.assertEqual(account.pricelist_id.currency_id, self.env.ref("base.MXN"))
        self.assertEqual(account.fba_warehouse_id.name, "Amazon FBA")
        listing = account.listing_ids.filtered(lambda lst: lst.seller_sku == "CAP-03")
        self.assertEqual(listing.name, "Gorra charro bordada a mano")
        self.assertEqual(listing.product_id, self.cap)
        order = account.amazon_order_ids.filtered(lambda o: o.name == self.order_id)
        self.assertEqual(order.state, "imported")
        self.assertEqual(order.invoice_ids.mapped("state"), ["posted"])
        settlement = self.env["amazon.settlement"].search([("account_id", "=", account.id)])
        self.assertEqual(settlement.state, "open")
        self.assertEqual(settlement.sales_amount, 250.0)

