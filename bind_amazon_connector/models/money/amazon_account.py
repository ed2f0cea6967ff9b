"""The money side of an Amazon connection (the article's "Cuenta"): payouts, fees, withholdings, CFDI.

- Amazon keeps the seller's money until it deposits a settlement: each released sale pays its customer
  invoice into the connection's settlement clearing account (Amazon's journal), refunds, fees and
  withholdings are paid out of it, and the deposit is one entry of the bank journal that moves the
  settlement's net from the clearing account to the bank (the bank statement line matches it).
- Amazon's fees become one vendor bill of the partner Amazon per settlement, one line per fee type on the
  expense account set per fee type (`amazon.fee.account`); IVA and ISR withheld by Amazon are booked on the
  connection's withholding accounts; anything Amazon reports that the connection does not know goes to the
  suspense account, listed on the settlement.
- A daily scheduled action (and a button) reads Finances 2024-06-19 ``listTransactions`` and, where the
  seller has them, the settlement reports (deposit amount and date).
"""
import logging
from collections import defaultdict
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_datetime
from odoo.tools.translate import LazyTranslate

from ...spapi import errors as spapi_errors
from ...utils.crashpoints import crashpoint
from ...utils.settlement import RELEASED, norm
from ..connection.access import ACCOUNTANT, AMAZON_MANAGER, AMAZON_USER, check_group, internal_context
from ..connection.amazon_account import default_history_start
from ..connection.amazon_sync_job import _monotonic

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

#: Re-read this much before the cursor: Amazon's finances may lack the events of the last 48 hours.
FINANCE_OVERLAP = timedelta(days=3)
#: Amazon answers nothing when postedAfter and postedBefore are more than 180 days apart.
FINANCE_MAX_WINDOW = timedelta(days=179)
#: postedBefore must be more than two minutes before the request.
FINANCE_LAG = timedelta(minutes=3)
SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
IMPORT_BATCH = 200
#: Transactions booked between two commits of the payouts job (it stops between batches when its time is up).
BOOK_BATCH = 20
#: The payouts job reads Amazon's transactions a slice of at most this length at a time, each committed;
#: a regular read (the overlap and the days since) is one slice, a first read of months several.
FINANCE_SLICE = timedelta(days=7)
#: Seconds a job keeps, after reading a page of transactions, to commit and to book.
FINANCE_SLICE_MARGIN = 10
#: A run that follows a read by less than this (a run that stopped when its time was up) books without reading:
#: every read goes back three days, and a backlog of thousands to book is not held up by reading them again.
FINANCE_REREAD = timedelta(minutes=5)

# Labels of the default fee types (one per line: Odoo's term extractor reads them so)
LABEL_COMMISSION = _lt("Referral commission")
LABEL_FBA = _lt("FBA fulfillment fees")
LABEL_SHIPPING = _lt("Shipping labels")
LABEL_STORAGE = _lt("FBA storage")
LABEL_ADS = _lt("Advertising")
LABEL_SUBSCRIPTION = _lt("Seller subscription")
LABEL_OTHER = _lt("Other Amazon services")

