import copy
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.orders import amazon_order_sync as amazon_order_sync
from ..models.orders.order_import import OrderImport
from .common import AmazonOrderCommon


@tagged("post_install", "-at_install")
class TestAmazonOrderLifecycle(AmazonOrderCommon):
    """Cancellations at each stage and the unmapped-products toggle."""

    def test_cancelled_before_import_creates_nothing(self):
        order = self._make_order(status="CANCELLED", cancellation={"by": "BUYER"})
        self.assertEqual(self._sync()["counts"], {"cancelled": 1})
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "cancelled")
        self.assertIn("before it was imported", rec.reason)
        self.assertFalse(rec.sale_order_id)
        self.assertFalse(self.env["sale.order"].search([("client_order_ref", "=", order["orderId"])]))

    def test_cancelled_after_import_releases_the_reservation(self):
        self._put_stock(self.product_mug, 4)
        order = self._make_order([{"sku": "MUG-01", "quantity": 2, "unit_price": "199.00"}])
        self._sync()
        rec = self._amazon_order(order["orderId"])
        so = rec.sale_order_id
        self.assertEqual(self._reserved(self.product_mug), 2)
        self._update_order(order["orderId"], status="CANCELLED")
        self._sync()
        self.assertEqual(rec.state, "cancelled")
        self.assertEqual(so.state, "cancel")
        self.assertEqual(so.picking_ids.state, "cancel")
        self.assertEqual(self._reserved(self.product_mug), 0)
        self.assertEqual(self._on_hand(self.product_mug, self.stock_location), 4)
        self.assertFalse(so.invoice_ids)

    def test_cancelled_after_invoicing_gets_a_credit_note(self):
        order = self._make_order(status="SHIPPED")
        self._sync()
        rec = self._amazon_order(order["orderId"])
        invoice = self._invoices(rec)
        self.assertEqual(invoice.state, "posted")
        self._update_order(order["orderId"], status="CANCELLED")
        self._sync()
        self.assertEqual(rec.state, "cancelled")
        self.assertIn("credit note", rec.reason)
        refund = rec.sale_order_id.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(refund), 1)
        self.assertEqual(refund.state, "posted")
        self.assertEqual(refund.reversed_entry_id, invoice)
        self.assertEqual(refund.amount_total, invoice.amount_total)
        self.assertEqual(invoice.payment_state, "reversed")
        # Seen again (overlap, rerun): no second credit note.
        self._sync()
        rec.action_retry()
        self.assertEqual(len(rec.sale_order_id.invoice_ids.filtered(lambda m: m.move_type == "out_refund")), 1)

    def test_unmapped_sku_skipped_when_only_mapped_products(self):
        self.amazon.only_mapped_products = True
        self._product("CAP-03", "Gorra", mapped=False)
        order = self._make_order([{"sku": "CAP-03", "quantity": 1, "unit_price": "120.00"},
                                  {"sku": "MUG-01", "quantity": 1, "unit_price": "199.00"}])
        self._sync()
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "skipped")
        self.assertIn("CAP-03", rec.reason)
        self.assertNotIn("MUG-01", rec.reason)
        self.assertEqual(rec.unmapped_skus, "CAP-03")
        self.assertFalse(rec.sale_order_id)
        self.assertFalse(self.env["sale.order"].search([("client_order_ref", "=", order["orderId"])]))
        # Mapping alone does not import a skipped order; Retry does.
        cap = self.env["product.product"].search([("default_code", "=", "CAP-03")])
        self._listing("CAP-03").product_id = cap
        self.assertEqual(rec.state, "skipped")
        rec.with_context(amazon_pacing_speed=self.sim_speed).action_retry()
        self.assertEqual(rec.state, "imported", rec.reason)
        self.assertEqual(len(rec.sale_order_id.order_line.filtered("amazon_order_item_id")), 2)

    def test_reasons_in_the_connection_users_language(self):
        """A scheduled sync runs as OdooBot: what it stores on the order reads in the connection user's
        language (Spanish for the article's readers), not the runner's."""
        self.env["res.lang"]._activate_lang("es_MX")
        self.env["ir.module.module"]._load_module_terms(["bind_amazon_connector"], ["es_MX"])
        self.amazon.user_id.lang = "es_MX"
        self.amazon.only_mapped_products = False
        self._product("CAP-04", "Gorra", mapped=False)
        order = self._make_order([{"sku": "CAP-04", "quantity": 1, "unit_price": "120.00"}])
        self._sync(self.amazon.with_context(lang="en_US"))
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "error")
        self.assertIn("Estos SKU no están conciliados", rec.reason)
        self.assertIn("CAP-04", rec.reason)

    def test_unmapped_sku_error_then_mapped_imports_like_mapped_from_start(self):
        self.amazon.only_mapped_products = False
        cap = self._product("CAP-03", "Gorra", mapped=False)
        items = [{"sku": "CAP-03", "quantity": 2, "unit_price": "120.00"}]
        late = self._make_order(items, shipping="49.00", promotion={"id": "P1", "discount": "20.00"}, status="SHIPPED")
        self._sync()
        rec = self._amazon_order(late["orderId"])
        self.assertEqual(rec.state, "error")
        self.assertIn("CAP-03", rec.reason)
        self.assertFalse(rec.sale_order_id)
        # Mapping the listing asks for the orders job, which imports the waiting order.
        self._listing("CAP-03").product_id = cap
        self._run_scheduled("orders", dispatch=False)
        self.assertEqual(rec.state, "imported", rec.reason)
        # Same result as an order of the same items mapped from the start.
        early = self._make_order(items, shipping="49.00", promotion={"id": "P1", "discount": "20.00"},
                                 status="SHIPPED", fresh=True)
        self._sync()
        ref = self._amazon_order(early["orderId"])

        def summary(amazon_order):
            so = amazon_order.sale_order_id
            return (
                so.state, so.partner_id, so.warehouse_id, so.user_id, so.currency_id, so.amount_total,
                sorted((ln.product_id.id, ln.product_uom_qty, ln.price_unit, tuple(ln.tax_ids.ids))
                       for ln in so.order_line),
                sorted(so.picking_ids.mapped("state")),
                [(m.state, m.amount_total) for m in self._invoices(amazon_order)],
            )

        self.assertEqual(summary(rec), summary(ref))
        self.assertEqual(summary(rec)[-1], [("posted", 269.0)])

    def test_retry_without_amazon_uses_the_stored_payload(self):
        self.amazon.only_mapped_products = False
        cap = self._product("CAP-03", "Gorra", mapped=False)
        order = self._make_order([{"sku": "CAP-03", "quantity": 1, "unit_price": "120.00"}])
        self._sync()
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "error")
        self.assertEqual(rec.payload["orderId"], order["orderId"])
        self._listing("CAP-03").with_context(amazon_listing_import=True).product_id = cap  # no automatic retry
        self.assertEqual(rec.state, "error")
        self.sim.inject_fault("getOrder", "malformed_json")
        rec.with_context(amazon_pacing_speed=self.sim_speed).action_retry()
        self.assertEqual(rec.state, "imported", rec.reason)

    def test_order_in_error_for_a_setting_is_retried_by_the_sync(self):
        self.amazon.fba_warehouse_id = False
        order = self._make_order(fulfilled_by="AMAZON", status="SHIPPED")
        self._sync()
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "error")
        self.assertIn("fulfillment warehouse", rec.reason)
        self.assertEqual(rec.attempt_count, 1)
        self.amazon.fba_warehouse_id = self.fba_warehouse
        self._sync()
        self.assertEqual(rec.state, "error", "tried again some minutes later, not at every run")
        rec.sudo().retry_date -= timedelta(hours=2)  # time passes (the sync alone writes orders)
        self._sync()
        self.assertEqual(rec.state, "imported", rec.reason)
        self.assertEqual(rec.sale_order_id.warehouse_id, self.fba_warehouse)
        self.assertEqual(rec.attempt_count, 0, "only failed attempts count, and a success clears them")


