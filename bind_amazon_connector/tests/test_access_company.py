"""Issue 27, findings 2 to 6: records stay in their company, and a company's users act on no other company."""
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import AMAZON_ADMIN, AMAZON_USER, AmazonOrderCommon


@tagged("post_install", "-at_install")
class TestAccessCompany(AmazonOrderCommon):
    """Company A (the test company) and company B, each with its own administrators."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Competidor B SA"})
        cls.warehouse_b = cls.env["stock.warehouse"].search([("company_id", "=", cls.company_b.id)], limit=1)
        amazon_admin = AMAZON_ADMIN
        cls.admin_a = cls._user("cmp_admin_a", amazon_admin)
        # an administrator of both companies: may work in B, still cannot take A's records there
        cls.admin_ab = cls._user("cmp_admin_ab", amazon_admin, "account.group_account_manager",
                                 companies=cls.company | cls.company_b)
        cls.accountant_a = cls._user("cmp_accountant_a", "account.group_account_manager", AMAZON_USER)
        cls.admin_b = cls._user("cmp_admin_b", amazon_admin, "account.group_account_manager",
                                "stock.group_stock_manager", company=cls.company_b)
        cls.listing = cls._listing("MUG-01")

    def _imported(self, count=1):
        orders = [self._make_order() for _i in range(count)]
        self._sync()
        recs = [self._amazon_order(order["orderId"]) for order in orders]
        self.assertEqual([rec.state for rec in recs], ["imported"] * count)
        return recs if count > 1 else recs[0]

    def _picking_b(self):
        return self.env["stock.picking"].create({
            "picking_type_id": self.warehouse_b.out_type_id.id, "company_id": self.company_b.id,
            "location_id": self.warehouse_b.lot_stock_id.id,
            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
        })

    def _shipment(self, rec):
        picking = rec.sale_order_id.picking_ids[:1]
        self.assertTrue(picking)
        return self.env["amazon.shipment"].sudo().create({
            "picking_id": picking.id, "amazon_order_id": rec.id, "package_reference": str(picking.id),
            "items": []})

    # ---------------------------------------------------------------- finding 2: shipments

    def test_shipment_stays_with_its_order_and_delivery(self):
        rec, other = self._imported(2)
        shipment = self._shipment(rec)
        picking_b = self._picking_b()
        for vals in ({"picking_id": picking_b.id}, {"amazon_order_id": other.id},
                     {"picking_id": other.sale_order_id.picking_ids[:1].id}):
            # the administrator writes no shipment, and the synchronisation itself does not move one
            with self.subTest(vals=vals), self.assertRaises(AccessError), self.env.cr.savepoint():
                shipment.with_user(self.admin_a).write(vals)
            with self.subTest(vals=vals, su=True), \
                    self.assertRaisesRegex(UserError, "cannot be moved"), self.env.cr.savepoint():
                shipment.sudo().write(vals)
        # what the shipments flow writes (state, what was sent) is its own: not an administrator's either
        for vals in ({"state": "done"}, {"tracking_number": "FAKE123"}, {"carrier_code": "DHL"},
                     {"next_attempt_date": "2030-01-01 00:00:00"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError), self.env.cr.savepoint():
                shipment.with_user(self.admin_a).write(vals)
        shipment.invalidate_recordset()
        self.assertEqual(shipment.amazon_order_id, rec)
        self.assertEqual(shipment.company_id, self.company)
        # not even the synchronisation links an order to another company's delivery
        shipment.sudo().unlink()
        with self.assertRaisesRegex(UserError, "company inconsistencies"), self.env.cr.savepoint():
            self.env["amazon.shipment"].sudo().create({"picking_id": picking_b.id, "amazon_order_id": rec.id,
                                                "package_reference": "X", "items": []})

    # ---------------------------------------------------------------- finding 3: records move

    def test_connection_with_records_does_not_move(self):
        self.assertTrue(self.env["amazon.listing"].search_count([("account_id", "=", self.amazon.id)]))
        for person in (self.admin_ab, self.env.user):
            with self.subTest(person=person.login), self.assertRaisesRegex(UserError, "cannot be moved"):
                with self.env.cr.savepoint():
                    self.amazon.with_user(person).write({"company_id": self.company_b.id})
        self.amazon.invalidate_recordset()
        self.assertEqual(self.amazon.company_id, self.company)
        # nor to a company the person is not in (a new connection, without records)
        fresh = self.env["amazon.account"].create(self._amazon_account_vals(name="Nueva", seller_id="A3NEW"))
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            fresh.with_user(self.admin_a).write({"company_id": self.company_b.id})
        # the same value is not a move
        self.amazon.with_user(self.admin_a).write({"company_id": self.company.id, "name": "Amazon MX"})

    def test_marketplace_line_stays_on_its_connection(self):
        other = self.env["amazon.account"].create(self._amazon_account_vals(name="Otra conexión",
                                                                            seller_id="A3OTHER"))
        line = self.amazon.marketplace_setting_ids[:1]
        self.assertTrue(line)
        for vals in ({"account_id": other.id},
                     {"marketplace_id": self.env.ref("bind_amazon_connector.marketplace_us").id}):
            with self.subTest(vals=vals), self.assertRaisesRegex(UserError, "cannot be moved"):
                with self.env.cr.savepoint():
                    line.with_user(self.admin_a).write(vals)
        line.invalidate_recordset()
        self.assertEqual(line.account_id, self.amazon)

    def test_payout_stays_on_its_connection(self):
        other = self.env["amazon.account"].create(self._amazon_account_vals(name="Otra conexión",
                                                                            seller_id="A3OTHER"))
        settlement = self.env["amazon.settlement"].create({
            "name": "FEG-MOVE", "account_id": self.amazon.id, "currency_id": self.env.ref("base.MXN").id})
        with self.assertRaisesRegex(UserError, "cannot be moved"), self.env.cr.savepoint():
            settlement.with_user(self.accountant_a).write({"account_id": other.id})
        settlement.invalidate_recordset()
        self.assertEqual(settlement.account_id, self.amazon)

    def test_listing_and_stock_push_stay_on_their_connection(self):
        """A's stock pushed through another connection would reach another seller's Amazon account."""
        other = self.env["amazon.account"].create(self._amazon_account_vals(name="Otra conexión",
                                                                            seller_id="A3OTHER"))
        self.env["amazon.stock.push"].sudo()._enqueue_listings(self.listing)
        push = self.env["amazon.stock.push"].sudo().search([("listing_id", "=", self.listing.id)], limit=1)
        self.assertTrue(push)
        # (a listing's Amazon fields are already refused to people: the synchronisation does not move it either)
        for records, vals in ((push.with_user(self.admin_a), {"account_id": other.id}),
                              (self.listing.sudo(), {"account_id": other.id})):
            with self.subTest(model=records._name), self.assertRaisesRegex(UserError, "cannot be moved"), \
                    self.env.cr.savepoint():
                records.write(vals)
        self.assertEqual(push.account_id, self.amazon)
        self.assertEqual(self.listing.account_id, self.amazon)

    # ---------------------------------------------------------------- finding 4: correction wizard

    def test_correction_wizard_checks_before_reading(self):
        rec = self._imported()
        Order = type(self.env["amazon.order"])
        with patch.object(Order, "_refresh_amazon_totals", autospec=True) as refresh, \
                mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
            self.env["amazon.order.invoice.correction"].with_user(self.admin_b).with_company(self.company_b) \
                .with_context(active_model="amazon.order", active_ids=rec.ids).default_get(["order_ids"])
        refresh.assert_not_called()

    # ---------------------------------------------------------------- finding 5: jobs

    def test_sync_jobs_of_another_company_are_not_readable(self):
        job = self.env["amazon.sync.job"]._for(self.amazon, "orders")
        self.assertTrue(job)
        as_b = self.env["amazon.sync.job"].with_user(self.admin_b)
        self.assertFalse(as_b.search([("id", "=", job.id)]))
        with mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
            job.with_user(self.admin_b).read(["flow"])
        self.assertEqual(self.env["amazon.sync.job"].with_user(self.admin_a).search([("id", "=", job.id)]), job)

    # ---------------------------------------------------------------- finding 6: carriers

    def test_shared_carrier_amazon_names_are_for_system_administrators(self):
        carrier = self.env.ref("bind_amazon_connector.delivery_carrier_amazon_estafeta")
        self.assertFalse(carrier.company_id, "a carrier shared by every company")
        for vals in ({"amazon_carrier_code": "Other"}, {"amazon_carrier_name": "Fake"},
                     {"amazon_shipping_method": "Fake"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError), self.env.cr.savepoint():
                carrier.with_user(self.admin_b).write(vals)
        carrier.invalidate_recordset()
        self.assertEqual(carrier.amazon_carrier_code, "Estafeta")
        # a company's own carrier is its own business
        own = carrier.sudo().copy({"name": "Estafeta B", "company_id": self.company_b.id})
        own.with_user(self.admin_b).write({"amazon_carrier_name": "Estafeta B"})
        self.assertEqual(own.amazon_carrier_name, "Estafeta B")

    # ---------------------------------------------------------------- finding 7: buyer contact data

    def test_buyer_contact_data_only_for_the_roles_that_fulfil(self):
        rec = self._imported()
        buyer = rec.sale_order_id.partner_id | rec.sale_order_id.partner_shipping_id
        self.assertTrue(all(buyer.sudo().mapped("amazon_buyer_key")), "contacts made for the Amazon buyer")
        internal = self._user("cmp_internal", "base.group_user")
        self.assertFalse(self.env["res.partner"].with_user(internal).search([("id", "in", buyer.ids)]))
        with mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
            buyer[:1].with_user(internal).read(["email", "phone", "street"])
        # the company's own contacts stay readable
        self.assertTrue(self.company.partner_id.with_user(internal).read(["name"]))
        for role in (AMAZON_USER, "stock.group_stock_user",
                     "sales_team.group_sale_salesman", "account.group_account_invoice"):
            person = self._user(f"cmp_{role.split('.')[1]}", role)
            with self.subTest(role=role):
                self.assertEqual(self.env["res.partner"].with_user(person).search([("id", "in", buyer.ids)]), buyer)