#: Default fee types: (Amazon breakdown types, label, l10n_mx account template id)
DEFAULT_FEE_TYPES = [
    ("Commission, ReferralFee, RefundCommission, VariableClosingFee, FixedClosingFee",
     LABEL_COMMISSION, "cuenta601_74"),
    ("FBAPerUnitFulfillmentFee, FBAPerOrderFulfillmentFee, FBAWeightBasedFee, FBAFees, FulfillmentFee, "
     "FBAPickAndPackFee", LABEL_FBA, "cuenta602_72_01"),
    ("ShippingChargeback, ShippingHB, ShippingLabel, ShippingLabelPurchase, ShippingServices, PostageBilling",
     LABEL_SHIPPING, "cuenta602_72_01"),
    ("FBAStorageFee, FBALongTermStorageFee, StorageFee, FBAStorageBilling, StorageRenewalBilling",
     LABEL_STORAGE, "cuenta601_84"),
    ("ProductAdsPayment, CostOfAdvertising, Advertising, SponsoredProducts, AdvertisingFee",
     LABEL_ADS, "cuenta602_61_01"),
    ("Subscription, SubscriptionFee", LABEL_SUBSCRIPTION, "cuenta601_60_01"),
    ("FBARemovalFee, FBADisposalFee, FBAInboundTransportationFee, FBAInboundConvenienceFee, DigitalServicesFee, "
     "FBAReturnProcessingFee, HighVolumeListingFee", LABEL_OTHER, "cuenta601_84"),
]


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    register_payment_on_post = fields.Boolean(
        string="Register payment when invoiced",
        help="Pay Amazon invoices into the account as soon as they are posted, without waiting for Amazon to "
        "release the money (simpler, but the receivables no longer show what Amazon still owes).",
    )
    amazon_partner_id = fields.Many2one(
        "res.partner", string="Amazon Partner",
        default=lambda self: self.env.ref("bind_amazon_connector.partner_amazon_mx", raise_if_not_found=False),
        help="Vendor of the fee bills and commission invoices (Servicios Comerciales Amazon México).",
    )
    fee_account_ids = fields.One2many("amazon.fee.account", "account_id", string="Fee accounts")
    withholding_iva_account_id = fields.Many2one(
        "account.account", string="IVA withheld account", check_company=True,
        help="Creditable IVA that Amazon withheld from the sales (to credit against the IVA due).",
    )
    withholding_isr_account_id = fields.Many2one(
        "account.account", string="ISR withheld account", check_company=True,
        help="ISR that Amazon withheld (creditable against the provisional ISR payments).",
    )
    clearing_account_id = fields.Many2one(
        "account.account", string="Settlement clearing account", check_company=True,
        help="What Amazon owes the seller until it deposits a settlement: sales paid, less refunds, fees and "
        "withholdings, less the deposits. Its balance is the money Amazon still holds (deferred sales too).",
    )
    clearing_journal_id = fields.Many2one(
        "account.journal", string="Settlement journal", check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Journal of the payments made inside Amazon's balance (sales, refunds, fees, withholdings); they "
        "go to the clearing account, so the bank journal only receives the deposits.",
    )
    suspense_account_id = fields.Many2one(
        "account.account", string="Suspense account", check_company=True,
        help="Receives the amounts of types the connection does not know, until the accountant moves them.",
    )
    finance_start_date = fields.Datetime(
        string="Read payouts from", default=default_history_start,
        help="The first payout synchronisation reads Amazon's transactions posted since this date (by default "
        "the last 30 days).",
    )
    # kept on the payouts flow's progress row (amazon.sync.cursor), not on the connection's: see that model
    finance_sync_date = fields.Datetime(
        string="Payouts read until", copy=False, readonly=True, compute_sudo=True,
        compute="_compute_finance_progress", inverse="_inverse_finance_progress")
    finance_last_error = fields.Text(
        string="Last payout error", copy=False, readonly=True, compute_sudo=True,
        compute="_compute_finance_progress", inverse="_inverse_finance_progress")
    settlement_ids = fields.One2many("amazon.settlement", "account_id", string="Settlements")
    settlement_count = fields.Integer(compute="_compute_settlement_count")
    unreconciled_count = fields.Integer(compute="_compute_settlement_count")

    @api.depends("settlement_ids.is_reconciled", "settlement_ids.deposit_date")
    def _compute_settlement_count(self):
        for account in self:
            account.settlement_count = len(account.settlement_ids)
            account.unreconciled_count = len(account.settlement_ids.filtered(
                lambda s: s.deposit_date and not s.is_reconciled))

    @api.depends("sync_cursor_ids.flow", "sync_cursor_ids.cursor", "sync_cursor_ids.message")
    def _compute_finance_progress(self):
        for account in self:
            row = account.sync_cursor_ids.filtered(lambda c: c.flow == "payouts")[:1]
            account.finance_sync_date = row.cursor
            account.finance_last_error = row.message

    def _inverse_finance_progress(self):
        for account in self:
            # a cursor set by hand counts as read at that moment
            account._finance_progress(cursor=account.finance_sync_date, last_sync=account.finance_sync_date,
                                      message=account.finance_last_error)

    def _finance_progress(self, **vals):
        """Write the payouts flow's progress (``cursor``, ``last_sync``, ``message``, and the slice a run left
        between two pages: ``window_start``, ``window_end``, ``next_token``) on its own row, only what changes:
        the connection's row is left alone."""
        self.ensure_one()
        row = self.env["amazon.sync.job"]._cursor(self, "payouts")
        vals = {key: value or False for key, value in vals.items() if (row[key] or False) != (value or False)}
        if vals:
            row.write(vals)
        return row

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        accounts._finance_apply_defaults()
        return accounts

    # ------------------------------------------------------------------ defaults (Mexican chart)

    def _chart_ref(self, xmlid):
        self.ensure_one()
        return self.env["account.chart.template"].with_company(self.company_id).ref(xmlid, raise_if_not_found=False)

    def _finance_default_fee_tax(self):
        """The company's purchase IVA 16%, as a tax-included twin (Amazon's fee amounts include IVA)."""
        self.ensure_one()
        Tax = self.env["account.tax"].sudo()
        base = self._chart_ref("tax14")
        if not base:
            base = Tax.search([
                *Tax._check_company_domain(self.company_id), ("type_tax_use", "=", "purchase"),
                ("amount_type", "=", "percent"), ("amount", "=", 16.0),
            ], limit=1)
        if not base:
            return Tax
        return base._amazon_price_included_twin()

    def _finance_default_fee_lines(self):
        self.ensure_one()
        fallback = self._chart_ref("cuenta601_84") or self.env["account.account"].search([
            *self.env["account.account"]._check_company_domain(self.company_id),
            ("account_type", "=", "expense"),
        ], limit=1)
        if not fallback:
            return []
        tax = self._finance_default_fee_tax()
        known = set()
        for fee in self.fee_account_ids:
            known |= fee._keys()
        lines = []
        for sequence, (types, label, xmlid) in enumerate(DEFAULT_FEE_TYPES, start=1):
            keys = [t.strip() for t in types.split(",") if norm(t) not in known]
            if not keys:
                continue
            lines.append({
                "sequence": sequence * 10,
                "name": self.env._(label),
                "fee_type": ", ".join(keys),
                "expense_account_id": (self._chart_ref(xmlid) or fallback).id,
                "tax_ids": [Command.set(tax.ids)],
            })
        return lines

    @api.constrains("clearing_journal_id", "journal_id")
    def _check_clearing_journal(self):
        for account in self:
            if account.clearing_journal_id and account.clearing_journal_id == account.journal_id:
                raise ValidationError(self.env._(
                    "The settlement journal of %s must not be its bank account: the deposits go to the bank, "
                    "everything else stays inside Amazon's balance.", account.name))

    def _finance_own_account(self, xmlid, codes, name, account_type, reconcile):
        """An account the Mexican chart lacks, created once per company (xml id of the addon) with the first
        free code of ``codes``."""
        self.ensure_one()
        company = self.company_id
        full_xmlid = f"bind_amazon_connector.{company.id}_{xmlid}"
        Account = self.env["account.account"].sudo().with_company(company)
        existing = self.env.ref(full_xmlid, raise_if_not_found=False)
        if existing:
            return existing
        taken = set(Account.search(Account._check_company_domain(company)).mapped("code"))
        code = next((c for c in codes if c not in taken), None)
        if not code:
            return Account
        record = Account.create({"name": name, "code": code, "account_type": account_type,
                                 "reconcile": reconcile, "company_ids": [Command.set(company.ids)]})
        self.env["ir.model.data"].sudo()._update_xmlids([{"xml_id": full_xmlid, "record": record,
                                                           "noupdate": True}])
        return record

    def _finance_default_iva_withheld_account(self):
        """IVA that Amazon withholds (Art. 18-J LIVA): the seller subtracts it from the month's IVA payable, so
        it has an account of its own, next to "IVA a favor" (113.01) but not mixed with it."""
        return self._finance_own_account(
            "amazon_iva_withheld", [f"113.01.{n:02d}" for n in range(2, 100)],
            self.env._("IVA withheld by digital platforms"), "asset_current", False)

    def _finance_default_clearing_account(self):
        return self._finance_own_account(
            "amazon_clearing", [f"107.05.{n:02d}" for n in range(2, 100)] + ["107.99.01"],
            self.env._("Amazon settlements to receive"), "asset_current", True)

    def _finance_default_clearing_journal(self, clearing):
        """A journal for the payments inside Amazon's balance, whose payment methods post on the clearing
        account (never on its own bank account)."""
        self.ensure_one()
        company = self.company_id
        Journal = self.env["account.journal"].sudo().with_company(company)
        journal = Journal.search([*Journal._check_company_domain(company), ("type", "=", "bank"),
                                  ("code", "like", "AMZ%"), ("name", "=", "Amazon"),
                                  ("id", "!=", self.journal_id.id)], limit=1)
        if not journal:
            codes = set(Journal.search(Journal._check_company_domain(company)).mapped("code"))
            code = next(c for c in ("AMZ", *(f"AMZ{n}" for n in range(1, 100))) if c not in codes)
            journal = Journal.create({"name": "Amazon", "code": code, "type": "bank", "company_id": company.id,
                                      "show_on_dashboard": False})
        lines = journal.inbound_payment_method_line_ids | journal.outbound_payment_method_line_ids
        lines.filtered(lambda ln: ln.payment_account_id != clearing).payment_account_id = clearing
        return journal

    def _finance_apply_clearing_defaults(self):
        """The clearing account and journal, for connections made before they existed too (the payouts
        synchronisation calls it)."""
        for account in self.filtered(lambda a: not a.clearing_account_id or not a.clearing_journal_id):
            vals = {}
            if not account.clearing_account_id and account.company_id.chart_template:
                clearing = account._finance_default_clearing_account()
                if clearing:
                    vals["clearing_account_id"] = clearing.id
            clearing = account.clearing_account_id or account.env["account.account"].browse(
                vals.get("clearing_account_id"))
            if not account.clearing_journal_id and clearing:
                vals["clearing_journal_id"] = account._finance_default_clearing_journal(clearing).id
            if vals:
                account.sudo().write(vals)

    def _finance_apply_defaults(self):
        self._finance_apply_clearing_defaults()
        for account in self:
            vals = {}
            if not account.withholding_iva_account_id and account.company_id.chart_template:
                iva = account._finance_default_iva_withheld_account()
                if iva:
                    vals["withholding_iva_account_id"] = iva.id
            if not account.withholding_isr_account_id:
                isr = account._chart_ref("cuenta113_02_02")
                if isr:
                    vals["withholding_isr_account_id"] = isr.id
            if not account.suspense_account_id:
                suspense = account.company_id.account_journal_suspense_account_id
                if suspense:
                    vals["suspense_account_id"] = suspense.id
            if not account.fee_account_ids:
                lines = account._finance_default_fee_lines()
                if lines:
                    vals["fee_account_ids"] = [Command.create(line) for line in lines]
            if vals:
                account.sudo().write(vals)  # the chart's defaults, not a person's choice

    def action_load_default_fee_accounts(self):
        """Add the fee types of the Mexican defaults that the connection does not have yet."""
        check_group(self.env, AMAZON_MANAGER)
        self.check_access("write")
        for account in self:
            lines = account._finance_default_fee_lines()
            if lines:
                account.write({"fee_account_ids": [Command.create(line) for line in lines]})
            account._finance_apply_defaults()
        return True

    def _fee_account_for(self, amazon_type):
        """The fee line (`amazon.fee.account`) of an Amazon fee type, or an empty record if unknown."""
        self.ensure_one()
        key = norm(amazon_type)
        for fee in self.fee_account_ids:
            if key in fee._keys():
                return fee
        return self.env["amazon.fee.account"]

    def _finance_check_config(self):
        self.ensure_one()
        missing = []
        if not self.journal_id:
            missing.append(self.env._("the account (bank or cash journal) receiving Amazon's payments"))
        if not self.amazon_partner_id:
            missing.append(self.env._("the Amazon partner"))
        if not self.suspense_account_id:
            missing.append(self.env._("the suspense account"))
        if not self.clearing_account_id:
            missing.append(self.env._("the settlement clearing account"))
        if not self.clearing_journal_id:
            missing.append(self.env._("the settlement journal"))
        if not self.withholding_iva_account_id:
            missing.append(self.env._("the IVA withheld account"))
        if not self.withholding_isr_account_id:
            missing.append(self.env._("the ISR withheld account"))
        if missing:
            raise UserError(self.env._("Set %(what)s on the connection %(name)s before synchronizing payouts.",
                                       what=", ".join(missing), name=self.name))

    # ------------------------------------------------------------------ links to the orders' invoices

    def _find_order_invoices(self, amazon_order_ids):
        """{Amazon order id: its posted customer invoices and credit notes (account.move)} for this connection.

        The one place that knows how an Amazon order reaches its invoices: ``amazon.order`` (keyed by
        ``name``) and its sale order's invoices. An invoice whose reference or origin is the Amazon order id
        also counts (invoices made by hand or by another flow).
        """
        self.ensure_one()
        Move = self.env["account.move"]
        ids = [oid for oid in dict.fromkeys(amazon_order_ids) if oid]
        result = {oid: Move for oid in ids}
        if not ids:
            return result
        for order in self.env["amazon.order"].search([("account_id", "=", self.id), ("name", "in", ids)]):
            result[order.name] |= order.sale_order_id.invoice_ids
        missing = [oid for oid in ids if not result[oid]]
        if missing:
            for move in Move.search([
                ("company_id", "=", self.company_id.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
                "|", ("ref", "in", missing), ("invoice_origin", "in", missing),
            ]):
                key = move.ref if move.ref in result else move.invoice_origin
                result[key] |= move
        return {oid: moves.filtered(lambda m: m.state == "posted" and m.company_id == self.company_id)
                for oid, moves in result.items()}

    @api.model
    def _amazon_accounts_of_invoices(self, invoices):
        """{connection: its invoices} among ``invoices``: through the Amazon order of their sale orders, or
        the connection given in the context (``amazon_account_id``) by a flow that posts them."""
        result = defaultdict(lambda: self.env["account.move"])
        forced = internal_context(self.env, "amazon_account_id")
        if forced:
            account = self.browse(forced).exists()
            if account:
                return {account: invoices}
        for invoice in invoices:
            sale_orders = invoice.invoice_line_ids.sale_line_ids.order_id
            for account in sale_orders.amazon_order_id.account_id:
                result[account] |= invoice
        return dict(result)

    def _register_amazon_payment(self, invoices):
        """Pay posted invoices of this connection in full into its account (the "pay on post" behaviour).

        Safe to call twice: only what is still due is paid. Returns the payments.
        """
        self.ensure_one()
        if not self.clearing_journal_id or not self.clearing_account_id:
            return self.env["account.payment"]
        account = self.sudo().with_company(self.company_id)
        todo = invoices.sudo().filtered(
            lambda m: m.state == "posted" and m.move_type == "out_invoice"
            and not m.currency_id.is_zero(m.amount_residual)
        )
        payments = self.env["account.payment"]
        for paid_payments, _paid in account._pay_moves_batch([
                {"moves": invoice, "date": invoice.invoice_date, "memo": invoice.ref or invoice.name}
                for invoice in todo]):
            payments |= paid_payments
        return payments

    # ------------------------------------------------------------------ accounting helpers

    def _clearing_journal(self):
        """The settlement journal, its payment methods posting on the clearing account of the connection."""
        self.ensure_one()
        journal = self.clearing_journal_id.sudo()
        lines = journal.inbound_payment_method_line_ids | journal.outbound_payment_method_line_ids
        lines.filtered(lambda ln: ln.payment_account_id != self.clearing_account_id).payment_account_id = \
            self.clearing_account_id
        return journal

    def _pay_moves(self, moves, amount=None, date=None, memo=None):
        """Register payments of ``moves`` (invoices, credit notes, bills) inside Amazon's balance: the
        settlement journal, on the clearing account.

        ``amount``: at most this much in total (oldest first); default their whole residual.
        Returns (payments, amount paid).
        """
        return self._pay_moves_batch([{"moves": moves, "amount": amount, "date": date, "memo": memo}])[0]

    def _pay_moves_batch(self, plans):
        """:meth:`_pay_moves` for many payments at once: ``plans`` are dicts with ``moves`` and optionally
        ``amount``, ``date`` and ``memo``; returns one (payments, amount paid) per plan.

        Odoo's payment wizard gives each payment's values, but the payments are created, posted and reconciled
        together: Odoo's per-payment reconciliation (and its cash-basis tax entry) cost over a second a payment,
        most of it per call, not per record. Plans that pay the same move share its residual, in order."""
        self.ensure_one()
        journal = self._clearing_journal()
        Payment = self.env["account.payment"]
        results = [[Payment, 0.0] for _plan in plans]
        residuals = {}
        rounds = [[]]  # a move is paid at most once per round: its residual is read before the round
        for index, plan in enumerate(plans):
            remaining = plan.get("amount")
            for move in plan["moves"].sorted(lambda m: (m.invoice_date or m.date, m.id)):
                currency = move.currency_id
                residual = residuals.get(move.id, abs(move.amount_residual))
                if currency.is_zero(residual):
                    continue
                to_pay = residual if remaining is None else min(residual, remaining)
                if currency.compare_amounts(to_pay, 0.0) <= 0:
                    break
                residuals[move.id] = residual - to_pay
                target = next((r for r in rounds if all(item[1] != move for item in r)), None)
                if target is None:
                    target = []
                    rounds.append(target)
                target.append((index, move, to_pay, plan.get("date"), plan.get("memo")))
                results[index][1] += to_pay
                if remaining is not None:
                    remaining -= to_pay
        for items in rounds:
            if items:
                for index, payment in self._pay_moves_round(journal, items):
                    results[index][0] |= payment
        return [tuple(result) for result in results]

    def _pay_moves_round(self, journal, items):
        """One payment per (plan index, move, amount, date, memo), each move once: created, posted and
        reconciled in one go. Returns (plan index, payment) pairs."""
        to_process = []
        for index, move, to_pay, date, memo in items:
            wizard = self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=move.ids,
            ).create({
                "journal_id": journal.id,
                "payment_date": date or fields.Date.context_today(self),
                "amount": to_pay,
                "currency_id": move.currency_id.id,
                "communication": memo or move.ref or move.name,
                "payment_difference_handling": "open",
                "group_payment": True,
            })
            batch = wizard.batches[0]
            to_process.append((index, wizard._create_payment_vals_from_wizard(batch), batch["lines"]))
        for _index, vals, lines in to_process:
            # Without a write-off Odoo makes the journal entries of all the payments in one go when they are posted;
            # an empty list would make it create them one at a time.
            if not vals.get("write_off_line_vals") and vals.get("force_balance") is None:
                vals.pop("write_off_line_vals", None)
            # The wizard links each invoice to its payment after reconciling, one invoice write per payment (which
            # also recomputes its payment state); linked at creation, as Odoo's online payments do, it is one insert.
            vals["invoice_ids"] = [Command.set(lines.move_id.ids)]
        payments = self.env["account.payment"].with_context(skip_invoice_sync=True).create(
            [vals for _index, vals, _lines in to_process])
        payments.with_context(skip_sale_auto_invoice_send=True).action_post()
        # as the wizard's reconciliation, for every payment in one plan
        open_domain = [
            ("parent_state", "=", "posted"),
            ("account_type", "in", self.env["account.payment"]._get_valid_payment_account_types()),
            ("reconciled", "=", False),
        ]
        plan = []
        for payment, (_index, _vals, lines) in zip(payments, to_process, strict=True):
            payment_lines = payment.move_id.line_ids.filtered_domain(open_domain)
            for account in payment_lines.account_id:
                plan.append((payment_lines + lines).filtered_domain(
                    [("account_id", "=", account.id), ("reconciled", "=", False)]))
        self._reconcile_with_cash_basis(plan, payments.move_id.line_ids)
        return [(index, payment) for payment, (index, _vals, _lines) in zip(payments, to_process, strict=True)]

    def _reconcile_with_cash_basis(self, plan, payment_lines):
        """Odoo's ``_reconcile_plan``, with the cash-basis IVA entries of all the payments made in one call.

        Odoo makes them one reconciliation at a time (about 0.3 s each); together they are the same entries, one per
        payment and invoice, created and posted at once."""
        Line = self.env["account.move.line"]
        if not self.company_id.tax_exigibility:
            Line._reconcile_plan(plan)
            return
        Line.with_context(no_cash_basis=True)._reconcile_plan(plan)
        types = ("asset_receivable", "liability_payable")
        partials = (payment_lines.matched_debit_ids | payment_lines.matched_credit_ids).filtered(
            lambda p: p.debit_move_id.account_id.account_type in types)
        if partials:
            partials = partials.with_context(no_exchange_difference_no_recursive=False, no_cash_basis=False)
            partials._create_tax_cash_basis_moves()
            partials._set_draft_caba_move_vals()

    def _invoice_line_of_sku(self, invoices, sku):
        """The customer invoice line of an Amazon SKU: the sale line's "[SKU] title", the product's
        internal reference, or the product of the connection's listing of that SKU."""
        lines = invoices.invoice_line_ids.filtered(lambda ln: ln.display_type == "product" and ln.product_id)
        found = lines.filtered(lambda ln: (ln.name or "").startswith(f"[{sku}]"))
        if not found:
            found = lines.filtered(lambda ln: ln.product_id.default_code == sku)
        if not found:
            listing = self.env["amazon.listing"].search([("account_id", "=", self.id), ("seller_sku", "=", sku)],
                                                        limit=1)
            found = lines.filtered(lambda ln: listing.product_id and ln.product_id == listing.product_id)
        return found[:1]

    def _refund_lines(self, invoices, txn, amount):
        """Credit note lines ``[(invoice line to copy or None, label, quantity, gross)]`` for what Amazon
        refunded: per SKU and charge (product, shipping, gift wrap) from the refund transaction. Raises
        UserError when a refunded product cannot be found on the order's invoices."""
        self.ensure_one()
        _ = self.env._
        currency = txn.currency_id
        product_lines = invoices.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")
        goods = product_lines.filtered(lambda ln: ln.product_id.type != "service")
        parts = txn.line_ids.filtered(lambda ln: ln.category == "refund")
        groups = defaultdict(lambda: [0.0, 0])
        for part in parts:
            key = (part.charge or "product", part.sku or "")
            groups[key][0] += -part.amount
            groups[key][1] = max(groups[key][1], part.quantity or 0)
        result = []
        for (charge, sku), (gross, quantity) in sorted(groups.items()):
            if currency.is_zero(gross):
                continue
            if charge in ("shipping", "giftwrap"):
                xmlid = {"shipping": "bind_amazon_connector.product_amazon_shipping",
                         "giftwrap": "bind_amazon_connector.product_amazon_gift_wrap"}[charge]
                service = self.env.ref(xmlid, raise_if_not_found=False)
                source = product_lines.filtered(lambda ln, p=service: p and ln.product_id == p)[:1]
                label = _("Shipping refund") if charge == "shipping" else _("Gift wrap refund")
                result.append((source or None, label, 1, gross, service))
                continue
            source = self._invoice_line_of_sku(invoices, sku) if sku else (goods if len(goods) == 1 else None)
            if not source:
                if sku:
                    raise UserError(_("Amazon refunded SKU %(sku)s, which is on no invoice of order %(order)s.",
                                      sku=sku, order=txn.amazon_order_id))
                raise UserError(_("Amazon's refund of order %(order)s names no product and the order has "
                                  "%(count)s products: say which one on a credit note by hand.",
                                  order=txn.amazon_order_id, count=len(goods)))
            if not quantity:
                unit = source.price_total / source.quantity if source.quantity else 0.0
                ratio = gross / unit if unit else 0.0
                quantity = round(ratio) if ratio and abs(ratio - round(ratio)) < 0.005 else 1
            result.append((source, source.name, quantity, gross, source.product_id))
        explained = currency.round(sum(r[3] for r in result))
        if currency.compare_amounts(explained, amount) != 0:
            raise UserError(_("Amazon refunded %(amount)s for order %(order)s but its lines explain %(lines)s.",
                              amount=amount, order=txn.amazon_order_id, lines=explained))
        return result

    def _create_refund_credit_note(self, invoices, amount, date, txn):
        """A posted credit note of ``amount`` (tax included) for a refund of an Amazon order: the refunded
        products and quantities, shipping and gift wrap on their own lines."""
        self.ensure_one()
        invoice = invoices.sorted(lambda m: (m.invoice_date or m.date, m.id))[-1]
        currency = invoice.currency_id
        reference = self.env._("Amazon refund %(order)s (%(txn)s)", order=txn.amazon_order_id, txn=txn.name)
        if currency.compare_amounts(sum(invoices.mapped("amount_total")), amount) == 0 and len(invoices) == 1 \
                and not invoice.reversal_move_ids:
            credit_note = invoice._reverse_moves([{
                "ref": reference, "invoice_date": date, "date": date,
            }])
        else:
            fallback = invoice.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")[:1]
            commands = []
            for source, label, quantity, gross, product in self._refund_lines(invoices, txn, amount):
                model = source or fallback
                included = self.env["account.tax"]
                for tax in model.tax_ids:
                    included |= tax._amazon_price_included_twin()
                if currency.compare_amounts(currency.round(gross / quantity) * quantity, gross) != 0:
                    # a unit price that is not whole cents would not add up to Amazon's refund
                    label, quantity = f"{label} (x{quantity})", 1
                commands.append(Command.create({
                    "name": label,
                    "product_id": (product or model.product_id).id,
                    "account_id": model.account_id.id,
                    "quantity": quantity,
                    "price_unit": gross / quantity,
                    "tax_ids": [Command.set(included.ids)],
                }))
            credit_note = self.env["account.move"].create({
                "move_type": "out_refund",
                "partner_id": invoice.partner_id.id,
                "currency_id": currency.id,
                "journal_id": invoice.journal_id.id,
                "invoice_date": date,
                "ref": reference,
                "invoice_origin": invoice.invoice_origin or invoice.ref,
                "reversed_entry_id": invoice.id,
                "invoice_line_ids": commands,
            })
        credit_note.with_context(amazon_no_pay_on_post=True).action_post()
        return credit_note

    def _book_fee_bill(self, settlement, lines):
        """Create or refresh the draft fee bill of a settlement: one line per fee type."""
        self.ensure_one()
        _ = self.env._
        Move = self.env["account.move"]
        bill = settlement.move_ids.filtered(
            lambda m: m.amazon_fee_bill and m.state == "draft" and not m.amazon_cfdi_uuid)[:1]
        if bill:
            lines |= settlement.line_ids.filtered(lambda ln: ln.move_id == bill and ln.category == "fee")
        currency = settlement.currency_id
        # per fee type: Amazon's gross (a cost is positive here) and the IVA inside it, as Amazon charged it
        groups = defaultdict(lambda: [0.0, 0.0])
        for line in lines:
            key = (line.fee_account_id.id or 0, "" if line.fee_account_id else (line.amazon_type or "?"))
            gross = -line.amount  # Amazon's fees are negative: a cost for the seller
            groups[key][0] += gross
            groups[key][1] += -line.tax_amount if line.has_tax else line._fee_tax_estimate(gross)
        total = currency.round(sum(g for g, _t in groups.values()))
        if all(currency.is_zero(g) for g, _t in groups.values()):
            lines.write({"move_id": False})
            if bill:
                bill.unlink()
            return Move
        sign = -1 if total < 0 else 1
        line_commands = []
        for (fee_id, unknown_type), (cost, tax) in sorted(groups.items(), key=lambda kv: (kv[0][0] == 0, kv[0])):
            cost, tax = currency.round(cost), currency.round(tax)
            if currency.is_zero(cost):
                continue
            if fee_id:
                fee = self.env["amazon.fee.account"].browse(fee_id)
                name, gl_account, taxes = fee.name, fee.expense_account_id, fee.tax_ids
            else:
                name = _("Unknown Amazon fee type: %s", unknown_type)
                gl_account, taxes = self.suspense_account_id, self.env["account.tax"]
            vals = {
                "name": _("%(fee)s - settlement %(settlement)s", fee=name, settlement=settlement.name),
                "account_id": gl_account.id,
                "quantity": 1,
                "price_unit": sign * cost,
                "tax_ids": [Command.set(taxes.ids)],
            }
            if len(taxes) == 1 and taxes.amount_type == "percent" and taxes.price_include:
                # Amazon's own base and IVA, not Odoo's split of the gross: IVA acreditable and the DIOT
                # then match Amazon's CFDI to the cent
                base = currency.round(cost - tax)
                vals["extra_tax_data"] = {
                    "currency_id": currency.id, "price_unit": sign * cost, "discount": 0.0, "quantity": 1.0,
                    "manual_total_excluded_currency": sign * base, "manual_total_excluded": sign * base,
                    "manual_tax_amounts": {str(taxes.id): {
                        "base_amount_currency": sign * base, "base_amount": sign * base,
                        "tax_amount_currency": sign * tax, "tax_amount": sign * tax,
                    }},
                }
            line_commands.append(Command.create(vals))
        move_type = "in_refund" if sign < 0 else "in_invoice"
        others = settlement.move_ids.filtered(lambda m: m.amazon_fee_bill and m != bill)
        ref = _("Amazon fees %s", settlement.name) + (f" ({len(others) + 1})" if others else "")
        vals = {
            "move_type": move_type,
            "partner_id": self.amazon_partner_id.id,
            "currency_id": currency.id,
            "company_id": self.company_id.id,
            "ref": ref,
            "invoice_date": settlement.deposit_date or fields.Date.to_date(settlement.end_date)
            or fields.Date.context_today(self),
            "amazon_settlement_id": settlement.id,
            "amazon_fee_bill": True,
        }
        if bill and bill.move_type == move_type:
            bill.write({**vals, "invoice_line_ids": [Command.clear(), *line_commands]})
        else:
            if bill:
                bill.unlink()
            bill = Move.create({**vals, "invoice_line_ids": line_commands})
        lines.write({"move_id": bill.id})
        return bill

    def _book_other_amounts(self, settlement, category, lines, date):
        """Withholdings (IVA, ISR) and unknown amounts of a settlement: a payment out of the clearing account
        to the withholding / suspense account, for the part Amazon kept (or gave back)."""
        self.ensure_one()
        _ = self.env._
        currency = settlement.currency_id
        amount = currency.round(sum(lines.mapped("amount")))  # Amazon's sign: negative = kept by Amazon
        if currency.is_zero(amount):
            lines.write({"payment_id": False})
            return self.env["account.payment"]
        account = {
            "withholding_iva": self.withholding_iva_account_id,
            "withholding_isr": self.withholding_isr_account_id,
            "unknown": self.suspense_account_id,
        }[category]
        label = {
            "withholding_iva": _("IVA withheld by Amazon"),
            "withholding_isr": _("ISR withheld by Amazon"),
            "unknown": _("Amazon amounts of unknown type"),
        }[category]
        payment = self.env["account.payment"].create({
            "payment_type": "outbound" if amount < 0 else "inbound",
            "partner_type": "supplier",
            "partner_id": self.amazon_partner_id.id,
            "amount": abs(amount),
            "currency_id": currency.id,
            "journal_id": self._clearing_journal().id,
            "date": date,
            "memo": _("%(label)s - settlement %(settlement)s", label=label, settlement=settlement.name),
            "amazon_settlement_id": settlement.id,
        })
        payment.destination_account_id = account
        payment.action_post()
        lines.write({"payment_id": payment.id})
        return payment

    def _book_deposit(self, settlement):
        """The one entry of the bank journal for a settlement: the deposit, from the clearing account to the
        bank's outstanding receipts, where the bank statement line of the deposit matches it (amount, date
        and the settlement in its memo)."""
        self.ensure_one()
        currency = settlement.currency_id
        amount = currency.round(settlement.deposited_amount)
        payment = settlement.deposit_payment_id
        if payment and payment.state not in ("draft", "canceled", "rejected"):
            return payment
        if currency.is_zero(amount) or not settlement.deposit_date:
            return self.env["account.payment"]
        reference = settlement.settlement_ref or settlement.name
        payment = self.env["account.payment"].create({
            "payment_type": "inbound" if amount > 0 else "outbound",
            "partner_type": "customer" if amount > 0 else "supplier",
            "partner_id": self.amazon_partner_id.id,
            "amount": abs(amount),
            "currency_id": currency.id,
            "journal_id": self.journal_id.id,
            "date": settlement.deposit_date,
            "memo": self.env._("Amazon settlement %s", reference),
            "amazon_settlement_id": settlement.id,
        })
        payment.destination_account_id = self.clearing_account_id
        payment.action_post()
        settlement.deposit_payment_id = payment
        settlement._reconcile_clearing()
        return payment

    # ------------------------------------------------------------------ synchronisation

    def action_sync_finances(self):
        """Button: read Amazon's transactions and settlement reports now, and book them."""
        check_group(self.env, AMAZON_USER)
        check_group(self.env, ACCOUNTANT, message=self.env._("Only accountants book Amazon payouts."))
        self.ensure_one()
        self.check_access("read")
        try:
            stats = self._sync_finances()
        except spapi_errors.SpApiError as exc:
            self.sudo()._finance_progress(message=str(exc))
            raise UserError(self.env._("Amazon could not be read: %s", exc)) from exc
        if stats["count"]:
            message = self.env._(
                "Transactions read: %(count)s (booked: %(booked)s, waiting for an invoice: %(waiting)s, "
                "deferred by Amazon: %(deferred)s).", **stats)
        else:
            # "0 read" reads as "Amazon has none": say when Amazon may have them instead
            message = self.env._("Amazon has no transaction of this period yet.")
        message += " " + self._finance_delay_note()
        kind = "warning" if stats["waiting"] else ("success" if stats["count"] else "info")
        return self.env["amazon.sync.job"]._notification(message, kind, title=self.env._("Amazon payouts synchronized"), sticky=False)

    def _finance_delay_note(self):
        """When Amazon's next transactions can be expected, and when the connector looks again."""
        self.ensure_one()
        note = self.env._("Amazon publishes transactions up to 48 h later and releases deferred ones later still.")
        cron = self.env.ref("bind_amazon_connector.ir_cron_amazon_sync_finances", raise_if_not_found=False)
        if cron and cron.sudo().active:
            note += " " + self.env._("Next check at %s.", format_datetime(self.env, cron.sudo().nextcall,
                                                                          dt_format="short"))
        return note

    @api.model
    def _cron_sync_finances(self):
        """Daily: trigger the payouts job of every authorized connection with an account."""
        return self.env["amazon.sync.job"]._dispatch("payouts", self.search([("state", "=", "authorized"), ("journal_id", "!=", False)]))

    def _sync_run_money(self, *, commit=False, deadline=None):
        """The connection's payouts job: read Amazon's transactions slice by slice, then book them batch by
        batch, each committed; failures are shown on the connection, Amazon's "later" becomes a later run. A
        run out of time stops between two batches and the next run goes on (booking is idempotent)."""
        self.ensure_one()
        result = self.env["amazon.sync.job"]._result()
        if not self.env["amazon.sync.job"]._lock(self, "payouts"):
            result["busy"] = True
            return result
        account = self.sudo().with_company(self.company_id)
        todo = []
        read = []

        last_read = account.finance_sync_date
        if last_read and last_read > fields.Datetime.now() - FINANCE_LAG - FINANCE_REREAD:
            read.append(True)  # read moments ago: book what is waiting
            todo.extend(account._finance_todo().ids)

        def step(last_try):
            if not read:
                counts = {"count": 0}
                try:
                    with self.env.cr.savepoint():
                        counts = self._sync_finances(deadline=deadline, book=False, max_slices=1)
                    # one slice a page, committed: a run out of time resumes after the last slice
                    for key, value in counts.items():
                        if key != "more":
                            result["counts"][key] = result["counts"].get(key, 0) + value
                except spapi_errors.RetryLater as exc:
                    _logger.info("Amazon payouts of %s postponed: %s", self.name, exc)
                    self.sudo()._finance_progress(message=str(exc))
                    result.update(error=str(exc), retry_at=self.env["amazon.sync.job"]._retry_at(exc))
                except (spapi_errors.SpApiError, UserError, ValidationError) as exc:
                    _logger.warning("Amazon payouts of %s failed: %s", self.name, exc)
                    self.sudo()._finance_progress(message=str(exc))
                    self.sudo().message_post(body=self.env._("Payout synchronisation failed: %s", exc))
                    result["error"] = str(exc)
                if result["error"]:
                    return counts["count"], False
                if counts.get("more"):
                    return counts["count"], True  # the next slice in the next page
                read.append(True)
                todo.extend(account._finance_todo().ids)
                return counts["count"], True
            batch = self.env["amazon.settlement.transaction"].browse(todo[:BOOK_BATCH]).exists()
            batch.with_env(account.env)._book_order_part()
            if len(todo) > BOOK_BATCH:
                del todo[:BOOK_BATCH]
                return len(batch), True
            todo.clear()
            account._finance_book_settlements()
            return len(batch), False

        self.env["amazon.sync.job"]._pages(self, "payouts", step, result, commit=commit, deadline=deadline)
        return result

    def _finance_window(self, now=None):
        """(posted_after, posted_before) of the next read, to a few minutes ago.

        When the last slice read was history (a run stopped in the middle of a long backlog), it goes on
        from the cursor. Once caught up, it starts again an overlap before the cursor (Amazon publishes
        transactions up to 48 h late) or at the oldest deferred transaction still waiting (to see it
        released), whichever is earlier."""
        self.ensure_one()
        before = (now or fields.Datetime.now()) - FINANCE_LAG
        row = self.env["amazon.sync.job"]._cursor(self, "payouts")
        if not row.cursor:
            start = self.finance_start_date or before - timedelta(days=30)
        elif row.last_sync and row.cursor < row.last_sync - FINANCE_LAG - FINANCE_REREAD:
            return max(row.cursor, before - FINANCE_MAX_WINDOW), before  # the rest of a backlog
        else:
            start = row.cursor - FINANCE_OVERLAP
        oldest_deferred = self.env["amazon.settlement.transaction"].search([
            ("account_id", "=", self.id), ("state", "=", "deferred"), ("posted_date", "!=", False),
        ], order="posted_date asc", limit=1).posted_date
        if oldest_deferred and oldest_deferred < start:
            start = oldest_deferred
        return max(start, before - FINANCE_MAX_WINDOW), before

    def _sync_finances(self, deadline=None, book=True, max_slices=None):
        """Read Amazon's transactions (and settlement reports) and book them (not when ``book`` is False: the
        payouts job books them batch by batch). Returns counters, and ``more`` when the reading stopped
        before the end of the window (``max_slices`` slices read, or the ``deadline`` near).

        The window is read in slices of at most FINANCE_SLICE, each moving the cursor when read whole: a
        job that commits after each slice resumes after the last one instead of reading months of history
        again. Amazon does not say in which order it lists transactions, so nothing finer than a whole slice
        counts as read; a slice the job's time cannot hold stops between two of Amazon's pages and the next
        run goes on with Amazon's page token (kept with the slice on the flow's progress row), or reads the
        slice again from its start if Amazon refuses the token (reading a transaction again changes
        nothing)."""
        self.ensure_one()
        self._finance_apply_clearing_defaults()
        self._finance_check_config()
        if not self.env["amazon.sync.job"]._lock(self, "payouts"):
            raise UserError(self.env._("The payouts of %s are being synchronized right now: try again in a "
                                       "moment.", self.name))
        account = self.sudo().with_company(self.company_id)
        after, before = account._finance_window()
        counts = {"count": 0, "booked": 0, "waiting": 0, "deferred": 0}
        if after >= before:
            # a connection created minutes ago: Amazon only answers for periods ending two minutes back
            return counts
        api_client = self._spapi(deadline=deadline)
        row = self.env["amazon.sync.job"]._cursor(account, "payouts")
        first_after = after
        touched = self.env["amazon.settlement.transaction"]
        slices = 0
        while after < before:
            if max_slices and slices >= max_slices:
                counts["more"] = True
                break
            end, resume = min(after + FINANCE_SLICE, before), None
            if row.next_token and row.window_start == after and row.window_end:
                end, resume = row.window_end, row.next_token  # a slice a run left between two pages
            started = fields.Datetime.now()
            try:
                count, read, stopped_at = account._finance_read_slice(api_client, after, end, deadline, resume)
            except spapi_errors.BadData:
                if not resume:
                    raise
                # an expired or refused page token: the slice is read again from its start
                account._finance_progress(window_start=False, window_end=False, next_token=False)
                continue
            counts["count"] += count
            touched |= read
            slices += 1
            if stopped_at:
                account._finance_progress(window_start=after, window_end=end, next_token=stopped_at)
                counts["more"] = True
                break
            account._finance_progress(cursor=end, last_sync=started, window_start=False, window_end=False,
                                      next_token=False, message=False)
            after = end
        if after >= before:
            # the reports of every settlement still without its deposit, even those of a backlog read in
            # several runs
            oldest_open = self.env["amazon.settlement.transaction"].search([
                ("account_id", "=", self.id), ("settlement_id.deposit_date", "=", False),
                ("posted_date", "!=", False),
            ], order="posted_date asc", limit=1).posted_date
            account._sync_settlement_reports(api_client, min(first_after, oldest_open or first_after))
        if book:
            account._process_finances()
        counts.update(
            booked=len(touched.filtered(lambda t: t.state == "done")),
            waiting=len(touched.filtered(lambda t: t.state == "waiting")),
            deferred=len(touched.filtered(lambda t: t.state == "deferred")),
        )
        return counts

    def _finance_read_slice(self, api_client, after, before, deadline=None, resume=None):
        """Store the transactions posted in [after, before) in every marketplace, from ``resume`` (where an
        earlier run stopped: "marketplace|page token") if given. Returns (count, records, stopped_at):
        ``stopped_at`` says where to go on when the ``deadline`` came between two of Amazon's pages."""
        utc_after = after.replace(tzinfo=timezone.utc)
        utc_before = before.replace(tzinfo=timezone.utc)
        resume_marketplace, _sep, token = (resume or "").partition("|")
        count = 0
        touched = self.env["amazon.settlement.transaction"]
        marketplaces = self._get_marketplaces().sorted("id").mapped("marketplace_id")
        if resume_marketplace in marketplaces:
            marketplaces = marketplaces[marketplaces.index(resume_marketplace):]
        else:
            token = None
        for marketplace_id in marketplaces:
            for transactions, next_token in api_client.iter_transaction_pages(
                    utc_after, utc_before, marketplace_id=marketplace_id, next_token=token or None):
                for start in range(0, len(transactions), IMPORT_BATCH):
                    touched |= self._import_finance_transactions(transactions[start:start + IMPORT_BATCH])
                    crashpoint("payouts.batch")
                count += len(transactions)
                if next_token and deadline is not None and _monotonic() > deadline - FINANCE_SLICE_MARGIN:
                    return count, touched, f"{marketplace_id}|{next_token}"
            token = None
        return count, touched, None

    def _import_finance_transactions(self, transactions):
        """Store SP-API transactions (idempotent: a transaction read again is updated, never duplicated)."""
        self.ensure_one()
        Txn = self.env["amazon.settlement.transaction"]
        Settlement = self.env["amazon.settlement"]
        keys = [Txn._transaction_key(t) for t in transactions]
        existing = {r.name: r for r in Txn.search([("account_id", "=", self.id), ("name", "in", keys)])}
        settlements, currencies = {}, {}
        touched = Txn
        for key, txn in zip(keys, transactions, strict=True):
            vals = Txn._values_from_api(self, txn, currencies)
            group = txn.settlement_id or txn.financial_event_group_id
            if group:
                settlement = settlements.get(group)
                if settlement is None:
                    settlement = Settlement.search([("account_id", "=", self.id), ("name", "=", group)], limit=1) \
                        or Settlement.create({"account_id": self.id, "name": group,
                                              "currency_id": vals["currency_id"]})
                    settlements[group] = settlement
                vals["settlement_id"] = settlement.id
            record = existing.get(key)
            released = vals["status"] in RELEASED
            if record and (record.state in ("done", "superseded")
                           or record.line_ids.filtered(lambda ln: ln.move_id or ln.payment_id)):
                # (partly) booked already: only follow Amazon's status and settlement, never re-split; written
                # only when they changed (each read overlaps three days: most are read again unchanged, and a
                # write would take their rows from the booking going on)
                stored = {"status": record.status, "settlement_id": record.settlement_id.id,
                          "maturity_date": record.maturity_date}
                changes = {k: v for k, v in vals.items() if k in stored and (stored[k] or False) != (v or False)}
                if changes:
                    record.write(changes)
            elif record and record.state in ("to_book", "waiting") and record.raw_json == vals["raw_json"] \
                    and record.status == vals["status"] \
                    and record.settlement_id.id == vals.get("settlement_id", False) \
                    and not record.line_ids.filtered("is_unknown"):
                # read again unchanged (each read overlaps the last days): its split and state stand; a sale
                # waiting for its invoice is tried again once the order is invoiced (see _finance_todo)
                pass
            else:
                vals["state"] = "to_book" if released else "deferred"
                if record:
                    record.write(vals)
                else:
                    record = Txn.create({**vals, "account_id": self.id, "name": key})
                    existing[key] = record
                record._rebuild_lines(txn)
            touched |= record
        return touched

    def _process_finances(self):
        """Book what can be booked: sales and refunds released, fee bills of open settlements, settlements
        whose deposit is known."""
        self.ensure_one()
        self._finance_todo()._book_order_part()
        self._finance_book_settlements()
        return True

    def _finance_todo(self):
        """The transactions to book now, those never tried first: released ones not booked yet, failed ones,
        and sales waiting for an invoice once the order has a posted one (the others go on waiting untouched)."""
        self.ensure_one()
        Txn = self.env["amazon.settlement.transaction"]
        # a released transaction that names the deferred one it releases carries the money
        releasing = Txn.search([("account_id", "=", self.id), ("deferred_ref", "!=", False),
                                ("status", "in", list(RELEASED))])
        if releasing:
            Txn.search([
                ("account_id", "=", self.id), ("name", "in", releasing.mapped("deferred_ref")),
                ("state", "in", ("deferred", "to_book", "waiting")),
            ]).write({"state": "superseded", "message": self.env._("Released by another transaction.")})
        domain = [("account_id", "=", self.id)]
        order = "posted_date, id"
        to_book = Txn.search(domain + [("state", "=", "to_book")], order=order)
        failed = Txn.search(domain + [("state", "=", "error")], order=order)
        waiting = Txn.search(domain + [("state", "=", "waiting")], order=order)
        sales = waiting.filtered(lambda t: t.kind == "sale" and t.amazon_order_id)
        if sales:
            invoiced = {oid for oid, moves in self._find_order_invoices(sales.mapped("amazon_order_id")).items()
                        if moves.filtered(lambda m: m.move_type == "out_invoice")}
            waiting -= sales.filtered(lambda t: t.amazon_order_id not in invoiced)
        return to_book | failed | waiting

    def _finance_book_settlements(self):
        """Fee bills of the open settlements; closing of the settlements whose deposit is known."""
        self.ensure_one()
        settlements = self.settlement_ids
        for settlement in settlements.filtered(lambda s: s.state == "open" and not s.deposit_date):
            settlement._refresh_fee_bill()
        to_close = settlements.filtered(
            lambda s: s.deposit_date and (
                s.state == "open"
                or s.line_ids.filtered(lambda ln: ln.category != "transfer" and not ln.booked
                                       and ln.category not in ("sale", "refund")
                                       and ln.transaction_id.state not in ("deferred", "superseded"))
            )
        )
        to_close._book_closing()

    # ------------------------------------------------------------------ settlement reports

    def _sync_settlement_reports(self, api_client, since):
        """Deposit date and amount of each settlement, from Amazon's settlement reports (when the seller has
        them) and from transfer transactions."""
        self.ensure_one()
        self._apply_transfer_deposits()
        if not hasattr(api_client, "iter_reports"):
            return
        try:
            reports = list(api_client.iter_reports(
                report_types=[SETTLEMENT_REPORT],
                created_since=(since - timedelta(days=30)).replace(tzinfo=timezone.utc),
            ))
        except spapi_errors.RetryLater:
            raise
        except spapi_errors.SpApiError as exc:
            # not every seller has settlement reports (they need the Finance and Accounting role)
            _logger.info("No settlement reports for %s: %s", self.name, exc)
            return
        read = set(self.settlement_ids.mapped("report_ref"))
        for report in reports:
            if not report.is_done or not report.report_document_id or report.report_id in read:
                continue
            rows = api_client.iter_report_rows(report.report_document_id)
            self._apply_settlement_report(rows, report_id=report.report_id)

    def _apply_transfer_deposits(self):
        for settlement in self.settlement_ids.filtered(lambda s: s.deposit_source in (False, "transfer")):
            transfers = settlement.line_ids.filtered(lambda ln: ln.category == "transfer")
            if not transfers:
                continue
            amount = -sum(transfers.mapped("amount"))  # money leaving Amazon's balance for the bank
            last = max(transfers.mapped("posted_date") or [False]) or False
            settlement._set_deposit(amount, fields.Date.to_date(last) if last else False, "transfer")

    def _apply_settlement_report(self, rows, report_id=None):
        """A V2 settlement report: its summary row (the one with total-amount) gives the deposit of the
        settlement. Amazon's settlement id may differ from the financial event group id the transactions
        carry: the report's order ids then find the settlement."""
        self.ensure_one()
        Settlement = self.env["amazon.settlement"]
        summaries = []
        orders = defaultdict(set)
        for row in rows:
            row = {norm(k): (v or "").strip() for k, v in dict(row).items() if k}
            ref = row.get("settlementid")
            if not ref:
                continue
            if row.get("totalamount"):
                summaries.append(row)
            elif row.get("orderid"):
                orders[ref].add(row["orderid"])
        for row in summaries:
            ref, total = row["settlementid"], row["totalamount"]
            try:
                amount = float(Decimal(total.replace(",", "")))
            except (InvalidOperation, ValueError):
                _logger.warning("Settlement %s: total-amount %r is not a number", ref, total)
                continue
            settlement = Settlement.search([
                ("account_id", "=", self.id), "|", ("name", "=", ref), ("settlement_ref", "=", ref),
            ], limit=1)
            if not settlement and orders.get(ref):
                candidates = self.env["amazon.settlement.transaction"].search([
                    ("account_id", "=", self.id), ("amazon_order_id", "in", list(orders[ref])),
                    ("settlement_id", "!=", False),
                ]).settlement_id.filtered(lambda s: not s.settlement_ref)
                if len(candidates) == 1:
                    settlement = candidates
            currency = self.env["res.currency"].search([("name", "=", row.get("currency") or "")], limit=1) \
                or self.marketplace_id.currency_id or self.company_id.currency_id
            if not settlement:
                settlement = Settlement.create({"account_id": self.id, "name": ref, "currency_id": currency.id})
            vals = {
                "settlement_ref": ref,
                "report_ref": report_id,
                "start_date": _parse_report_date(row.get("settlementstartdate")),
                "end_date": _parse_report_date(row.get("settlementenddate")),
            }
            settlement.write({k: v for k, v in vals.items() if v and settlement[k] != v})
            deposit = _parse_report_date(row.get("depositdate"))
            settlement._set_deposit(amount, deposit.date() if deposit else False, "report")

    # ------------------------------------------------------------------ navigation

    def action_view_settlements(self):
        check_group(self.env, AMAZON_USER, ACCOUNTANT)
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_settlement_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_open_commission_wizard(self, settlement=None):
        check_group(self.env, ACCOUNTANT)
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Load Amazon commission invoice (CFDI)"),
            "res_model": "amazon.commission.invoice.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_account_id": self.id,
                "default_settlement_id": settlement.id if settlement else False,
            },
        }


    @api.model
    def _ensure_purchase_menu(self):
        """Purchase > Orders > Amazon Commission CFDI, when Purchase is installed (the addon does not depend on
        it; update the addon after installing Purchase to get the entry)."""
        parent = self.env.ref("purchase.menu_procurement_management", raise_if_not_found=False)
        action = self.env.ref("bind_amazon_connector.amazon_commission_invoice_wizard_action",
                              raise_if_not_found=False)
        if not parent or not action:
            return
        xmlid = "bind_amazon_connector.menu_purchase_amazon_commission_wizard"
        vals = {
            "name": "Amazon Commission CFDI",
            "parent_id": parent.id,
            "action": f"{action._name},{action.id}",
            "sequence": 50,
            "group_ids": [Command.set(self.env.ref("account.group_account_invoice").ids)],
        }
        menu = self.env.ref(xmlid, raise_if_not_found=False)
        if menu:
            menu.write(vals)
        else:
            menu = self.env["ir.ui.menu"].sudo().create(vals)
        self.env["ir.model.data"]._update_xmlids([{"xml_id": xmlid, "record": menu, "noupdate": True}])


def _parse_report_date(value):
    """Settlement report dates: "2024-06-01 12:00:00 UTC", "2024-06-01T12:00:00+00:00", "01.06.2024 ..."."""
    if not value:
        return False
    text = value.strip().replace(" UTC", "").replace("Z", "+00:00")
    for parse in (
        datetime.fromisoformat,
        lambda v: datetime.strptime(v, "%d.%m.%Y %H:%M:%S"),
        lambda v: datetime.strptime(v, "%d.%m.%Y"),
        lambda v: datetime.strptime(v, "%Y-%m-%d %H:%M:%S"),
    ):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        if parsed.tzinfo:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return parsed
    try:
        return datetime.combine(datetime.strptime(text[:10], "%Y-%m-%d").date(), time())
    except ValueError:
        return False
