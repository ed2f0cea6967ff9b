from odoo.tests import tagged

from .finance_common import AmazonFinanceCommon
from .order_common import AmazonOrderCommon


@tagged("post_install", "-at_install")
class TestAmazonFinanceOrders(AmazonFinanceCommon, AmazonOrderCommon):
    """Payouts on the invoices the orders flow makes (amazon.order -> sale order -> invoice)."""

    def _shipped_order(self, unit_price="199.00", quantity=1):
        self._put_stock(self.product_mug, quantity, self.fba_location)
        order = self._make_order([{"sku": "MUG-01", "quantity": quantity, "unit_price": unit_price}],
                                 fulfilled_by="AMAZON", status="SHIPPED")
        AmazonOrderCommon._sync(self)
        record = self._amazon_order(order["orderId"])
        invoice = self._invoices(record)
        self.assertEqual(invoice.state, "posted")
        return order["orderId"], record, invoice

    def test_released_sale_pays_the_invoice_of_the_amazon_order(self):
        order_id, record, invoice = self._shipped_order("199.00", 2)
        self.assertEqual(self.amazon._find_order_invoices([order_id])[order_id], record.invoice_ids)
        self.assertEqual(invoice.payment_state, "not_paid", "in receivables until Amazon pays")
        group = self._group()
        txn = self._sale(order_id, group, "398.00", "59.70", fba_fee="40.00", quantity=2, sku="MUG-01",
                         fulfillment_network="AFN")
        self._sync_payouts()
        self.assertEqual(invoice.payment_state, "paid")
        payment = self._payments_in_journal(invoice)
        self.assertEqual(payment.journal_id, self.amazon.clearing_journal_id)
        self.assertAlmostEqual(payment.amount, 398.00)
        self.assertEqual(self._txn(txn).invoice_ids, invoice)
        bill = self._settlement(group).move_ids
        self.assertAlmostEqual(bill.amount_total, 99.70)
        self.assertEqual(bill.state, "draft", "the settlement is not deposited yet")

    def test_register_payment_when_the_order_is_invoiced(self):
        self.amazon.register_payment_on_post = True
        _order_id, _record, invoice = self._shipped_order("250.00")
        self.assertEqual(invoice.payment_state, "paid")
        payment = self._payments_in_journal(invoice)
        self.assertEqual(payment.journal_id, self.amazon.clearing_journal_id)
        self.assertAlmostEqual(payment.amount, 250.00)