@tagged("post_install", "-at_install")
class TestAmazonOrderSync(AmazonOrderCommon):
    """Never twice, never lost: reruns, cursor, interrupted runs, malformed orders, failing batches.

    Pages of 10 orders (Amazon's are up to 100) keep multi-page runs small."""

    def setUp(self):
        super().setUp()
        self.patch(amazon_order_sync, "PAGE_SIZE", 10)

    def _counts(self, order_ids):
        sale_orders = self.env["sale.order"].search([("client_order_ref", "in", order_ids)])
        invoices = sale_orders.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        return len(sale_orders), len(invoices)

    def test_rerun_and_cursor_moved_back_never_duplicate(self):
        orders = [self._make_order(status="SHIPPED") for _i in range(3)]
        ids = [o["orderId"] for o in orders]
        self._sync()
        self.assertEqual(self._counts(ids), (3, 3))
        cursor = self.amazon.orders_cursor
        self.assertTrue(cursor)
        self.assertLessEqual(cursor, self._sim_now() - timedelta(minutes=2))
        # Nothing new: the same orders are recognised and left alone.
        result = self._sync()
        self.assertEqual(result["counts"], {})
        self.assertEqual(self._counts(ids), (3, 3))
        # A manager moves the cursor back to re-read the period.
        self.amazon.orders_cursor = self.amazon.import_start_date
        self.assertFalse(self.amazon.orders_next_token)
        self._sync()
        self.assertEqual(self._counts(ids), (3, 3))
        self.assertGreaterEqual(self.amazon.orders_cursor, cursor)
        # Forced reprocessing of the same payloads (Retry) still makes no second document.
        recs = self.env["amazon.order"].search([("name", "in", ids)])
        self.env["amazon.order"]._import_orders(self.amazon, [r._payload_order() for r in recs], force=True)
        self.assertEqual(self._counts(ids), (3, 3))
        self.assertEqual(len(recs), 3)
        self.assertEqual(set(recs.mapped("state")), {"imported"})

    def test_one_sale_order_per_amazon_order_in_the_database(self):
        order = self._make_order()
        self._sync()
        rec = self._amazon_order(order["orderId"])
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"):
            rec.sale_order_id.copy({"amazon_order_id": rec.id})

    def test_interrupted_run_resumes_without_losing_or_duplicating(self):
        ids = [self._make_order(status="SHIPPED")["orderId"] for _i in range(23)]
        commits = []
        savepoint = [self.env.cr.savepoint()]

        def commit(processed):
            # What the scheduled action's commit does, inside the test transaction.
            savepoint[0].close(rollback=False)
            savepoint[0] = self.env.cr.savepoint()
            commits.append(processed)
            return 3600.0

        real_import = OrderImport.import_orders
        calls = []

        def crashing_import(order_import, orders, **kw):
            calls.append(len(orders))
            result = real_import(order_import, orders, **kw)
            if len(calls) == 2:
                raise KeyboardInterrupt("worker killed in the middle of page 2")
            return result

        crashed = False
        with patch.object(OrderImport, "import_orders", crashing_import):
            try:
                self._sync(commit=commit)
            except KeyboardInterrupt:
                crashed = True
        self.assertTrue(crashed)
        savepoint[0].close(rollback=True)  # what was not committed is lost
        self.assertEqual(commits, [10])
        self.amazon.invalidate_recordset()
        self.assertFalse(self.amazon.orders_cursor, "the cursor does not move past uncommitted orders")
        self.assertTrue(self.amazon.sudo().orders_next_token)
        self.assertEqual(self.env["amazon.order"].search_count([("account_id", "=", self.amazon.id)]), 10)
        self.assertEqual(self._counts(ids), (10, 10))

        before = len(self.sim.requests)
        result = self._sync(commit=lambda processed: 3600.0)
        searches = [r for r in self.sim.requests[before:] if r.operation == "searchOrders"]
        self.assertIn("paginationToken", searches[0].query, "resumed at the next page, not from the start")
        self.assertGreaterEqual(result["orders"], 13)
        self.assertEqual(self._counts(ids), (23, 23))
        self.assertTrue(self.amazon.orders_cursor)
        self.assertFalse(self.amazon.sudo().orders_next_token)
        self.assertEqual(set(self.env["amazon.order"].search([("name", "in", ids)]).mapped("state")), {"imported"})

    def test_amazon_failure_mid_run_keeps_cursor_and_resumes(self):
        ids = [self._make_order()["orderId"] for _i in range(15)]
        self.sim.inject_fault("searchOrders", "5xx", times=1)  # retried by the SP-API layer
        self._sync()
        self.assertEqual(self._counts(ids)[0], 15)
        # Amazon down for good on page 2 of a new reading.
        self.amazon.orders_cursor = self.amazon.import_start_date
        self.sim.reset_records()
        calls = {"n": 0}
        real_fetch = type(self.env["amazon.order.sync"])._fetch_page

        def failing_fetch(sync, account, api, start, end, token, **kw):
            calls["n"] += 1
            if calls["n"] == 2:
                from ..spapi.errors import RetryLater
                raise RetryLater("Amazon failed to answer (HTTP 503)", retry_after=60)
            return real_fetch(sync, account, api, start, end, token, **kw)

        with patch.object(type(self.env["amazon.order.sync"]), "_fetch_page", failing_fetch):
            result = self._sync()
        self.assertIn("503", result["error"])
        self.assertIn("503", self.amazon.orders_sync_message)
        self.assertEqual(self.amazon.orders_cursor, self.amazon.import_start_date)
        self.assertTrue(self.amazon.sudo().orders_next_token)
        self._sync()
        self.assertGreater(self.amazon.orders_cursor, self.amazon.import_start_date)
        self.assertFalse(self.amazon.orders_sync_message)
        self.assertEqual(self._counts(ids)[0], 15)

    def test_malformed_order_kept_in_error_others_imported(self):
        good = [self._make_order(status="SHIPPED") for _i in range(2)]
        bad = self._make_order(status="SHIPPED")
        raw = self.sim.get_order(bad["orderId"])
        raw["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] = "N/A"
        self.sim.add_order(raw)
        self._sync()
        rec = self._amazon_order(bad["orderId"])
        self.assertEqual(rec.state, "error")
        self.assertIn("unitPrice", rec.reason)
        self.assertEqual(rec.payload["orderId"], bad["orderId"], "kept for audit and retry")
        self.assertFalse(self.env["sale.order"].search([("client_order_ref", "=", bad["orderId"])]))
        for order in good:
            self.assertEqual(self._amazon_order(order["orderId"]).state, "imported")
        self.assertTrue(self.amazon.orders_cursor, "a bad order does not block the others")

    def test_bad_order_in_a_batch_leaves_no_half_sale_order(self):
        orders = [self._make_order(status="SHIPPED") for _i in range(5)]
        # Amazon lists a promotion on an item of which nothing was ordered: it cannot be sold.
        raw = self.sim.get_order(orders[2]["orderId"])
        extra_item = copy.deepcopy(raw["orderItems"][0])
        extra_item["orderItemId"] = "99999999999999"
        raw["orderItems"].append(extra_item)
        raw["orderItems"][0]["quantityOrdered"] = 0
        raw["orderItems"][0]["fulfillment"] = {"quantityFulfilled": 0, "quantityUnfulfilled": 0}
        raw["orderItems"][0]["proceeds"]["breakdowns"].append(
            {"type": "DISCOUNT", "subtotal": {"amount": "-10.00", "currencyCode": "MXN"}})
        self.sim.add_order(raw)
        partners_before = self.env["res.partner"].search_count([])
        self._sync()
        bad = self._amazon_order(orders[2]["orderId"])
        self.assertEqual(bad.state, "error")
        self.assertIn("ordered none of it", bad.reason)
        self.assertFalse(self.env["sale.order"].search([("client_order_ref", "=", bad.name)]))
        self.assertFalse(self.env["sale.order.line"].search([("order_id.client_order_ref", "=", bad.name)]))
        others = [self._amazon_order(o["orderId"]) for i, o in enumerate(orders) if i != 2]
        self.assertEqual({o.state for o in others}, {"imported"})
        self.assertEqual(len({o.partner_id for o in others}), 1, "one returning buyer")
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before + 1)
        self.assertEqual(self._counts([o.name for o in others]), (4, 4))

    def test_cron_commits_each_page(self):
        for _i in range(12):
            self._make_order()
        commits = []

        def fake_commit(model, processed=0, remaining=None, deactivate=False):
            commits.append((processed, remaining))
            return 3600.0

        self._run_scheduled("orders", commit=fake_commit)
        self.assertEqual(commits, [(10, None), (2, None)])
        self.assertEqual(self.env["amazon.order"].search_count([("account_id", "=", self.amazon.id)]), 12)
        self.assertTrue(self.amazon.orders_cursor)

    def test_locked_connection_is_left_to_the_worker_holding_it(self):
        with patch.object(type(self.env["amazon.order.sync"]), "_lock", lambda sync, account: False):
            self.assertTrue(self._sync()["busy"])
        self.assertFalse(self.amazon.orders_cursor)

    def test_invoices_of_a_connection_paying_on_post_ask_for_the_payouts_job(self):
        """The orders flow pays nothing: an import that posted invoices of a connection paying on post asks for
        the payouts job, which pays the posted invoices waiting for their payment."""
        Trigger = self.env["ir.cron.trigger"].sudo()
        payouts = self.env["amazon.sync.job"]._for(self.amazon, "payouts").cron_id
        self._make_order(status="SHIPPED")
        self._sync()
        self.assertFalse(Trigger.search([("cron_id", "=", payouts.id)]), "not paying on post: no payouts job")
        self.amazon.register_payment_on_post = True
        order = self._make_order(status="SHIPPED", fresh=True)
        self._sync()
        self.assertEqual(self._invoices(self._amazon_order(order["orderId"])).state, "posted")
        self.assertTrue(Trigger.search([("cron_id", "=", payouts.id)]))

    def test_sync_button(self):
        self._make_order()
        action = self.amazon.with_context(amazon_pacing_speed=self.sim_speed).action_sync_orders()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.amazon.amazon_order_imported_count, 1)
        self.assertEqual(len(self.amazon.amazon_order_tab_ids), 1)

    def _button(self):
        return self.amazon.with_context(amazon_pacing_speed=self.sim_speed).action_sync_orders()

    def _orders_job_triggers(self):
        job = self.env["amazon.sync.job"]._for(self.amazon, "orders")
        return self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", job.cron_id.id)])

    def test_sync_button_crosses_quiet_weeks_to_recent_orders(self):
        # a new connection brings 30 days of history; the seller sold only in the last two days
        self.amazon.import_start_date = self._sim_now() - timedelta(days=30)
        orders = [self._make_order(created=self.sim.now() - timedelta(hours=hours)) for hours in (40, 20, 1)]
        action = self._button()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(self.amazon.amazon_order_imported_count, 3)
        self.assertEqual(set(self.amazon.amazon_order_ids.mapped("name")), {o["orderId"] for o in orders})
        self.assertGreaterEqual(self.amazon.orders_cursor, self._sim_now() - timedelta(minutes=5))
        self.assertNotIn("background", action["params"]["message"])
        self.assertFalse(self._orders_job_triggers())

    def test_sync_button_hands_a_long_backlog_to_the_background(self):
        # pages of 10: four pages of orders, the button imports three and the scheduled job the rest
        for _i in range(35):
            self._make_order()
        action = self._button()
        self.assertEqual(self.amazon.amazon_order_imported_count, 30)
        self.assertIn("background", action["params"]["message"])
        self.assertTrue(self._orders_job_triggers())
        self._run_scheduled("orders", dispatch=False)
        self.assertEqual(self.amazon.amazon_order_imported_count, 35)

    def test_sync_button_out_of_time_continues_in_the_background(self):
        self.amazon.import_start_date = self._sim_now() - timedelta(days=30)
        self._make_order()
        with patch.object(amazon_order_sync, "BUTTON_TIME_BUDGET", 0):
            action = self._button()
        # the first (empty) window is read, then the time is up: the job is asked for and the person told
        self.assertFalse(self.amazon.amazon_order_ids)
        self.assertIn("background", action["params"]["message"])
        self.assertTrue(self._orders_job_triggers())
        self._run_scheduled("orders", dispatch=False)
        self.assertEqual(self.amazon.amazon_order_imported_count, 1)

    def test_sales_tab_follows_settings_and_links_back(self):
        arch = self.env["amazon.account"].get_view(
            self.env.ref("bind_amazon_connector.amazon_account_view_form").id, "form")["arch"]
        self.assertLess(arch.index('name="settings"'), arch.index('name="sales"'))
        self.assertIn('name="action_sync_orders"', arch)
        order = self._make_order()
        self._sync()
        rec = self._amazon_order(order["orderId"])
        action = rec.sale_order_id.action_view_amazon_order()
        self.assertEqual((action["res_model"], action["res_id"]), ("amazon.order", rec.id))
        self.assertEqual(rec.action_open()["res_id"], rec.sale_order_id.id)

    def test_amazon_user_syncs_and_retries_but_cannot_move_the_cursor(self):
        self.amazon.only_mapped_products = False
        cap = self._product("CAP-03", "Gorra", mapped=False)
        order = self._make_order([{"sku": "CAP-03", "quantity": 1, "unit_price": "120.00"}])
        account = self.amazon.with_user(self.amazon_user).with_context(amazon_pacing_speed=self.sim_speed)
        account.action_sync_orders()
        rec = self._amazon_order(order["orderId"]).with_user(self.amazon_user)
        self.assertEqual(rec.state, "error")
        self.assertEqual(account.amazon_order_error_count, 1)
        self.assertIn(rec, account.amazon_order_tab_ids)
        self._listing("CAP-03").with_context(amazon_listing_import=True).product_id = cap
        rec.with_context(amazon_pacing_speed=self.sim_speed).action_retry()
        self.assertEqual(rec.state, "imported", rec.reason)
        with self.assertRaises(AccessError):
            account.orders_cursor = self.amazon.import_start_date
