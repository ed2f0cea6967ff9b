from odoo import fields
from odoo.tests import tagged

from .common import AmazonOrderCommon


@tagged("post_install", "-at_install")
class TestAmazonOrderImport(AmazonOrderCommon):
    """What each Amazon order becomes: sale, delivery, invoice, at Amazon's prices and totals."""

    def test_fbm_order_reserved_then_shipped_and_invoiced(self):
        self._put_stock(self.product_mug, 10)
        order = self._make_order([{"sku": "MUG-01", "quantity": 2, "unit_price": "199.00"}])
        result = self._sync()
        self.assertEqual(result["counts"], {"imported": 1})

        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "imported")
        self.assertEqual(rec.amazon_status, "UNSHIPPED")
        self.assertEqual(rec.fulfillment_channel, "merchant")
        self.assertEqual(rec.amount_total, 398.0)
        so = rec.sale_order_id
        self.assertEqual(so.state, "sale")
        self.assertEqual(so.amazon_order_id, rec)
        self.assertEqual(so.client_order_ref, order["orderId"])
        self.assertEqual(so.company_id, self.company)
        self.assertEqual(so.user_id, self.amazon_user)
        self.assertEqual(so.currency_id.name, "MXN")
        self.assertEqual(so.pricelist_id.currency_id.name, "MXN")
        self.assertEqual(so.warehouse_id, self.warehouse)
        self.assertEqual(so.date_order, rec.purchase_date, "dated when the buyer ordered, not when imported")
        line = so.order_line.filtered(lambda ln: ln.product_id == self.product_mug)
        self.assertEqual((line.product_uom_qty, line.price_unit), (2, 199.0))
        self.assertTrue(line.tax_ids.price_include, "Amazon Mexico's prices include IVA")
        self.assertEqual(line.tax_ids.amount, 16.0)
        self.assertAlmostEqual(so.amount_total, 398.0, places=2)
        self.assertAlmostEqual(so.amount_untaxed, 343.10, places=2)
        # The buyer and the delivery address Amazon gave.
        self.assertEqual(so.partner_id.name, "Ana López Hernández")
        self.assertEqual(so.partner_shipping_id.zip, "03940")
        self.assertEqual(so.partner_shipping_id.state_id.code, "CMX")
        # Delivery from the connection's warehouse, reserved while unshipped; no invoice yet.
        picking = so.picking_ids
        self.assertEqual(len(picking), 1)
        self.assertEqual(picking.picking_type_id.warehouse_id, self.warehouse)
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(self._reserved(self.product_mug), 2)
        self.assertFalse(so.invoice_ids)

        self._update_order(order["orderId"], status="SHIPPED")
        self.assertEqual(self._sync()["counts"], {"imported": 1})
        self.assertEqual(rec.amazon_status, "SHIPPED")
        self.assertEqual(picking.state, "done")
        self.assertEqual(self._on_hand(self.product_mug, self.stock_location), 8)
        self.assertEqual(self._reserved(self.product_mug), 0)
        invoice = self._invoices(rec)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 398.0)
        self.assertEqual(invoice.partner_id, so.partner_id)
        self.assertEqual(invoice.ref, order["orderId"])
        self.assertEqual(rec.invoice_ids, invoice)
        # linked to the sale order by their origin, without Odoo's "created from" notes
        self.assertEqual((picking.origin, invoice.invoice_origin), (so.name, so.name))
        self.assertEqual(picking.sale_id, so)
        self.assertEqual(invoice.line_ids.sale_line_ids.order_id, so)
        self.assertFalse((picking.message_ids | invoice.message_ids).filtered(lambda m: so.name in (m.body or "")))

    def test_origin_notes_stay_outside_the_import(self):
        """Only the import leaves out Odoo's "created from" notes: a sale the seller makes gets them."""
        self._put_stock(self.product_mug, 10)
        so = self.env["sale.order"].create({
            "partner_id": self.env["res.partner"].create({"name": "Mostrador"}).id,
            "order_line": [fields.Command.create({"product_id": self.product_mug.id, "product_uom_qty": 1})]})
        so.action_confirm()
        self.assertIn(so.name, "".join(so.picking_ids.message_ids.mapped(lambda m: str(m.body))))

    def test_fba_order_leaves_the_fulfillment_warehouse(self):
        self._put_stock(self.product_mug, 5)
        self._put_stock(self.product_mug, 7, self.fba_location)
        order = self._make_order([{"sku": "MUG-01", "quantity": 3, "unit_price": "150.00"}],
                                 fulfilled_by="AMAZON", status="SHIPPED")
        self._sync()
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "imported")
        self.assertEqual(rec.fulfillment_channel, "amazon")
        so = rec.sale_order_id
        self.assertEqual(so.warehouse_id, self.fba_warehouse)
        self.assertEqual(so.picking_ids.state, "done")
        self.assertEqual(so.picking_ids.location_id, self.fba_location)
        self.assertEqual(self._on_hand(self.product_mug, self.fba_location), 4)
        self.assertEqual(self._on_hand(self.product_mug, self.stock_location), 5, "merchant stock untouched")
        self.assertFalse(self.env["stock.move"].search([
            ("product_id", "=", self.product_mug.id), ("location_id", "=", self.stock_location.id)]))
        invoice = self._invoices(rec)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 450.0)

    def test_fba_order_unshipped_waits_in_fulfillment_warehouse(self):
        order = self._make_order(fulfilled_by="AMAZON", status="UNSHIPPED")
        self._sync()
        so = self._amazon_order(order["orderId"]).sale_order_id
        self.assertEqual(so.picking_ids.location_id, self.fba_location)
        self.assertNotEqual(so.picking_ids.state, "done")
        self.assertFalse(so.invoice_ids)
        self._update_order(order["orderId"], status="SHIPPED")
        self._sync()
        self.assertEqual(so.picking_ids.state, "done")
        self.assertEqual(self._invoices(self._amazon_order(order["orderId"])).amount_total, 199.0)

    def test_multiline_promotion_shipping_gift_wrap_to_the_cent(self):
        order = self._make_order(
            [{"sku": "MUG-01", "quantity": 2, "unit_price": "199.00"},
             {"sku": "TEE-02", "quantity": 1, "unit_price": "349.50"}],
            shipping="99.00", gift_wrap={"price": "30.00"},
            promotion={"id": "BUENFIN", "discount": "50.00", "ship_discount": "99.00"},
            status="SHIPPED")
        self._sync()
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "imported", rec.reason)
        # 398.00 + 349.50 + shipping 99.00 + gift wrap 30.00 - promotion 50.00 - free shipping 99.00
        self.assertEqual(rec.amount_total, 727.50)
        so = rec.sale_order_id
        lines = {ln.product_id.default_code: ln for ln in so.order_line}
        shipping = so.order_line.filtered(lambda ln: ln.product_id.default_code == "AMZ-SHIPPING")
        self.assertEqual(shipping.price_unit, 99.0)
        self.assertEqual(lines["AMZ-GIFTWRAP"].price_unit, 30.0)
        self.assertEqual(shipping.discount, 100.0, "free shipping: the shipping line at 100 % discount")
        self.assertFalse(so.order_line.filtered(lambda ln: ln.product_id.default_code == "AMZ-PROMOTION"))
        mug = so.order_line.filtered(lambda ln: ln.product_id.default_code == "MUG-01")
        self.assertEqual((mug.price_unit, mug.discount), (199.0, 12.56), "50.00 off 398.00")
        self.assertIn("BUENFIN", mug.name)
        rounding = so.order_line.filtered(lambda ln: ln.product_id.default_code == "AMZ-ROUNDING")
        for line in so.order_line - rounding:
            self.assertTrue(line.tax_ids, f"{line.name} is taxed: Amazon reports IVA on it")
            self.assertTrue(all(t.price_include for t in line.tax_ids))
        # Amazon's IVA is computed per part (100.36), Odoo's once on the order (100.34): explicit rounding
        # lines move the two cents into the tax; 12.56 % off 398.00 is 348.01: a cent back in the total.
        self.assertAlmostEqual(sum(rounding.mapped("price_total")), -0.01)
        invoice = self._invoices(rec)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 727.50)
        amazon_tax = sum(float(b["subtotal"]["amount"]) for item in self.sim.get_order(order["orderId"])["orderItems"]
                         for b in item["proceeds"]["breakdowns"] if b["type"] == "TAX")
        self.assertAlmostEqual(invoice.amount_tax, amazon_tax, places=2)

    def _import_us_order(self, unit_price, unit_tax, qty=3):
        """An Amazon.com order (prices without tax, tax not collected by Amazon) imported directly."""
        from spapi_simulator import factory

        # the connection reads Amazon.com too; no fiscal position on it, so the product's IVA applies as the
        # numbers of these tests assume
        us = self.env.ref("bind_amazon_connector.marketplace_us")
        self.amazon.marketplace_ids = self.amazon.marketplace_id | us
        line = self.amazon.env["amazon.account.marketplace"]._for(self.amazon, us)
        line.fiscal_position_id = False
        line.action_confirm()
        raw = factory.make_order(items=[{"sku": "MUG-01", "quantity": qty, "unit_price": unit_price,
                                         "tax": unit_tax}],
                                 marketplace_id="ATVPDKIKX0DER", status="SHIPPED", buyer=False, recipient=False)
        return self._import_order(raw, force=False)

    def test_unit_price_from_line_total_keeps_amazon_total(self):
        order = self._make_order([{"sku": "MUG-01", "quantity": 3, "unit_price": "33.33"}], status="SHIPPED")
        # Amazon charged 100.00 for three units listed at 33.33 (a price rounded for display): ITEM 86.20
        # and its IVA 13.80 on top.
        raw = self.sim.get_order(order["orderId"])
        raw["orderItems"][0]["proceeds"]["breakdowns"][0]["subtotal"]["amount"] = "86.20"
        raw["orderItems"][0]["proceeds"]["proceedsTotal"]["amount"] = "100.00"
        raw["proceeds"]["grandTotal"]["amount"] = "100.00"
        self.sim.add_order(raw)
        self._sync()
        rec = self._amazon_order(order["orderId"])
        self.assertEqual(rec.state, "imported", rec.reason)
        line = rec.sale_order_id.order_line.filtered("amazon_order_item_id")
        self.assertAlmostEqual(line.price_unit, 33.333333, places=6)
        self.assertEqual(self._invoices(rec).amount_total, 100.0)

    def test_cents_of_tax_rounding_become_an_explicit_line(self):
        # Amazon computes the tax per unit (10.03 x 16% = 1.60, three times 4.80); Odoo per line (4.81).
        rec = self._import_us_order("10.03", "1.60")
        self.assertEqual(rec.state, "imported", rec.reason)
        self.assertEqual(rec.amount_total, 34.89)
        so = rec.sale_order_id
        self.assertEqual(so.currency_id.name, "USD")
        rounding = so.order_line.filtered(lambda ln: ln.product_id.default_code == "AMZ-ROUNDING")
        self.assertEqual(len(rounding), 1)
        self.assertAlmostEqual(rounding.price_unit, -0.01, places=2)
        self.assertFalse(rounding.tax_ids)
        self.assertFalse(so.order_line.filtered("amazon_order_item_id").tax_ids.price_include)
        self.assertEqual(self._invoices(rec).amount_total, 34.89)

    def test_totals_far_apart_are_an_error_not_a_rounding_line(self):
        # Amazon charged 8.25 % tax; the product carries IVA 16 %: that is no rounding.
        rec = self._import_us_order("100.00", "8.25")
        self.assertEqual(rec.state, "error")
        self.assertIn("Amazon charged", rec.reason)
        self.assertFalse(rec.sale_order_id)
        self.assertFalse(self.env["sale.order"].search([("client_order_ref", "=", rec.name)]))

    def test_generic_customer_without_buyer(self):
        order = self._make_order(buyer=False, recipient=False)
        self._sync()
        so = self._amazon_order(order["orderId"]).sale_order_id
        generic = self.env.ref("bind_amazon_connector.partner_generic_mx")
        self.assertEqual(so.partner_id, generic)
        self.assertEqual(generic.vat, "XAXX010101000")
        self.assertEqual(generic.name, "Público en General")

    def test_returning_buyer_reuses_the_customer(self):
        first = self._make_order()
        second = self._make_order()
        self._sync()
        self.assertEqual(self._amazon_order(first["orderId"]).partner_id,
                         self._amazon_order(second["orderId"]).partner_id)

    def test_partial_shipment_makes_a_backorder(self):
        self._put_stock(self.product_mug, 10)
        order = self._make_order([{"sku": "MUG-01", "quantity": 3, "unit_price": "100.00"}])
        self._sync()
        rec = self._amazon_order(order["orderId"])
        self._ship_items(order["orderId"], {"MUG-01": 1})
        self._sync()
        so = rec.sale_order_id
        done = so.picking_ids.filtered(lambda p: p.state == "done")
        backorder = so.picking_ids - done
        self.assertEqual(len(done), 1)
        self.assertEqual(done.move_ids.quantity, 1)
        self.assertEqual(len(backorder), 1)
        self.assertEqual(backorder.backorder_id, done)
        self.assertEqual(backorder.move_ids.product_uom_qty, 2)
        self.assertEqual(backorder.state, "assigned", "the rest stays reserved")
        self.assertFalse(so.invoice_ids, "invoiced once Amazon shipped everything")

        self._ship_items(order["orderId"], {"MUG-01": 3}, status="SHIPPED")
        self._sync()
        self.assertEqual(backorder.state, "done")
        self.assertEqual(so.order_line.filtered("amazon_order_item_id").qty_delivered, 3)
        self.assertEqual(self._on_hand(self.product_mug, self.stock_location), 7)
        invoice = self._invoices(rec)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.amount_total, 300.0)
