"""Payments of released sales, "one per buyer and batch": the sales of one buyer booked together are one payment
reconciling their invoices; the same invoices paid, cash-basis IVA moved per invoice and the settlement's clearing
balanced as with one payment per sale (the default). Only accountants choose it."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from spapi_simulator import factory

from .common import AMAZON_ADMIN, AmazonFinanceCommon


@tagged("post_install", "-at_install")
class TestPayoutGrouping(AmazonFinanceCommon):

    def _book_three_sales(self):
        """Two sales of one buyer and one of another, released in one settlement with its deposit."""
        group = self._group()
        other_buyer = self.env["res.partner"].create({"name": "Luis Pérez"})
        orders = [factory.new_order_id() for _i in range(3)]
        invoices = self._invoice(orders[0], 232.00) | self._invoice(orders[1], 116.00)
        third = self._invoice(orders[2], 58.00, post=False)
        third.partner_id = other_buyer
        third.action_post()
        invoices |= third
        for order, amount in zip(orders, ("232.00", "116.00", "58.00"), strict=True):
            self._sale(order, group, amount, "0.00")
        self._publish_deposit(group, 406.00)
        self._sync_payouts()
        return invoices, self._settlement(group)

    def _books(self, invoices, settlement):
        payments = settlement.transaction_ids.payment_ids
        caba = self.env["account.move"].search([("tax_cash_basis_origin_move_id", "in", invoices.ids)])
        clearing = (payments | settlement.deposit_payment_id).move_id.line_ids.filtered(
            lambda ln: ln.account_id == self.amazon.clearing_account_id)
        return payments, caba, clearing

    def test_one_payment_per_sale_by_default(self):
        self.assertEqual(self.amazon.payout_payments, "sale")
        invoices, settlement = self._book_three_sales()
        payments, caba, clearing = self._books(invoices, settlement)
        self.assertEqual(set(invoices.mapped("payment_state")), {"paid"})
        self.assertEqual(len(payments), 3)
        self.assertEqual(len(caba), 3)
        self.assertTrue(all(clearing.mapped("reconciled")))

    def test_one_payment_per_buyer_and_batch(self):
        self.amazon.payout_payments = "batch"
        invoices, settlement = self._book_three_sales()
        payments, caba, clearing = self._books(invoices, settlement)
        self.assertEqual(set(invoices.mapped("payment_state")), {"paid"})
        self.assertEqual(len(payments), 2, "one payment for the two sales of one buyer, one for the other buyer")
        grouped = payments.filtered(lambda p: p.partner_id == self.customer)
        self.assertAlmostEqual(grouped.amount, 348.00)
        self.assertEqual(grouped.journal_id, self.amazon.clearing_journal_id)
        self.assertEqual(set(grouped.invoice_ids.ids), set(invoices[:2].ids))
        self.assertEqual(set(settlement.transaction_ids.mapped("state")), {"done"})
        # the cash-basis IVA moved per invoice, as Odoo does with one payment each
        self.assertEqual(len(caba), 3)
        self.assertEqual(set(caba.tax_cash_basis_origin_move_id.ids), set(invoices.ids))
        for invoice in invoices:
            moved = caba.filtered(lambda m, i=invoice: m.tax_cash_basis_origin_move_id == i)
            tax_line = invoice.line_ids.filtered("tax_line_id")
            self.assertAlmostEqual(sum(moved.line_ids.filtered(lambda ln: ln.tax_line_id).mapped("balance")),
                                   tax_line.balance, msg="all of the invoice's IVA moved to the paid account")
        self.assertTrue(clearing and all(clearing.mapped("reconciled")), "the settlement's clearing is balanced")
        self.assertEqual(settlement.state, "closed")

    def test_only_accountants_choose_how_sales_are_paid(self):
        admin = self._user("grouping_admin", AMAZON_ADMIN, name="Amazon Admin (no accounting)")
        with self.assertRaises(AccessError):
            self.amazon.with_user(admin).write({"payout_payments": "batch"})
        self.assertEqual(self.amazon.payout_payments, "sale")
