"""Payouts on the invoices the orders flow makes (Amazon order, sale order, invoice): paid on post or when Amazon
releases the sale, and the demo scenario's settlement reconciling to zero with them."""
from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models.payouts import clearing_payments, order_invoices
from ..spapi import SpApi
from .common import AmazonFinanceCommon, AmazonOrderCommon


@tagged("post_install", "-at_install")
class TestAmazonPayoutsOrders(AmazonFinanceCommon, AmazonOrderCommon):
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
        self.assertEqual(order_invoices.find_order_invoices(self.amazon, [order_id])[order_id], record.invoice_ids)
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
        self._run_scheduled("payouts")  # the payouts job pays what the orders flow posted
        self.assertEqual(invoice.payment_state, "paid")
        payment = self._payments_in_journal(invoice)
        self.assertEqual(payment.journal_id, self.amazon.clearing_journal_id)
        self.assertAlmostEqual(payment.amount, 250.00)

    def test_paying_on_post_between_two_reads_asks_amazon_nothing(self):
        """The orders flow triggers the payouts job when it posts invoices of a connection that pays on post: a
        run between two reads of Amazon pays them without a call to Amazon, and leaves the read's progress as
        it was."""
        self.amazon.register_payment_on_post = True
        self._run_scheduled("payouts")  # the scheduled read
        cursor = self.amazon.finance_sync_date
        self.assertTrue(cursor)
        _order_id, _record, invoice = self._shipped_order("250.00")
        self.assertEqual(invoice.payment_state, "not_paid", "posting runs no payout code")

        def forbidden(*args, **kwargs):
            raise AssertionError("Amazon called to pay on post")

        self.env["amazon.sync.job"]._trigger(self.amazon, "payouts")  # what the orders flow does
        with patch.object(SpApi, "iter_transaction_pages", forbidden), patch.object(SpApi, "iter_reports", forbidden):
            self._run_scheduled("payouts", dispatch=False)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(self._payments_in_journal(invoice).journal_id, self.amazon.clearing_journal_id)
        self.assertEqual(self.amazon.finance_sync_date, cursor)

    def test_payment_failure_on_post_does_not_fail_the_batch(self):
        """Paying on post runs apart, in the payouts job: a payment that fails leaves the invoice posted and
        unpaid (its chatter says why), and every order of the batch imported."""
        self.amazon.register_payment_on_post = True
        self._put_stock(self.product_mug, 2, self.fba_location)
        orders = [self._make_order([{"sku": "MUG-01", "quantity": 1, "unit_price": price}],
                                   fulfilled_by="AMAZON", status="SHIPPED") for price in ("199.00", "150.00")]

        def broken(account, invoices):
            refusal = "the bank journal is archived"  # what Odoo would say (a test double: not a user-visible string)
            raise UserError(refusal)

        with patch.object(clearing_payments, "pay_invoices_in_full", broken):
            AmazonOrderCommon._sync(self)
            self._run_scheduled("payouts")  # the payouts job pays what the orders flow posted
        for order in orders:
            record = self._amazon_order(order["orderId"])
            self.assertEqual(record.state, "imported", record.reason)
            invoice = self._invoices(record)
            self.assertEqual(invoice.state, "posted")
            self.assertEqual(invoice.payment_state, "not_paid")
            self.assertIn("could not be registered", " ".join(invoice.message_ids.mapped("body")))
        # Amazon releases the money later: the payout pays it
        order_id = orders[0]["orderId"]
        self._sale(order_id, self._group(), "199.00", "29.85", sku="MUG-01")
        self._sync_payouts()
        self.assertEqual(self._invoices(self._amazon_order(order_id)).payment_state, "paid")

    def test_posting_an_invoice_of_no_amazon_order_reads_no_connection(self):
        """Posting an invoice runs no payout code (the payouts job pays what a connection pays on post): posting
        one that is not an Amazon order's does not even search the connections."""
        self.amazon.register_payment_on_post = True
        Account = self.registry["amazon.account"]
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_line_ids": [Command.create({"name": "Consultoría", "quantity": 1, "price_unit": 100.0})],
        })

        def forbidden(*args, **kwargs):
            raise AssertionError("amazon.account searched for an invoice of no Amazon order")

        with patch.object(Account, "search_count", forbidden), patch.object(Account, "search", forbidden):
            invoice.action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.payment_state, "not_paid")


@tagged("post_install", "-at_install")
class TestAmazonDemoSettlement(AmazonFinanceCommon, AmazonOrderCommon):
    """With invoices equal to what Amazon charged, the demo scenario's settlement reconciles to zero."""

    def test_demo_settlement_reconciles_to_zero(self):
        with self.sim.state.lock:
            self.sim.state.listings.clear()
        self.sim.load("demo")
        for sku in ("MX-TAZA-001", "MX-TERMO-002", "MX-MOCHILA-003", "MX-AUDIF-004", "MX-CAFE-005",
                    "MX-REBOZO-008", "MX-CARG-009", "MX-LIBRO-010"):
            product = self._product(sku)
            self._put_stock(product, 50)
            self._put_stock(product, 50, self.fba_location)
        self.amazon.import_start_date = self._sim_now() - timedelta(days=30)
        self.amazon.finance_start_date = self._sim_now() - timedelta(days=30)
        self._sync()
        for name in ("701-4000002-7000274", "701-4000003-7000411", "701-4000008-7001096", "701-4000010-7001370",
                     "701-4000012-7001644"):
            record = self._amazon_order(name)
            self.assertEqual(record.state, "imported", f"{name}: {record.reason}")
        invoiced = self.env["amazon.order"].search([
            ("account_id", "=", self.amazon.id), ("sale_order_id.invoice_ids", "!=", False)])
        self.assertTrue(invoiced)
        self.assertFalse(invoiced.filtered("invoice_mismatch"))
        self._sync_payouts()
        settlement = self._settlement("DEMO-GROUP-2026-02")
        self.assertTrue(settlement)
        self.assertFalse(settlement.waiting_count, settlement.explanation)
        self.assertFalse(settlement.unknown_count, settlement.explanation)
        self.assertAlmostEqual(settlement.difference, 0.0, msg=settlement.explanation)
        self.assertTrue(settlement.is_reconciled, settlement.explanation)
        self.assertAlmostEqual(
            settlement.sales_amount - settlement.refund_amount - settlement.fee_amount
            - settlement.withholding_amount + settlement.other_amount, settlement.deposited_amount, places=2)
        # Every order Amazon paid in full is paid in Odoo: the invoice was what Amazon charged (the demo leaves
        # no sale partly paid without a reason: 701-4000008 has a transaction for each of its two products).
        for record in invoiced:
            paid = record.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
            if record.name in ("701-4000002-7000274", "701-4000003-7000411", "701-4000008-7001096",
                               "701-4000010-7001370"):
                self.assertEqual(paid.payment_state, "paid", record.name)
