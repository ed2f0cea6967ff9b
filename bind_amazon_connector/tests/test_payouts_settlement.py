import base64
import copy
import uuid
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from spapi_simulator import factory

from ..models.payouts import payout_settings
from .common import AmazonFinanceCommon, build_cfdi


@tagged("post_install", "-at_install")
class TestAmazonSettlementBooks(AmazonFinanceCommon):
    """A settlement as a Mexican accountant books it: one bank movement per deposit through the clearing
    account, Amazon's own IVA on the fee bill, the refunded product on the credit note, fees wherever Amazon
    details them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Product = cls.env["product.product"]
        cls.molcajete = Product.create({"name": "Molcajete grande", "default_code": "MOLCAJETE-GDE",
                                        "type": "consu", "list_price": 348.0})
        cls.rebozo = Product.create({"name": "Rebozo de seda azul", "default_code": "REBOZO-SEDA-AZ",
                                     "type": "consu", "list_price": 116.0})

    def _two_product_invoice(self, order_id):
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_date": fields.Date.today() - timedelta(days=3), "ref": order_id,
            "invoice_line_ids": [
                Command.create({"name": "[REBOZO-SEDA-AZ] Rebozo", "product_id": self.rebozo.id, "quantity": 1,
                                "price_unit": 116.0, "tax_ids": [Command.set(self.sale_tax.ids)]}),
                Command.create({"name": "[MOLCAJETE-GDE] Molcajete", "product_id": self.molcajete.id,
                                "quantity": 2, "price_unit": 348.0, "tax_ids": [Command.set(self.sale_tax.ids)]}),
                Command.create({"name": "Envío", "product_id": self.env.ref(
                    "bind_amazon_connector.product_amazon_shipping").id, "quantity": 1, "price_unit": 58.0,
                    "tax_ids": [Command.set(self.sale_tax.ids)]}),
            ],
        })
        invoice.action_post()
        return invoice

    def _refund(self, order_id, group, items, total):
        """A Refund transaction whose items name the refunded SKU and quantity (no top-level detail)."""
        txn = factory.make_transaction(order_id, group_id=group, principal="0.00", commission="0.00",
                                       transaction_type="Refund", seller_id=self.sim.seller_id,
                                       posted=self.sim.now() - timedelta(hours=6), total=total)
        txn["breakdowns"] = []
        txn["items"] = items
        return self.sim.add_transaction(txn)

    @staticmethod
    def _item(sku, quantity, breakdowns):
        return {"description": sku, "totalAmount": factory._cur(sum(b["breakdownAmount"]["currencyAmount"]
                                                                    for b in breakdowns), "MXN"),
                "breakdowns": breakdowns,
                "relatedIdentifiers": [{"itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                                        "itemRelatedIdentifierValue": f"OAI-{sku}"}],
                "contexts": [{"contextType": "ProductContext", "sku": sku, "quantityShipped": quantity}]}

    # ------------------------------------------------------------------ one bank movement per deposit

    def test_one_bank_entry_per_deposit_reconciled_with_the_statement(self):
        group = self._group()
        orders = [factory.new_order_id() for _i in range(3)]
        invoices = [self._invoice(order, amount) for order, amount in zip(orders, (232.0, 116.0, 348.0),
                                                                           strict=True)]
        self._sale(orders[0], group, "232.00", "34.80", iva="16.00", isr="2.00")
        self._sale(orders[1], group, "116.00", "17.40", fba_fee="20.00", iva="8.00", isr="1.00")
        self._sale(orders[2], group, "348.00", "52.20")
        refund = self._sale(orders[2], group, "-116.00", "-17.40", transaction_type="Refund",
                            posted=self.sim.now() - timedelta(hours=10))
        self._other(group, "ServiceFee", "-116.00", description="Subscription")
        deposit = round(232 + 116 + 348 - 116 - 34.80 - 17.40 - 20 - 52.20 + 17.40 - 16 - 2 - 8 - 1 - 116, 2)
        self._publish_deposit(group, deposit)
        bank_moves_before = self.env["account.move"].search([("journal_id", "=", self.bank_journal.id)])
        self._sync_payouts()

        settlement = self._settlement(group)
        self.assertTrue(settlement.is_reconciled, settlement.explanation)
        for invoice in invoices:
            self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(self._txn(refund).state, "done")
        bank_moves = self.env["account.move"].search([("journal_id", "=", self.bank_journal.id)]) \
            - bank_moves_before
        self.assertEqual(len(bank_moves), 1, "one bank movement for the whole deposit")
        self.assertEqual(bank_moves, settlement.deposit_payment_id.move_id)
        liquidity = bank_moves.line_ids.filtered(lambda ln: ln.account_id != self.amazon.clearing_account_id)
        self.assertAlmostEqual(sum(liquidity.mapped("balance")), deposit)
        self.assertIn(settlement.name, settlement.deposit_payment_id.memo)
        clearing = self.env["account.move.line"].search([
            ("account_id", "=", self.amazon.clearing_account_id.id), ("parent_state", "=", "posted")])
        self.assertAlmostEqual(sum(clearing.mapped("balance")), 0.0, msg="nothing left on the clearing account")
        self.assertTrue(all(clearing.mapped("reconciled")), "the settlement's clearing lines reconcile together")
        payments = settlement.transaction_ids.payment_ids
        self.assertTrue(payments)
        self.assertEqual(payments.journal_id, self.amazon.clearing_journal_id)
        self.assertIn(orders[0], self._payments_in_journal(invoices[0]).memo)

        # the bank statement line of the deposit: Odoo proposes the entry, and it reconciles with it
        st_line = self.env["account.bank.statement.line"].create({
            "journal_id": self.bank_journal.id, "date": settlement.deposit_date, "amount": deposit,
            "payment_ref": f"AMAZON {settlement.name}", "partner_id": self.amazon.amazon_partner_id.id,
        })
        outstanding = settlement.deposit_payment_id.move_id.line_ids.filtered(
            lambda ln: ln.account_id != self.amazon.clearing_account_id)
        proposed = self.env["account.move.line"].search(st_line._get_default_amls_matching_domain())
        self.assertIn(outstanding, proposed)
        _liquidity, suspense, _other = st_line._seek_for_lines()
        suspense.account_id = outstanding.account_id
        (suspense | outstanding).reconcile()
        self.assertTrue(st_line.is_reconciled)
        self.assertTrue(outstanding.reconciled)

    def test_clearing_defaults_and_the_bank_is_not_the_settlement_journal(self):
        clearing = self.amazon.clearing_account_id
        self.assertTrue(clearing.reconcile)
        self.assertEqual(clearing.account_type, "asset_current")
        journal = self.amazon.clearing_journal_id
        self.assertNotEqual(journal, self.bank_journal)
        self.assertEqual((journal.inbound_payment_method_line_ids | journal.outbound_payment_method_line_ids)
                         .payment_account_id, clearing, "its payments post on the clearing account")
        with self.assertRaises(ValidationError):
            self.amazon.clearing_journal_id = self.bank_journal

    def test_deferred_sale_paid_on_post_waits_on_the_clearing_account(self):
        order = factory.new_order_id()
        self.amazon.register_payment_on_post = True
        invoice = self._order_invoice(order, 300.0)
        self._run_scheduled("payouts")  # posting runs no payout code: the payouts job pays it
        self.assertEqual(invoice.payment_state, "paid")
        self._sale(order, self._group(), "300.00", "45.00", status="DEFERRED")
        self._sync_payouts()
        clearing = self.env["account.move.line"].search([
            ("account_id", "=", self.amazon.clearing_account_id.id), ("parent_state", "=", "posted")])
        self.assertAlmostEqual(sum(clearing.mapped("balance")), 300.0, msg="Amazon holds it until released")
        self.assertFalse(self.env["account.move"].search([("journal_id", "=", self.bank_journal.id),
                                                          ("amazon_settlement_id", "!=", False)]))

    def test_split_shipment_paid_on_post_leaves_nothing_unreconciled(self):
        """One sale shipped in two packages: Amazon's Finances report a Shipment transaction per package, each in
        the settlement of its day. The invoice was paid on post in full; after the second transaction's
        settlement, every clearing line of the sale and of both settlements is reconciled."""
        order = factory.new_order_id()
        other = factory.new_order_id()
        self.amazon.register_payment_on_post = True
        invoice = self._order_invoice(order, 1000.0)
        other_invoice = self._order_invoice(other, 300.0)
        self._run_scheduled("payouts")
        self.assertEqual((invoice.payment_state, other_invoice.payment_state), ("paid", "paid"))
        clearing_account = self.amazon.clearing_account_id
        on_post = self._payments_in_journal(invoice).move_id.line_ids.filtered(
            lambda ln: ln.account_id == clearing_account)
        self.assertEqual(len(on_post), 1)
        first, second = self._group(), self._group()
        self._sale(order, first, "600.00", "90.00", posted=self.sim.now() - timedelta(days=3))
        self._sale(other, first, "300.00", "45.00", posted=self.sim.now() - timedelta(days=3))
        self._publish_deposit(first, 600.0 - 90.0 + 300.0 - 45.0, self.sim.now() - timedelta(days=2))
        self._sync_payouts()
        settlement = self._settlement(first)
        self.assertEqual(settlement.state, "closed")
        self.assertTrue(settlement.is_reconciled, settlement.explanation)
        self.assertTrue(other_invoice.payment_state == "paid" and invoice.payment_state == "paid")
        self.assertFalse(on_post.reconciled, "400.00 of the sale not released yet: it waits on the clearing account")

        self._sale(order, second, "400.00", "60.00", posted=self.sim.now() - timedelta(hours=20))
        self._publish_deposit(second, 400.0 - 60.0, self.sim.now() - timedelta(hours=2))
        self._sync_payouts()
        self.assertEqual(self._settlement(second).state, "closed")
        self.assertTrue(self._settlement(second).is_reconciled, self._settlement(second).explanation)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(sum(self._settlement(g).sales_amount for g in (first, second)), 1300.0)
        self.assertTrue(on_post.reconciled, "the payment on post is matched by both settlements")
        clearing = self.env["account.move.line"].search([
            ("account_id", "=", clearing_account.id), ("parent_state", "=", "posted")])
        self.assertAlmostEqual(sum(clearing.mapped("balance")), 0.0, msg="nothing left on the clearing account")
        self.assertEqual(clearing.filtered(lambda ln: not ln.reconciled), self.env["account.move.line"],
                         "every clearing line of the sale and its settlements is reconciled")

    def test_split_shipment_settlements_deposited_in_any_order(self):
        """The later package's settlement is deposited first: the sale's clearing lines reconcile when the
        earlier one is."""
        order = factory.new_order_id()
        self.amazon.register_payment_on_post = True
        invoice = self._order_invoice(order, 500.0)
        self._run_scheduled("payouts")
        first, second = self._group(), self._group()
        self._sale(order, first, "200.00", "30.00", posted=self.sim.now() - timedelta(days=3))
        self._sale(order, second, "300.00", "45.00", posted=self.sim.now() - timedelta(days=2))
        self._publish_deposit(second, 300.0 - 45.0, self.sim.now() - timedelta(hours=3))
        self._sync_payouts()
        self.assertEqual((self._settlement(first).state, self._settlement(second).state), ("open", "closed"))
        clearing = lambda: self.env["account.move.line"].search([  # noqa: E731
            ("account_id", "=", self.amazon.clearing_account_id.id), ("parent_state", "=", "posted")])
        self.assertTrue(clearing().filtered(lambda ln: not ln.reconciled), "the first settlement is not deposited")
        self._publish_deposit(first, 200.0 - 30.0, self.sim.now() - timedelta(hours=2))
        self._sync_payouts()
        self.assertEqual(self._settlement(first).state, "closed")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAlmostEqual(sum(clearing().mapped("balance")), 0.0)
        self.assertFalse(clearing().filtered(lambda ln: not ln.reconciled))

    # ------------------------------------------------------------------ fees wherever Amazon details them

    def test_fees_detailed_only_at_item_level(self):
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 348.0)
        self.sim.add_transaction(factory.make_transaction(
            order, group_id=group, principal="348.00", commission="52.20", fba_fee="20.00", sku="MOLCAJETE-GDE",
            fee_detail="items", posted=self.sim.now() - timedelta(days=1), seller_id=self.sim.seller_id))
        self._publish_deposit(group, 348.0 - 72.20)
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertFalse(settlement.unknown_count, settlement.line_ids.filtered("is_unknown").mapped("amazon_type"))
        fees = settlement.line_ids.filtered(lambda ln: ln.category == "fee")
        self.assertEqual(sorted(fees.mapped("amazon_type")), ["Commission", "FBAPerUnitFulfillmentFee"])
        self.assertEqual(set(fees.mapped("sku")), {"MOLCAJETE-GDE"})
        bill = settlement.move_ids
        by_account = {line.account_id: line.price_total for line in bill.invoice_line_ids}
        self.assertAlmostEqual(by_account[payout_settings.chart_ref(self.amazon, "cuenta601_74")], 52.20)
        self.assertAlmostEqual(by_account[payout_settings.chart_ref(self.amazon, "cuenta602_72_01")], 20.00)
        self.assertFalse(bill.invoice_line_ids.filtered(lambda ln: ln.account_id == self.amazon.suspense_account_id))
        self.assertTrue(settlement.is_reconciled, settlement.explanation)

    def test_fees_detailed_at_both_levels_are_counted_once(self):
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 348.0)
        self.sim.add_transaction(factory.make_transaction(
            order, group_id=group, principal="348.00", commission="52.20", fba_fee="20.00", sku="MOLCAJETE-GDE",
            fee_detail="both", posted=self.sim.now() - timedelta(days=1), seller_id=self.sim.seller_id))
        self._publish_deposit(group, 348.0 - 72.20)
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertAlmostEqual(settlement.fee_amount, 72.20)
        self.assertAlmostEqual(settlement.sales_amount, 348.0)
        self.assertAlmostEqual(settlement.move_ids.amount_total, 72.20)
        self.assertTrue(settlement.is_reconciled, settlement.explanation)

    # ------------------------------------------------------------------ Amazon's IVA on the fee bill

    def test_fee_bill_iva_is_amazons_to_the_cent_and_matches_the_cfdi(self):
        """Two commissions of 30.17 and 20.77: Amazon's IVA is 4.16 + 2.86 = 7.02; Odoo's split of the
        50.94 gross would say 7.03."""
        group = self._group()
        orders = [factory.new_order_id(), factory.new_order_id()]
        for order, price, commission in zip(orders, ("201.13", "138.47"), ("30.17", "20.77"), strict=True):
            self._invoice(order, float(price))
            self.sim.add_transaction(factory.make_transaction(
                order, group_id=group, principal=price, commission=commission, sku="TAZA", fee_tax=True,
                fee_detail="items", posted=self.sim.now() - timedelta(days=1), seller_id=self.sim.seller_id))
        self._sync_payouts()
        settlement = self._settlement(group)
        bill = settlement.move_ids
        self.assertEqual(bill.state, "draft")
        self.assertAlmostEqual(bill.amount_total, 50.94)
        self.assertAlmostEqual(bill.amount_tax, 7.02, msg="Amazon's IVA, not 7.03")
        self.assertAlmostEqual(bill.amount_untaxed, 43.92)
        line = bill.invoice_line_ids
        self.assertAlmostEqual(line.price_subtotal, 43.92)
        self.assertAlmostEqual(line.price_total, 50.94)
        tax_line = bill.line_ids.filtered(lambda ln: ln.display_type == "tax")
        self.assertAlmostEqual(tax_line.balance, 7.02, msg="IVA acreditable as Amazon charged it")

        uuid_ = str(uuid.uuid4()).upper()
        xml = build_cfdi([{"description": "Tarifas por referencia", "quantity": 1, "unit_price": 43.92,
                           "iva": 0.16, "iva_amount": 7.02}], uuid_=uuid_, series="MXA", folio="778899")
        wizard = self.env["amazon.commission.invoice.wizard"].create({
            "account_id": self.amazon.id, "settlement_id": settlement.id, "xml_file": base64.b64encode(xml),
            "xml_filename": "amazon.xml"})
        self.assertFalse(wizard.error)
        self.assertEqual(wizard.match_move_id, bill)
        self.assertFalse(wizard.comparison)
        wizard.action_confirm()
        self.assertEqual(bill.amazon_cfdi_uuid, uuid_)
        self.assertEqual(bill.ref, "MXA-778899", "the CFDI's Serie-Folio")
        self.assertEqual(bill.state, "posted")
        self.assertAlmostEqual(bill.amount_tax, 7.02)

    def test_withholdings_on_their_own_accounts_shown_separately(self):
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 232.0)
        self._sale(order, group, "232.00", "34.80", iva="16.00", isr="2.00")
        self._publish_deposit(group, 232.0 - 34.80 - 18.0)
        self._sync_payouts()
        settlement = self._settlement(group)
        self.assertAlmostEqual(settlement.withholding_iva_amount, 16.0)
        self.assertAlmostEqual(settlement.withholding_isr_amount, 2.0)
        iva_account = self.amazon.withholding_iva_account_id
        self.assertNotEqual(iva_account, payout_settings.chart_ref(self.amazon, "cuenta113_01"), "not on IVA a favor")
        self.assertEqual(self.amazon.withholding_isr_account_id,
                         payout_settings.chart_ref(self.amazon, "cuenta113_02_02"))
        lines = self.env["account.move.line"].search([("account_id", "=", iva_account.id)])
        self.assertAlmostEqual(sum(lines.mapped("balance")), 16.0)

    # ------------------------------------------------------------------ credit notes for what was refunded

    def test_refund_of_one_of_two_products(self):
        group = self._group()
        order = factory.new_order_id()
        invoice = self._two_product_invoice(order)
        refund = self._refund(order, self._group(), [self._item("MOLCAJETE-GDE", 1, [
            factory._bd("Sales", "-348.00", "MXN", [factory._bd("ProductCharges", "-348.00", "MXN")])])], "-348.00")
        del group
        self._sync_payouts()
        record = self._txn(refund)
        self.assertEqual(record.state, "done", record.message)
        credit_note = record.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        line = credit_note.invoice_line_ids
        self.assertEqual(line.product_id, self.molcajete, "the refunded product, not the first line")
        self.assertEqual(line.quantity, 1)
        self.assertAlmostEqual(credit_note.amount_total, 348.0)
        self.assertAlmostEqual(credit_note.amount_tax, 48.0)
        self.assertEqual(credit_note.payment_state, "paid")

    def test_shipping_only_refund(self):
        order = factory.new_order_id()
        self._two_product_invoice(order)
        refund = self._refund(order, self._group(), [self._item("REBOZO-SEDA-AZ", 1, [
            factory._bd("Sales", "-58.00", "MXN", [factory._bd("Shipping", "-58.00", "MXN")])])], "-58.00")
        self._sync_payouts()
        record = self._txn(refund)
        self.assertEqual(record.state, "done", record.message)
        credit_note = record.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(credit_note.invoice_line_ids.product_id,
                         self.env.ref("bind_amazon_connector.product_amazon_shipping"))
        self.assertAlmostEqual(credit_note.amount_total, 58.0)

    def test_partial_refund_with_shipping_on_its_own_line(self):
        order = factory.new_order_id()
        self._two_product_invoice(order)
        refund = self._refund(order, self._group(), [self._item("MOLCAJETE-GDE", 2, [
            factory._bd("Sales", "-754.00", "MXN", [factory._bd("ProductCharges", "-696.00", "MXN"),
                                                    factory._bd("Shipping", "-58.00", "MXN")])])], "-754.00")
        self._sync_payouts()
        credit_note = self._txn(refund).invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        lines = {ln.product_id: ln for ln in credit_note.invoice_line_ids}
        self.assertEqual(lines[self.molcajete].quantity, 2)
        self.assertAlmostEqual(lines[self.molcajete].price_total, 696.0)
        self.assertAlmostEqual(lines[self.env.ref("bind_amazon_connector.product_amazon_shipping")].price_total,
                               58.0)

    def test_refund_that_names_no_product_goes_to_error(self):
        order = factory.new_order_id()
        self._two_product_invoice(order)
        refund = factory.make_transaction(order, group_id=self._group(), principal="-116.00", commission="0.00",
                                          transaction_type="Refund", seller_id=self.sim.seller_id,
                                          posted=self.sim.now() - timedelta(hours=6))
        self.sim.add_transaction(refund)
        credit_notes_before = self.env["account.move"].search_count([("move_type", "=", "out_refund")])
        self._sync_payouts()
        record = self._txn(refund)
        self.assertEqual(record.state, "error")
        self.assertIn("names no product", record.message)
        self.assertEqual(self.env["account.move"].search_count([("move_type", "=", "out_refund")]),
                         credit_notes_before, "nothing half-written")

        # a SKU that is not on the invoice is refused too, with the SKU in the reason
        other = copy.deepcopy(refund)
        other["transactionId"] = "SIMTXN-OTHER-" + uuid.uuid4().hex[:8]
        other["items"] = [self._item("SOMBRERO", 1, other["breakdowns"])]
        other["breakdowns"] = []
        self.sim.add_transaction(other)
        self._sync_payouts()
        self.assertEqual(self._txn(other).state, "error")
        self.assertIn("SOMBRERO", self._txn(other).message)
