"""Each connection numbers in its own journals: a new connection gets its own sales journal (its series of
invoices and credit notes), its own payouts journal and its own cash-basis journal (the cash-basis IVA of its
payments), unless an accountant picks shared ones; connections made before keep the company's Sales journal and
cash-basis journal; only accountants choose them, and only journals of the connection's company."""
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from spapi_simulator import factory

from ..models.connection.connection_journals import company_sales_journal
from ..models.payouts import clearing_payments
from .common import AMAZON_ADMIN, AmazonFinanceCommon, AmazonOrderCommon, run_migration


@tagged("post_install", "-at_install")
class TestConnectionJournals(AmazonOrderCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls._user("journals_amazon_admin", AMAZON_ADMIN, name="Amazon Admin (no accounting)")
        cls.accountant = cls._user("journals_accountant", AMAZON_ADMIN,
                                   "account.group_account_manager", name="Contadora")

    def _new_connection(self, user=None, **vals):
        vals = self._amazon_account_vals(**{"name": "Amazon Tienda 2", "seller_id": "A3SECONDSELLER", **vals})
        for fname in ("lwa_client_id", "lwa_client_secret", "refresh_token", "endpoint_override",
                      "token_url_override", "state"):
            vals.pop(fname)  # secrets and developer settings: not what this test is about
        if user and not user.has_group("account.group_account_invoice"):
            vals.pop("journal_id")  # the bank the deposits reach is an accountant's choice (docs/security.rst)
        return self.env["amazon.account"].with_user(user or self.env.user).create(vals).sudo()

    def test_a_new_connection_numbers_in_journals_of_its_own(self):
        company_journal = self.company_data["default_journal_sale"]
        sales, payouts = self.amazon.sales_journal_id, self.amazon.clearing_journal_id
        self.assertEqual((sales.type, sales.company_id), ("sale", self.company))
        self.assertNotEqual(sales, company_journal)
        self.assertTrue(sales.code.startswith("AMZ"))
        self.assertEqual(sales.name, "Amazon MX")
        self.assertEqual(payouts.type, "bank")
        cash_basis = self.amazon.cash_basis_journal_id
        self.assertEqual((cash_basis.type, cash_basis.company_id), ("general", self.company))
        self.assertTrue(cash_basis.code.startswith("AMZC"), cash_basis.code)
        self.assertNotEqual(cash_basis, self.company.tax_cash_basis_journal_id, "not the chart's CBMX")
        self.assertEqual((payouts.inbound_payment_method_line_ids | payouts.outbound_payment_method_line_ids)
                         .payment_account_id, self.amazon.clearing_account_id)
        # a second connection, made by an Amazon administrator with no accounting group: journals of its own too
        other = self._new_connection(user=self.admin)
        self.assertEqual(other.sales_journal_id.name, "Amazon Tienda 2")
        self.assertNotIn(other.sales_journal_id, sales | company_journal)
        self.assertNotIn(other.clearing_journal_id, payouts | self.bank_journal)
        self.assertEqual(len((sales | other.sales_journal_id).mapped("code")), 2)
        self.assertNotIn(other.cash_basis_journal_id, cash_basis | self.company.tax_cash_basis_journal_id)
        self.assertEqual(other.cash_basis_journal_id.type, "general")
        # an accountant may pick shared ones: no journal is made then
        journals = self.env["account.journal"].search_count([])
        company_cash_basis = self.company.tax_cash_basis_journal_id
        shared = self._new_connection(user=self.accountant, seller_id="A3THIRDSELLER",
                                      sales_journal_id=company_journal.id, clearing_journal_id=payouts.id,
                                      cash_basis_journal_id=company_cash_basis.id)
        self.assertEqual((shared.sales_journal_id, shared.clearing_journal_id, shared.cash_basis_journal_id),
                         (company_journal, payouts, company_cash_basis))
        self.assertEqual(self.env["account.journal"].search_count([]), journals)

    def test_no_cash_basis_journal_without_cash_basis_iva(self):
        """A company whose IVA is due when invoiced has no cash-basis entries: no journal is made for them."""
        self.company.tax_exigibility = False
        self.assertFalse(self._new_connection().cash_basis_journal_id)

    def test_invoices_of_the_import_number_in_the_connection_series(self):
        self._put_stock(self.product_mug, 10)
        order = self._make_order(status="SHIPPED")
        self._sync()
        invoice = self._invoices(self._amazon_order(order["orderId"]))
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.journal_id, self.amazon.sales_journal_id)
        self.assertTrue(invoice.name.startswith(self.amazon.sales_journal_id.code + "/"), invoice.name)
        self.assertEqual(invoice.line_ids.sale_line_ids.order_id.journal_id, self.amazon.sales_journal_id)

    def test_an_existing_connection_keeps_the_company_journal_after_the_migration(self):
        self.amazon.sudo().sales_journal_id = False  # as every connection was before 19.0.2.1.0
        run_migration(self.env.cr, "19.0.2.1.0", "19.0.2.0.0")
        self.env.invalidate_all()
        self.assertEqual(self.amazon.sales_journal_id, self.company_data["default_journal_sale"])
        self.assertEqual(self.amazon.sales_journal_id, company_sales_journal(self.env, self.company))
        self._put_stock(self.product_mug, 10)
        order = self._make_order(status="SHIPPED")
        self._sync()
        invoice = self._invoices(self._amazon_order(order["orderId"]))
        self.assertEqual(invoice.journal_id, self.company_data["default_journal_sale"], "numbered as before")

    def test_only_accountants_choose_the_journals(self):
        company_journal = self.company_data["default_journal_sale"]
        for fname, value in (("sales_journal_id", company_journal.id), ("sales_journal_id", False),
                             ("clearing_journal_id", self.bank_journal.id),
                             ("cash_basis_journal_id", self.company.tax_cash_basis_journal_id.id),
                             ("cash_basis_journal_id", False)):
            with self.subTest(field=fname, value=value), self.assertRaises(AccessError), self.env.cr.savepoint():
                self.amazon.with_user(self.admin).write({fname: value})
            with self.subTest(create=fname), self.assertRaises(AccessError), self.env.cr.savepoint():
                self._new_connection(user=self.admin, **{fname: value or {
                    "cash_basis_journal_id": self.company.tax_cash_basis_journal_id.id}.get(fname, company_journal.id)})
        self.assertNotEqual(self.amazon.sales_journal_id, company_journal)
        self.amazon.with_user(self.accountant).write({"sales_journal_id": company_journal.id})
        self.assertEqual(self.amazon.sales_journal_id, company_journal)
        self.assertNotEqual(self.amazon.cash_basis_journal_id, self.company.tax_cash_basis_journal_id)
        self.amazon.with_user(self.accountant).write({"cash_basis_journal_id": False})
        self.assertFalse(self.amazon.cash_basis_journal_id, "empty: the company's cash-basis journal")

    def test_another_company_journal_or_not_a_sales_journal_is_refused(self):
        other_company = self.setup_other_company()["company"]
        foreign = self.env["account.journal"].search([("company_id", "=", other_company.id), ("type", "=", "sale")],
                                                     limit=1)
        self.assertTrue(foreign)
        foreign_general = self.env["account.journal"].search([("company_id", "=", other_company.id),
                                                              ("type", "=", "general")], limit=1)
        self.assertTrue(foreign_general)
        for fname, journal in (("sales_journal_id", foreign), ("clearing_journal_id", foreign),
                               ("sales_journal_id", self.bank_journal), ("cash_basis_journal_id", foreign_general),
                               ("cash_basis_journal_id", self.bank_journal),
                               ("cash_basis_journal_id", self.company_data["default_journal_sale"])):
            with self.subTest(field=fname, journal=journal.name), \
                    self.assertRaises(UserError), self.env.cr.savepoint():
                self.amazon.with_user(self.accountant).write({fname: journal.id})
                self.env.flush_all()
        with self.assertRaises(ValidationError) as refused, self.env.cr.savepoint():
            self.amazon.with_user(self.accountant).write({"cash_basis_journal_id": self.bank_journal.id})
        self.assertIn(self.bank_journal.display_name, str(refused.exception))
        self.assertIn(self.amazon.name, str(refused.exception))


