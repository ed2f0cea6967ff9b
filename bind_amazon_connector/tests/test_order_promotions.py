"""Amazon's promotions on the sale and its invoice: the list price with a discount (%) on the line it lowers,
as a CFDI 4.0 carries it (``Descuento`` per concept), and the totals still Amazon's to the cent."""
import copy
from decimal import Decimal

from odoo.tests import tagged

from spapi_simulator import contract, factory

from .common import AmazonOrderCommon


def _breakdown(item, kind):
    return next(b for b in item["proceeds"]["breakdowns"] if b["type"] == kind)


@tagged("post_install", "-at_install")
class TestAmazonOrderPromotions(AmazonOrderCommon):

    def _import_checked(self, raw):
        """``raw`` imported directly; the sale and its invoice at Amazon's totals, to the cent."""
        rec = self._import_order(raw)
        self.assertEqual(rec.state, "imported", rec.reason)
        grand = float(raw["proceeds"]["grandTotal"]["amount"])
        invoice = self._invoices(rec)
        self.assertEqual(invoice.state, "posted")
        self.assertAlmostEqual(rec.sale_order_id.amount_total, grand, places=2)
        self.assertAlmostEqual(invoice.amount_total, grand, places=2, msg="Amazon's grandTotal to the cent")
        amazon_tax = sum(Decimal(b["subtotal"]["amount"]) for item in raw["orderItems"]
                         for b in item["proceeds"]["breakdowns"] if b["type"] == "TAX")
        self.assertAlmostEqual(invoice.amount_tax, float(amazon_tax), places=2, msg="IVA is Amazon's TAX")
        return rec, invoice

    def _line(self, moves_or_so, product):
        lines = moves_or_so.order_line if moves_or_so._name == "sale.order" else moves_or_so.invoice_line_ids
        return lines.filtered(lambda ln: ln.product_id == product)

    def _assert_no_negative_promotion_line(self, rec, invoice):
        for lines in (rec.sale_order_id.order_line, invoice.invoice_line_ids):
            self.assertFalse(lines.filtered(lambda ln: ln.product_id.default_code == "AMZ-PROMOTION"),
                             "the promotion is a discount on the line it lowers, not a line of its own")
            self.assertFalse(lines.filtered(lambda ln: ln.price_unit < 0 and ln.product_id.default_code
                                            != "AMZ-ROUNDING"))

    def _assert_list_price_with_discount(self, rec, invoice, product, price, qty, paid):
        for line in (self._line(rec.sale_order_id, product), self._line(invoice, product)):
            self.assertEqual(len(line), 1)
            self.assertEqual(line.price_unit, price, "the list price, as the buyer saw it")
            self.assertGreater(line.discount, 0.0)
            self.assertAlmostEqual(line.discount, 100.0 * (price * qty - paid) / (price * qty), places=2)
            self.assertAlmostEqual(line.price_total, paid, delta=0.05)
        self.assertIn("BUENFIN", self._line(rec.sale_order_id, product).name, "the line says why")

    def test_promotion_and_free_shipping_are_discounts_on_their_lines(self):
        raw = factory.make_order(
            items=[{"sku": "MUG-01", "quantity": 2, "unit_price": "349.00"},
                   {"sku": "TEE-02", "quantity": 3, "unit_price": "33.33"}],
            shipping="99.00", promotion={"id": "BUENFIN", "discount": "50.00", "ship_discount": "99.00"},
            status="SHIPPED", buyer=False, recipient=False)
        rec, invoice = self._import_checked(raw)
        self._assert_no_negative_promotion_line(rec, invoice)
        self._assert_list_price_with_discount(rec, invoice, self.product_mug, 349.0, 2, 648.0)
        shipping = self.env.ref("bind_amazon_connector.product_amazon_shipping")
        for line in (self._line(rec.sale_order_id, shipping), self._line(invoice, shipping)):
            self.assertEqual((line.price_unit, line.discount, line.price_total), (99.0, 100.0, 0.0))
        tee = self._line(invoice, self.product_tee)
        self.assertEqual((tee.price_unit, tee.discount), (33.33, 0.0), "no promotion, no discount")
        self.assertTrue(self.amazon_user.has_group("sale.group_discount_per_so_line"),
                        "who works Amazon's orders sees the discount column of the sale lines")

    def test_promotion_lowering_the_item_without_a_discount_breakdown(self):
        """Amazon lowers ITEM (and TAX.ITEM with it) for the promotion and sends no DISCOUNT: the unit price
        stays the list price, the line carries the difference as its discount."""
        raw = factory.make_order(items=[{"sku": "MUG-01", "quantity": 2, "unit_price": "324.00"}],
                                 promotion={"id": "BUENFIN"}, status="SHIPPED", buyer=False, recipient=False)
        item = raw["orderItems"][0]
        self.assertFalse([b for b in item["proceeds"]["breakdowns"] if b["type"] == "DISCOUNT"])
        item["product"]["price"]["unitPrice"]["amount"] = "349.00"  # the list price, 648.00 charged for two
        rec, invoice = self._import_checked(raw)
        self._assert_no_negative_promotion_line(rec, invoice)
        self._assert_list_price_with_discount(rec, invoice, self.product_mug, 349.0, 2, 648.0)

    def test_promotion_whose_tax_amazon_leaves_in_the_item_tax(self):
        """A DISCOUNT breakdown, its IVA taken off TAX.ITEM instead of a TAX.DISCOUNT detail."""
        raw = factory.make_order(items=[{"sku": "MUG-01", "quantity": 2, "unit_price": "349.00"}],
                                 promotion={"id": "BUENFIN", "discount": "50.00"}, status="SHIPPED",
                                 buyer=False, recipient=False)
        item = raw["orderItems"][0]
        tax = _breakdown(item, "TAX")
        details = {d["subtype"]: Decimal(d["value"]["amount"]) for d in tax["detailedBreakdowns"]}
        self.assertLess(details["DISCOUNT"], 0)
        tax["detailedBreakdowns"] = [{"subtype": "ITEM", "value": {
            "amount": str(details["ITEM"] + details["DISCOUNT"]), "currencyCode": "MXN"}}]
        rec, invoice = self._import_checked(raw)
        self._assert_no_negative_promotion_line(rec, invoice)
        self._assert_list_price_with_discount(rec, invoice, self.product_mug, 349.0, 2, 648.0)

    def test_tax_inside_reading_same_discount(self):
        raw = factory.make_order(items=[{"sku": "MUG-01", "quantity": 2, "unit_price": "349.00"}],
                                 shipping="99.00", promotion={"id": "BUENFIN", "discount": "50.00",
                                                              "ship_discount": "20.00"},
                                 status="SHIPPED", buyer=False, recipient=False, tax_reading="inside")
        rec, invoice = self._import_checked(raw)
        self._assert_no_negative_promotion_line(rec, invoice)
        self._assert_list_price_with_discount(rec, invoice, self.product_mug, 349.0, 2, 648.0)
        shipping = self._line(invoice, self.env.ref("bind_amazon_connector.product_amazon_shipping"))
        self.assertEqual(shipping.price_unit, 99.0)
        self.assertAlmostEqual(shipping.price_total, 79.0, delta=0.05)

    def test_correcting_an_invoice_keeps_the_promotion_as_a_discount(self):
        """An invoice of an earlier version, short of Amazon's total, corrected: the list price and the discount."""
        product = self._product("PROMO-OLD", storable=False)
        order = self._make_order([{"sku": "PROMO-OLD", "quantity": 2, "unit_price": "349.00"}],
                                 promotion={"id": "BUENFIN", "discount": "50.00"}, fresh=True)
        self._sync()
        rec = self._amazon_order(order["orderId"])
        line = rec.sale_order_id.order_line.filtered("amazon_order_item_id")
        self.assertEqual((line.price_unit, line.discount), (349.0, 7.16))
        line.write({"price_unit": 300.0, "discount": 0.0})  # what an earlier version left
        old = rec.sale_order_id._create_invoices(final=True)
        old.action_post()
        self.assertTrue(rec.invoice_mismatch)
        wizard = self.env["amazon.order.invoice.correction"].with_context(
            active_model="amazon.order", active_ids=rec.ids).create({"confirm_posted": True})
        wizard.action_apply()
        new = rec.sale_order_id.invoice_ids.filtered(lambda m: m.move_type == "out_invoice") - old
        self.assertAlmostEqual(new.amount_total, 648.0)
        corrected = new.invoice_line_ids.filtered(lambda ln: ln.product_id == product)
        self.assertEqual((corrected.price_unit, corrected.discount), (349.0, 7.16))
        self.assertFalse(rec.invoice_mismatch)

    def test_model_examples_with_promotions_keep_amazons_price(self):
        """Amazon's own examples name a promotion on items whose ITEM is the unit price times the quantity: no
        discount is made up."""
        examples = [copy.deepcopy(raw) for _where, raw in contract.order_examples()
                    if any(item.get("promotion") for item in raw["orderItems"])]
        if not examples:
            self.skipTest("Amazon's models are absent: set SPAPI_MODELS")
        for xmlid in ("product_amazon_shipping", "product_amazon_gift_wrap", "product_amazon_other_charge",
                      "product_amazon_promotion"):
            self.env.ref(f"bind_amazon_connector.{xmlid}").taxes_id = False
        self.company.account_sale_tax_id = False
        checked = 0
        for raw in examples:
            raw["salesChannel"].update(marketplaceId=self.amazon.marketplace_id.marketplace_id)
            _currency(raw, self.amazon.marketplace_id.currency_id.name)
            raw.setdefault("fulfillment", {})["fulfillmentStatus"] = "SHIPPED"
            for item in raw["orderItems"]:
                if not self._listing(item["product"]["sellerSku"]):
                    self._product(item["product"]["sellerSku"], storable=False, taxes_id=[])
            rec = self._import_order(raw)
            self.assertEqual(rec.state, "imported", rec.reason)
            for item in raw["orderItems"]:
                line = rec.sale_order_id.order_line.filtered(
                    lambda ln, i=item: ln.amazon_order_item_id == i["orderItemId"])
                if item.get("promotion") and line:
                    self.assertEqual(line.discount, 0.0)
                    self.assertAlmostEqual(line.price_total, line.price_unit * line.product_uom_qty)
                    checked += 1
        self.assertGreaterEqual(checked, 2)


def _currency(node, code):
    if isinstance(node, dict):
        if "currencyCode" in node:
            node["currencyCode"] = code
        for value in node.values():
            _currency(value, code)
    elif isinstance(node, list):
        for value in node:
            _currency(value, code)
