"""Each connection numbers in its own journals: a new connection gets its own sales journal (its series of
invoices and credit notes) and its own payouts journal, unless an accountant picks shared ones; connections made
before keep the company's Sales journal; only accountants choose them, and only journals of the connection's
company."""
from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from spapi_simulator import factory

from ..models.connection.connection_journals import company_sales_journal
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
        self.assertEqual((payouts.inbound_payment_method_line_ids | payouts.outbound_payment_method_line_ids)
                         .payment_account_id, self.amazon.clearing_account_id)
        # a second connection, made by an Amazon administrator with no accounting group: journals of its own too
        other = self._new_connection(user=self.admin)
        self.assertEqual(other.sales_journal_id.name, "Amazon Tienda 2")
        self.assertNotIn(other.sales_journal_id, sales | company_journal)
        self.assertNotIn(other.clearing_journal_id, payouts | self.bank_journal)
        self.assertEqual(len((sales | other.sales_journal_id).mapped("code")), 2)
        # an accountant may pick shared ones: no journal is made then
        journals = self.env["account.journal"].search_count([])
        shared = self._new_connection(user=self.accountant, seller_id="A3THIRDSELLER",
                                      sales_journal_id=company_journal.id, clearing_journal_id=payouts.id)
        self.assertEqual((shared.sales_journal_id, shared.clearing_journal_id), (company_journal, payouts))
        self.assertEqual(self.env["account.journal"].search_count([]), journals)

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
                             ("clearing_journal_id", self.bank_journal.id)):
            with self.subTest(field=fname, value=value), self.assertRaises(AccessError), self.env.cr.savepoint():
                self.amazon.with_user(self.admin).write({fname: value})
            with self.subTest(create=fname), self.assertRaises(AccessError), self.env.cr.savepoint():
                self._new_connection(user=self.admin, **{fname: value or company_journal.id})
        self.assertNotEqual(self.amazon.sales_journal_id, company_journal)
        self.amazon.with_user(self.accountant).write({"sales_journal_id": company_journal.id})
        self.assertEqual(self.amazon.sales_journal_id, company_journal)

    def test_another_company_journal_or_not_a_sales_journal_is_refused(self):
        other_company = self.setup_other_company()["company"]
        foreign = self.env["account.journal"].search([("company_id", "=", other_company.id), ("type", "=", "sale")],
                                                     limit=1)
        self.assertTrue(foreign)
        for fname, journal in (("sales_journal_id", foreign), ("clearing_journal_id", foreign),
                               ("sales_journal_id", self.bank_journal)):
            with self.subTest(field=fname, journal=journal.name), \
                    self.assertRaises(UserError), self.env.cr.savepoint():
                self.amazon.with_user(self.accountant).write({fname: journal.id})
                self.env.flush_all()


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
