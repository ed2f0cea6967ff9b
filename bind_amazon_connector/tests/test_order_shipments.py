"""Merchant-fulfilled deliveries validated in Odoo confirm their packages on Amazon (the simulator), each once."""
import dataclasses
from collections import deque
from datetime import timedelta
from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import AmazonOrderCommon, Commits

CONFIRM = "confirmShipment"


@tagged("post_install", "-at_install")
class TestOrderShipments(AmazonOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.amazon.fbm_shipment_mode = "odoo"
        cls.estafeta = cls.env.ref("bind_amazon_connector.delivery_carrier_amazon_estafeta")

    def setUp(self):
        super().setUp()
        self._reset_amazon()
        self._put_stock(self.product_mug, 50)
        self._put_stock(self.product_tee, 50)

    # ------------------------------------------------------------------ helpers

    def _validate(self, picking, quantities, carrier=None, tracking="EST123456789"):
        """Validate ``quantities`` ({product: units}) of the delivery; the rest goes to a backorder."""
        picking.write({"carrier_id": (carrier or self.estafeta).id, "carrier_tracking_ref": tracking})
        for move in picking.move_ids:
            move.quantity = quantities.get(move.product_id, 0)
        picking.move_ids.picked = True
        picking.with_context(skip_backorder=True).button_validate()
        self.assertEqual(picking.state, "done")
        return picking

    def _send(self):
        return self.env["amazon.shipment"]._send_due(self.amazon.with_context(amazon_pacing_speed=self.sim_speed))

    def _confirmations(self, order_id=None, status=204):
        return [r for r in self.sim.requests if r.operation == CONFIRM and (status is None or r.status == status)
                and (order_id is None or f"/orders/{order_id}/" in r.path)]

    def _items(self, order, request):
        skus = {i["orderItemId"]: i["product"]["sellerSku"] for i in order["orderItems"]}
        return {skus[i["orderItemId"]]: i["quantity"] for i in request.body["packageDetail"]["orderItems"]}

    # ------------------------------------------------------------------ tests

    def test_two_packages_confirm_two_packages_each_once(self):
        order, rec = self._synced_order([{"sku": "MUG-01", "quantity": 3, "unit_price": "199.00"},
                                   {"sku": "TEE-02", "quantity": 1, "unit_price": "150.00"}])
        first = rec.sale_order_id.picking_ids
        self._validate(first, {self.product_mug: 2}, tracking="EST-1")
        self.assertEqual(rec.shipment_ids.state, "pending")
        self.assertFalse(self._confirmations(), "validation never waits on Amazon")
        second = rec.sale_order_id.picking_ids - first
        self.assertEqual(len(second), 1)
        self._validate(second, {self.product_mug: 1, self.product_tee: 1}, tracking="EST-2")
        self._run_scheduled("shipments")
        sent = self._confirmations(order["orderId"])
        self.assertEqual(len(sent), 2)
        self.assertEqual([self._items(order, r) for r in sent], [{"MUG-01": 2}, {"MUG-01": 1, "TEE-02": 1}])
        detail = sent[0].body["packageDetail"]
        self.assertEqual((detail["carrierCode"], detail["trackingNumber"], detail["packageReferenceId"]),
                         ("Estafeta", "EST-1", str(first.id)))
        self.assertEqual(sent[0].body["marketplaceId"], self.amazon.marketplace_id.marketplace_id)
        self.assertEqual(set(rec.shipment_ids.mapped("state")), {"done"})
        # Touching the deliveries again, retrying and rerunning send nothing more.
        first.carrier_tracking_ref = "EST-1-BIS"
        first.action_amazon_retry_confirmation()
        rec.action_retry_shipments()
        self._run_scheduled("shipments")
        self._send()
        self.assertEqual(len(self._confirmations(status=None)), 2)
        self.assertEqual(len(rec.shipment_ids), 2)
        # Amazon now reports the order shipped: the import sees the deliveries already validated.
        self.assertEqual(self.sim.get_order(order["orderId"])["fulfillment"]["fulfillmentStatus"], "SHIPPED")
        self.sim.advance(300)
        self._sync()
        self.assertEqual(rec.amazon_status, "SHIPPED")
        self.assertEqual(rec.sale_order_id.picking_ids, first | second)
        self.assertEqual(rec.sale_order_id.order_line.filtered("amazon_order_item_id").mapped("qty_delivered"),
                         [3.0, 1.0])
        self.assertEqual(self._invoices(rec).state, "posted")
        self.assertEqual(len(self._confirmations(status=None)), 2)

    def test_import_completes_only_what_amazon_shipped_beyond_odoo(self):
        order, rec = self._synced_order([{"sku": "MUG-01", "quantity": 3, "unit_price": "199.00"}])
        first = self._validate(rec.sale_order_id.picking_ids, {self.product_mug: 2})
        self._send()
        self.assertEqual(rec.shipment_ids.state, "done")
        backorder = rec.sale_order_id.picking_ids - first
        # The seller confirmed the last unit in Seller Central: Amazon reports the order shipped.
        self._update_order(order["orderId"], status="SHIPPED")
        self._sync()
        self.assertEqual(rec.sale_order_id.picking_ids, first | backorder, "no second delivery")
        self.assertEqual(backorder.state, "done")
        self.assertEqual(backorder.move_ids.quantity, 1)
        self.assertEqual(rec.sale_order_id.order_line.filtered("amazon_order_item_id").qty_delivered, 3)
        self.assertEqual(len(rec.shipment_ids), 1, "what Amazon shipped itself is not confirmed again")
        self.assertEqual(len(self._confirmations(status=None)), 1)

    def test_refused_confirmation_stays_visible_and_is_retried_after_fixing_the_carrier(self):
        carrier = self.estafeta.copy({"name": "Estafeta Express", "amazon_carrier_code": "Estafeta Express"})
        order, rec = self._synced_order()
        picking = self._validate(rec.sale_order_id.picking_ids, {self.product_mug: 1}, carrier=carrier)
        result = self._send()
        self.assertEqual(result["error"], 1)
        shipment = rec.shipment_ids
        self.assertEqual(shipment.state, "error")
        self.assertIn("Invalid CarrierCode", picking.amazon_shipment_message)
        self.assertTrue(rec.shipment_unconfirmed)
        Picking = self.env["stock.picking"]
        self.assertIn(picking, Picking.search([("amazon_shipment_state", "in", ("pending", "sending", "error"))]))
        self.assertIn(rec, self.env["amazon.order"].search([("shipment_unconfirmed", "=", True)]))
        activity = picking.activity_ids.filtered(lambda a: a.user_id == self.amazon_user)
        self.assertEqual(len(activity), 1)
        # Sending again without a fix is refused again, without a second activity.
        self._send()
        self.assertEqual(shipment.state, "error")
        # Fixed: the carrier's Amazon code, then "Retry confirmation".
        carrier.amazon_carrier_code = "Estafeta"
        picking.with_user(self.amazon_user).action_amazon_retry_confirmation()
        self.assertEqual(shipment.state, "pending")
        self._send()
        self.assertEqual(shipment.state, "done")
        self.assertFalse(picking.amazon_shipment_message)
        self.assertFalse(picking.activity_ids.filtered(lambda a: a.user_id == self.amazon_user))
        self.assertNotIn(rec, self.env["amazon.order"].search([("shipment_unconfirmed", "=", True)]))
        self.assertEqual(len(self._confirmations(order["orderId"])), 1)
        self.assertEqual(len(self._confirmations(order["orderId"], status=400)), 1)

    def _refused(self):
        """An order whose package Amazon refused (a carrier code Amazon does not know): its activity is open."""
        carrier = self.estafeta.copy({"name": "Estafeta Express", "amazon_carrier_code": "Estafeta Express"})
        order, rec = self._synced_order()
        picking = self._validate(rec.sale_order_id.picking_ids, {self.product_mug: 1}, carrier=carrier)
        self._send()
        self.assertEqual(rec.shipment_ids.state, "error")
        activity = picking.activity_ids.filtered(lambda a: a.user_id == self.amazon_user)
        self.assertEqual(len(activity), 1)
        return order, rec, picking, carrier

    def _done_activity_note(self, picking):
        """The feedback of the picking's finished activity (Odoo posts it in the chatter)."""
        done = self.env["mail.message"].search([
            ("model", "=", "stock.picking"), ("res_id", "=", picking.id),
            ("mail_activity_type_id", "!=", False)])
        return " ".join(done.mapped("body"))

    def test_refused_package_corrected_and_accepted_closes_its_activity(self):
        _order, rec, picking, carrier = self._refused()
        carrier.amazon_carrier_code = "Estafeta"
        picking.with_user(self.amazon_user).action_amazon_retry_confirmation()
        self._send()
        self.assertEqual(rec.shipment_ids.state, "done")
        self.assertFalse(picking.activity_ids)
        note = self._done_activity_note(picking)
        self.assertIn("Confirmed on Amazon", note)
        self.assertIn("EST123456789", note, "the note says what was sent")

    def test_refused_package_shipped_by_other_means_closes_its_activity(self):
        """The seller confirms the package in Seller Central instead: the import sees the order shipped, the
        package is not sent any more and its activity is done, saying so."""
        order, rec, picking, _carrier = self._refused()
        api = self.amazon.with_context(amazon_pacing_speed=self.sim_speed)._spapi()
        by_hand = dataclasses.replace(rec.shipment_ids._package(), package_reference_id="77", carrier_code="Estafeta")
        api.confirm_shipment(order["orderId"], by_hand)
        self.sim.advance(300)
        self._sync()
        self.assertEqual(rec.amazon_status, "SHIPPED")
        self.assertEqual(rec.shipment_ids.state, "cancelled")
        self.assertFalse(picking.activity_ids, "nothing left to do on the delivery")
        self.assertIn("Amazon already reports the whole order shipped", self._done_activity_note(picking))
        self.assertFalse(rec.shipment_unconfirmed)

    def test_refused_package_found_shipped_when_retried_closes_its_activity(self):
        """Retried after Amazon shows the order shipped (not imported yet): nothing is sent, the activity is done."""
        order, rec, picking, _carrier = self._refused()
        self._update_order(order["orderId"], status="SHIPPED")
        rec.sudo().amazon_status = "SHIPPED"
        picking.with_user(self.amazon_user).action_amazon_retry_confirmation()
        self._send()
        self.assertEqual(rec.shipment_ids.state, "cancelled")
        self.assertFalse(picking.activity_ids)
        self.assertIn("Amazon already reports the whole order shipped", self._done_activity_note(picking))
        self.assertEqual(len(self._confirmations(order["orderId"], status=None)), 1, "only the refused one")

    def test_validation_without_carrier_or_tracking_asks_for_them(self):
        order, rec = self._synced_order()
        picking = rec.sale_order_id.picking_ids
        picking.move_ids.quantity = 1
        picking.move_ids.picked = True
        with self.assertRaisesRegex(UserError, "carrier"):
            picking.button_validate()
        picking.carrier_id = self.estafeta
        with self.assertRaisesRegex(UserError, "tracking number"):
            picking.button_validate()
        self.assertNotEqual(picking.state, "done")
        self.assertFalse(rec.shipment_ids)
        # The connection allows confirming without tracking number: the carrier is enough.
        self.amazon.fbm_tracking_policy = "allow"
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self._send()
        self.assertEqual(rec.shipment_ids.state, "done")
        self.assertEqual(self._confirmations(order["orderId"])[0].body["packageDetail"]["trackingNumber"], "")

    def test_a_429_storm_delays_confirmations_without_losing_one(self):
        orders = []
        for _n in range(6):
            order = self._make_order()
            orders.append(order)
        self._sync()
        for order in orders:
            rec = self._amazon_order(order["orderId"])
            self._validate(rec.sale_order_id.picking_ids, {self.product_mug: 1})
        shipments = self.env["amazon.shipment"].search([("account_id", "=", self.amazon.id)])
        self.assertEqual(len(shipments), 6)
        # More 429s than the SP-API layer retries: the run stops, everything waits for a later one.
        self.sim.inject_fault(CONFIRM, "throttle", times=9)
        self._run_scheduled("shipments")
        self.assertFalse(self._confirmations())
        self.assertEqual(set(shipments.mapped("state")), {"pending"})
        self.assertTrue(all(s.next_attempt_date > fields.Datetime.now() + timedelta(seconds=30) for s in shipments))
        self.assertIn("throttled", shipments.sorted("id")[0].message)
        # Not due yet: nothing is sent before then.
        self._run_scheduled("shipments")
        self.assertFalse(self._confirmations())
        # Later: the rest of the storm, then every package goes, each once.
        shipments.sudo().write({"next_attempt_date": fields.Datetime.now() - timedelta(seconds=1)})
        self._run_scheduled("shipments")
        self.assertEqual(set(shipments.mapped("state")), {"done"})
        for order in orders:
            self.assertEqual(len(self._confirmations(order["orderId"])), 1)
        self.assertGreaterEqual(self.sim.count(CONFIRM, 429), 9)

    def test_a_package_amazon_could_not_take_waits_a_minute_then_longer(self):
        """Amazon unavailable: the first retry a minute later, doubling at each attempt, at most an hour."""
        order, rec = self._synced_order()
        self._validate(rec.sale_order_id.picking_ids, {self.product_mug: 1})
        shipment = rec.shipment_ids
        waits = []
        for _n in range(2):
            self.sim.inject_fault(CONFIRM, "throttle", times=9)
            before = fields.Datetime.now()
            self._run_scheduled("shipments")
            self.assertEqual(shipment.state, "pending")
            waits.append((shipment.next_attempt_date - before).total_seconds())
            self.sim.clear_faults()
            shipment.sudo().next_attempt_date = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(shipment.attempt_count, 2)
        self.assertTrue(55 <= waits[0] <= 65, waits)
        self.assertTrue(115 <= waits[1] <= 125, waits)
        shipment.sudo().attempt_count = 20
        self.assertLessEqual(shipment._retry_date() - fields.Datetime.now(), timedelta(hours=1))
        # Amazon's own hint wins when it is later
        self.assertGreater(shipment._retry_date(3 * 3600) - fields.Datetime.now(), timedelta(hours=2, minutes=59))
        # then it goes, once
        self._run_scheduled("shipments")
        self.assertEqual(shipment.state, "done")
        self.assertEqual(len(self._confirmations(order["orderId"])), 1)

    def test_packages_waiting_with_a_stopped_one_keep_their_state(self):
        """Amazon stops the run: the packages behind wait as long; one interrupted while sending is still looked
        for on Amazon first, one another job closed meanwhile stays closed, and a conflict with that job's
        commit leaves them as that job wrote them."""
        orders = [self._make_order() for _n in range(3)]
        self._sync()
        for order in orders:
            self._validate(self._amazon_order(order["orderId"]).sale_order_id.picking_ids, {self.product_mug: 1})
        first, interrupted, closed = self.env["amazon.shipment"].search(
            [("account_id", "=", self.amazon.id)], order="id").sudo()
        interrupted.state = "sending"
        self.sim.inject_fault(CONFIRM, "throttle", times=9)
        self._run_scheduled("shipments")
        self.assertEqual((first.state, interrupted.state), ("pending", "sending"))
        self.assertEqual(interrupted.next_attempt_date, first.next_attempt_date)
        self.assertIn("throttled", interrupted.message)
        # closed by another job while this run waited on Amazon: postponing it does not reopen it
        closed.write({"state": "cancelled", "next_attempt_date": False})
        closed._postpone("Amazon throttled", first.next_attempt_date)
        self.assertEqual(closed.state, "cancelled")
        self.assertFalse(closed.next_attempt_date)
        # that job committed after this transaction began: PostgreSQL refuses the write, nothing is postponed
        with patch.object(type(first), "write", side_effect=SerializationFailure("concurrent update")):
            first._postpone("Amazon throttled", fields.Datetime.now() + timedelta(hours=5))
        self.assertLess(first.next_attempt_date, fields.Datetime.now() + timedelta(hours=1))
        self.sim.clear_faults()
        (first | interrupted).write({"next_attempt_date": fields.Datetime.now() - timedelta(seconds=1)})
        self._run_scheduled("shipments")
        self.assertEqual((first.state, interrupted.state), ("done", "done"))
        for order in orders[:2]:
            self.assertEqual(len(self._confirmations(order["orderId"])), 1)
        self.assertFalse(self._confirmations(orders[2]["orderId"]))

    def test_fba_and_amazon_reported_orders_send_nothing(self):
        fba = self._make_order(fulfilled_by="AMAZON", status="SHIPPED")
        # An FBM order Amazon reports shipped (the seller confirmed it in Seller Central) is not confirmed again.
        shipped = self._make_order(status="SHIPPED")
        self._put_stock(self.product_mug, 5, self.fba_location)
        self._sync()
        rec = self._amazon_order(fba["orderId"])
        self.assertEqual(rec.sale_order_id.picking_ids.state, "done")
        self.assertEqual(self._amazon_order(shipped["orderId"]).sale_order_id.picking_ids.state, "done")
        # A connection where Amazon tells Odoo: validating in Odoo asks for nothing and sends nothing.
        self.amazon.fbm_shipment_mode = "amazon"
        _order, own = self._synced_order(fresh=True)
        picking = own.sale_order_id.picking_ids
        picking.move_ids.quantity = 1
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self._run_scheduled("shipments")
        self.assertFalse(self.env["amazon.shipment"].search([("account_id", "=", self.amazon.id)]))
        self.assertFalse(self._confirmations(status=None))

    def test_cancelled_on_amazon_before_sending_sends_nothing(self):
        order, rec = self._synced_order()
        self._validate(rec.sale_order_id.picking_ids, {self.product_mug: 1})
        self._update_order(order["orderId"], status="CANCELLED")
        self._sync()
        self.assertEqual(rec.shipment_ids.state, "cancelled")
        self._send()
        self.assertFalse(self._confirmations(status=None))

    def test_interrupted_send_is_not_sent_twice(self):
        """A run stopped after Amazon took the package but before its commit: the next run asks Amazon."""
        order, rec = self._synced_order()
        self._validate(rec.sale_order_id.picking_ids, {self.product_mug: 1})
        shipment = rec.shipment_ids
        api = self.amazon.with_context(amazon_pacing_speed=self.sim_speed)._spapi()
        api.confirm_shipment(order["orderId"], shipment._package())
        shipment.sudo().write({"state": "sending"})
        self._send()
        self.assertEqual(shipment.state, "done")
        self.assertEqual(len(self._confirmations(status=None)), 1)

    def test_killed_after_amazon_took_the_package_confirms_it_once(self):
        """The scheduled run dies between Amazon's answer and its commit, at each of two packages: the next
        runs find the package "sending", ask Amazon, and nothing is confirmed twice nor lost."""
        first_order, second_order = self._make_order(), self._make_order()
        self._sync()
        first, second = (self._amazon_order(o["orderId"]) for o in (first_order, second_order))
        self._validate(first.sale_order_id.picking_ids, {self.product_mug: 1})
        self._validate(second.sale_order_id.picking_ids, {self.product_mug: 1})
        commits = Commits(self.env)
        account = self.amazon.with_context(amazon_pacing_speed=self.sim_speed)
        for nth in (1, 2):
            commits.run_until_crash(self, "shipments.sent", 1,
                                    lambda: self.env["amazon.shipment"]._send_due(account, commit=commits.commit))
            self.assertEqual(len(self._confirmations(status=204)), nth, "Amazon has the package")
        # the second run found the first package at Amazon (done, committed) before dying after the second
        self.assertEqual((first.shipment_ids.state, second.shipment_ids.state), ("done", "sending"))
        self.env["amazon.shipment"]._send_due(account, commit=commits.commit)
        self.assertEqual((first.shipment_ids.state, second.shipment_ids.state), ("done", "done"))
        for order in (first_order, second_order):
            self.assertEqual(len(self._confirmations(order["orderId"], status=None)), 1, "never sent twice")

    def test_units_confirmed_in_seller_central_meanwhile_are_not_an_error(self):
        """The seller confirmed the units in Seller Central before the run: Amazon refuses ours, the order shows
        them shipped, so the package is done and nobody gets an activity."""
        order, rec = self._synced_order()
        self._validate(rec.sale_order_id.picking_ids, {self.product_mug: 1})
        shipment = rec.shipment_ids
        api = self.amazon.with_context(amazon_pacing_speed=self.sim_speed)._spapi()
        by_hand = dataclasses.replace(shipment._package(), package_reference_id="77")
        api.confirm_shipment(order["orderId"], by_hand)
        self._send()
        self.assertEqual(shipment.state, "done")
        self.assertEqual(len(self._confirmations(order["orderId"], status=400)), 1)
        self.assertFalse(rec.sale_order_id.picking_ids.activity_ids)

    def test_import_validates_a_route_of_more_than_five_steps(self):
        """Amazon reports shipped an order whose route has six steps: every step is validated."""
        self.amazon.fbm_shipment_mode = "amazon"
        wh = self.warehouse
        Location = self.env["stock.location"]
        locations = [wh.lot_stock_id] + [
            Location.create({"name": f"Step {n}", "location_id": wh.view_location_id.id, "usage": "internal"})
            for n in range(1, 6)]
        rules = []
        for n in range(5):
            ptype = self.env["stock.picking.type"].create({
                "name": f"Step {n + 1}", "code": "internal", "sequence_code": f"S{n + 1}", "warehouse_id": wh.id,
                "company_id": self.company.id, "default_location_src_id": locations[n].id,
                "default_location_dest_id": locations[n + 1].id})
            rules.append(Command.create({
                "name": f"Step {n + 1}", "action": "pull", "picking_type_id": ptype.id,
                "location_src_id": locations[n].id, "location_dest_id": locations[n + 1].id,
                "procure_method": "make_to_stock" if n == 0 else "make_to_order", "company_id": self.company.id}))
        rules.append(Command.create({
            "name": "Ship", "action": "pull", "picking_type_id": wh.out_type_id.id,
            "location_src_id": locations[5].id, "location_dest_id": self.env.ref("stock.stock_location_customers").id,
            "procure_method": "make_to_order", "company_id": self.company.id}))
        route = self.env["stock.route"].create({
            "name": "Six steps", "product_selectable": True, "company_id": self.company.id, "rule_ids": rules})
        product = self._product("LAMP-06", "Lámpara", route_ids=[Command.set(route.ids)])
        self._put_stock(product, 5)
        order, rec = self._synced_order([{"sku": "LAMP-06", "quantity": 2, "unit_price": "300.00"}])
        pickings = rec.sale_order_id.picking_ids
        self.assertEqual(len(pickings), 6)
        self._update_order(order["orderId"], status="SHIPPED")
        self._sync()
        self.assertEqual(rec.state, "imported", rec.reason)
        self.assertEqual(set(pickings.mapped("state")), {"done"})
        self.assertEqual(rec.sale_order_id.order_line.filtered("amazon_order_item_id").qty_delivered, 2)

    def test_existing_connections_keep_amazon_telling_odoo_on_upgrade(self):
        """The setting appears on an upgrade: connections created before keep today's behaviour."""
        self.assertEqual(self.env["amazon.account"].create(self._amazon_account_vals(
            name="New", seller_id="A3SIMSELLER0002")).fbm_shipment_mode, "odoo")
        self.env.flush_all()
        self.env.cr.execute("ALTER TABLE amazon_account DROP COLUMN fbm_shipment_mode")
        # _auto_init as an upgrade runs it (the registry's post-init queue exists only while it loads)
        with patch.object(type(self.registry), "_post_init_queue", deque(), create=True):
            self.env["amazon.account"]._auto_init()
        self.env.invalidate_all()
        self.assertEqual(set(self.env["amazon.account"].search([]).mapped("fbm_shipment_mode")), {"amazon"})

    def test_amazon_failing_leaves_the_package_to_be_checked_before_resending(self):
        """5xx answers until the layer gives up: Amazon may have taken it, so the next run asks Amazon first."""
        order, rec = self._synced_order()
        self._validate(rec.sale_order_id.picking_ids, {self.product_mug: 1})
        shipment = rec.shipment_ids
        self.sim.inject_fault(CONFIRM, "5xx", times=6)
        self._send()
        self.assertEqual(shipment.state, "sending")
        self.assertTrue(shipment.next_attempt_date)
        shipment.sudo().next_attempt_date = fields.Datetime.now() - timedelta(seconds=1)
        self._send()
        self.assertEqual(shipment.state, "done")
        self.assertEqual(self.sim.count("getOrder"), 1)
        self.assertEqual(len(self._confirmations(order["orderId"])), 1)
