"""Business buyers (Amazon Business): the invoice goes to their legal name, RFC and fiscal address; an RFC
Amazon sends later completes a known customer, never overwrites one."""
from odoo.tests import tagged

from .common import AmazonOrderCommon


@tagged("post_install", "-at_install")
class TestAmazonOrderBusinessBuyer(AmazonOrderCommon):

    def _business(self, rfc="CSO010101AB1", legal_name="Comercializadora Sol SA de CV", address=None, buyer=None):
        order = self._make_order(
            fresh=True,
            buyer=buyer or {"name": "Luis Pérez", "email": "luis@marketplace.amazon.com.mx", "company": "Tienda Sol"},
            business={"company": "Tienda Sol", "po_number": "OC-1", "rfc": rfc, "legal_name": legal_name,
                      "address": address})
        self._sync()
        return self._amazon_order(order["orderId"])

    def test_invoicing_partner_gets_legal_name_rfc_and_fiscal_address(self):
        rec = self._business(address={"name": "Comercializadora Sol", "street": "Av. Constitución 100",
                                      "city": "Monterrey", "state": "NL", "zip": "64000", "country": "MX"})
        self.assertEqual(rec.state, "imported", rec.reason)
        so = rec.sale_order_id
        partner = so.partner_invoice_id
        self.assertEqual(partner.name, "Comercializadora Sol SA de CV")
        self.assertEqual(partner.vat, "CSO010101AB1")
        self.assertTrue(partner.is_company)
        self.assertEqual((partner.zip, partner.city, partner.street), ("64000", "Monterrey", "Av. Constitución 100"))
        self.assertEqual(partner.state_id.code, "NLE")
        # The goods go to the buyer's delivery address, a contact of the company.
        self.assertEqual(so.partner_shipping_id.parent_id, partner)
        self.assertEqual(so.partner_shipping_id.zip, "03940")
        self.assertFalse(rec.warning)

    def test_later_order_brings_the_rfc_of_an_existing_customer(self):
        buyer = {"name": "Luis Pérez", "email": "luis@marketplace.amazon.com.mx"}
        first = self._make_order(buyer=buyer, fresh=True)
        self._sync()
        partner = self._amazon_order(first["orderId"]).partner_id
        self.assertTrue(partner)
        self.assertFalse(partner.vat)
        rec = self._business(rfc="PEGL800101AB1", legal_name="Luis Pérez García", buyer=buyer)
        self.assertEqual(rec.state, "imported", rec.reason)
        self.assertEqual(rec.partner_id, partner)
        self.assertEqual(partner.vat, "PEGL800101AB1")
        self.assertEqual(partner.name, "Luis Pérez García")
        # A different RFC later is never written over the known one: the order says so.
        other = self._business(rfc="XYZ010101AB1", legal_name="Otra SA de CV", buyer=buyer)
        self.assertEqual(other.state, "imported", other.reason)
        self.assertEqual(partner.vat, "PEGL800101AB1")
        self.assertIn("XYZ010101AB1", other.warning)
        self.assertIn("PEGL800101AB1", other.warning)

    def test_malformed_rfc_is_kept_as_a_warning(self):
        rec = self._business(rfc="RFC-INVALIDO")
        self.assertEqual(rec.state, "imported", rec.reason)
        self.assertFalse(rec.partner_id.vat)
        self.assertIn("RFC-INVALIDO", rec.warning)
