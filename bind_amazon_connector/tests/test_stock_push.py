"""Stock to Amazon (issue #6): merchant-fulfilled quantities follow Odoo's, FBA stays Amazon's.

Against the SP-API simulator: what Amazon ends up showing is read from the simulator's listings, the
calls from its recorded requests."""
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import unquote

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools.sql import column_exists

from spapi_simulator import handlers

from .common import AmazonOrderCommon, AmazonStockCommon, run_migration

PATCH = "patchListingsItem"


@tagged("post_install", "-at_install")
class TestStockPush(AmazonStockCommon):

    # ------------------------------------------------------------------ helpers

    def _account(self):
        return self.amazon.with_context(amazon_pacing_speed=self.sim_speed)

    def _push(self):
        return self.env["amazon.stock.sync"]._push_stock(self._account())

    def _sync(self, account=None, **kw):
        """An orders run, then the stock jobs its sales woke, as the scheduler runs them."""
        result = super()._sync(account, **kw)
        self._run_scheduled("stock", dispatch=False)
        return result

    def _push_now(self):
        return self._account().action_push_stock_now()

    def _amazon_qty(self, sku):
        return self.sim.get_listing(sku)["fulfillmentAvailability"][0]["quantity"]

    def _patches(self, sku=None):
        return [r for r in self.sim.requests
                if r.operation == PATCH and (sku is None or unquote(r.path).endswith("/" + sku))]

    def _queued(self, listing=None):
        domain = [("account_id", "=", self.amazon.id)]
        if listing:
            domain.append(("listing_id", "=", listing.id))
        return self.env["amazon.stock.push"].search_count(domain)

    def _change_stock(self, product, qty, location=None):
        """A stock change committed on its own (a savepoint flushes the transaction, as a commit would)."""
        with self.env.cr.savepoint():
            self._put_stock(product, qty, location)

    def _receive(self, product, qty):
        """A receipt from a vendor into the connection's warehouse, validated."""
        supplier = self.env.ref("stock.stock_location_suppliers")
        picking = self.env["stock.picking"].create({
            "picking_type_id": self.warehouse.in_type_id.id,
            "location_id": supplier.id,
            "location_dest_id": self.stock_location.id,
            "move_ids": [Command.create({
                "product_id": product.id, "product_uom_qty": qty,
                "location_id": supplier.id, "location_dest_id": self.stock_location.id,
            })],
        })
        picking.action_confirm()
        picking.move_ids.write({"quantity": qty, "picked": True})
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        return picking

    # ------------------------------------------------------------------ after a sale

    def test_sale_with_toggle_on_sends_available_quantity(self):
        self.amazon.update_stock_on_amazon = True
        self._put_stock(self.product_mug, 10)
        self._put_stock(self.product_tee, 4)
        order = self._make_order([{"sku": "MUG-01", "quantity": 2, "unit_price": "199.00"}])
        self._sync()

        self.assertEqual(self._amazon_qty("MUG-01"), 8, "10 on hand, 2 reserved by the Amazon sale")
        self.assertEqual(len(self._patches()), 1, "only the product sold is sent")
        self.assertEqual(self._amazon_qty("TEE-02"), 10)
        request = self._patches("MUG-01")[0]
        self.assertEqual(request.status, 200)
        self.assertEqual(request.body, {
            "productType": "PRODUCT",
            "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability",
                         "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 8}]}],
        })
        listing = self._listing("MUG-01")
        self.assertEqual((listing.stock_sent_qty, listing.stock_push_state, listing.quantity), (8, "done", 8))
        self.assertTrue(listing.stock_sent_date)
        self.assertFalse(listing.stock_push_error)
        self.assertFalse(self._queued())

        # Shipping it: on hand 8, reserved 0, still 8 available: Amazon already has it, nothing is sent.
        self._update_order(order["orderId"], status="SHIPPED")
        self._sync()
        picking = self._amazon_order(order["orderId"]).sale_order_id.picking_ids
        self.assertEqual(picking.state, "done")
        self.assertEqual(len(self._patches()), 1)
        self.assertEqual(self._amazon_qty("MUG-01"), 8)
        self.assertFalse(self._queued())

    def test_order_import_leaves_the_quantities_to_the_stock_job(self):
        """An orders run never calls Amazon for the stock (one slow answer would take its job past Odoo's
        limit): the sale's quantities wait in the queue, and the stock job is triggered, which sends them."""
        self.amazon.update_stock_on_amazon = True
        self._put_stock(self.product_mug, 10)
        job = self.env["amazon.sync.job"]._for(self.amazon, "stock")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search_count([("cron_id", "=", job.cron_id.id)])
        order = self._make_order([{"sku": "MUG-01", "quantity": 2, "unit_price": "199.00"}])
        AmazonOrderCommon._sync(self)  # the orders run alone, without the stock job it wakes
        self.assertTrue(self._amazon_order(order["orderId"]).sale_order_id, "the order is imported")
        self.assertFalse(self._patches(), "nothing sent to Amazon after the import")
        self.assertEqual(self._queued(self._listing("MUG-01")), 1, "the quantity waits in the queue")
        self.assertEqual(Trigger.search_count([("cron_id", "=", job.cron_id.id)]), before + 1)
        # the stock job sends it
        self._run_scheduled("stock", dispatch=False)
        self.assertEqual(self._amazon_qty("MUG-01"), 8)

    def test_sale_with_toggle_off_sends_nothing(self):
        self.assertFalse(self.amazon.update_stock_on_amazon)
        self._put_stock(self.product_mug, 10)
        order = self._make_order([{"sku": "MUG-01", "quantity": 2, "unit_price": "199.00"}])
        self._sync()
        self.assertEqual(self._amazon_order(order["orderId"]).state, "imported")
        self.assertEqual(self._reserved(self.product_mug), 2)
        self._run_scheduled("stock")
        self.assertFalse(self._patches())
        self.assertEqual(self._amazon_qty("MUG-01"), 10)
        self.assertFalse(self._queued())
        self.assertFalse(self._listing("MUG-01").stock_push_state)

    def test_cancelled_amazon_order_gives_units_back(self):
        self.amazon.update_stock_on_amazon = True
        self._put_stock(self.product_mug, 5)
        order = self._make_order([{"sku": "MUG-01", "quantity": 3, "unit_price": "199.00"}])
        self._sync()
        self.assertEqual(self._amazon_qty("MUG-01"), 2)
        self._update_order(order["orderId"], status="CANCELLED")
        self._sync()
        self.assertEqual(self._amazon_order(order["orderId"]).state, "cancelled")
        self.assertEqual(self._amazon_qty("MUG-01"), 5)
        self.assertEqual(len(self._patches("MUG-01")), 2)

    # ------------------------------------------------------------------ never sent

    def test_fba_listing_and_fba_sales_untouched(self):
        self.amazon.write({"update_stock_on_amazon": True, "push_stock_on_any_change": True})
        cup = self._product("CUP-00", "Vaso", mapped=True)
        self._listing("CUP-00").unlink()
        fba = self._make_listing("CUP-FBA", cup, channel="amazon")
        self.sim.add_listing(sku="CUP-FBA", quantity=30, fulfillment="AFN")
        self._change_stock(cup, 5)
        self._change_stock(cup, 7, self.fba_location)
        self._change_stock(self.product_mug, 7, self.fba_location)
        # an FBA sale of a merchant SKU's product leaves the fulfillment warehouse: the merchant quantity stays
        self._make_order([{"sku": "MUG-01", "quantity": 3, "unit_price": "150.00"}],
                         fulfilled_by="AMAZON", status="SHIPPED")
        self._sync()
        self.assertEqual(self._on_hand(self.product_mug, self.fba_location), 4)
        self._run_scheduled("stock")
        self.assertFalse(self._patches(), "FBA stock moves send nothing")

        self._push_now()
        self.assertFalse(self._patches("CUP-FBA"), "an FBA listing is never patched")
        self.assertEqual(self._amazon_qty("CUP-FBA"), 30)
        self.assertEqual(self.sim.get_listing("CUP-FBA")["fulfillmentAvailability"][0]["fulfillmentChannelCode"],
                         "AMAZON_NA")
        self.assertFalse(fba.stock_push_state)
        self.assertIn("Fulfillment by Amazon", fba.stock_push_blocked)
        self.assertEqual(self._amazon_qty("MUG-01"), 0, "the merchant warehouse has no mug")
        self.assertFalse(self._queued())

    def test_sold_both_ways_is_marked_and_not_sent(self):
        self.amazon.update_stock_on_amazon = True
        self._make_listing("MUG-01-FBA", self.product_mug, channel="amazon")
        self._put_stock(self.product_mug, 10)
        self._put_stock(self.product_tee, 6)
        self._make_order([{"sku": "MUG-01", "quantity": 1, "unit_price": "199.00"},
                          {"sku": "TEE-02", "quantity": 1, "unit_price": "349.50"}])
        self._sync()
        self.assertFalse(self._patches("MUG-01"))
        self.assertEqual(self._amazon_qty("MUG-01"), 10)
        self.assertEqual(self._amazon_qty("TEE-02"), 5, "the other product of the sale is sent")
        mug = self._listing("MUG-01")
        self.assertTrue(mug.stock_both_ways)
        self.assertIn("MUG-01-FBA", mug.stock_push_blocked)
        self.assertIn("Sold both ways", mug.stock_push_blocked)
        self.assertFalse(self._listing("TEE-02").stock_both_ways)
        both = self.env["amazon.listing"].search([("account_id", "=", self.amazon.id),
                                                  ("stock_both_ways", "=", True)])
        self.assertEqual(both, mug)
        self.assertFalse(self._queued())

    def test_unmapped_listing_not_sent(self):
        self.amazon.write({"update_stock_on_amazon": True})
        self._listing("TEE-02").product_id = False
        self._put_stock(self.product_tee, 3)
        result = self._push_now()
        self.assertFalse(self._patches("TEE-02"))
        self.assertEqual(self._amazon_qty("TEE-02"), 10)
        self.assertIn("Not mapped", self._listing("TEE-02").stock_push_blocked)
        self.assertEqual(result["params"]["type"], "success")

    def test_send_selected_listings_now(self):
        """The listing's button: toggles off, only the selected merchant listing is sent."""
        self._put_stock(self.product_tee, 3)
        self._put_stock(self.product_mug, 9)
        self._listing("TEE-02").action_push_stock()
        self.assertEqual([unquote(r.path).rsplit("/", 1)[1] for r in self._patches()], ["TEE-02"])
        self.assertEqual(self._amazon_qty("TEE-02"), 3)
        self.assertEqual(self._amazon_qty("MUG-01"), 10)
        self.assertEqual(self.amazon.stock_last_sent_date, self._listing("TEE-02").stock_sent_date)

    # ------------------------------------------------------------------ efficient and ordered

    def test_changes_coalesced_into_one_call(self):
        self.amazon.write({"update_stock_on_amazon": True, "push_stock_on_any_change": True})
        self._change_stock(self.product_mug, 10)
        self._change_stock(self.product_mug, 5)
        self._receive(self.product_mug, 4)
        self._change_stock(self.product_mug, -2)
        listing = self._listing("MUG-01")
        self.assertEqual(self._queued(listing), 4, "one pending row per committed change")
        self.assertTrue(listing.stock_push_pending)
        self.assertEqual(self.env["amazon.listing"].search([("stock_push_pending", "=", True)]), listing)
        self._run_scheduled("stock")
        self.assertEqual(self.sim.count(operation=PATCH), 1)
        self.assertEqual(self._amazon_qty("MUG-01"), 17)
        self.assertFalse(self._queued())
        self.assertFalse(listing.stock_push_pending)

    def test_unchanged_quantity_not_sent_again(self):
        self.amazon.write({"update_stock_on_amazon": True, "push_stock_on_any_change": True})
        self._change_stock(self.product_mug, 6)
        self._run_scheduled("stock")
        self.assertEqual(len(self._patches("MUG-01")), 1)
        self._change_stock(self.product_mug, 1)
        self._change_stock(self.product_mug, -1)
        self._run_scheduled("stock")
        self.assertEqual(len(self._patches("MUG-01")), 1, "Amazon already has 6")
        self.assertFalse(self._queued())
        # A listings import saw another quantity on Amazon since (changed on Seller Central): sent again.
        listing = self._listing("MUG-01")
        listing.write({"quantity": 9, "synced_date": fields.Datetime.add(listing.stock_sent_date, seconds=1)})
        self._change_stock(self.product_mug, 0.5)
        self._run_scheduled("stock")
        self.assertEqual(len(self._patches("MUG-01")), 2)
        self.assertEqual(self._amazon_qty("MUG-01"), 6)

    def test_failed_push_retried_and_last_change_wins(self):
        self.amazon.write({"update_stock_on_amazon": True, "push_stock_on_any_change": True})
        self._change_stock(self.product_mug, 10)
        self.sim.inject_fault(PATCH, "5xx", times=50)
        self._run_scheduled("stock")
        listing = self._listing("MUG-01")
        self.assertEqual(listing.stock_push_state, "retry")
        self.assertIn("503", listing.stock_push_error)
        self.assertEqual(listing.stock_push_attempts, 1)
        self.assertGreater(listing.stock_push_next_date, fields.Datetime.now())
        self.assertEqual(self._amazon_qty("MUG-01"), 10)
        self.assertEqual(self._queued(listing), 1, "the change waits")
        self.assertIn("503", self.amazon.stock_push_message)
        self.assertEqual(self.amazon.stock_push_failed_count, 1)

        # More changes meanwhile; the next attempt is not due yet: nothing is sent.
        self._change_stock(self.product_mug, -3)
        self._change_stock(self.product_mug, -4)
        self.sim.clear_faults()
        calls = self.sim.count(operation=PATCH)
        self._run_scheduled("stock")
        self.assertEqual(self.sim.count(operation=PATCH), calls, "backoff respected")

        listing.stock_push_next_date = fields.Datetime.subtract(fields.Datetime.now(), minutes=1)
        self._run_scheduled("stock")
        self.assertEqual(self.sim.count(operation=PATCH), calls + 1, "one call for the three changes")
        self.assertEqual(self._amazon_qty("MUG-01"), 3, "the quantity of the last change")
        self.assertEqual((listing.stock_push_state, listing.stock_sent_qty), ("done", 3))
        self.assertFalse(listing.stock_push_error)
        self.assertFalse(listing.stock_push_next_date)
        self.assertEqual(listing.stock_push_attempts, 0)
        self.assertFalse(self._queued())
        self.assertFalse(self.amazon.stock_push_message)

    def test_backoff_short_when_amazon_was_unusable_longer_when_it_refused(self):
        """A push that failed because Amazon could not be used (throttled, no answer, a server error) is tried
        again a minute later, then two, four...: a stale quantity on Amazon is what oversells. A quantity Amazon
        refused waits five minutes first."""
        def run_and_check_wait(sku, state, attempts, minutes):
            before = fields.Datetime.now()
            self._run_scheduled("stock")
            listing = self._listing(sku)
            self.assertEqual((listing.stock_push_state, listing.stock_push_attempts), (state, attempts))
            wait = listing.stock_push_next_date - before
            self.assertTrue(timedelta(minutes=minutes) <= wait < timedelta(minutes=minutes + 1), wait)
            return listing

        self.amazon.write({"update_stock_on_amazon": True, "push_stock_on_any_change": True})
        self._change_stock(self.product_mug, 10)
        self.sim.inject_fault(PATCH, "5xx", times=50)
        listing = run_and_check_wait("MUG-01", "retry", 1, 1)
        listing.stock_push_next_date = fields.Datetime.subtract(fields.Datetime.now(), seconds=1)
        run_and_check_wait("MUG-01", "retry", 2, 2)

        self.sim.clear_faults()
        with self.sim.state.lock:
            del self.sim.state.listings["CAP-03"]  # gone from Amazon: it refuses the quantity
        self._change_stock(self.product_cap, 3)
        run_and_check_wait("CAP-03", "refused", 1, 5)

    def test_postponed_push_wakes_the_stock_job_when_its_wait_ends(self):
        """A push put off (backoff) asks for the stock job at the listing's next attempt: the job runs again by
        itself then, without waiting for another stock change or the flow's scheduled action."""
        self.amazon.write({"update_stock_on_amazon": True, "push_stock_on_any_change": True})
        self._change_stock(self.product_mug, 10)
        self.sim.inject_fault(PATCH, "5xx", times=50)
        self._run_scheduled("stock")
        listing = self._listing("MUG-01")
        self.assertEqual(listing.stock_push_state, "retry")
        cron = self.env["amazon.sync.job"]._for(self.amazon, "stock").cron_id
        Trigger = self.env["ir.cron.trigger"].sudo()
        wake = Trigger.search([("cron_id", "=", cron.id), ("call_at", ">", fields.Datetime.now())])
        self.assertEqual(wake.call_at, listing.stock_push_next_date)
        # a run while the push waits sends nothing and asks for no second wake-up
        self._run_scheduled("stock")
        self.assertEqual(Trigger.search([("cron_id", "=", cron.id), ("call_at", ">", fields.Datetime.now())]), wake)
        self.assertEqual(listing.stock_push_attempts, 1)
        # the wait ends: the trigger runs the job, which sends the quantity
        self.sim.clear_faults()
        past = fields.Datetime.subtract(fields.Datetime.now(), seconds=1)
        listing.stock_push_next_date = past
        wake.call_at = past
        self._run_scheduled("stock", dispatch=False)
        self.assertEqual((listing.stock_push_state, self._amazon_qty("MUG-01")), ("done", 10))
        self.assertFalse(self._queued())

    def test_stock_problem_is_kept_off_the_connection_row(self):
        """The problem of a run is on the stock flow's progress row: the connection's row, which other flows,
        servers and people write at the same time, is not written (a conflict there failed the order import)."""
        self.amazon.write({"update_stock_on_amazon": True, "push_stock_on_any_change": True})
        self._change_stock(self.product_mug, 10)
        self.env.flush_all()
        self.env.cr.execute("SELECT xmin FROM amazon_account WHERE id = %s", [self.amazon.id])
        before = self.env.cr.fetchone()[0]
        self.sim.inject_fault(PATCH, "5xx", times=50)
        self._run_scheduled("stock")
        self.env.flush_all()
        self.env.cr.execute("SELECT xmin FROM amazon_account WHERE id = %s", [self.amazon.id])
        self.assertEqual(self.env.cr.fetchone()[0], before, "the connection's row was not written")
        row = self.env["amazon.sync.job"]._cursor(self.amazon, "stock")
        self.assertIn("503", row.message)
        self.assertEqual(self.amazon.stock_push_message, row.message)

    def test_upgrade_moves_the_stock_problem_to_its_progress_row(self):
        """19.0.1.3.0: the old column's text goes to the stock flow's row and the column is dropped."""
        self.env.cr.execute("ALTER TABLE amazon_account ADD COLUMN stock_push_message text")
        self.env.cr.execute("UPDATE amazon_account SET stock_push_message = 'Amazon refused 3 quantities' "
                            "WHERE id = %s", [self.amazon.id])
        run_migration(self.env.cr, "19.0.1.3.0", "19.0.1.2.0")
        self.env.invalidate_all()
        self.assertEqual(self.amazon.stock_push_message, "Amazon refused 3 quantities")
        self.assertFalse(column_exists(self.env.cr, "amazon_account", "stock_push_message"))

    # ------------------------------------------------------------------ quantities

    def test_buffer_applied(self):
        self.amazon.write({"update_stock_on_amazon": True, "stock_buffer": 3})
        self._put_stock(self.product_mug, 10)
        self._put_stock(self.product_tee, 2)
        self._push_now()
        self.assertEqual(self._amazon_qty("MUG-01"), 7)
        self.assertEqual(self._amazon_qty("TEE-02"), 0, "never below zero")
        # a new buffer changes every quantity: all are sent again
        self.amazon.stock_buffer = 1
        self.assertEqual(self._queued(), 3)
        self._push()
        self.assertEqual(self._amazon_qty("MUG-01"), 9)
        self.assertEqual(self._amazon_qty("TEE-02"), 1)

    def test_negative_fractional_and_reserved_stock(self):
        self.amazon.write({"update_stock_on_amazon": True})
        shelf = self.env["stock.location"].create({"name": "Shelf", "location_id": self.stock_location.id})
        self._put_stock(self.product_mug, 5.75)
        self._put_stock(self.product_mug, 2, shelf)  # children of the stock location count
        self._put_stock(self.product_mug, 40, self.fba_location)  # another warehouse does not
        self._put_stock(self.product_tee, -4)
        self._put_stock(self.product_cap, 3)
        self.env["stock.quant"]._update_reserved_quantity(self.product_cap, self.stock_location, 1)
        self._push_now()
        self.assertEqual(self._amazon_qty("MUG-01"), 7, "7.75 rounded down")
        self.assertEqual(self._amazon_qty("TEE-02"), 0, "negative stock sends 0")
        self.assertEqual(self._amazon_qty("CAP-03"), 2, "on hand minus reserved")

    # ------------------------------------------------------------------ beyond the original

    def test_second_toggle_triggers_on_receipt_only_when_on(self):
        self.amazon.update_stock_on_amazon = True
        self.assertFalse(self.amazon.push_stock_on_any_change, "off by default")
        self._receive(self.product_mug, 5)
        self._run_scheduled("stock")
        self.assertFalse(self._patches())
        self.assertFalse(self._queued())
        self.assertEqual(self._amazon_qty("MUG-01"), 10)

        self.amazon.push_stock_on_any_change = True
        self._receive(self.product_mug, 3)
        self._run_scheduled("stock")
        self.assertEqual(len(self._patches()), 1)
        self.assertEqual(self._amazon_qty("MUG-01"), 8)

    def test_refused_patch_marks_only_that_listing(self):
        self.amazon.update_stock_on_amazon = True
        with self.sim.state.lock:
            del self.sim.state.listings["MUG-01"]  # gone from Amazon
        self.sim.add_listing(sku="TEE-02", quantity=12, fulfillment="AFN")  # Amazon fulfils it now
        for product in (self.product_mug, self.product_tee, self.product_cap):
            self._put_stock(product, 4)
        notification = self._push_now()
        self.assertEqual(notification["params"]["type"], "warning")

        mug, tee, cap = (self._listing(sku) for sku in ("MUG-01", "TEE-02", "CAP-03"))
        self.assertEqual(mug.stock_push_state, "refused")
        self.assertIn("MUG-01", mug.stock_push_error)
        self.assertIn("does not exist", mug.stock_push_error, "Amazon's reason")
        self.assertTrue(mug.stock_push_next_date)
        self.assertEqual(tee.stock_push_state, "refused")
        self.assertIn("Amazon fulfils this SKU", tee.stock_push_error)
        self.assertEqual(self._amazon_qty("TEE-02"), 12)
        self.assertEqual((cap.stock_push_state, self._amazon_qty("CAP-03")), ("done", 4), "the others go on")
        self.assertFalse(cap.stock_push_error)
        self.assertEqual(self.amazon.stock_push_failed_count, 2)
        self.assertEqual(self._queued(), 2, "the refused ones are tried again later")

    def test_product_type_learned_when_generic_type_refused(self):
        self.amazon.update_stock_on_amazon = True
        self.sim.add_listing(sku="MUG-01", quantity=10, product_type="DRINKING_CUP")
        original = handlers.HANDLERS[PATCH]

        def strict_patch(sim, call):
            """Amazon refusing the generic product type for this listing."""
            if call.body.get("productType") != "DRINKING_CUP" and unquote(call.path).endswith("/MUG-01"):
                return 200, {"sku": "MUG-01", "status": "INVALID", "submissionId": "x1", "issues": [
                    {"code": "4000003", "message": "The product type is invalid for this SKU.",
                     "severity": "ERROR", "categories": ["INVALID_ATTRIBUTE"]}]}
            return original(sim, call)

        self._put_stock(self.product_mug, 6)
        with patch.dict(handlers.HANDLERS, {PATCH: strict_patch}):
            self._push_now()
            listing = self._listing("MUG-01")
            self.assertEqual(listing.amazon_product_type, "DRINKING_CUP")
            self.assertEqual((listing.stock_push_state, self._amazon_qty("MUG-01")), ("done", 6))
            self.assertEqual(len(self._patches("MUG-01")), 2)
            self.assertEqual(self.sim.count(operation="getListingsItem"), 1)
            # next time the known product type goes first
            self._put_stock(self.product_mug, 1)
            self.env["amazon.stock.sync"]._enqueue_products(self._account(), self.product_mug)
            self._push()
            self.assertEqual(self._amazon_qty("MUG-01"), 7)
            self.assertEqual(len(self._patches("MUG-01")), 3)
            self.assertEqual(self.sim.count(operation="getListingsItem"), 1)

    # ------------------------------------------------------------------ connections sharing a warehouse

    def test_sale_on_one_connection_updates_every_connection_of_the_warehouse(self):
        """Two seller accounts offer the same units of one warehouse: an Amazon sale on either changes what
        both must show, and both get the quantity of the moment."""
        from spapi_simulator import Simulator

        other_sim = Simulator(speed=self.sim_speed)
        other_sim.state.seller_id = "A3SIMSELLER0002"
        other_sim.start()
        self.addCleanup(other_sim.stop)
        other = self.env["amazon.account"].create(self._amazon_account_vals(
            name="Amazon MX 2", seller_id="A3SIMSELLER0002", endpoint_override=other_sim.url,
            token_url_override=other_sim.token_url, update_stock_on_amazon=True))
        other_sim.add_listing(sku="MUG-B", quantity=10)
        self._make_listing("MUG-B", self.product_mug, account=other, name="Taza")
        self.amazon.update_stock_on_amazon = True
        self._put_stock(self.product_mug, 10)
        self._make_order([{"sku": "MUG-01", "quantity": 2, "unit_price": "199.00"}])
        self._sync()
        self.assertEqual(self._amazon_qty("MUG-01"), 8)
        self._run_scheduled("stock")
        self.assertEqual(other_sim.get_listing("MUG-B")["fulfillmentAvailability"][0]["quantity"], 8,
                         "the other connection's listing of the product shows the units left")
        self.assertFalse(self.env["amazon.stock.push"].search_count([]))
