"""Amazon's payouts: settlements (one payout each), their transactions and the amounts each one is made of.

Amazon releases the seller's money per settlement (Finances 2024-06-19 ``SETTLEMENT_ID`` or, before it is
known, ``FINANCIAL_EVENT_GROUP_ID``). Every transaction Amazon reports is kept once per connection
(``amazon.settlement.transaction``, unique by Amazon's transaction id) and split into classified amounts
(``amazon.settlement.line``): the sale or refund part (pays the customer invoice / credit note), fees by type
(one vendor bill of Amazon per settlement), IVA and ISR withholdings, the deposit itself, and anything not
recognised (booked to the suspense account of the connection and listed, never dropped).

The settlement computes the reconciliation: sales paid - refunds - fees - withholdings (+ other amounts on
the suspense account) = amount deposited, and names the transactions that explain a difference.
"""
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..connection.access import ACCOUNTANT, AMAZON_USER, check_group
from . import clearing_payments, payout_settings, settlement_entries

_logger = logging.getLogger(__name__)


class AmazonSettlement(models.Model):
    _name = "amazon.settlement"
    _description = "Amazon Settlement"
    _inherit = ["mail.thread", "amazon.company.guard"]
    _order = "deposit_date desc, start_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Settlement", required=True, readonly=True,
                       help="Amazon's settlement id (or financial event group id).")
    account_id = fields.Many2one("amazon.account", string="Connection", required=True, ondelete="cascade",
                                 index=True, readonly=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    currency_id = fields.Many2one("res.currency", required=True,
                                  default=lambda self: self.env.company.currency_id)
    settlement_ref = fields.Char(string="Settlement report ID", readonly=True, index="btree_not_null",
                                 help="Amazon's id of the settlement in its settlement report.")
    report_ref = fields.Char(string="Settlement report", readonly=True, copy=False,
                             help="Amazon's id of the settlement report read for this settlement.")
    start_date = fields.Datetime(string="Start")
    end_date = fields.Datetime(string="End")
    deposit_date = fields.Date(tracking=True)
    deposited_amount = fields.Monetary(string="Deposited", tracking=True,
                                       help="What Amazon transferred to the bank for this settlement.")
    deposit_source = fields.Selection(
        [("report", "Settlement report"), ("transfer", "Transfer transaction"), ("manual", "Entered by hand")],
        readonly=True,
    )
    state = fields.Selection(
        [("open", "To book"), ("closed", "Booked")], default="open", required=True, tracking=True, readonly=True,
        help="To book: Amazon is still adding transactions or the deposit is not known yet. Booked: the deposit "
        "is known and the fees, "
        "withholdings and other amounts are booked.",
    )
    transaction_ids = fields.One2many("amazon.settlement.transaction", "settlement_id", string="Transactions")
    line_ids = fields.One2many("amazon.settlement.line", "settlement_id", string="Amounts")
    transaction_count = fields.Integer(compute="_compute_counts")
    unknown_count = fields.Integer(string="Unknown amounts", compute="_compute_totals", store=True)
    waiting_count = fields.Integer(string="Waiting for an invoice", compute="_compute_totals", store=True)
    move_ids = fields.One2many("account.move", "amazon_settlement_id", string="Bills")
    payment_ids = fields.One2many("account.payment", "amazon_settlement_id", string="Payments",
                                  help="Withholdings and other amounts paid from the connection's account.")
    fee_bill_count = fields.Integer(compute="_compute_counts")
    deposit_payment_id = fields.Many2one(
        "account.payment", string="Bank entry", readonly=True, copy=False, ondelete="set null",
        help="The one entry of the bank journal for this settlement: the deposit, from the clearing account to "
        "the bank, to reconcile with the bank statement line.")

    sales_amount = fields.Monetary(string="Sales paid", compute="_compute_totals", store=True)
    refund_amount = fields.Monetary(string="Refunds", compute="_compute_totals", store=True)
    fee_amount = fields.Monetary(string="Fees", compute="_compute_totals", store=True)
    withholding_amount = fields.Monetary(string="Withholdings", compute="_compute_totals", store=True)
    withholding_iva_amount = fields.Monetary(string="IVA withheld", compute="_compute_totals", store=True,
                                             help="IVA withheld by Amazon: subtracted from the month's IVA.")
    withholding_isr_amount = fields.Monetary(string="ISR withheld", compute="_compute_totals", store=True,
                                             help="ISR withheld by Amazon: credited against the month's "
                                             "provisional ISR payment.")
    other_amount = fields.Monetary(string="Other (suspense)", compute="_compute_totals", store=True,
                                   help="Amounts of unknown types, booked to the suspense account.")
    expected_amount = fields.Monetary(string="Expected deposit", compute="_compute_totals", store=True,
                                      help="Sales paid - refunds - fees - withholdings + other amounts.")
    amazon_total = fields.Monetary(string="Amazon's total", compute="_compute_totals", store=True,
                                   help="Sum of the released transactions as Amazon reports them.")
    difference = fields.Monetary(compute="_compute_totals", store=True,
                                 help="Expected deposit - deposited. Zero when the settlement reconciles.")
    is_reconciled = fields.Boolean(string="Reconciled", compute="_compute_totals", store=True)
    explanation = fields.Text(compute="_compute_totals", store=True)

    _account_name_unique = models.Constraint(
        "UNIQUE(account_id, name)", "An Amazon settlement is recorded once per connection."
    )

    @api.depends("transaction_ids", "move_ids")
    def _compute_counts(self):
        for settlement in self:
            settlement.transaction_count = len(settlement.transaction_ids)
            settlement.fee_bill_count = len(settlement.move_ids)

    @api.depends(
        "deposited_amount", "deposit_date", "currency_id",
        "transaction_ids.state", "transaction_ids.total_amount", "transaction_ids.booked_amount",
        "transaction_ids.order_booked_amount", "transaction_ids.kind", "transaction_ids.gap",
        "transaction_ids.message",
        "line_ids.booked", "line_ids.amount", "line_ids.category", "line_ids.is_unknown",
    )
    def _compute_totals(self):
        for settlement in self:
            currency = settlement.currency_id or settlement.company_id.currency_id
            txns = settlement.transaction_ids.filtered(lambda t: t.state not in ("deferred", "superseded"))
            sales = sum(t.order_booked_amount for t in txns if t.kind == "sale")
            refunds = -sum(t.order_booked_amount for t in txns if t.kind == "refund")
            booked = settlement.line_ids.filtered(lambda ln, txns=txns: ln.booked and ln.transaction_id in txns)
            fees = -sum(booked.filtered(lambda ln: ln.category == "fee").mapped("amount"))
            withholdings = -sum(booked.filtered(lambda ln: ln.category.startswith("withholding")).mapped("amount"))
            settlement.withholding_iva_amount = -sum(
                booked.filtered(lambda ln: ln.category == "withholding_iva").mapped("amount"))
            settlement.withholding_isr_amount = -sum(
                booked.filtered(lambda ln: ln.category == "withholding_isr").mapped("amount"))
            other = sum(booked.filtered(lambda ln: ln.category == "unknown").mapped("amount"))
            expected = sales - refunds - fees - withholdings + other
            settlement.sales_amount = sales
            settlement.refund_amount = refunds
            settlement.fee_amount = fees
            settlement.withholding_amount = withholdings
            settlement.other_amount = other
            settlement.expected_amount = expected
            settlement.amazon_total = sum(txns.filtered(lambda t: t.kind != "transfer").mapped("total_amount"))
            settlement.unknown_count = len(settlement.line_ids.filtered("is_unknown"))
            settlement.waiting_count = len(settlement.transaction_ids.filtered(
                lambda t: t.state in ("waiting", "error")))
            if not settlement.deposit_date:
                settlement.difference = 0.0
                settlement.is_reconciled = False
                settlement.explanation = settlement.env._(
                    "Amazon has not deposited this settlement yet: the reconciliation is made once the deposit "
                    "is known (settlement report, transfer, or entered by hand)."
                )
                continue
            difference = currency.round(expected - settlement.deposited_amount)
            settlement.difference = difference
            settlement.is_reconciled = currency.is_zero(difference)
            settlement.explanation = settlement._explain_difference(txns, difference, currency)

    def _explain_difference(self, txns, difference, currency):
        """Name the transactions whose booked amounts differ from Amazon's, or say that none does."""
        self.ensure_one()
        _ = self.env._
        if currency.is_zero(difference):
            return _("Reconciled: sales paid - refunds - fees - withholdings = deposited.")
        lines = [_("Difference of %(amount)s between what is booked and what Amazon deposited.",
                   amount=self._fmt(difference, currency))]
        explaining = txns.filtered(lambda t: t.kind != "transfer" and not currency.is_zero(t.gap))
        gaps = 0.0
        for txn in explaining:
            gaps += txn.gap
            lines.append(_(
                "- %(txn)s (%(type)s%(order)s): Amazon %(amazon)s, booked %(booked)s. %(reason)s",
                txn=txn.name, type=txn.transaction_type or "?",
                order=(", " + _("order %s", txn.amazon_order_id)) if txn.amazon_order_id else "",
                amazon=self._fmt(txn.total_amount, currency), booked=self._fmt(txn.booked_amount, currency),
                reason=txn.message or "",
            ).rstrip())
        remainder = currency.round(difference + gaps)
        if not explaining:
            lines.append(_("No transaction explains it: every transaction of the settlement is booked as Amazon "
                           "reports it."))
        elif currency.is_zero(remainder):
            return "\n".join(lines)
        if not currency.is_zero(remainder):
            if explaining:
                lines.append(_("%(amount)s remain unexplained by the transactions.",
                               amount=self._fmt(remainder, currency)))
            amazon_diff = currency.round(self.amazon_total - self.deposited_amount)
            if not currency.is_zero(amazon_diff):
                lines.append(_(
                    "Amazon's released transactions add up to %(total)s but %(deposit)s were deposited: "
                    "transactions may be missing (synchronize again) or the deposit is wrong.",
                    total=self._fmt(self.amazon_total, currency), deposit=self._fmt(self.deposited_amount, currency),
                ))
            deferred = self.transaction_ids.filtered(
                lambda t: t.state == "deferred" and currency.is_zero(abs(t.total_amount) - abs(remainder))
            )
            for txn in deferred:
                lines.append(_("Deferred transaction %(txn)s (%(amount)s) has the same amount: Amazon may have "
                               "released it.", txn=txn.name, amount=self._fmt(txn.total_amount, currency)))
        return "\n".join(lines)

    @staticmethod
    def _fmt(amount, currency):
        return f"{currency.round(amount):,.{currency.decimal_places}f} {currency.name}"

    @api.depends("name")
    def _compute_display_name(self):
        for settlement in self:
            settlement.display_name = settlement.env._("Settlement %s", settlement.name)

    # ------------------------------------------------------------------ actions

    def action_view_transactions(self):
        check_group(self.env, AMAZON_USER, ACCOUNTANT)
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Transactions of %s", self.display_name),
            "res_model": "amazon.settlement.transaction",
            "view_mode": "list,form",
            "domain": [("settlement_id", "=", self.id)],
        }

    def action_view_bills(self):
        check_group(self.env, AMAZON_USER, ACCOUNTANT)
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Amazon bills of %s", self.display_name),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [("amazon_settlement_id", "=", self.id)],
            "context": {"create": False},
        }

    def action_load_cfdi(self):
        check_group(self.env, ACCOUNTANT)
        self.ensure_one()
        return self.account_id.action_open_commission_wizard(settlement=self)

    def action_close(self):
        """Book the settlement by hand: the accountant entered the deposit found in the bank statement."""
        # posts and pays bills as superuser: accounting work, not an Amazon user's
        check_group(self.env, ACCOUNTANT, message=self.env._("Only accountants book Amazon settlements."))
        self.check_access("write")
        for settlement in self:
            if not settlement.deposit_date:
                raise UserError(self.env._("Enter the deposit date and amount of %s before booking it.",
                                           settlement.display_name))
            if not settlement.deposit_source:
                settlement.deposit_source = "manual"
            payout_settings.apply_clearing_defaults(settlement.account_id)
            payout_settings.check_settings(settlement.account_id)
            settlement.sudo()._book_closing()
        return True

    # ------------------------------------------------------------------ booking

    def _set_deposit(self, amount, date, source):
        """Record the deposit Amazon reported; the settlement is booked at the next processing."""
        for settlement in self:
            vals = {"deposited_amount": amount, "deposit_source": source}
            if date:
                vals["deposit_date"] = date
            changed = {k: v for k, v in vals.items() if settlement[k] != v}
            if "deposited_amount" in changed and settlement.currency_id.compare_amounts(
                    settlement.deposited_amount, amount) == 0:
                changed.pop("deposited_amount")
            if changed:
                settlement.write(changed)

    def _refresh_fee_bill(self):
        """Keep a draft vendor bill with the fees of an open settlement (the CFDI wizard can match it)."""
        for settlement in self:
            lines = settlement.line_ids.filtered(
                lambda ln: ln.category == "fee" and ln.transaction_id.state not in ("deferred", "superseded")
                and (not ln.move_id or ln.move_id.state == "draft" and not ln.move_id.amazon_cfdi_uuid)
            )
            if lines.filtered(lambda ln: not ln.move_id):  # something new to bill
                settlement_entries.book_fee_bill(settlement.account_id, settlement, lines)

    def _book_closing(self):
        """Deposit known: post and pay the fee bills, pay the withholdings and the unknown amounts."""
        for settlement in self:
            account = settlement.account_id
            settlement._refresh_fee_bill()
            date = settlement.deposit_date or fields.Date.context_today(settlement)
            for bill in settlement.move_ids.filtered(lambda m: m.amazon_fee_bill and m.state != "cancel"):
                if bill.state == "draft":
                    bill.invoice_date = bill.invoice_date or date
                    bill.action_post()
                if bill.payment_state not in ("paid", "in_payment", "reversed"):
                    clearing_payments.pay_moves(account, bill, date=date, memo=bill.ref)
            open_lines = settlement.line_ids.filtered(
                lambda ln: ln.category in ("withholding_iva", "withholding_isr", "unknown") and not ln.payment_id
                and ln.transaction_id.state not in ("deferred", "superseded")
            )
            for category in ("withholding_iva", "withholding_isr", "unknown"):
                lines = open_lines.filtered(lambda ln, c=category: ln.category == c)
                if lines:
                    settlement_entries.book_other_amounts(account, settlement, category, lines, date)
            settlement_entries.book_deposit(account, settlement)
            settlement._reconcile_clearing()
            if settlement.state != "closed":
                settlement.state = "closed"

    def _clearing_lines(self):
        """The clearing account's open lines of this settlement: its sales and refunds paid, its fee bills
        paid, its withholdings and other amounts, its deposit."""
        self.ensure_one()
        clearing = self.account_id.clearing_account_id
        payments = self.transaction_ids.filtered(lambda t: t.state == "done").payment_ids | self.payment_ids \
            | self.move_ids.matched_payment_ids | self.deposit_payment_id
        return payments.move_id.line_ids.filtered(
            lambda ln: ln.account_id == clearing and not ln.reconciled and ln.parent_state == "posted")

    def _clearing_group(self):
        """This settlement and the ones sharing a payment with it, transitively: a sale paid on post in full
        whose packages Amazon released in several transactions, each in the settlement of its day, ties them.
        """
        self.ensure_one()
        group = self
        Txn = self.env["amazon.settlement.transaction"]
        while True:
            payments = group.transaction_ids.filtered(lambda t: t.state == "done" and t.kind == "sale").payment_ids
            more = Txn.search([
                ("account_id", "=", self.account_id.id), ("state", "=", "done"), ("kind", "=", "sale"),
                ("payment_ids", "in", payments.ids), ("settlement_id", "not in", group.ids),
                ("settlement_id", "!=", False),
            ]).settlement_id if payments else self.browse()
            if not more:
                return group
            group |= more

    def _reconcile_clearing(self):
        """Once the deposit is booked and everything of the settlement adds up to it, its clearing lines are
        reconciled together; otherwise the balance stays open on the clearing account, to be looked at (a
        deferred sale paid before Amazon released it waits there too). A sale paid on post and released in
        several settlements (a split shipment) is reconciled with all of them, once each one is deposited."""
        done = self.browse()
        for settlement in self:
            if not settlement.deposit_payment_id or settlement in done:
                continue
            group = settlement._clearing_group()
            done |= group
            if not all(group.mapped("deposit_payment_id")):
                continue  # a settlement of the same sale is not deposited yet: it reconciles them when it is
            lines = self.env["account.move.line"]
            for member in group:
                lines |= member._clearing_lines()
            currency = settlement.company_id.currency_id
            if len(lines) > 1 and currency.is_zero(sum(lines.mapped("balance"))):
                lines.reconcile()
