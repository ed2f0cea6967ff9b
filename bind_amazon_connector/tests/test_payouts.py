import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from spapi_simulator import factory

from ..models.payouts import clearing_payments, payout_settings
from .common import AmazonFinanceCommon


@tagged("post_install", "-at_install")
class TestAmazonPayouts(AmazonFinanceCommon):
    """Payouts, refunds, fees, withholdings and the reconciliation of each settlement."""

    def _account(self, xmlid):
        return payout_settings.chart_ref(self.amazon, xmlid)

    def test_payout_pays_the_right_invoices(self):
        group = self._group()
        order_a, order_b, order_other = (factory.new_order_id() for _i in range(3))
        invoice_a = self._invoice(order_a, 232.00)
        invoice_b = self._invoice(order_b, 116.00)
        invoice_other = self._invoice(order_other, 99.00)  # no transaction at Amazon: stays unpaid
        txn_a = self._sale(order_a, group, "232.00", "34.80")
        txn_b = self._sale(order_b, group, "116.00", "17.40", fba_fee="20.00")

        stats = self._sync_payouts()

        self.assertEqual(stats["count"], 2)
        self.assertEqual(invoice_a.payment_state, "paid")
        self.assertEqual(invoice_b.payment_state, "paid")
        self.assertEqual(invoice_other.payment_state, "not_paid")
        payment_a = self._payments_in_journal(invoice_a)
        self.assertEqual(len(payment_a), 1)
        self.assertEqual(payment_a.journal_id, self.amazon.clearing_journal_id, "paid inside Amazon's balance")
        self.assertIn(order_a, payment_a.memo, "the Amazon order in the payment's memo")
        self.assertAlmostEqual(payment_a.amount, 232.00)
        self.assertEqual(payment_a.partner_id, self.customer)
        self.assertAlmostEqual(self._payments_in_journal(invoice_b).amount, 116.00)
        record_a = self._txn(txn_a)
        self.assertEqual(record_a.state, "done")
        self.assertEqual(record_a.invoice_ids, invoice_a)
        self.assertEqual(record_a.payment_ids, payment_a)
        self.assertEqual(self._txn(txn_b).settlement_id, self._settlement(group))

        # read again: nothing is duplicated nor paid twice, and what Amazon did not change is not written
        # (each read overlaps three days: a write would take the rows from the booking going on)
        Txn = type(self.env["amazon.settlement.transaction"])
        real_write, written = Txn.write, []

        def write(records, vals):
            written.append((records.ids, sorted(vals)))
            return real_write(records, vals)

        self.amazon.finance_sync_date = False
        with patch.object(Txn, "write", write):
            self._sync_payouts()
        self.assertEqual(self.env["amazon.settlement.transaction"].search_count(
            [("account_id", "=", self.amazon.id)]), 2)
        self.assertEqual(len(self._payments_in_journal(invoice_a)), 1)
        self.assertEqual(len(self._settlement(group)), 1)
        self.assertEqual(written, [], "read again unchanged: not written")
        # a status Amazon changed is followed
        with self.sim.state.lock:
            for entry in self.sim.state.transactions:
                if entry.transaction_id == txn_b["transactionId"]:
                    entry.status = entry.txn()["transactionStatus"] = "DEFERRED_RELEASED"
        self.amazon.finance_sync_date = False
        self._sync_payouts()
        self.assertEqual(self._txn(txn_b).status, "DEFERRED_RELEASED")

    def test_sales_are_paid_together_and_a_failing_one_alone_stays_in_error(self):
        group = self._group()
        orders = [factory.new_order_id() for _i in range(4)]
        invoices = [self._invoice(order, 116.00) for order in orders]
        # Amazon pays the first order in two transactions: both pay the same invoice, never twice
        txns = [self._sale(orders[0], group, "50.00", "7.50"), self._sale(orders[0], group, "66.00", "9.90")]
        txns += [self._sale(order, group, "116.00", "17.40") for order in orders[1:]]
        real_round = clearing_payments.pay_moves_round
        rounds = []

        def pay_round(account, journal, items):
            moves = [move for _index, move, _amount, _date, _memo in items]
            rounds.append(len(items))
            if invoices[2] in moves:
                refusal = "the bank refused it"  # what Odoo would say (a test double: not a user-visible string)
                raise UserError(refusal)  # one payment Odoo refuses
            return real_round(account, journal, items)

        with patch.object(clearing_payments, "pay_moves_round", pay_round):
            self._sync_payouts()
        self.assertGreater(rounds[0], 2, "the sales were tried together first")
        self.assertEqual([inv.payment_state for inv in invoices], ["paid", "paid", "not_paid", "paid"])
        self.assertAlmostEqual(sum(self._payments_in_journal(invoices[0]).mapped("amount")), 116.00)
        records = [self._txn(txn) for txn in txns]
        self.assertEqual([r.state for r in records], ["done", "done", "done", "error", "done"])
        self.assertIn(orders[2], records[3].message)
        self.assertIn("the bank refused it", records[3].message)
        self.assertFalse(self._payments_in_journal(invoices[2]), "nothing half-written for the failed one")
        # the next run books it once Odoo accepts it, and pays nothing twice
        self._sync_payouts()
        self.assertEqual(records[3].state, "done")
        self.assertEqual(invoices[2].payment_state, "paid")
        for invoice in invoices:
            self.assertAlmostEqual(sum(self._payments_in_journal(invoice).mapped("amount")), 116.00)

    def test_paid_together_the_entries_are_odoos_own(self):
        """Payments made in one go give the journal entries Odoo's payment wizard gives, IVA cash basis included."""
        self.assertTrue(self.company.tax_exigibility, "Mexican IVA is due when it is collected")
        by_wizard, *together = [self._invoice(factory.new_order_id(), 116.00) for _i in range(3)]
        journal = clearing_payments.clearing_journal(self.amazon)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=by_wizard.ids,
        ).create({"journal_id": journal.id, "payment_date": fields.Date.today(),
                  "communication": by_wizard.ref})._create_payments()
        clearing_payments.pay_moves_batch(self.amazon, [
            {"moves": invoice, "date": fields.Date.today(), "memo": invoice.ref} for invoice in together])

        def entries(invoice):
            payment = self._payments_in_journal(invoice)
            cash_basis = self.env["account.move"].search([("tax_cash_basis_origin_move_id", "=", invoice.id)])
            # and the links the wizard makes: the payment's invoices, the invoice's payments
            self.assertEqual((payment.invoice_ids, invoice.matched_payment_ids, payment.reconciled_invoice_ids,
                              invoice.reconciled_payment_ids), (invoice, payment, invoice, payment))
            return [sorted((line.account_id.code, line.debit, line.credit, line.tax_ids.ids, line.tax_tag_ids.ids,
                            line.reconciled) for line in move.line_ids)
                    for move in (payment.move_id, cash_basis)], cash_basis.state, payment.state, invoice.payment_state

        expected = entries(by_wizard)
        self.assertEqual(expected[1:], ("posted", "paid", "paid"))
        iva = [line for line in expected[0][1] if line[1] == 16.00 or line[2] == 16.00]
        self.assertEqual(len(iva), 2, "the IVA moves from 'to collect' to 'collected': %s" % expected[0][1])
        for invoice in together:
            self.assertEqual(invoice.payment_state, "paid")
            self.assertEqual(entries(invoice), expected)

    def test_a_payments_settlement_lines_are_found_through_an_index(self):
        """Each payment posted or reconciled recomputes ``booked`` on its settlement lines, so Odoo looks them up
        by ``payment_id``: without an index that read the whole table (about 3 ms a payment at 13,000 lines)."""
        self.env.flush_all()
        self.env.cr.execute("SET LOCAL enable_seqscan = off")  # the planner's choice on a tiny table is no proof
        self.env.cr.execute("EXPLAIN (FORMAT JSON) SELECT id FROM amazon_settlement_line WHERE payment_id IN (1, 2)")
        plan = json.dumps(self.env.cr.fetchone()[0])
        self.env.cr.execute("RESET enable_seqscan")
        self.assertNotIn('"Seq Scan"', plan)
        self.assertIn("amazon_settlement_line__payment_id_index", plan)

    def test_sale_waits_for_its_invoice(self):
        group = self._group()
        order = factory.new_order_id()
        txn = self._sale(order, group, "150.00", "22.50")
        self._sync_payouts()
        record = self._txn(txn)
        self.assertEqual(record.state, "waiting")
        self.assertIn(order, record.message)
        # read again (each read overlaps the last days), still not invoiced: left as it is
        lines = record.line_ids
        with patch.object(type(record), "_book_sales_together") as book:
            self._sync_payouts()
        book.assert_not_called()
        self.assertEqual((record.state, record.line_ids), ("waiting", lines), "not split again")
        invoice = self._invoice(order, 150.00)
        self._sync_payouts()
        self.assertEqual(record.state, "done")
        self.assertEqual(invoice.payment_state, "paid")

    def test_deferred_waits_until_released(self):
        group = self._group()
        order = factory.new_order_id()
        invoice = self._invoice(order, 300.00)
        txn = self._sale(order, group, "300.00", "45.00", status="DEFERRED")
        self._sync_payouts()
        record = self._txn(txn)
        self.assertEqual(record.state, "deferred")
        self.assertEqual(record.status, "DEFERRED")
        self.assertEqual(invoice.payment_state, "not_paid", "deferred money is not paid yet")
        self.assertFalse(self._settlement(group).move_ids, "no fee bill for deferred transactions")

        with self.sim.state.lock:  # Amazon releases it
            txn["transactionStatus"] = "DEFERRED_RELEASED"
        self._sync_payouts()
        self.assertEqual(record.status, "DEFERRED_RELEASED")
        self.assertEqual(record.state, "done")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAlmostEqual(self._payments_in_journal(invoice).amount, 300.00)

    def test_release_transaction_supersedes_the_deferred_one(self):
        group = self._group()
        order = factory.new_order_id()
        invoice = self._invoice(order, 200.00)
        deferred = self._sale(order, group, "200.00", "30.00", status="DEFERRED")
        self._sync_payouts()
        release = factory.make_transaction(order, group_id=group, principal="200.00", commission="30.00",
                                           posted=self.sim.now() - timedelta(hours=5), seller_id=self.sim.seller_id)
        release["relatedIdentifiers"].append({"relatedIdentifierName": "DEFERRED_TRANSACTION_ID",
                                              "relatedIdentifierValue": deferred["transactionId"]})
        self.sim.add_transaction(release)
        self._sync_payouts()
        self.assertEqual(self._txn(deferred).state, "superseded")
        self.assertEqual(self._txn(release).state, "done")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(len(self._payments_in_journal(invoice)), 1)

    def test_refund_credit_note_and_payment(self):
        group_sale, group_refund = self._group(), self._group()
        order = factory.new_order_id()
        invoice = self._invoice(order, 232.00)
        self._sale(order, group_sale, "232.00", "34.80", iva="16.00")
        refund = self._sale(order, group_refund, "-232.00", "-34.80", iva="-16.00", transaction_type="Refund",
                            posted=self.sim.now() - timedelta(hours=10))
        # Amazon keeps its commission minus what it gives back, and returns the IVA withheld
        self._publish_deposit(group_refund, -232.00 + 34.80 + 16.00)
        self._sync_payouts()

        self.assertEqual(invoice.payment_state, "paid")
        record = self._txn(refund)
        self.assertEqual(record.state, "done")
        credit_note = record.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(len(credit_note), 1)
        self.assertEqual(credit_note.state, "posted")
        self.assertAlmostEqual(credit_note.amount_total, 232.00)
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        self.assertEqual(credit_note.payment_state, "paid")
        refund_payment = record.payment_ids
        self.assertEqual(refund_payment.payment_type, "outbound")
        self.assertEqual(refund_payment.journal_id, self.amazon.clearing_journal_id)
        self.assertAlmostEqual(refund_payment.amount, 232.00)
        self.assertAlmostEqual(record.order_booked_amount, -232.00)

        settlement = self._settlement(group_refund)
        self.assertEqual(settlement.state, "closed")
        vendor_refund = settlement.move_ids
        self.assertEqual(vendor_refund.move_type, "in_refund", "commission given back: a refund from Amazon")
        self.assertAlmostEqual(vendor_refund.amount_total, 34.80)
        self.assertAlmostEqual(settlement.refund_amount, 232.00)
        self.assertAlmostEqual(settlement.fee_amount, -34.80)
        self.assertAlmostEqual(settlement.withholding_amount, -16.00)
        self.assertTrue(settlement.is_reconciled, settlement.explanation)

    def test_partial_refund(self):
        group = self._group()
        order = factory.new_order_id()
        invoice = self._invoice(order, 232.00)
        self._sale(order, group, "232.00", "34.80")
        refund = self._sale(order, group, "-58.00", "0.00", transaction_type="Refund")
        self._sync_payouts()
        credit_note = self._txn(refund).invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertAlmostEqual(credit_note.amount_total, 58.00)
        self.assertAlmostEqual(credit_note.amount_tax, 8.00, msg="the IVA inside the refund is credited")
        self.assertEqual(credit_note.payment_state, "paid")
        self.assertEqual(invoice.payment_state, "paid")

    def test_fees_by_type_and_withholdings_on_their_accounts(self):
        group = self._group()
        order_a, order_b = factory.new_order_id(), factory.new_order_id()
        self._invoice(order_a, 232.00)
        self._invoice(order_b, 116.00)
        self._sale(order_a, group, "232.00", "34.80", iva="16.00", isr="2.00")
        self._sale(order_b, group, "116.00", "17.40", fba_fee="20.00", withheld="8.00")  # no split: IVA
        self._other(group, "ServiceFee", "-46.40", description="FBAStorageBilling")
        self._publish_deposit(group, 232.00 + 116.00 - 34.80 - 17.40 - 20.00 - 16.00 - 2.00 - 8.00 - 46.40)
        self._sync_payouts()

        settlement = self._settlement(group)
        self.assertEqual(settlement.state, "closed")
        bill = settlement.move_ids
        self.assertEqual(len(bill), 1, "one vendor bill per settlement")
        self.assertEqual(bill.move_type, "in_invoice")
        self.assertEqual(bill.state, "posted")
        self.assertEqual(bill.partner_id, self.env.ref("bind_amazon_connector.partner_amazon_mx"))
        self.assertEqual(bill.partner_id.vat, "ANE140618P37")
        self.assertAlmostEqual(bill.amount_total, 34.80 + 17.40 + 20.00 + 46.40)
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        by_account = {line.account_id: line for line in bill.invoice_line_ids}
        commission = by_account[self._account("cuenta601_74")]
        self.assertAlmostEqual(commission.price_total, 52.20)
        self.assertAlmostEqual(commission.price_subtotal, 45.00, msg="IVA 16% inside Amazon's fee")
        self.assertAlmostEqual(by_account[self._account("cuenta602_72_01")].price_total, 20.00)
        self.assertAlmostEqual(by_account[self._account("cuenta601_84")].price_total, 46.40)
        self.assertEqual(len(bill.invoice_line_ids), 3, "one line per fee type")
        self.assertAlmostEqual(bill.amount_tax, 7.20 + 2.76 + 6.40)

        payments = settlement.payment_ids
        iva_account = self.amazon.withholding_iva_account_id
        iva_payment = payments.filtered(lambda p: p.destination_account_id == iva_account)
        isr_payment = payments.filtered(lambda p: p.destination_account_id == self._account("cuenta113_02_02"))
        self.assertAlmostEqual(iva_payment.amount, 24.00)
        self.assertAlmostEqual(isr_payment.amount, 2.00)
        self.assertEqual(iva_payment.payment_type, "outbound")
        self.assertEqual((iva_payment | isr_payment).journal_id, self.amazon.clearing_journal_id)
        iva_line = iva_payment.move_id.line_ids.filtered(lambda ln: ln.account_id == iva_account)
        self.assertAlmostEqual(iva_line.debit, 24.00, msg="creditable IVA withheld by Amazon")
        self.assertAlmostEqual(settlement.withholding_amount, 26.00)
        self.assertAlmostEqual(settlement.fee_amount, 118.60)
        self.assertTrue(settlement.is_reconciled, settlement.explanation)
        self.assertFalse(settlement.unknown_count)

    def test_unknown_types_go_to_suspense_and_are_listed(self):
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 116.00)
        sale = factory.make_transaction(order, group_id=group, principal="116.00", commission="17.40",
                                        posted=self.sim.now() - timedelta(days=1), seller_id=self.sim.seller_id)
        fees = sale["breakdowns"][1]["breakdowns"][0]
        fees["breakdowns"].append({"breakdownType": "MysteryFee",
                                   "breakdownAmount": {"currencyCode": "MXN", "currencyAmount": -5.0},
                                   "breakdowns": []})
        fees["breakdownAmount"]["currencyAmount"] -= 5.0
        sale["breakdowns"][1]["breakdownAmount"]["currencyAmount"] -= 5.0
        sale["totalAmount"]["currencyAmount"] -= 5.0
        self.sim.add_transaction(sale)
        reimbursement = self._other(group, "FBAInventoryReimbursement", "50.00")
        self._publish_deposit(group, 116.00 - 17.40 - 5.00 + 50.00)
        self._sync_payouts()

        settlement = self._settlement(group)
        unknown = settlement.line_ids.filtered("is_unknown")
        self.assertEqual(sorted(unknown.mapped("amazon_type")), ["FBAInventoryReimbursement", "MysteryFee"])
        suspense = self.amazon.suspense_account_id
        bill_line = settlement.move_ids.invoice_line_ids.filtered(lambda ln: ln.account_id == suspense)
        self.assertAlmostEqual(bill_line.price_total, 5.00)
        self.assertIn("MysteryFee", bill_line.name)
        other_payment = settlement.payment_ids.filtered(lambda p: p.destination_account_id == suspense)
        self.assertEqual(other_payment.payment_type, "inbound")
        self.assertAlmostEqual(other_payment.amount, 50.00)
        self.assertEqual(self._txn(reimbursement).line_ids.payment_id, other_payment)
        self.assertAlmostEqual(settlement.other_amount, 50.00)
        self.assertEqual(settlement.unknown_count, 2)
        self.assertTrue(settlement.is_reconciled, settlement.explanation)
        listed = self.env["amazon.settlement.line"].search([("is_unknown", "=", True),
                                                            ("settlement_id", "=", settlement.id)])
        self.assertEqual(listed, unknown)

    def test_settlement_reconciles_to_zero(self):
        group = self._group()
        orders = [factory.new_order_id() for _i in range(2)]
        for order, amount in zip(orders, (232.00, 116.00), strict=True):
            self._invoice(order, amount)
        self._sale(orders[0], group, "232.00", "34.80", iva="16.00", isr="2.00")
        self._sale(orders[1], group, "116.00", "17.40", iva="8.00", isr="1.00")
        deposited = 232.00 + 116.00 - 34.80 - 17.40 - 16.00 - 2.00 - 8.00 - 1.00
        self._publish_deposit(group, deposited)
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertEqual(settlement.deposit_source, "report")
        self.assertAlmostEqual(settlement.deposited_amount, deposited)
        self.assertAlmostEqual(settlement.sales_amount, 348.00)
        self.assertAlmostEqual(settlement.refund_amount, 0.0)
        self.assertAlmostEqual(settlement.fee_amount, 52.20)
        self.assertAlmostEqual(settlement.withholding_amount, 27.00)
        self.assertAlmostEqual(settlement.expected_amount, deposited)
        self.assertAlmostEqual(settlement.difference, 0.0)
        self.assertTrue(settlement.is_reconciled)
        self.assertIn("Reconciled", settlement.explanation)
        self.assertIn(settlement, self.env["amazon.settlement"].search([("is_reconciled", "=", True)]))

    def test_settlement_difference_named_by_its_transactions(self):
        group = self._group()
        paid_order, missing_order = factory.new_order_id(), factory.new_order_id()
        self._invoice(paid_order, 116.00)
        self._sale(paid_order, group, "116.00", "17.40")
        missing = self._sale(missing_order, group, "100.00", "15.00")  # its invoice does not exist
        self._publish_deposit(group, 116.00 - 17.40 + 100.00 - 15.00)
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertFalse(settlement.is_reconciled)
        self.assertAlmostEqual(settlement.difference, -100.00, msg="the sale of 100.00 is not booked")
        self.assertIn(missing["transactionId"], settlement.explanation)
        self.assertIn(missing_order, settlement.explanation)
        record = self._txn(missing)
        self.assertEqual(record.state, "waiting")
        self.assertAlmostEqual(record.gap, 100.00)
        self.assertEqual(settlement.waiting_count, 1)
        self.assertNotIn("No transaction explains", settlement.explanation)

        # the invoice arrives: the next synchronisation pays it and the settlement reconciles
        self._invoice(missing_order, 100.00)
        self._sync_payouts()
        self.assertTrue(settlement.is_reconciled, settlement.explanation)

    def test_settlement_difference_no_transaction_explains(self):
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 116.00)
        self._sale(order, group, "116.00", "17.40")
        self._publish_deposit(group, 90.00)  # Amazon deposited less than its transactions say
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertAlmostEqual(settlement.difference, 8.60)
        self.assertFalse(settlement.is_reconciled)
        self.assertIn("No transaction explains it", settlement.explanation)
        self.assertIn("98.60", settlement.explanation)

    def test_manual_deposit_books_the_settlement(self):
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 116.00)
        self._sale(order, group, "116.00", "17.40", iva="8.00")
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertEqual(settlement.state, "open")
        bill = settlement.move_ids
        self.assertEqual(bill.state, "draft", "fees wait in a draft bill until the deposit is known")
        self.assertFalse(settlement.payment_ids)
        settlement.write({"deposit_date": settlement.create_date.date(), "deposited_amount": 90.60})
        settlement.action_close()
        self.assertEqual(settlement.state, "closed")
        self.assertEqual(settlement.deposit_source, "manual")
        self.assertEqual(bill.state, "posted")
        withheld = settlement.payment_ids - settlement.deposit_payment_id
        self.assertAlmostEqual(withheld.amount, 8.00)
        self.assertAlmostEqual(settlement.deposit_payment_id.amount, 90.60)
        self.assertEqual(settlement.deposit_payment_id.journal_id, self.bank_journal)
        self.assertTrue(settlement.is_reconciled, settlement.explanation)

    def test_transfer_transaction_gives_the_deposit(self):
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 116.00)
        self._sale(order, group, "116.00", "17.40")
        self._other(group, "Transfer", "-98.60", description="Disbursement to bank")
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertEqual(settlement.deposit_source, "transfer")
        self.assertAlmostEqual(settlement.deposited_amount, 98.60)
        self.assertEqual(settlement.state, "closed")
        self.assertTrue(settlement.is_reconciled, settlement.explanation)

    def test_register_payment_on_post(self):
        order = factory.new_order_id()
        self.amazon.register_payment_on_post = True
        invoice = self._order_invoice(order, 150.00)
        self._run_scheduled("payouts")  # posting runs no payout code: the payouts job pays it
        self.assertEqual(invoice.payment_state, "paid")
        payment = self._payments_in_journal(invoice)
        self.assertEqual(payment.journal_id, self.amazon.clearing_journal_id)
        self.assertEqual(clearing_payments.pay_invoices_in_full(self.amazon, invoice), self.env["account.payment"],
                         "nothing left to pay")
        # Amazon's sale arrives later: counted as booked, not paid twice
        group = self._group()
        txn = self._sale(order, group, "150.00", "22.50")
        self._sync_payouts()
        record = self._txn(txn)
        self.assertEqual(record.state, "done")
        self.assertAlmostEqual(record.order_booked_amount, 150.00)
        self.assertEqual(len(self._payments_in_journal(invoice)), 1)

        self.amazon.register_payment_on_post = False
        other = self._order_invoice(factory.new_order_id(), 80.00)
        self._run_scheduled("payouts")
        self.assertEqual(other.payment_state, "not_paid", "option off: paid when Amazon releases the money")

    def test_cron_records_errors_per_connection(self):
        self.amazon.journal_id = self.bank_journal
        self.amazon.suspense_account_id = False
        self._run_scheduled("payouts")
        self.assertIn("suspense account", self.amazon.finance_last_error)
        payout_settings.apply_defaults(self.amazon)
        group = self._group()
        self._sale(factory.new_order_id(), group, "100.00", "15.00")
        self._run_scheduled("payouts")
        self.assertFalse(self.amazon.finance_last_error)
        self.assertTrue(self._settlement(group))
        self.assertTrue(self.amazon.finance_sync_date)

    def test_default_fee_accounts_from_the_mexican_chart(self):
        fees = self.amazon.fee_account_ids
        commission = payout_settings.fee_account_for(self.amazon, "Commission")
        self.assertEqual(commission.expense_account_id, self._account("cuenta601_74"))
        self.assertEqual(payout_settings.fee_account_for(self.amazon, "referral-fee"), commission,
                         "names compared loosely")
        self.assertEqual(payout_settings.fee_account_for(self.amazon, "FBAPerUnitFulfillmentFee").expense_account_id,
                         self._account("cuenta602_72_01"))
        self.assertEqual(payout_settings.fee_account_for(self.amazon, "ProductAdsPayment").expense_account_id,
                         self._account("cuenta602_61_01"))
        self.assertFalse(payout_settings.fee_account_for(self.amazon, "MysteryFee"))
        tax = commission.tax_ids
        self.assertEqual(tax.amount, 16.0)
        self.assertTrue(tax.price_include)
        self.assertEqual(tax.type_tax_use, "purchase")
        iva = self.amazon.withholding_iva_account_id
        self.assertTrue(iva)
        self.assertNotEqual(iva, self._account("cuenta113_01"), "not mixed with IVA a favor")
        self.assertTrue(iva.code.startswith("113.01."))
        self.assertEqual(self.amazon.withholding_isr_account_id, self._account("cuenta113_02_02"))
        self.assertTrue(self.amazon.suspense_account_id)
        count = len(fees)
        self.amazon.action_load_default_fee_accounts()
        self.assertEqual(len(self.amazon.fee_account_ids), count, "defaults are not added twice")

    def test_settlement_report_with_amazon_settlement_id(self):
        """Amazon's settlement id is not the transactions' group id: the report's orders find the settlement."""
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 116.00)
        self._sale(order, group, "116.00", "17.40")
        self.sim.set_report_document("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "\r\n".join([
            "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\tcurrency\t"
            "transaction-type\torder-id\tamount-type\tamount-description\tamount",
            "18293746501\t2026-01-01 00:00:00 UTC\t2026-01-15 00:00:00 UTC\t2026-01-16 10:00:00 UTC\t98.60\tMXN"
            "\t\t\t\t\t",
            f"18293746501\t\t\t\t\t\tOrder\t{order}\tItemPrice\tPrincipal\t116.00",
            f"18293746501\t\t\t\t\t\tOrder\t{order}\tItemFees\tCommission\t-17.40",
        ]) + "\r\n", encoding="cp1252")
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertEqual(settlement.settlement_ref, "18293746501")
        self.assertEqual(str(settlement.deposit_date), "2026-01-16")
        self.assertEqual(str(settlement.end_date), "2026-01-15 00:00:00")
        self.assertAlmostEqual(settlement.deposited_amount, 98.60)
        self.assertFalse(self._settlement("18293746501"), "no second settlement")
        self.assertTrue(settlement.is_reconciled, settlement.explanation)

    def test_classification_of_amazon_shapes(self):
        """Amazon's real answers vary: case of statuses, breakdowns on items only, totals the breakdowns do
        not explain, other marketplaces' taxes. Nothing is dropped."""
        from ..spapi.finances import parse_transaction
        from ..utils.settlement import classify_transaction

        def bd(kind, amount, children=()):
            return {"breakdownType": kind, "breakdownAmount": {"currencyCode": "MXN", "currencyAmount": amount},
                    "breakdowns": list(children)}

        def txn(ttype, total, breakdowns=(), items=(), marketplace=factory.MX, status="Released"):
            return parse_transaction({
                "transactionType": ttype, "transactionId": "T1", "transactionStatus": status,
                "postedDate": "2026-01-10T10:00:00Z", "totalAmount": {"currencyCode": "MXN", "currencyAmount": total},
                "marketplaceDetails": {"marketplaceId": marketplace}, "breakdowns": list(breakdowns),
                "items": list(items),
            })

        def parts(t):
            return sorted((p["category"], p["amazon_type"], float(p["amount"])) for p in classify_transaction(t))

        # breakdowns on the item only, fee with its base and tax, a total the breakdowns do not explain
        item = {"description": "MUG", "totalAmount": {"currencyCode": "MXN", "currencyAmount": 81.2},
                "breakdowns": [bd("Sales", 116.0, [bd("Product Charges", 116.0)]),
                               bd("Expenses", -34.8, [bd("Amazon Fees", -34.8, [
                                   bd("Commission", -17.4, [bd("Base", -15.0), bd("Tax", -2.4)]),
                                   bd("FBA Fees", -17.4)])])]}
        self.assertEqual(parts(txn("Shipment", 80.0, items=[item])), [
            ("fee", "Commission", -17.4), ("fee", "FBA Fees", -17.4), ("sale", "Sales", 116.0),
            ("unknown", "Unexplained", -1.2)])
        commission = next(p for p in classify_transaction(txn("Shipment", 81.2, items=[item]))
                          if p["amazon_type"] == "Commission")
        self.assertEqual(float(commission["tax_amount"]), -2.4)
        # a sale without breakdowns cannot pay an invoice: its total is listed, not guessed
        self.assertEqual(parts(txn("Shipment", 99.0)), [("unknown", "Shipment", 99.0)])
        # unknown transaction type, refund of a withholding, standalone ISR withholding
        self.assertEqual(parts(txn("Adjustment", 12.5)), [("unknown", "Adjustment", 12.5)])
        self.assertEqual(parts(txn("TaxWithholding", -40.0, [bd("ISR", -40.0)])),
                         [("withholding_isr", "ISR", -40.0)])
        self.assertEqual(parts(txn("Refund", -50.0, [bd("Sales", -58.0), bd("TaxWithholding", 8.0)])),
                         [("refund", "Sales", -58.0), ("withholding_iva", "TaxWithholding", 8.0)])
        # the US marketplace facilitator tax is not a Mexican withholding
        self.assertEqual(parts(txn("Shipment", 100.0, [bd("Sales", 100.0), bd("Tax", 0.0, [
            bd("OurPriceTax", 8.0), bd("MarketplaceFacilitatorTax", -8.0)])], marketplace="ATVPDKIKX0DER")), [
            ("sale", "OurPriceTax", 8.0), ("sale", "Sales", 100.0), ("unknown", "MarketplaceFacilitatorTax", -8.0)])
        # lower-case status of Amazon's answers
        values = self.env["amazon.settlement.transaction"]._values_from_api(self.amazon, txn("Shipment", 1.0))
        self.assertEqual(values["status"], "RELEASED")

    def test_new_connection_first_sync_reads_nothing_yet(self):
        """Read-from date just now: Amazon would refuse the period, so nothing is asked and nothing fails."""
        self.amazon.write({"finance_start_date": fields.Datetime.now(), "finance_sync_date": False})
        self.sim.reset_records()
        result = self._sync_payouts()
        self.assertEqual(result["count"], 0)
        self.assertEqual(self.sim.count(operation="listTransactions"), 0)
        self.assertFalse(self.amazon.finance_last_error)
