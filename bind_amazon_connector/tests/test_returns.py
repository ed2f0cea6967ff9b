"""Issue 30: customer returns read from Amazon's returns reports, recorded once each, goods back into stock."""
from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from spapi_simulator.returns import FBA_RETURNS_COLUMNS

from ..spapi.returns import FBA_REPORT
from .common import AmazonOrderCommon


@tagged("post_install", "-at_install")
class TestReturns(AmazonOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.returns_location = cls.env["stock.location"].create({
            "name": "Devoluciones", "usage": "internal", "location_id": cls.warehouse.view_location_id.id})
        cls.amazon.write({"return_location_id": cls.returns_location.id, "validate_returns": True})

    def setUp(self):
        super().setUp()
        patcher = patch.object(type(self.env["amazon.return.sync"]), "_now", lambda sync: self._sim_now())
        patcher.start()
        self.addCleanup(patcher.stop)
        with self.sim.state.lock:
            self.sim.state.returns.clear()
            self.sim.state.report_documents.clear()

    # ------------------------------------------------------------------ helpers

    def _shipped(self, qty=2, fba=False):
        location = self.fba_location if fba else self.stock_location
        self._put_stock(self.product_mug, 10, location)
        order = self._make_order([{"sku": "MUG-01", "quantity": qty, "unit_price": "150.00"}],
                                 fulfilled_by="AMAZON" if fba else "MERCHANT", status="SHIPPED", fresh=True)
        self._sync()
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "imported", rec.reason)
        self.assertEqual(rec.sale_order_id.picking_ids.state, "done")
        return rec

    def _return(self, order_ref, **kw):
        kw.setdefault("return_date", self.sim.now() - timedelta(days=1))
        return self.sim.add_return(order_id=order_ref, sku=kw.pop("sku", "MUG-01"), **kw)

    def _read(self, commit=None, account=None):
        account = (account or self.amazon).with_context(amazon_pacing_speed=self.sim_speed,
                                                        amazon_report_poll_interval=0.01)
        self._cursor().write({"cursor": False})
        return account.env["amazon.return.sync"]._sync_for(account, commit=commit)

    def _cursor(self):
        return self.env["amazon.sync.cursor"].sudo().search([("account_id", "=", self.amazon.id),
                                                             ("flow", "=", "returns")])

    def _returns(self):
        return self.env["amazon.return"].search([("account_id", "=", self.amazon.id)])

    # ------------------------------------------------------------------ FBM

    def test_fbm_return_delivered_to_seller_comes_back_to_the_returns_location(self):
        rec = self._shipped(qty=2)
        ret_data = self._return(rec.name, channel="fbm", quantity=1, delivered_date=self.sim.now(), reason="DEFECTIVE")
        result = self._read()
        self.assertFalse(result["error"], result)
        ret = self._returns()
        self.assertEqual(len(ret), 1)
        self.assertEqual((ret.name, ret.channel, ret.quantity, ret.reason, ret.state),
                         (ret_data["returnId"], "fbm", 1, "DEFECTIVE", "received"))
        self.assertEqual(ret.amazon_order_id, rec)
        self.assertEqual(ret.sale_order_id, rec.sale_order_id)
        delivery = rec.sale_order_id.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        self.assertEqual(ret.delivery_id, delivery)
        self.assertEqual(ret.product_id, self.product_mug)
        self.assertEqual(ret.picking_id.state, "done")
        self.assertEqual(ret.picking_id.return_id, ret.delivery_id, "a return of the original delivery")
        self.assertEqual(self._on_hand(self.product_mug, self.returns_location), 1)
        self.assertEqual(rec.sale_order_id.order_line.qty_delivered, 1, "the sale follows Odoo's return")
        self.assertEqual(ret.refund_note, "No refund recorded yet")
        # read again: nothing new, nothing moved twice
        self._read()
        self.assertEqual(self._returns(), ret)
        self.assertEqual(len(self.env["stock.picking"].search([("return_id", "=", ret.delivery_id.id)])), 1)
        self.assertEqual(self._on_hand(self.product_mug, self.returns_location), 1)

    def test_fbm_return_waits_for_delivery_then_left_ready_when_not_validated_automatically(self):
        self.amazon.validate_returns = False
        rec = self._shipped(qty=1)
        ret_data = self._return(rec.name, channel="fbm")
        self._read()
        ret = self._returns()
        self.assertEqual(ret.state, "requested")
        self.assertFalse(ret.picking_id)
        write_dates = ret.write_date
        self._read()
        self.assertEqual(ret.write_date, write_dates, "a row read again unchanged writes nothing")
        self.sim.update_return(ret_data["returnId"], deliveredDate=ret_data["returnDate"], status="Closed")
        self._read()
        self.assertEqual((ret.state, ret.amazon_status), ("ready", "Closed"))
        self.assertEqual(ret.picking_id.state, "assigned")
        self.assertEqual(ret.picking_id.location_dest_id, self.returns_location)
        self.assertEqual(self._on_hand(self.product_mug, self.returns_location), 0, "the warehouse checks first")
        # the warehouse validates: the next run says so
        ret.picking_id.move_ids.write({"quantity": 1, "picked": True})
        ret.picking_id.button_validate()
        self._read()
        self.assertEqual(ret.state, "received")
        self.assertEqual(self._on_hand(self.product_mug, self.returns_location), 1)

    # ------------------------------------------------------------------ FBA

    def test_fba_returns_sellable_to_stock_others_to_unsellable(self):
        rec = self._shipped(qty=3, fba=True)
        before = self._on_hand(self.product_mug, self.fba_location)
        self._return(rec.name, channel="fba", disposition="SELLABLE")
        self._return(rec.name, channel="fba", disposition="CUSTOMER_DAMAGED")
        self._read()
        returns = self._returns()
        self.assertEqual(sorted(returns.mapped("state")), ["received", "unsellable"])
        self.assertEqual(self._on_hand(self.product_mug, self.fba_location), before + 1)
        damaged = returns.filtered(lambda r: r.disposition == "CUSTOMER_DAMAGED")
        unsellable = damaged.picking_id.location_dest_id
        self.assertEqual(self._on_hand(self.product_mug, unsellable), 1)
        self.assertNotEqual(unsellable, self.fba_location)
        self.assertFalse(unsellable.warehouse_id, "outside the FBA warehouse's stock: the FBA mirror does not count it")
        self.assertTrue(all(r.picking_id.state == "done" for r in returns))
        self.assertEqual(set(returns.mapped("move_ids.origin")), {f"Amazon return {r.name} of {rec.name}"
                                                                  for r in returns})

    def test_fba_disposition_changed_after_the_goods_moved_moves_only_the_difference(self):
        rec = self._shipped(qty=2, fba=True)
        fba = self.fba_warehouse
        in_fba = lambda: self.product_mug.with_context(warehouse_id=fba.id).qty_available  # noqa: E731
        before = in_fba()
        data = self._return(rec.name, channel="fba", disposition="SELLABLE")
        self._read()
        ret = self._returns()
        self.assertEqual((ret.state, in_fba()), ("received", before + 1))
        unsellable = self.env["stock.location"].search([("barcode", "=", f"{fba.code}-AMZ-UNSELLABLE")])
        # Amazon looks again: the unit is defective. It leaves the FBA stock for the unsellable location, once.
        self.sim.update_return(data["returnId"], disposition="DEFECTIVE")
        for _read in range(2):
            self._read()
            self.assertEqual(ret.state, "unsellable")
            self.assertEqual(in_fba(), before, "the FBA mirror (Amazon's fulfillable units) finds what it expects")
            unsellable = unsellable or ret.adjustment_move_ids.location_dest_id
            self.assertEqual(self._on_hand(self.product_mug, unsellable), 1)
            self.assertEqual(len(ret.adjustment_move_ids), 1, "read twice, moved once")
        move = ret.adjustment_move_ids
        self.assertEqual((move.state, move.location_id, move.location_dest_id, move.product_uom_qty),
                         ("done", self.fba_location, unsellable, 1))
        self.assertEqual(move.origin, f"Amazon return {ret.name} of {rec.name}")
        self.assertEqual(move.picking_id.sale_id, rec.sale_order_id, "tied to the order")
        self.assertEqual(ret.move_ids, ret.picking_id.move_ids | move)
        self.assertEqual(rec.sale_order_id.order_line.qty_delivered, 1, "the relocation is no delivery")
        # and back: sellable again, the unit goes back to the FBA stock
        self.sim.update_return(data["returnId"], disposition="SELLABLE")
        self._read()
        self._read()
        self.assertEqual((ret.state, in_fba(), self._on_hand(self.product_mug, unsellable)),
                         ("received", before + 1, 0))
        self.assertEqual(len(ret.adjustment_move_ids), 2)
        self.assertEqual(len(self.env["stock.picking"].search([("return_id", "=", ret.delivery_id.id)])), 1,
                         "the delivery was returned once")

    def test_fba_quantity_changed_after_the_goods_moved(self):
        rec = self._shipped(qty=3, fba=True)
        data = self._return(rec.name, channel="fba", disposition="CUSTOMER_DAMAGED", quantity=1)
        self._read()
        ret = self._returns()
        unsellable = ret.picking_id.location_dest_id
        self.sim.update_return(data["returnId"], quantity=2)
        self._read()
        self._read()
        self.assertEqual((ret.quantity, ret.state, self._on_hand(self.product_mug, unsellable)), (2, "unsellable", 2))
        self.assertEqual(rec.sale_order_id.order_line.qty_delivered, 1, "a further return of the delivery")
        self.sim.update_return(data["returnId"], quantity=1)
        self._read()
        self._read()
        self.assertEqual(self._on_hand(self.product_mug, unsellable), 1)
        self.assertEqual(rec.sale_order_id.order_line.qty_delivered, 2, "the unit Amazon no longer reports went out")
        self.assertEqual(len(ret.adjustment_move_ids), 2)

    def test_disposition_change_killed_before_its_commit_moves_once(self):
        from .common import Commits

        rec = self._shipped(qty=1, fba=True)
        data = self._return(rec.name, channel="fba", disposition="SELLABLE")
        self._read()
        ret = self._returns()
        self.sim.update_return(data["returnId"], disposition="CARRIER_DAMAGED")
        commits = Commits(self.env)
        # the FBA page (the second) moved the unit, then the process died before its commit
        commits.run_until_crash(self, "returns.page", 2, lambda: self._read(commit=commits.commit))
        self.assertEqual((ret.state, ret.disposition, len(ret.adjustment_move_ids)), ("received", "SELLABLE", 0))
        self._read(commit=commits.commit)
        self._read(commit=commits.commit)
        self.assertEqual((ret.state, len(ret.adjustment_move_ids)), ("unsellable", 1))
        self.assertEqual(self._on_hand(self.product_mug, ret.adjustment_move_ids.location_dest_id), 1)

    def test_windows_1252_report_with_reordered_columns(self):
        rec = self._shipped(qty=1, fba=True)
        columns = list(reversed(FBA_RETURNS_COLUMNS))
        row = {"return-date": (self.sim.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
               "order-id": rec.name, "sku": "MUG-01", "quantity": "1", "fulfillment-center-id": "MEX1",
               "detailed-disposition": "SELLABLE", "reason": "NO_LONGER_NEEDED", "status": "Unit returned to inventory",
               "license-plate-number": "LPNCP1252", "product-name": "Taza cerámica – ½ litro", "customer-comments":
               "ya no la quería ñ"}
        text = "\t".join(columns) + "\r\n" + "\t".join(row.get(c, "") for c in columns) + "\r\n"
        self.sim.set_report_document(FBA_REPORT, text.encode("cp1252"), content_type="text/plain")
        self._read()
        ret = self._returns()
        self.assertEqual((ret.name, ret.state, ret.reason), ("LPNCP1252", "received", "NO_LONGER_NEEDED"))

    # ------------------------------------------------------------------ money

    def test_refund_without_the_goods_back_is_said_on_the_return(self):
        rec = self._shipped(qty=1)
        self._return(rec.name, channel="fbm", refunded_amount="150.00")
        self._read()
        ret = self._returns()
        self.assertEqual((ret.state, ret.refunded_amount), ("requested", 150.0))
        self.assertEqual(ret.refund_note, "No refund recorded yet")
        refund = self.env["amazon.settlement.transaction"].sudo().create({
            "name": "TXN-REFUND-1", "account_id": self.amazon.id, "currency_id": self.env.ref("base.MXN").id,
            "kind": "refund", "amazon_order_id": rec.name})
        ret.invalidate_recordset()
        self.assertEqual(ret.refund_transaction_ids, refund)
        self.assertEqual(ret.refund_note, "Refunded without the goods back")

    # ------------------------------------------------------------------ waiting, bad files

    def test_return_of_an_order_not_in_odoo_waits_then_is_retried(self):
        order = self._make_order([{"sku": "MUG-01", "quantity": 1, "unit_price": "150.00"}],
                                 fulfilled_by="AMAZON", status="SHIPPED", fresh=True)
        self._return(order["orderId"], channel="fba")
        self._read()
        ret = self._returns()
        self.assertEqual(ret.state, "error")
        self.assertIn(order["orderId"], ret.message)
        self.assertEqual(ret.attempt_count, 1)
        self._put_stock(self.product_mug, 5, self.fba_location)
        self._sync()
        ret.sudo().retry_date = ret.retry_date - timedelta(days=1)
        self._read()
        self.assertEqual(ret.state, "received")
        self.assertEqual(ret.amazon_order_id, self._amazon_order(order["orderId"]))
        self.assertEqual(ret.attempt_count, 0)

    def test_report_without_a_key_column_is_refused_with_nothing_written(self):
        rec = self._shipped(qty=1, fba=True)
        columns = [c for c in FBA_RETURNS_COLUMNS if c != "detailed-disposition"]
        text = "\t".join(columns) + "\n" + "\t".join(
            {"order-id": rec.name, "sku": "MUG-01", "quantity": "1"}.get(c, "x") for c in columns) + "\n"
        self.sim.set_report_document(FBA_REPORT, text, content_type="text/plain")
        result = self._read()
        self.assertIn("detailed disposition", result["error"])
        self.assertFalse(self._returns())
        cursor = self._cursor()
        self.assertIn("detailed disposition", cursor.message)
        self.assertEqual(cursor.next_token, f"{FBA_REPORT}:", "the next run reads the FBA report again")

    def test_flow_registered_with_its_dispatcher(self):
        self._shipped(qty=1)
        results = self._run_scheduled("returns")
        self.assertIn(self.amazon, results)
        job = self.env["amazon.sync.job"].search([("account_id", "=", self.amazon.id), ("flow", "=", "returns")])
        self.assertTrue(job.cron_id)

    # ------------------------------------------------------------------ a kill between two commits

    def test_killed_between_the_two_reports_resumes_without_duplicates(self):
        from .common import Commits

        fbm = self._shipped(qty=1)
        fba = self._shipped(qty=1, fba=True)
        self._return(fbm.name, channel="fbm", delivered_date=self.sim.now())
        self._return(fba.name, channel="fba")
        commits = Commits(self.env)
        # the FBM page committed, then the process dies on the FBA page before its commit
        commits.run_until_crash(self, "returns.page", 2, lambda: self._read(commit=commits.commit))
        self.assertEqual(self._returns().mapped("channel"), ["fbm"])
        cursor = self._cursor()
        self.assertEqual(cursor.next_token, f"{FBA_REPORT}:")
        account = self.amazon.with_context(amazon_pacing_speed=self.sim_speed, amazon_report_poll_interval=0.01)
        self.env["amazon.return.sync"]._sync_for(account, commit=commits.commit)
        returns = self._returns()
        self.assertEqual(sorted(returns.mapped("channel")), ["fba", "fbm"])
        self.assertEqual(len(returns.picking_id), 2)
        self.assertFalse(cursor.next_token)
        # killed before the first commit: nothing kept, the run reads both again
        self._return(fbm.name, channel="fbm", return_id="SECONDRMA")
        commits.run_until_crash(self, "returns.page", 1, lambda: self._read(commit=commits.commit))
        self.assertEqual(len(self._returns()), 2)
        self._read(commit=commits.commit)
        self.assertEqual(len(self._returns()), 3)

    # ------------------------------------------------------------------ access

    def test_access_wrong_role_and_other_company(self):
        rec = self._shipped(qty=1, fba=True)
        self._return(rec.name, channel="fba")
        self._read()
        ret = self._returns()
        user = self.amazon_user  # Amazon user: reads, never writes
        self.assertEqual(ret.with_user(user).read(["state"])[0]["state"], "received")
        with self.assertRaises(AccessError):
            ret.with_user(user).write({"quantity": 5})
        with self.assertRaises(AccessError):
            ret.with_user(user).unlink()
        warehouse = self.env["res.users"].create({
            "name": "Almacén", "login": "returns_stock", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            "group_ids": [Command.set([self.env.ref("stock.group_stock_user").id])]})
        seen = ret.with_user(warehouse).read(["state", "picking_id", "sale_order_id", "refund_note"])
        self.assertEqual(seen[0]["state"], "received", "the warehouse checks the returns")
        with self.assertRaises(AccessError):  # the money is not the warehouse's
            ret.with_user(warehouse).read(["credit_note_ids"])
        with self.assertRaises(AccessError):
            ret.with_user(warehouse).write({"state": "error"})
        outsider = self.env["res.users"].create({
            "name": "Sin Amazon", "login": "returns_outsider", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            "group_ids": [Command.set([self.env.ref("base.group_user").id])]})
        with self.assertRaises(AccessError):
            ret.with_user(outsider).read(["state"])
        with self.assertRaises(AccessError):
            ret.with_user(outsider).action_retry()
        company_b = self.env["res.company"].create({"name": "Otra Empresa SA"})
        user_b = self.env["res.users"].create({
            "name": "Amazon B", "login": "returns_user_b", "company_id": company_b.id,
            "company_ids": [Command.set(company_b.ids)],
            "group_ids": [Command.set([self.env.ref("bind_amazon_connector.group_amazon_user").id])]})
        self.assertFalse(self.env["amazon.return"].with_user(user_b).search([]))
        with self.assertRaises(AccessError):
            ret.with_user(user_b).read(["state"])
        with self.assertRaises(AccessError):
            ret.with_user(user_b).action_retry()
