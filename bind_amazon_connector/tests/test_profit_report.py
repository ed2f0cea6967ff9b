"""The profitability report (``amazon.profit.report``) on orders imported from the simulator and paid in a payout
built like Amazon's Finances transactions: every figure to the cent, reconciled to the books (fee bills,
invoices, credit notes), pending fees out of margin %, and who may read it."""
import unittest
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tests import common as odoo_test_common
from odoo.tools import mute_logger

from spapi_simulator import factory

from ..models.connection import connection_overview as overview
from .common import AmazonFinanceCommon, AmazonOrderCommon, screenshot_console, screenshots_dir

MEASURES = ["units:sum", "net_sales:sum", "promotion_amount:sum", "refund_amount:sum", "fees_returned:sum",
            "refund_net:sum", "fee_referral:sum", "fee_fulfillment:sum", "fee_shipping:sum", "fee_other:sum",
            "fee_total:sum", "fee_iva:sum", "cogs:sum", "margin:sum", "margin_percent:avg"]


class ProfitScenario:
    """Orders imported from the simulator and paid in one payout (mixed into the Amazon test classes)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_mug.standard_price = 150.0
        cls.product_tee.standard_price = 80.0
        cls.product_cap = cls._product("GORRA-03", "Gorra de charro", storable=False, standard_price=40.0)

    def _other_company_admin(self, company_name, login):
        """An Amazon administrator and accounting manager of another company."""
        other_company = self.env["res.company"].create({"name": company_name})
        return self.env["res.users"].create({
            "name": login, "login": login, "company_id": other_company.id,
            "company_ids": [Command.set(other_company.ids)],
            "group_ids": [Command.set([self.env.ref("bind_amazon_connector.group_amazon_manager").id,
                                       self.env.ref("account.group_account_manager").id])]})

    def _shipped(self, items, fulfilled_by):
        order = self._make_order(items, fulfilled_by=fulfilled_by, status="SHIPPED")
        return order["orderId"]

    def _scenario(self):
        """A: 2 mugs by FBA, fees split by Amazon into base and IVA, detailed on the item. B: a T-shirt
        merchant-fulfilled, fees not split, IVA withheld, then refunded with part of the commission given back.
        C: a cap (a product without stock valuation) not paid by Amazon yet."""
        self._put_stock(self.product_mug, 2, self.fba_location)
        self._put_stock(self.product_tee, 1)
        order_a = self._shipped([{"sku": "MUG-01", "quantity": 2, "unit_price": "348.00"}], "AMAZON")
        order_b = self._shipped([{"sku": "TEE-02", "quantity": 1, "unit_price": "232.00"}], "MERCHANT")
        order_c = self._shipped([{"sku": "GORRA-03", "quantity": 1, "unit_price": "116.00"}], "MERCHANT")
        AmazonOrderCommon._sync(self)
        for order_id in (order_a, order_b, order_c):
            record = self._amazon_order(order_id)
            self.assertEqual(record.state, "imported", record.reason)
        group = self._group()
        day = self.sim.now() - timedelta(days=1)
        txns = [
            factory.make_transaction(order_a, group_id=group, principal="696.00", commission="104.40",
                                     fba_fee="60.00", fee_tax=True, fee_detail="items", sku="MUG-01", quantity=2,
                                     fulfillment_network="AFN", posted=day, seller_id=self.sim.seller_id),
            factory.make_transaction(order_b, group_id=group, principal="232.00", commission="34.80",
                                     withheld_tax="16.00", sku="TEE-02", posted=day + timedelta(hours=1),
                                     seller_id=self.sim.seller_id),
            factory.make_transaction(order_b, group_id=group, principal="-232.00", commission="-27.84",
                                     transaction_type="Refund", sku="TEE-02", posted=day + timedelta(hours=5),
                                     seller_id=self.sim.seller_id),
        ]
        for txn in txns:
            self.sim.add_transaction(txn)
        self._publish_deposit(group, sum(txn["totalAmount"]["currencyAmount"] for txn in txns))
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertEqual(settlement.state, "closed", settlement.explanation)
        return order_a, order_b, order_c, settlement


@tagged("post_install", "-at_install")
class TestAmazonProfitReport(ProfitScenario, AmazonFinanceCommon, AmazonOrderCommon):

    def test_every_figure_to_the_cent_and_reconciled_to_the_books(self):
        order_a, order_b, order_c, settlement = self._scenario()
        Report = self.env["amazon.profit.report"]
        rows = {row.amazon_order_id.name: row for row in Report.search([("account_id", "=", self.amazon.id)])}
        self.assertEqual(set(rows), {order_a, order_b, order_c}, "one row per product line of each order")
        a, b, c = rows[order_a], rows[order_b], rows[order_c]

        # A: 2 x 348.00 with IVA = 600.00; commission 104.40 = 90.00 + 14.40 IVA, FBA 60.00 = 51.72 + 8.28 IVA
        self.assertEqual((a.product_id, a.sku, a.fulfillment_channel, a.customer_type),
                         (self.product_mug, "MUG-01", "fba", "b2c"))
        self.assertAlmostEqual(a.units, 2)
        self.assertAlmostEqual(a.net_sales, 600.00, places=2)
        self.assertAlmostEqual(a.net_sales_currency, 600.00, places=2)
        self.assertAlmostEqual(a.fee_referral, 90.00, places=2)
        self.assertAlmostEqual(a.fee_fulfillment, 51.72, places=2)
        self.assertAlmostEqual(a.fee_iva, 22.68, places=2)
        self.assertAlmostEqual(a.cogs, 300.00, places=2, msg="the delivery's stock valuation: 2 x 150.00")
        self.assertAlmostEqual(a.margin, 600.00 - 90.00 - 51.72 - 300.00, places=2)
        self.assertFalse(a.fees_pending)
        # B: 200.00 sold and refunded (the credit note), commission 34.80 -> 30.00 without IVA (the fee type's
        # 16 % included), 27.84 given back -> 24.00; the IVA withheld (16.00) is a tax, not a cost
        self.assertEqual((b.product_id, b.fulfillment_channel), (self.product_tee, "fbm"))
        self.assertAlmostEqual(b.net_sales, 200.00, places=2)
        self.assertAlmostEqual(b.refund_amount, 200.00, places=2)
        self.assertAlmostEqual(b.fees_returned, 24.00, places=2)
        self.assertAlmostEqual(b.refund_net, 176.00, places=2)
        self.assertAlmostEqual(b.fee_referral, 6.00, places=2)
        self.assertAlmostEqual(b.fee_total, 6.00, places=2)
        self.assertAlmostEqual(b.cogs, 80.00, places=2, msg="refunded without a return: the goods are gone")
        self.assertAlmostEqual(b.margin, 200.00 - 200.00 - 6.00 - 80.00, places=2)
        # C: no payout yet: fees pending; a product without stock valuation costs its product cost
        self.assertTrue(c.fees_pending)
        self.assertAlmostEqual(c.net_sales, 100.00, places=2)
        self.assertAlmostEqual(c.fee_total, 0.0)
        self.assertAlmostEqual(c.cogs, 40.00, places=2)

        # reconciled to the books, for the period and the connection
        in_period = [("account_id", "=", self.amazon.id), ("date", ">=", self._sim_now() - timedelta(days=2)),
                     ("date", "<=", self._sim_now())]
        [total] = Report._read_group(in_period, [], MEASURES)
        report_total = dict(zip(MEASURES, total, strict=True))
        bills = settlement.move_ids.filtered(lambda m: m.amazon_fee_bill and m.state == "posted")
        self.assertTrue(bills)
        sign = {"in_invoice": 1, "in_refund": -1}
        self.assertAlmostEqual(report_total["fee_total:sum"],
                               sum(sign[m.move_type] * m.amount_untaxed for m in bills), places=2,
                               msg="the fees the payouts booked (expense, without IVA)")
        self.assertAlmostEqual(report_total["fee_iva:sum"], sum(sign[m.move_type] * m.amount_tax for m in bills),
                               places=2, msg="the IVA of Amazon's fees the bills credit")
        self.assertAlmostEqual(report_total["fee_total:sum"] + report_total["fee_iva:sum"], settlement.fee_amount,
                               places=2, msg="with IVA: the payout's fees")
        moves = self.env["amazon.order"].search([("account_id", "=", self.amazon.id)]).invoice_ids
        invoices = moves.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        credit_notes = moves.filtered(lambda m: m.move_type == "out_refund" and m.state == "posted")
        self.assertEqual(len(invoices), 3)
        self.assertEqual(len(credit_notes), 1)
        self.assertAlmostEqual(report_total["net_sales:sum"], sum(invoices.mapped("amount_untaxed")), places=2)
        self.assertAlmostEqual(report_total["refund_amount:sum"], sum(credit_notes.mapped("amount_untaxed")),
                               places=2)
        # margin % of the lines whose fees are known, even when the pending ones are shown
        self.assertAlmostEqual(report_total["margin:sum"], 158.28 - 86.00 + 60.00, places=2)
        self.assertAlmostEqual(report_total["margin_percent:avg"], 100 * (158.28 - 86.00) / 800.00, places=2)
        # by product and month, as the pivot asks
        by_product = {product: (sales, margin) for product, _month, sales, margin in Report._read_group(
            in_period, ["product_id", "date:month"], ["net_sales:sum", "margin:sum"])}
        self.assertAlmostEqual(by_product[self.product_mug][1], 158.28, places=2)
        self.assertAlmostEqual(by_product[self.product_tee][1], -86.00, places=2)
        self.assertAlmostEqual(by_product[self.product_cap][0], 100.00, places=2)

    def test_promotion_and_shipping_count_in_their_products_row(self):
        """The lines the import adds for an item's shipping and promotion belong to its row: net sales equal
        the invoice, the promotion is shown apart."""
        self._put_stock(self.product_mug, 1)
        order = factory.make_order(items=[{"sku": "MUG-01", "quantity": 1, "unit_price": "232.00",
                                           "shipping": "58.00", "discount": "23.20"}],
                                   created=self.sim.now() - timedelta(hours=1), status="SHIPPED")
        self.sim.add_order(order)
        AmazonOrderCommon._sync(self)
        record = self._amazon_order(order["orderId"])
        self.assertEqual(record.state, "imported", record.reason)
        invoice = self._invoices(record)
        self.assertGreater(len(invoice.invoice_line_ids), 1, "shipping and promotion on their own lines")
        row = self.env["amazon.profit.report"].search([("amazon_order_id", "=", record.id)])
        self.assertEqual(len(row), 1)
        self.assertEqual(row.product_id, self.product_mug)
        self.assertAlmostEqual(row.net_sales, invoice.amount_untaxed, places=2)
        self.assertAlmostEqual(row.promotion_amount, 20.00, places=2)
        self.assertTrue(row.fees_pending)

    def test_pending_fees_out_of_margin_by_default_then_known(self):
        self._put_stock(self.product_tee, 1)
        order_id = self._shipped([{"sku": "TEE-02", "quantity": 1, "unit_price": "232.00"}], "MERCHANT")
        AmazonOrderCommon._sync(self)
        action = self.env.ref("bind_amazon_connector.amazon_profit_report_action")
        self.assertEqual(action.context, "{'search_default_fees_known': 1}")
        Report = self.env["amazon.profit.report"]
        row = Report.search([("amazon_order_id.name", "=", order_id)])
        self.assertTrue(row.fees_pending)
        self.assertFalse(Report.search([("fees_pending", "=", False), ("id", "=", row.id)]))
        [[percent]] = Report._read_group([("id", "=", row.id)], [], ["margin_percent:avg"])
        self.assertFalse(percent, "no margin % while the fees are not known")
        # the payout arrives: the same row takes the real fees
        self.sim.add_transaction(factory.make_transaction(
            order_id, group_id=self._group(), principal="232.00", commission="34.80", sku="TEE-02",
            posted=self.sim.now() - timedelta(hours=1), seller_id=self.sim.seller_id))
        self._sync_payouts()
        self.env.invalidate_all()
        row = Report.search([("amazon_order_id.name", "=", order_id)])
        self.assertFalse(row.fees_pending)
        self.assertAlmostEqual(row.fee_referral, 30.00, places=2)
        [[percent]] = Report._read_group([("id", "=", row.id)], [], ["margin_percent:avg"])
        self.assertAlmostEqual(percent, 100 * (200.00 - 30.00 - 80.00) / 200.00, places=2)

    def test_wrong_role_and_other_company_read_nothing(self):
        self._put_stock(self.product_tee, 1)
        self._shipped([{"sku": "TEE-02", "quantity": 1, "unit_price": "232.00"}], "MERCHANT")
        AmazonOrderCommon._sync(self)
        Report = self.env["amazon.profit.report"]
        self.assertTrue(Report.search([]))
        internal = self.env["res.users"].create({
            "name": "Interno", "login": "profit_internal", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            "group_ids": [Command.set([self.env.ref("base.group_user").id])]})
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            Report.with_user(internal).search([])
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            Report.with_user(internal).formatted_read_group([], [], ["margin:sum"])
        other = self._other_company_admin("Otra Empresa Rentable SA", "profit_other")
        self.assertFalse(Report.with_user(other).search([]))
        [totals] = Report.with_user(other).formatted_read_group([], [], ["net_sales:sum", "__count"])
        self.assertEqual((totals["__count"], totals["net_sales:sum"]), (0, False))
        self.assertTrue(Report.with_user(self.amazon_user).search([]), "Amazon users read it")
        for user in (self.amazon_user, other):
            self.assertFalse(Report.with_user(user).has_access("write"))
            self.assertFalse(Report.with_user(user).has_access("create"))


@tagged("post_install", "-at_install")
class TestAmazonProfitOverview(AmazonFinanceCommon, AmazonOrderCommon):
    """The connection's overview card: the last 30 days of the profitability report (fees known), its five
    products with the lowest margin, each opening the report filtered on it; for those who may read it."""

    def _orders(self):
        """One order of six products (net 100.00 each, costs 10.00 to 110.00) paid with a commission of 11.60
        (10.00 without IVA); another one not paid yet (net sales with fees pending)."""
        products = [self._product(f"OV-{n}", f"Producto {n}", storable=False, standard_price=10.0 + 20 * (n - 1))
                    for n in range(1, 7)]
        order_id = self._make_order([{"sku": f"OV-{n}", "quantity": 1, "unit_price": "116.00"} for n in range(1, 7)],
                                    fulfilled_by="MERCHANT", status="SHIPPED")["orderId"]
        self._make_order([{"sku": "OV-1", "quantity": 1, "unit_price": "116.00"}], fulfilled_by="MERCHANT",
                         status="SHIPPED")
        AmazonOrderCommon._sync(self)
        self.sim.add_transaction(factory.make_transaction(
            order_id, group_id=self._group(), principal="696.00", commission="11.60", sku="OV-1",
            posted=self.sim.now() - timedelta(hours=1), seller_id=self.sim.seller_id))
        self._sync_payouts()
        return products

    def test_card_is_the_report_of_the_last_30_days(self):
        products = self._orders()
        card = self.amazon.profit_card
        Report = self.env["amazon.profit.report"]
        since = overview.profit_since(self.env)
        in_card = [("account_id", "=", self.amazon.id), ("date", ">=", since)]
        [[net_sales, fees, margin]] = Report._read_group(in_card + [("fees_pending", "=", False)], [],
                                                         ["net_sales:sum", "fee_total:sum", "margin:sum"])
        self.assertEqual([round(v, 2) for v in (net_sales, fees, margin)], [600.00, 10.00, 230.00])
        self.assertEqual([round(card[k], 2) for k in ("net_sales", "fees", "margin", "pending_sales")],
                         [600.00, 10.00, 230.00, 100.00])
        self.assertIn("600.00", card["net_sales_text"])
        # the five products with the lowest margin %, lowest first (the 80 % one is left out)
        by_product = {product: (sales, result) for product, sales, result in Report._read_group(
            in_card + [("fees_pending", "=", False)], ["product_id"], ["net_sales:sum", "margin:sum"])}
        expected = [products[n] for n in (5, 4, 3, 2, 1)]
        self.assertEqual([line["id"] for line in card["products"]], [p.id for p in expected])
        for line, product in zip(card["products"], expected, strict=True):
            self.assertAlmostEqual(line["margin"], by_product[product][1], places=2)
            self.assertAlmostEqual(line["margin_percent"], 100 * by_product[product][1] / by_product[product][0],
                                   places=2)
            self.assertEqual(line["context"], {"profit_product_id": product.id})
        self.assertEqual([round(line["margin_percent"]) for line in card["products"]], [-10, 10, 30, 50, 70])
        # the totals open the report on the connection and the 30 days, a product on that product too
        action = self.amazon.action_view_profit()
        self.assertEqual((action["res_model"], action["context"]),
                         ("amazon.profit.report", {"search_default_fees_known": 1}))
        self.assertEqual(action["domain"], [("account_id", "=", self.amazon.id),
                                            ("date", ">=", fields.Datetime.to_string(since))])
        rows = Report.search(action["domain"] + [("fees_pending", "=", False)])
        self.assertAlmostEqual(sum(rows.mapped("net_sales")), card["net_sales"], places=2)
        action = self.amazon.with_context(**card["products"][0]["context"]).action_view_profit()
        self.assertEqual(action["domain"][2:], [("product_id", "=", products[5].id)])
        rows = Report.search(action["domain"] + [("fees_pending", "=", False)])
        self.assertEqual(rows.product_id, products[5])
        self.assertAlmostEqual(sum(rows.mapped("margin")), card["products"][0]["margin"], places=2)
        # an Amazon user sees the same card
        self.assertEqual(self.amazon.with_user(self.amazon_user).profit_card["margin"], card["margin"])

    def test_wrong_role_and_other_company_see_no_figures(self):
        self._orders()
        since = overview.profit_since(self.env)
        Report = self.env["amazon.profit.report"]
        self.assertTrue(Report._overview_figures(self.amazon, since))
        internal = self.env["res.users"].create({
            "name": "Interno", "login": "profit_card_internal", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            "group_ids": [Command.set([self.env.ref("base.group_user").id])]})
        self.assertEqual(Report.with_user(internal)._overview_figures(self.amazon, since), {})
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            self.amazon.with_user(internal).action_view_profit()
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            self.amazon.with_user(internal).read(["profit_card"])
        other_company = self.env["res.company"].create({"name": "Otra Empresa del Tablero SA"})
        other = self.env["res.users"].create({
            "name": "Otro", "login": "profit_card_other", "company_id": other_company.id,
            "company_ids": [Command.set(other_company.ids)],
            "group_ids": [Command.set([self.env.ref("bind_amazon_connector.group_amazon_manager").id,
                                       self.env.ref("account.group_account_manager").id])]})
        self.assertEqual(Report.with_user(other)._overview_figures(self.amazon, since), {},
                         "another company's rows never count")
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            self.amazon.with_user(other).action_view_profit()
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            self.amazon.with_user(other).read(["profit_card"])


@tagged("post_install", "-at_install")
class TestAmazonProfitReportTour(ProfitScenario, AmazonFinanceCommon, AmazonOrderCommon, HttpCase):
    """The report in a browser: the pivot by product and month shows the margin of the scenario's mugs; the
    overview's card shows the last 30 days and opens the report on the mugs (with BAC_SCREENSHOTS=<folder>,
    screenshots of them)."""

    browser_size = "1280x800"

    def _run_tour(self, url, tour):
        """The scenario, then ``tour`` from ``url`` in Spanish (when installed)."""
        try:
            odoo_test_common._find_executable()
        except unittest.SkipTest as exc:
            self.skipTest(f"Browser test skipped: {exc}")
        self._scenario()
        if self.env["res.lang"]._lang_get("es_MX"):
            self.env.user.lang = "es_MX"
        with screenshot_console(screenshots_dir()):
            self.start_tour(url, tour, login=self.env.user.login, timeout=300)

    def test_pivot_shows_the_margin_of_a_product(self):
        self._run_tour("/odoo/action-bind_amazon_connector.amazon_profit_report_action", "amazon_profit_report")

    def test_overview_card_opens_the_report_on_a_product(self):
        self._run_tour("/odoo/amazon", "amazon_profit_overview")
