"""Issue 30: a return, its refund's credit note and Amazon's fee refund point at each other; a refund whose goods
do not come back is said on the return, and the connection's user gets one To-Do after the days it chose."""
from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import AmazonFinanceCommon, AmazonOrderCommon


@tagged("post_install", "-at_install")
class TestReturnRefunds(AmazonFinanceCommon, AmazonOrderCommon):
    def setUp(self):
        super().setUp()
        patcher = patch.object(type(self.env["amazon.return.sync"]), "_now", lambda sync: self._sim_now())
        patcher.start()
        self.addCleanup(patcher.stop)
        with self.sim.state.lock:
            self.sim.state.returns.clear()
            self.sim.state.report_documents.clear()
        self.todo = self.env.ref("mail.mail_activity_data_todo")

    # ------------------------------------------------------------------ helpers

    def _shipped(self, items=None, fba=True):
        items = items or [{"sku": "MUG-01", "quantity": 1, "unit_price": "150.00"}]
        location = self.fba_location if fba else self.stock_location
        for item in items:
            self._put_stock(self.env["product.product"].search([("default_code", "=", item["sku"])]), 10, location)
        order = self._make_order(items, fulfilled_by="AMAZON" if fba else "MERCHANT", status="SHIPPED", fresh=True)
        AmazonOrderCommon._sync(self)
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "imported", rec.reason)
        return rec

    def _refund(self, order_ref, amount, sku="MUG-01", days_ago=1, quantity=1):
        """Amazon refunds ``amount`` of ``sku`` (giving back 15 % of commission), read and booked by the payouts
        flow."""
        txn = self._sale(order_ref, self._group(), f"-{amount}", None, transaction_type="Refund", sku=sku,
                         quantity=quantity, posted=self.sim.now() - timedelta(days=days_ago),
                         fulfillment_network="AFN")
        self._sync_payouts()
        return self._txn(txn)

    def _read(self):
        account = self.amazon.with_context(amazon_pacing_speed=self.sim_speed, amazon_report_poll_interval=0.01)
        self.env["amazon.sync.cursor"].sudo().search(
            [("account_id", "=", self.amazon.id), ("flow", "=", "returns")]).write({"cursor": False})
        return account.env["amazon.return.sync"]._sync_for(account)

    def _returns(self):
        return self.env["amazon.return"].search([("account_id", "=", self.amazon.id)])

    def _reminders(self, ret):
        return self.env["mail.activity"].with_context(active_test=False).search(
            [("res_model", "=", "amazon.return"), ("res_id", "=", ret.id)])

    # ------------------------------------------------------------------ links both ways

    def test_return_credit_note_and_fee_refund_point_at_each_other(self):
        rec = self._shipped([{"sku": "MUG-01", "quantity": 1, "unit_price": "150.00"},
                             {"sku": "TEE-02", "quantity": 1, "unit_price": "200.00"}])
        self.sim.add_return(order_id=rec.name, sku="MUG-01", channel="fba", return_date=self.sim.now())
        self.sim.add_return(order_id=rec.name, sku="TEE-02", channel="fba", return_date=self.sim.now())
        self._read()
        mug, tee = (self._returns().filtered(lambda r, s=sku: r.sku == s) for sku in ("MUG-01", "TEE-02"))
        self.assertEqual((mug.state, tee.state), ("received", "received"))
        self.assertEqual(mug.refund_note, "No refund recorded yet")
        group = self._group()
        txn = self._sale(rec.name, group, "-150.00", None, transaction_type="Refund", sku="MUG-01",
                         fulfillment_network="AFN")
        self._publish_deposit(group, -150.00 + 22.50)
        self._sync_payouts()
        txn = self._txn(txn)
        self.assertEqual(txn.state, "done", txn.message)
        (mug | tee).invalidate_recordset()  # computed on reading: read before the refund in this transaction
        note = txn.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(note), 1)
        fee_bill = self._settlement(group).move_ids
        self.assertEqual(fee_bill.move_type, "in_refund", "Amazon gave its commission back")
        # the return shows its money ...
        self.assertEqual(mug.credit_note_ids, note)
        self.assertEqual(mug.refund_transaction_ids, txn)
        self.assertAlmostEqual(mug.fee_refund_amount, 22.50)
        self.assertEqual(mug.fee_refund_move_ids, fee_bill)
        self.assertEqual(mug.refund_note, "Refunded, goods returned")
        self.assertEqual(self.env["account.move"].search(mug.action_view_credit_notes()["domain"]), note)
        self.assertEqual(self.env["amazon.settlement.transaction"].search(mug.action_view_refunds()["domain"]), txn)
        # ... not another SKU's
        self.assertFalse(tee.credit_note_ids | tee.fee_refund_move_ids)
        self.assertFalse(tee.refund_transaction_ids)
        self.assertEqual(tee.refund_note, "No refund recorded yet")
        # and the credit note and the refund show the return
        self.assertEqual(note.amazon_return_ids, mug)
        self.assertEqual(note.amazon_return_count, 1)
        self.assertEqual(self.env["amazon.return"].search(note.action_view_amazon_returns()["domain"]), mug)
        self.assertEqual(txn.amazon_return_ids, mug)
        self.assertFalse(rec.invoice_ids.filtered(lambda m: m.move_type == "out_invoice").amazon_return_ids)
        # nothing is written on either side: read again, nothing new
        self._read()
        self._sync_payouts()
        self.assertEqual(self._returns(), mug | tee)
        self.assertEqual(len(rec.sale_order_id.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
                             | txn.invoice_ids.filtered(lambda m: m.move_type == "out_refund")), 1)

    def test_money_of_a_return_is_read_as_the_user_may(self):
        rec = self._shipped()
        self.sim.add_return(order_id=rec.name, sku="MUG-01", channel="fba", return_date=self.sim.now())
        self._read()
        ret = self._returns()
        group = self._group()
        txn = self._sale(rec.name, group, "-150.00", None, transaction_type="Refund", sku="MUG-01",
                         fulfillment_network="AFN")
        self._publish_deposit(group, -150.00 + 22.50)
        self._sync_payouts()
        note = self._txn(txn).invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        fee_bill = self._settlement(group).move_ids
        self.assertTrue(note and fee_bill)
        # an Amazon user without accounting: the customer credit notes Odoo lets salespeople read, never the
        # vendor refund of Amazon's fees
        seller = self._user("returns_seller", "bind_amazon_connector.group_amazon_user")
        self.assertFalse(seller.has_group("account.group_account_invoice"))
        mine = ret.with_user(seller)
        self.assertEqual(mine.credit_note_ids, note)
        self.assertFalse(mine.fee_refund_move_ids, "the fee bill is not readable by a salesperson")
        with self.assertRaises(AccessError):
            fee_bill.with_user(seller).read(["name"])
        self.assertEqual(note.with_user(seller).amazon_return_ids, ret)
        # an accountant reads the return and its money, and the returns of a credit note
        accountant = self._user("returns_accountant", "account.group_account_invoice")
        self.assertEqual(ret.with_user(accountant).read(["state"])[0]["state"], "received")
        self.assertEqual(ret.with_user(accountant).fee_refund_move_ids, fee_bill)
        self.assertEqual(note.with_user(accountant).amazon_return_ids, ret)
        self.assertEqual(note.with_user(accountant).action_view_amazon_returns()["domain"], [("id", "in", ret.ids)])
        # the warehouse reads the return, not its money
        warehouse = self._user("returns_warehouse", "stock.group_stock_user")
        self.assertEqual(ret.with_user(warehouse).refund_note, "Refunded, goods returned")
        for fname in ("credit_note_ids", "refund_transaction_ids", "fee_refund_amount", "fee_refund_move_ids"):
            with self.assertRaises(AccessError):
                ret.with_user(warehouse).read([fname])
        for action in ("action_view_credit_notes", "action_view_refunds"):
            with self.assertRaises(AccessError):
                getattr(ret.with_user(warehouse), action)()
        # someone with no role: nothing
        outsider = self._user("returns_nobody", "base.group_user")
        with self.assertRaises(AccessError):
            note.with_user(outsider).action_view_amazon_returns()
        with self.assertRaises(AccessError):
            ret.with_user(outsider).action_view_credit_notes()
        # another company's Amazon accountant: neither the return nor the credit note, nor through them
        company_b = self.env["res.company"].create({"name": "Otra Empresa Devoluciones SA"})
        other = self._user("returns_other", "bind_amazon_connector.group_amazon_user", "account.group_account_invoice",
                           company=company_b)
        self.assertFalse(self.env["amazon.return"].with_user(other).search([]))
        with self.assertRaises(AccessError):
            ret.with_user(other).read(["credit_note_ids"])
        with self.assertRaises(AccessError):
            ret.with_user(other).action_view_credit_notes()
        with self.assertRaises(AccessError):
            note.with_user(other).action_view_amazon_returns()
        with self.assertRaises(AccessError):
            self._txn(txn).with_user(other).read(["amazon_return_ids"])

    # ------------------------------------------------------------------ refunds without the goods back

    def test_refund_without_return_then_the_return_arrives(self):
        self.amazon.return_wait_days = 1
        rec = self._shipped()
        before = self._on_hand(self.product_mug, self.fba_location)
        txn = self._refund(rec.name, "150.00", days_ago=2)
        for _read in range(2):  # read twice: one return, one To-Do
            self._read()
            ret = self._returns()
            self.assertEqual(len(ret), 1)
            self.assertEqual((ret.state, ret.order_ref, ret.sku, ret.quantity, ret.channel),
                             ("no_return", rec.name, "MUG-01", 1, "fba"))
            self.assertEqual((ret.sale_order_id, ret.product_id), (rec.sale_order_id, self.product_mug))
            self.assertFalse(ret.picking_id, "nothing came back")
            self.assertEqual(ret.refund_date, txn.posted_date)
            self.assertEqual(ret.refund_note, "Refunded without the goods back")
            self.assertEqual(ret.refund_transaction_ids, txn)
            self.assertEqual(txn.amazon_return_ids, ret)
            reminder = self._reminders(ret)
            self.assertEqual(len(reminder), 1)
            self.assertEqual((reminder.activity_type_id, reminder.user_id), (self.todo, self.amazon.user_id))
            self.assertIn(rec.name, reminder.summary)
        self.assertEqual(self._on_hand(self.product_mug, self.fba_location), before)
        # Amazon reports the return: the same record follows it, the To-Do is done
        data = self.sim.add_return(order_id=rec.name, sku="MUG-01", channel="fba", return_date=self.sim.now())
        self._read()
        self._read()
        self.assertEqual(self._returns(), ret, "nothing duplicated")
        self.assertEqual((ret.name, ret.state, ret.picking_id.state), (data["returnId"], "received", "done"))
        self.assertEqual(self._on_hand(self.product_mug, self.fba_location), before + 1)
        self.assertFalse(self._reminders(ret).filtered("active"), "the reminder is done")
        self.assertEqual(ret.refund_note, "Refunded, goods returned")

    def test_a_new_refund_wakes_the_returns_job_and_a_refund_read_again_does_not(self):
        rec = self._shipped()
        job = self.env["amazon.sync.job"].sudo()._for(self.amazon, "returns")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", job.cron_id.id)]).unlink()
        txn = self._refund(rec.name, "150.00")
        self.assertEqual(txn.kind, "refund")
        self.assertEqual(Trigger.search_count([("cron_id", "=", job.cron_id.id)]), 1,
                         "the payouts flow leaves the refund and wakes the returns job")
        Trigger.search([("cron_id", "=", job.cron_id.id)]).unlink()
        self._sync_payouts()  # the same transaction read again (each read overlaps the last days)
        self.assertFalse(Trigger.search_count([("cron_id", "=", job.cron_id.id)]))
        self._read()
        self.assertEqual(self._returns().state, "no_return")

    def test_return_that_never_came_back_reminds_once_after_the_chosen_days(self):
        self.amazon.return_wait_days = 3
        rec = self._shipped(fba=False)
        data = self.sim.add_return(order_id=rec.name, sku="MUG-01", channel="fbm",
                                   return_date=self.sim.now() - timedelta(days=3))
        self._refund(rec.name, "150.00", days_ago=2)
        self._read()
        ret = self._returns()
        self.assertEqual((ret.state, ret.refund_note), ("requested", "Refunded without the goods back"))
        self.assertFalse(self._reminders(ret), "2 days after the refund: the user waits 3")
        self.amazon.return_wait_days = 1
        self._read()
        self._read()
        self.assertEqual(len(self._reminders(ret)), 1)
        self.assertTrue(ret.reminder_date)
        self.assertEqual(len(self._returns()), 1)
        # the parcel reaches the seller
        self.sim.update_return(data["returnId"], deliveredDate=data["returnDate"], status="Closed")
        self._read()
        self.assertIn(ret.state, ("ready", "received"))
        self.assertFalse(self._reminders(ret).filtered("active"))
        self._read()
        self.assertFalse(self._reminders(ret).filtered("active"), "no second reminder")

    def test_refund_of_an_order_not_yet_imported(self):
        order = self._make_order([{"sku": "MUG-01", "quantity": 1, "unit_price": "150.00"}],
                                 fulfilled_by="AMAZON", status="SHIPPED", fresh=True)
        txn = self._refund(order["orderId"], "150.00")
        self.assertEqual(txn.state, "waiting", "no invoice to credit yet")
        self._read()
        ret = self._returns()
        self.assertEqual((ret.state, ret.order_ref, ret.sale_order_id.id), ("no_return", order["orderId"], False))
        self.assertEqual(txn.amazon_return_ids, ret)
        self._put_stock(self.product_mug, 5, self.fba_location)
        AmazonOrderCommon._sync(self)
        self._read()
        self.assertEqual(self._returns(), ret)
        sale = self._amazon_order(order["orderId"]).sale_order_id
        self.assertEqual((ret.state, ret.sale_order_id), ("no_return", sale))

    def test_wait_days_setting(self):
        self.assertEqual(self.env["amazon.account"].default_get(["return_wait_days"])["return_wait_days"], 30)
        with self.assertRaises(ValidationError):
            self.amazon.return_wait_days = 0
        with self.assertRaises(AccessError):
            self.amazon.with_user(self.amazon_user).return_wait_days = 10
        company_b = self.env["res.company"].create({"name": "Otra Empresa Plazos SA"})
        manager_b = self._user("returns_manager_b", "bind_amazon_connector.group_amazon_manager", company=company_b)
        with self.assertRaises(AccessError):
            self.amazon.with_user(manager_b).return_wait_days = 10
        self.assertEqual(self.amazon.return_wait_days, 30)
