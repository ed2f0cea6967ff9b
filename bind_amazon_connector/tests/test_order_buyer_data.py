"""Buyer contact data kept only as long as Amazon allows, what a CFDI needs kept; who may change the window."""
from datetime import timedelta

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from spapi_simulator import factory

from .common import AMAZON_USER, AmazonOrderCommon

SECRETS = ("ana.buyer@example.com", "Av. Reforma 10", "Depto 2", "5512345678", "Dejar en portería",
           "beto.buyer@example.com", "Calle Sol 5", "compras@tiendasol.example.com", "Calle Luna 7")


@tagged("post_install", "-at_install")
class TestBuyerRetention(AmazonOrderCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.amazon_user = cls._user("retention_amazon_user", AMAZON_USER, name="Amazon User")
        cls.other_company, cls.other_admin = cls._other_company_admin("Otra Empresa Retención SA",
                                                                      "retention_other_admin")

    def _shipped(self, buyer, address, status="SHIPPED", preference=None, **kw):
        order = factory.make_order(items=[{"sku": "MUG-01", "quantity": 1, "unit_price": "199.00"}], status=status,
                                   buyer=buyer, recipient=address, created=self.sim.now() - timedelta(hours=1), **kw)
        if preference:
            order["recipient"]["deliveryPreference"] = preference
        self.sim.add_order(order)
        return order["orderId"]

    def _delivered_days_ago(self, order_id, days):
        rec = self._amazon_order(order_id)
        pickings = rec.sale_order_ids.picking_ids
        self.assertTrue(pickings and all(p.state == "done" for p in pickings), order_id)
        pickings.write({"date_done": self._sim_now() - timedelta(days=days)})
        return rec

    def _database_text(self):
        """Every text of the tables where buyer data could be: contacts, Amazon's order data, mail tracking."""
        self.env.flush_all()
        self.env.cr.execute("""
            SELECT string_agg(t, ' ') FROM (
                SELECT concat_ws(' ', name, email, phone, street, street2, city, zip) AS t FROM res_partner
                UNION ALL SELECT payload::text FROM amazon_order
                UNION ALL SELECT concat_ws(' ', old_value_char, new_value_char, old_value_text, new_value_text)
                            FROM mail_tracking_value) rows""")
        return self.env.cr.fetchone()[0] or ""

    def test_contact_data_erased_after_the_window_invoices_keep_their_rfc(self):
        ana = self._shipped({"name": "Ana Buyer", "email": "ana.buyer@example.com"},
                            {"name": "Ana Buyer", "addressLine1": "Av. Reforma 10", "addressLine2": "Depto 2",
                             "city": "Ciudad de México", "stateOrRegion": "CDMX", "postalCode": "06600",
                             "countryCode": "MX", "phone": "5512345678"},
                            preference={"addressInstruction": "Dejar en portería"})
        beto = self._shipped({"name": "Beto Buyer", "email": "beto.buyer@example.com"},
                             {"name": "Beto Buyer", "addressLine1": "Calle Sol 5", "city": "Puebla",
                              "postalCode": "72000", "countryCode": "MX"})
        business = self._shipped(
            {"name": "Compras Sol", "email": "compras@tiendasol.example.com"},
            {"name": "Recepción Sol", "addressLine1": "Calle Luna 7", "city": "Monterrey", "postalCode": "64000",
             "countryCode": "MX"},
            business={"company": "Tienda Sol", "rfc": "TSO010101AB1", "legal_name": "TIENDA SOL",
                      "address": {"postalCode": "64000", "countryCode": "MX"}})
        self._sync()
        ana_rec = self._delivered_days_ago(ana, 31)
        beto_rec = self._delivered_days_ago(beto, 5)
        business_rec = self._delivered_days_ago(business, 45)
        ana_partner, business_partner = ana_rec.sale_order_id.partner_id, business_rec.sale_order_id.partner_id
        self.assertEqual(business_partner.vat, "TSO010101AB1")
        # a change of e-mail tracked in the chatter keeps the old value: it goes too
        ana_partner.email = "ana.buyer@example.com "
        self.assertIn("ana.buyer@example.com", self._database_text())

        self.env["amazon.buyer.data"]._cron_erase()

        text = self._database_text()
        for secret in ("ana.buyer@example.com", "Av. Reforma 10", "Depto 2", "5512345678", "Dejar en portería",
                       "compras@tiendasol.example.com", "Calle Luna 7"):
            self.assertNotIn(secret, text)
        # within the window: kept
        self.assertEqual(beto_rec.sale_order_id.partner_id.email, "beto.buyer@example.com")
        self.assertIn("Calle Sol 5", text)
        self.assertEqual(beto_rec.payload["buyer"]["buyerEmail"], "beto.buyer@example.com")
        # what the CFDI needs stays: RFC, legal name, postal code; the invoice still names its customer
        self.assertEqual((business_partner.vat, business_partner.name, business_partner.zip),
                         ("TSO010101AB1", "TIENDA SOL", "64000"))
        invoice = self._invoices(business_rec)
        self.assertEqual(invoice.partner_id.vat, "TSO010101AB1")
        self.assertEqual(ana_partner.name, "Amazon buyer")
        self.assertEqual(ana_rec.payload["recipient"]["deliveryAddress"]["postalCode"], "06600")
        self.assertEqual(ana_rec.sale_order_id.amount_total, ana_rec.amount_total, "the sale is untouched")
        # idempotent: a second run finds nothing and changes nothing
        self.assertEqual(self.env["amazon.buyer.data"]._cron_erase(), (0, 0))
        self.assertEqual(self._database_text(), text)

    def test_a_buyer_with_an_order_still_to_deliver_keeps_the_contact(self):
        buyer = {"name": "Carla Buyer", "email": "carla.buyer@example.com"}
        address = {"name": "Carla Buyer", "addressLine1": "Calle Mar 3", "city": "Mérida", "postalCode": "97000",
                   "countryCode": "MX"}
        old = self._shipped(buyer, address)
        self._put_stock(self.product_mug, 5)
        pending = self._shipped(buyer, address, status="UNSHIPPED")
        self._sync()
        old_rec = self._delivered_days_ago(old, 60)
        self.assertEqual(self._amazon_order(pending).sale_order_id.partner_id, old_rec.sale_order_id.partner_id)
        self.env["amazon.buyer.data"]._cron_erase()
        self.assertNotIn("buyerEmail", old_rec.payload["buyer"], "the delivered order's own data goes")
        self.assertEqual(old_rec.sale_order_id.partner_id.email, "carla.buyer@example.com",
                         "the contact stays while an order of the buyer is still to deliver")

    def test_the_window_is_amazons_and_only_the_connections_managers_change_it(self):
        with self.assertRaises(ValidationError):
            self.amazon.buyer_data_retention_days = 31
        self.amazon.buyer_data_retention_days = 10
        with self.assertRaises(AccessError):
            self.amazon.with_user(self.amazon_user).buyer_data_retention_days = 20
        with self.assertRaises(AccessError):
            self.amazon.with_user(self.other_admin).with_company(self.other_company).write(
                {"buyer_data_retention_days": 20})
        self.assertEqual(self.amazon.buyer_data_retention_days, 10)
