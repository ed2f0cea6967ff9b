"""The stored rows of the profitability report (``profit_store.py``): the database lists the orders each change
makes old, the report reads them worked out from the ledgers until the scheduled action stores them, and at
every step the report equals the report worked out from the ledgers alone; who may run or read it."""
import importlib
from decimal import Decimal
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.modules.module import Manifest
from odoo.service.model import call_kw
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from ..models.reporting import profit_store
from ..models.reporting.profit_query import CACHE_TABLE, DIRTY_TABLE, live_report_query, profit_report_query
from .common import AmazonFinanceCommon, AmazonOrderCommon
from .test_profit_report import MEASURES, ProfitScenario


@tagged("post_install", "-at_install")
class TestAmazonProfitStore(ProfitScenario, AmazonFinanceCommon, AmazonOrderCommon):

    def _rows(self, query):
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT * FROM (%s) q ORDER BY q.id", query))
        names = [d.name for d in self.env.cr.description]
        return [{name: (round(value, 6) if isinstance(value, Decimal) else value)
                 for name, value in zip(names, row, strict=True)} for row in self.env.cr.fetchall()]

    def _changed(self):
        """The sale orders listed as changed (None: every one)."""
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT DISTINCT order_id FROM %s", SQL.identifier(DIRTY_TABLE)))
        return {order_id for (order_id,) in self.env.cr.fetchall()}

    def _stored(self):
        """The stored rows of this test's connection (other tests may have left committed orders behind)."""
        self.env.cr.execute(SQL("SELECT id FROM %s WHERE account_id = %s ORDER BY id", SQL.identifier(CACHE_TABLE),
                                self.amazon.id))
        return [row_id for (row_id,) in self.env.cr.fetchall()]

    def assertExact(self, msg):
        """The report (stored rows and changed orders) equals the report worked out from the ledgers alone."""
        live = self._rows(live_report_query())
        self.assertTrue(live)
        self.assertEqual(self._rows(profit_report_query()), live, msg)

    def _store(self):
        self.assertTrue(self.env["amazon.profit.report"]._cron_store_changed())
        self.assertEqual(self._changed(), set(), "nothing left to store")

    def test_stored_rows_stay_exact_through_every_kind_of_change(self):
        order_a, order_b, order_c, settlement = self._scenario()
        sale = {ref: self._amazon_order(ref).sale_order_id for ref in (order_a, order_b, order_c)}
        self.assertLessEqual({so.id for so in sale.values()}, self._changed(), "the new orders are listed")
        self.assertExact("read from the ledgers while listed")
        self._store()
        self.assertEqual(len(self._stored()), 3, "a stored row per product line")
        self.assertExact("read from the stored rows")
        Report = self.env["amazon.profit.report"]
        [before] = Report._read_group([("account_id", "=", self.amazon.id)], [], MEASURES)

        # a credit note of order C: its order only is listed, and its row takes the refund at once
        invoice = sale[order_c].invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        credit = invoice._reverse_moves([{"ref": "devolución"}])
        credit.action_post()
        self.assertEqual(self._changed(), {sale[order_c].id})
        self.assertExact("a credit note")
        row_c = Report.search([("order_id", "=", sale[order_c].id)])
        self.assertAlmostEqual(row_c.refund_amount, 100.00, places=2)
        self._store()
        self.assertExact("the credit note stored")

        # a payout line corrected: the order of its transaction
        fee_line = settlement.transaction_ids.filtered(lambda t: t.amazon_order_id == order_a).line_ids.filtered(
            lambda ln: ln.category == "fee")[:1]
        self.assertTrue(fee_line)
        fee_line.sudo().amount -= 10
        self.assertEqual(self._changed(), {sale[order_a].id})
        self.assertExact("a payout line")
        self._store()

        # the product's cost is read at each search: nothing to store, the figure is today's
        self.product_cap.standard_price = 55.0
        self.assertEqual(self._changed(), set())
        self.env.invalidate_all()  # the report's records read before (a new request reads anew)
        self.assertAlmostEqual(Report.search([("order_id", "=", sale[order_c].id)]).cogs, 55.00, places=2)
        self.assertExact("a product's cost")

        # a product's reference and kind (what decides a line's row and SKU): the orders of the product
        self.product_tee.default_code = "TEE-NUEVA"
        self.assertEqual(self._changed(), {sale[order_b].id})
        self.product_mug.product_tmpl_id.is_storable = False
        self.assertEqual(self._changed(), {sale[order_a].id, sale[order_b].id})
        self.assertExact("a product's reference and kind")
        self._store()

        # the taxes of the fee types: every row depends on them
        self.amazon.fee_account_ids.tax_ids[:1].amount = 8.0
        self.assertEqual(self._changed(), {None})
        self.assertExact("the fee types' taxes")
        self._store()
        self.assertExact("stored again")

        # an order cancelled leaves the report, stored or not
        sale[order_c].with_context(disable_cancel_warning=True)._action_cancel()
        self.assertIn(sale[order_c].id, self._changed())
        self.env.invalidate_all()
        self.assertFalse(Report.search([("order_id", "=", sale[order_c].id)]))
        self.assertExact("an order cancelled")
        self._store()
        self.assertEqual(len(self._stored()), 2)
        [after] = Report._read_group([("account_id", "=", self.amazon.id)], [], MEASURES)
        self.assertNotEqual(after, before)

    def test_an_order_of_another_seller_is_not_listed(self):
        """Sales that are not Amazon's never reach the list; another company's stored rows stay unread."""
        self._scenario()
        self._store()
        partner = self.env["res.partner"].create({"name": "Cliente de mostrador"})
        order = self.env["sale.order"].create({"partner_id": partner.id, "order_line": [
            Command.create({"product_id": self.product_mug.id, "product_uom_qty": 1, "price_unit": 10.0})]})
        order.action_confirm()
        self.assertEqual(self._changed(), set(), "a sale that is not Amazon's")
        other = self._other_company_admin("Otra Empresa Almacenada SA", "profit_store_other")
        self.assertEqual(len(self._stored()), 3)
        self.assertFalse(self.env["amazon.profit.report"].with_user(other).search([]))

    def test_storing_is_the_scheduled_actions_alone(self):
        """No user runs it by RPC, whatever their role: the scheduled action does, as the superuser."""
        self._scenario()
        for user in (self.amazon_user, self.env.user):
            with mute_logger("odoo.models"), self.assertRaises(AccessError):
                call_kw(self.env["amazon.profit.report"].with_user(user), "_cron_store_changed", [], {})
        self.assertTrue(self._changed())
        self.assertGreaterEqual(profit_store.store_changed(self.env.cr), 3)
        self.assertEqual(self._changed(), set())
        self.assertEqual(len(self._stored()), 3)
        cron = self.env.ref("bind_amazon_connector.ir_cron_amazon_profit_store")
        self.assertEqual((cron.user_id, cron.active), (self.env.ref("base.user_root"), True))

    def test_uninstalling_drops_the_triggers_first(self):
        """The addon's uninstall hook leaves Odoo's tables without the report's triggers (they name the addon's
        columns, dropped next) and drops its tables; sales keep working."""
        addon = importlib.import_module("odoo.addons.bind_amazon_connector")
        manifest = Manifest.for_addon("bind_amazon_connector")
        getattr(addon, manifest["uninstall_hook"])(self.env)
        self.env.cr.execute("SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE %s", [profit_store.PREFIX + "%"])
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.env.cr.execute("SELECT to_regclass(%s), to_regclass(%s)", [CACHE_TABLE, DIRTY_TABLE])
        self.assertEqual(self.env.cr.fetchone(), (None, None))
        partner = self.env["res.partner"].create({"name": "Cliente tras desinstalar"})
        order = self.env["sale.order"].create({"partner_id": partner.id, "order_line": [
            Command.create({"product_id": self.product_mug.id, "product_uom_qty": 1, "price_unit": 10.0})]})
        order.action_confirm()
        self.env.flush_all()
        self.assertEqual(order.state, "sale")

    def test_a_bulk_statement_lists_its_orders_too(self):
        """A statement of many rows plans its query for its size (``EXECUTE``): the same orders are listed."""
        order_a, order_b, _order_c, settlement = self._scenario()
        with patch.object(profit_store, "BULK", 0):
            profit_store.install(self.env.cr)
        self._store()
        sale_a = self._amazon_order(order_a).sale_order_id
        sale_b = self._amazon_order(order_b).sale_order_id
        settlement.transaction_ids.line_ids.filtered(lambda ln: ln.category == "fee").sudo().write({"amount": -1.0})
        self.assertEqual(self._changed(), {sale_a.id, sale_b.id})
        self.assertExact("a bulk change of payout lines")
        self._store()
        (sale_a | sale_b).order_line.filtered(lambda ln: not ln.display_type).write({"sequence": 99})
        self.assertEqual(self._changed(), {sale_a.id, sale_b.id})
        self._store()
        self.assertExact("stored")