@tagged("post_install", "-at_install")
class TestConnectionJournalsRefunds(AmazonFinanceCommon):

    def test_credit_note_of_a_refund_numbers_in_the_series_of_its_invoice(self):
        group_sale, group_refund = self._group(), self._group()
        order = factory.new_order_id()
        invoice = self._invoice(order, 232.00, post=False)
        invoice.journal_id = self.amazon.sales_journal_id
        invoice.action_post()
        self._sale(order, group_sale, "232.00", "34.80", iva="16.00")
        refund = self._sale(order, group_refund, "-232.00", "-34.80", iva="-16.00", transaction_type="Refund",
                            posted=self.sim.now() - timedelta(hours=10))
        self._publish_deposit(group_refund, -232.00 + 34.80 + 16.00)
        self._sync_payouts()
        credit_note = self._txn(refund).invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.journal_id, self.amazon.sales_journal_id)
        self.assertEqual(self._payments_in_journal(credit_note).journal_id, self.amazon.clearing_journal_id)


@tagged("post_install", "-at_install")
class TestConnectionCashBasisJournal(AmazonFinanceCommon):
    """The cash-basis IVA entries of a connection's payments number in its own cash-basis journal, not in the
    company's (CBMX), whose numbering the payouts jobs of every connection would otherwise wait for."""

    def _book_sales(self, count=2):
        """``count`` sales released in one settlement with its deposit, booked by the payouts job: the invoices."""
        group = self._group()
        orders = [factory.new_order_id() for _i in range(count)]
        invoices = self.env["account.move"].union(*(self._invoice(order, 116.00) for order in orders))
        for order in orders:
            self._sale(order, group, "116.00", "0.00")
        self._publish_deposit(group, 116.00 * count)
        self._sync_payouts()
        self.assertEqual(set(invoices.mapped("payment_state")), {"paid"})
        return invoices

    def _cash_basis(self, invoices):
        return self.env["account.move"].search([("tax_cash_basis_origin_move_id", "in", invoices.ids)])

    def _pay(self, account, invoices):
        """The payouts flow's payments of ``invoices`` in the settlement journal of ``account``."""
        clearing_payments.pay_moves_batch(account, [
            {"moves": invoice, "date": fields.Date.today(), "memo": invoice.ref} for invoice in invoices])
        self.assertEqual(set(invoices.mapped("payment_state")), {"paid"})

    def _second_connection(self, **vals):
        return self.env["amazon.account"].create(self._amazon_account_vals(
            name="Amazon Tienda 2", seller_id="A3SECONDSELLER", **vals))

    def test_the_cash_basis_iva_of_a_payout_numbers_in_the_connection_journal(self):
        journal = self.amazon.cash_basis_journal_id
        self.assertTrue(journal)
        invoices = self._book_sales()
        caba = self._cash_basis(invoices)
        self.assertEqual(len(caba), 2, "one cash-basis entry per paid invoice")
        self.assertEqual(caba.journal_id, journal)
        self.assertEqual(set(caba.mapped("state")), {"posted"})
        self.assertTrue(all(name.startswith(journal.code + "/") for name in caba.mapped("name")), caba.mapped("name"))
        for invoice in invoices:
            moved = caba.filtered(lambda m, i=invoice: m.tax_cash_basis_origin_move_id == i)
            self.assertAlmostEqual(sum(moved.line_ids.filtered("tax_line_id").mapped("balance")),
                                   invoice.line_ids.filtered("tax_line_id").balance,
                                   msg="all of the invoice's IVA moved to the collected account")
        self.assertFalse(self.env["account.move"].search_count([
            ("journal_id", "=", self.company.tax_cash_basis_journal_id.id)]), "nothing in the company's CBMX")
        # unreconciling reverses the entries in the same journal, and the invoice is due again
        invoice = invoices[0]
        invoice.line_ids.filtered(lambda ln: ln.account_id.account_type == "asset_receivable").remove_move_reconcile()
        self.assertEqual(invoice.payment_state, "not_paid")
        undone = caba.filtered(lambda m: m.tax_cash_basis_origin_move_id == invoice)
        reversal = self.env["account.move"].search([("reversed_entry_id", "=", undone.id)])
        self.assertEqual((reversal.journal_id, reversal.state), (journal, "posted"))
        self.assertTrue(reversal.name.startswith(journal.code + "/"), reversal.name)
        self.assertEqual(sorted(reversal.line_ids.mapped("balance")),
                         sorted(-balance for balance in undone.line_ids.mapped("balance")))

    def test_a_connection_without_one_uses_the_company_journal(self):
        self.amazon.sudo().cash_basis_journal_id = False  # a connection made before it existed
        caba = self._cash_basis(self._book_sales())
        self.assertEqual(len(caba), 2)
        self.assertEqual(caba.journal_id, self.company.tax_cash_basis_journal_id)
        self.assertEqual(caba.journal_id.code, "CBMX")

    def test_two_connections_number_in_two_journals(self):
        other = self._second_connection()
        self.assertNotEqual(other.cash_basis_journal_id, self.amazon.cash_basis_journal_id)
        ours, theirs = (self._invoice(factory.new_order_id(), 116.00) | self._invoice(factory.new_order_id(), 58.00),
                        self._invoice(factory.new_order_id(), 232.00))
        self._pay(self.amazon, ours)
        self._pay(other, theirs)
        self.assertEqual(self._cash_basis(ours).journal_id, self.amazon.cash_basis_journal_id)
        self.assertEqual(len(self._cash_basis(ours)), 2)
        self.assertEqual(self._cash_basis(theirs).journal_id, other.cash_basis_journal_id)
        # paid by hand with Odoo's wizard from a connection's settlement journal: the same journal
        by_hand = self._invoice(factory.new_order_id(), 116.00)
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=by_hand.ids).create(
            {"journal_id": other.clearing_journal_id.id, "payment_date": fields.Date.today()})._create_payments()
        self.assertEqual(self._cash_basis(by_hand).journal_id, other.cash_basis_journal_id)

    def test_a_journal_shared_by_connections_numbering_apart_keeps_odoos(self):
        """Two connections paying in one settlement journal, each with its own cash-basis journal: whose the
        entries are is not known from the records, so they stay where Odoo books them."""
        other = self._second_connection(clearing_journal_id=self.amazon.clearing_journal_id.id)
        self.assertNotEqual(other.cash_basis_journal_id, self.amazon.cash_basis_journal_id)
        invoices = self._invoice(factory.new_order_id(), 116.00)
        self._pay(self.amazon, invoices)
        self.assertEqual(self._cash_basis(invoices).journal_id, self.company.tax_cash_basis_journal_id)
