"""Issue 27, finding 1: money is booked from what Amazon sent and what accountants entered, never from what an
Amazon administrator without accounting rights writes."""
import base64
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from spapi_simulator import factory

from .common import AMAZON_ADMIN, AMAZON_USER, AmazonFinanceCommon, build_cfdi


@tagged("post_install", "-at_install")
class TestAccessMoney(AmazonFinanceCommon):
    """Each attack of the probe, as an Amazon administrator who has no accounting group, by the ORM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls._user("money_amazon_admin", AMAZON_ADMIN, name="Amazon Admin (no accounting)")
        cls.accountant = cls._user("money_accountant", AMAZON_ADMIN, "account.group_account_manager", name="Contadora")
        cls.settlement = cls.env["amazon.settlement"].create({
            "name": "FEG-PROBE", "account_id": cls.amazon.id, "currency_id": cls.env.ref("base.MXN").id,
        })
        cls.txn = cls.env["amazon.settlement.transaction"].create({
            "name": "SIMTXN-PROBE", "account_id": cls.amazon.id, "settlement_id": cls.settlement.id,
            "currency_id": cls.env.ref("base.MXN").id, "kind": "fee", "transaction_type": "ServiceFee",
            "state": "done", "status": "RELEASED",
        })

    def _books(self):
        """What the company's books hold: every journal entry and payment."""
        return (self.env["account.move"].search_count([("company_id", "=", self.company.id)]),
                self.env["account.payment"].search_count([("company_id", "=", self.company.id)]))

    def _attacks(self, victim):
        """The probe's attacks, as (name, callable) pairs run as the Amazon administrator."""
        Txn = self.env["amazon.settlement.transaction"].with_user(self.admin)
        txn_vals = {"account_id": self.amazon.id, "settlement_id": self.settlement.id,
                    "currency_id": self.env.ref("base.MXN").id, "status": "RELEASED", "state": "to_book",
                    "posted_date": fields.Datetime.now() - timedelta(days=1)}
        return [
            ("released sale naming another invoice", lambda: Txn.create({
                **txn_vals, "name": "FAKE-SALE", "kind": "sale", "transaction_type": "Shipment",
                "amazon_order_id": victim.ref, "total_amount": victim.amount_total,
                "line_ids": [Command.create({"category": "sale", "amount": victim.amount_total})]})),
            ("fabricated refund", lambda: Txn.create({
                **txn_vals, "name": "FAKE-REFUND", "kind": "refund", "transaction_type": "Refund",
                "amazon_order_id": victim.ref, "total_amount": -50.0})),
            ("99,999 deposit", lambda: self.settlement.with_user(self.admin).write({
                "deposited_amount": 99999.0, "deposit_date": fields.Date.today(), "deposit_source": "manual"})),
            ("fee line added to a transaction", lambda: self.env["amazon.settlement.line"].with_user(self.admin)
             .create({"transaction_id": self.txn.id, "category": "fee", "amount": -777.0})),
            ("fee line through the transaction", lambda: self.txn.with_user(self.admin).write(
                {"line_ids": [Command.create({"category": "fee", "amount": -777.0})]})),
            ("settlement created by hand", lambda: self.env["amazon.settlement"].with_user(self.admin).create({
                "name": "FAKE", "account_id": self.amazon.id, "currency_id": self.env.ref("base.MXN").id})),
            ("settlement deleted", lambda: self.settlement.with_user(self.admin).unlink()),
            ("payouts read until now", lambda: self.amazon.with_user(self.admin).write(
                {"finance_sync_date": fields.Datetime.now()})),
            ("payouts error cleared", lambda: self.amazon.with_user(self.admin).write(
                {"finance_last_error": "x"})),
            ("booking journal changed", lambda: self.amazon.with_user(self.admin).write(
                {"clearing_journal_id": False if self.amazon.clearing_journal_id else self.bank_journal.id})),
            ("deposits' bank changed", lambda: self.amazon.with_user(self.admin).write(
                {"journal_id": self.env["account.journal"].search(
                    [("type", "=", "cash"), ("company_id", "=", self.company.id)], limit=1).id})),
            ("fee type's expense account", lambda: self.amazon.fee_account_ids[:1].with_user(self.admin).write(
                {"expense_account_id": self.amazon.clearing_account_id.id})),
            ("fee type added", lambda: self.env["amazon.fee.account"].with_user(self.admin).create({
                "account_id": self.amazon.id, "name": "X", "fee_type": "ProbeFee",
                "expense_account_id": self.amazon.clearing_account_id.id})),
        ]

    def test_amazon_administrator_books_nothing(self):
        victim = self._invoice(factory.new_order_id(), 232.00)
        self.amazon.finance_sync_date = False
        books = self._books()
        for name, attack in self._attacks(victim):
            with self.subTest(attack=name), mute_logger("odoo.models"), self.assertRaises(AccessError):
                with self.env.cr.savepoint():
                    attack()
        # nothing of the attacks reached the database
        self.assertFalse(self.env["amazon.settlement.transaction"].search([("name", "like", "FAKE-")]))
        self.assertFalse(self.txn.line_ids)
        self.settlement.invalidate_recordset()
        self.assertFalse(self.settlement.deposited_amount)
        self.assertFalse(self.amazon.finance_sync_date)
        # the payouts job (superuser) runs: Amazon has nothing, nothing is booked
        self.env["amazon.payout.sync"]._sync_for(self.amazon.with_context(amazon_pacing_speed=self.sim_speed))
        self.assertEqual(victim.payment_state, "not_paid")
        self.assertEqual(self._books(), books)
        self.assertFalse(self.settlement.deposit_payment_id)

    def test_money_buttons_check_an_accounting_group(self):
        admin_account = self.amazon.with_user(self.admin)
        for name, call in (("action_sync_finances", admin_account.action_sync_finances),
                           ("action_open_commission_wizard", admin_account.action_open_commission_wizard),
                           ("action_close", self.settlement.with_user(self.admin).action_close),
                           ("action_load_cfdi", self.settlement.with_user(self.admin).action_load_cfdi)):
            with self.subTest(button=name), self.assertRaises(AccessError):
                call()
        with self.assertRaises(AccessError):
            self.env["amazon.commission.invoice.wizard"].with_user(self.admin).create(
                {"account_id": self.amazon.id})

    def test_accountants_enter_the_deposit_and_the_sync_books_as_superuser(self):
        settlement = self.settlement.with_user(self.accountant)
        settlement.write({"deposited_amount": 10.0, "deposit_date": fields.Date.today()})
        self.assertEqual(self.settlement.deposited_amount, 10.0)
        self.amazon.with_user(self.accountant).write({"finance_sync_date": False})
        # the synchronisation writes its own progress (superuser inside its job)
        group = self._group()
        order = factory.new_order_id()
        invoice = self._invoice(order, 116.00)
        self._sale(order, group, "116.00", "17.40")
        self.amazon.with_user(self.accountant).with_context(amazon_pacing_speed=self.sim_speed) \
            .action_sync_finances()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertTrue(self.amazon.finance_sync_date)

    def test_amazon_administrator_creates_a_connection_with_the_accounting_defaults(self):
        """The defaults come from the chart of accounts, not from the person: they are set all the same."""
        vals = self._amazon_account_vals(name="Amazon nueva", seller_id="A3NEWSELLER")
        for fname in ("lwa_client_id", "lwa_client_secret", "refresh_token", "endpoint_override",
                      "token_url_override", "state", "journal_id"):
            vals.pop(fname)
        account = self.env["amazon.account"].with_user(self.admin).create(vals)
        self.assertTrue(account.sudo().fee_account_ids)
        self.assertTrue(account.sudo().clearing_journal_id)
        # but does not choose where the payouts are booked
        for fname, value in (("journal_id", self.bank_journal.id), ("clearing_journal_id", self.bank_journal.id),
                             ("register_payment_on_post", True),
                             ("finance_sync_date", fields.Datetime.now())):
            with self.subTest(field=fname), self.assertRaises(AccessError), self.env.cr.savepoint():
                self.env["amazon.account"].with_user(self.admin).create({**vals, "seller_id": "A3NEWSELLER2",
                                                                         fname: value})
        # and the administrator still configures the connection (not its money fields)
        account.write({"name": "Amazon nueva MX"})
        self.assertEqual(account.name, "Amazon nueva MX")

    def test_cfdi_of_another_company_is_not_named(self):
        """Finding 8: the duplicate check says the fiscal folio is taken, not by which bill of which company."""
        other = self.setup_other_company(name="Otra Empresa CFDI")
        uuid_ = "6F1E3C1A-9A7B-4C2D-8E5F-0123456789AB"
        theirs = self.env["account.move"].sudo().create({
            "move_type": "in_invoice", "company_id": other["company"].id, "partner_id": self.customer.id,
            "journal_id": other["default_journal_purchase"].id, "ref": "SECRET-BILL-B",
            "amazon_cfdi_uuid": uuid_, "invoice_date": fields.Date.today(),
            "invoice_line_ids": [Command.create({"name": "x", "quantity": 1, "price_unit": 1.0})],
        })
        user = self._user("money_cfdi_accountant", AMAZON_USER, "account.group_account_invoice", name="Contadora A")
        xml = build_cfdi([{"description": "Tarifas por referencia", "quantity": 1, "unit_price": 45.00,
                           "iva": 0.16}], uuid_=uuid_)
        wizard = self.env["amazon.commission.invoice.wizard"].with_user(user).create({
            "account_id": self.amazon.id, "xml_file": base64.b64encode(xml), "xml_filename": "amazon.xml"})
        with self.assertRaisesRegex(UserError, "already recorded in another company") as caught:
            wizard.action_confirm()
        self.assertTrue(theirs)
        for secret in ("SECRET-BILL-B", "Otra Empresa CFDI"):
            self.assertNotIn(secret, caught.exception.args[0])
            self.assertNotIn(secret, wizard.error or "")

