"""Amazon's money: settlements (one payout each), their transactions and the amounts each one is made of.

Amazon releases the seller's money per settlement (Finances 2024-06-19 ``SETTLEMENT_ID`` or, before it is
known, ``FINANCIAL_EVENT_GROUP_ID``). Every transaction Amazon reports is kept once per connection
(``amazon.settlement.transaction``, unique by Amazon's transaction id) and split into classified amounts
(``amazon.settlement.line``): the sale or refund part (pays the customer invoice / credit note), fees by type
(one vendor bill of Amazon per settlement), IVA and ISR withholdings, the deposit itself, and anything not
recognised (booked to the suspense account of the connection and listed, never dropped).

The settlement computes the reconciliation: sales paid - refunds - fees - withholdings (+ other amounts on
the suspense account) = amount deposited, and names the transactions that explain a difference.
"""
import hashlib
import json
import logging
import re
from datetime import timezone
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# ---------------------------------------------------------------- classification of Amazon's types

#: transactionType (normalised) -> kind of transaction
SALE_KINDS = {"shipment", "order", "sale", "orderpayment", "shipmentsale"}
REFUND_KINDS = {"refund", "refundorder", "chargeback", "chargebackrefund", "guaranteeclaim", "atozguaranteeclaim",
                "atozclaim", "saferetreimbursement"}
FEE_KINDS = {"servicefee", "productadspayment", "fbainventoryfee", "fee", "fees", "subscription", "subscriptionfee",
             "advertising", "sellerdealpayment", "couponpayment", "shippinglabel", "shippingservices", "fbafee",
             "fbafees", "storagefee", "removalshipment", "removalshipmentadjustment"}
TRANSFER_KINDS = {"transfer", "disbursement", "fundtransfer", "paymenttransfer", "payout", "disburse"}
WITHHOLDING_KINDS = {"taxwithholding", "taxwithheld", "withholding", "withholdingtax", "withheldtax"}

#: top-level breakdownType (normalised) groups
SALES_TOPS = {"sales", "productcharges", "refundedsales", "salesrefund", "refunds", "refund", "revenue",
              "promotions", "promotion", "shipping", "giftwrap"}
FEE_TOPS = {"expenses", "refundedexpenses", "amazonfees", "fees", "fbafees", "servicefees", "sellingfees",
            "otherfees", "advertising"}
WITHHOLDING_TOPS = {"taxwithholding", "taxwithheld", "withholding", "withheldtax", "taxeswithheld",
                    "withholdingtax", "retenciones", "retencion"}
TAX_TOPS = {"tax", "taxes"}
#: children that only split a fee into its parts (the fee keeps its own type)
FEE_COMPONENTS = {"base", "tax", "principal", "amount", "vat", "iva", "taxamount", "feeamount", "basefee",
                  "feetax", "promotion", "discount"}
TAX_COMPONENTS = {"tax", "vat", "iva", "taxamount", "feetax"}

_ISR_WORDS = ("isr", "incometax", "impuestosobrelarenta")
_IVA_WORDS = ("iva", "vat", "valueadded", "impuestoalvaloragregado")
_WITHHELD_WORDS = ("withh", "retenc", "retenid", "facilitator", "isr")

CATEGORIES = [
    ("sale", "Sale"),
    ("refund", "Refund"),
    ("fee", "Fee"),
    ("withholding_iva", "IVA withheld"),
    ("withholding_isr", "ISR withheld"),
    ("transfer", "Deposit"),
    ("unknown", "Unknown"),
]
KINDS = [
    ("sale", "Sale"),
    ("refund", "Refund"),
    ("fee", "Fees"),
    ("withholding", "Withholding"),
    ("transfer", "Deposit"),
    ("unknown", "Unknown"),
]
RELEASED = ("RELEASED", "DEFERRED_RELEASED")
MX_MARKETPLACE = "A1AM78C64UM0Y8"


def norm(value):
    """Amazon type names vary in case and separators ("Product Charges", "ProductCharges"): compare them so."""
    return re.sub(r"[^a-z0-9]", "", (value or "").lower())


def to_utc_naive(value):
    if not value:
        return False
    if value.tzinfo:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _amount(money):
    return money.amount if money is not None and money.amount is not None else Decimal(0)


def transaction_kind(transaction_type):
    key = norm(transaction_type)
    for kinds, kind in ((SALE_KINDS, "sale"), (REFUND_KINDS, "refund"), (FEE_KINDS, "fee"),
                        (TRANSFER_KINDS, "transfer"), (WITHHOLDING_KINDS, "withholding")):
        if key in kinds:
            return kind
    return "unknown"


def withholding_category(words, default):
    """IVA or ISR from the names around a withheld amount; ``default`` when none says."""
    text = norm(" ".join(w for w in words if w))
    if any(w in text for w in _ISR_WORDS):
        return "withholding_isr"
    if any(w in text for w in _IVA_WORDS):
        return "withholding_iva"
    return default


def _fee_leaves(node, path):
    """(type, path, amount, tax) of each fee inside a breakdown: a node whose children only split it into
    base and tax is one fee."""
    children = [b for b in node.breakdowns if b.type or b.amount]
    if not children or all(norm(c.type) in FEE_COMPONENTS for c in children):
        tax = sum((_amount(c.amount) for c in children if norm(c.type) in TAX_COMPONENTS), Decimal(0))
        if node.amount is None and children:
            total = sum((_amount(c.amount) for c in children), Decimal(0))
        else:
            total = _amount(node.amount)
        yield node.type or "?", path, total, tax
        return
    for child in children:
        yield from _fee_leaves(child, path + (child.type or "?",))


def _leaves(node, path):
    children = [b for b in node.breakdowns if b.type or b.amount]
    if not children:
        yield node.type or "?", path, _amount(node.amount)
        return
    for child in children:
        yield from _leaves(child, path + (child.type or "?",))


def classify_transaction(txn):
    """Split an SP-API ``Transaction`` into classified amounts.

    Returns a list of dicts ``{category, amazon_type, path, amount, tax_amount}`` whose amounts (Amazon's
    sign: positive is money for the seller) add up to the transaction's total; a part the breakdowns do not
    explain becomes an ``unknown`` amount.
    """
    kind = transaction_kind(txn.transaction_type)
    total = _amount(txn.total_amount)
    out = []

    def add(category, amazon_type, path, amount, tax=Decimal(0)):
        if amount:
            out.append({"category": category, "amazon_type": amazon_type or "?", "path": " / ".join(path),
                        "amount": amount, "tax_amount": tax})

    breakdowns = list(txn.breakdowns)
    if not breakdowns:  # some types carry their breakdowns on the items only
        breakdowns = [b for item in txn.items for b in item.breakdowns]
    order_kind = kind in ("sale", "refund")
    words = (txn.transaction_type, txn.description)
    # Amazon Mexico withholds IVA order by order (ISR monthly): a withholding inside an order transaction of
    # Mexico that does not say which tax it is, is IVA. Elsewhere (US marketplace facilitator tax...) it is
    # not a Mexican withholding: suspense.
    mexican = (txn.marketplace_id or MX_MARKETPLACE) == MX_MARKETPLACE
    order_withholding = "withholding_iva" if order_kind and mexican else "unknown"

    if kind == "transfer":
        add("transfer", txn.transaction_type, (txn.transaction_type or "?",), total)
        return out
    if kind == "unknown" or (not breakdowns and kind in ("sale", "refund")):
        add("unknown", txn.transaction_type, (txn.transaction_type or "?",), total)
        return out
    if not breakdowns:
        if kind == "fee":
            fee_type = txn.description or txn.transaction_type
            add("fee", fee_type, (txn.transaction_type or "?", fee_type or "?"), total)
        else:  # withholding
            add(withholding_category(words, "unknown"), txn.transaction_type, (txn.transaction_type or "?",), total)
        return out

    for top in breakdowns:
        key = norm(top.type)
        path = (top.type or "?",)
        if kind == "withholding" or key in WITHHOLDING_TOPS:
            for leaf_type, leaf_path, amount in _leaves(top, path):
                add(withholding_category(words + leaf_path, order_withholding), leaf_type, leaf_path, amount)
        elif key in FEE_TOPS or (kind == "fee" and key not in SALES_TOPS and key not in TAX_TOPS):
            for fee_type, fee_path, amount, tax in _fee_leaves(top, path):
                add("fee", fee_type, fee_path, amount, tax)
        elif key in SALES_TOPS and order_kind:
            add(kind, top.type, path, _amount(top.amount) if top.amount is not None
                else sum((a for _t, _p, a in _leaves(top, path)), Decimal(0)))
        elif key in TAX_TOPS:
            for leaf_type, leaf_path, amount in _leaves(top, path):
                if any(w in norm(" ".join(leaf_path)) for w in _WITHHELD_WORDS):
                    add(withholding_category(words + leaf_path, order_withholding), leaf_type, leaf_path, amount)
                elif order_kind:
                    add(kind, leaf_type, leaf_path, amount)  # tax collected from the buyer: part of the sale
                else:
                    add("unknown", leaf_type, leaf_path, amount)
        else:
            for leaf_type, leaf_path, amount in _leaves(top, path):
                add("unknown", leaf_type, leaf_path, amount)

    explained = sum((line["amount"] for line in out), Decimal(0))
    if txn.total_amount is not None and explained != total:
        add("unknown", "Unexplained", ("(total - breakdowns)",), total - explained)
    return out


# ---------------------------------------------------------------- models

class AmazonSettlement(models.Model):
    _name = "amazon.settlement"
    _description = "Amazon Settlement"
    _inherit = ["mail.thread"]
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
        [("open", "Open"), ("closed", "Booked")], default="open", required=True, tracking=True, readonly=True,
        help="Open: Amazon is still adding transactions. Booked: the deposit is known and the fees, "
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

    sales_amount = fields.Monetary(string="Sales paid", compute="_compute_totals", store=True)
    refund_amount = fields.Monetary(string="Refunds", compute="_compute_totals", store=True)
    fee_amount = fields.Monetary(string="Fees", compute="_compute_totals", store=True)
    withholding_amount = fields.Monetary(string="Withholdings", compute="_compute_totals", store=True)
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
            settlement.waiting_count = len(settlement.transaction_ids.filtered(lambda t: t.state == "waiting"))
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
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Transactions of %s", self.display_name),
            "res_model": "amazon.settlement.transaction",
            "view_mode": "list,form",
            "domain": [("settlement_id", "=", self.id)],
        }

    def action_view_bills(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Amazon bills of %s", self.display_name),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [("amazon_settlement_id", "=", self.id)],
            "context": {"create": False},
        }

    def action_load_cfdi(self):
        self.ensure_one()
        return self.account_id.action_open_commission_wizard(settlement=self)

    def action_close(self):
        """Book the settlement by hand: the accountant entered the deposit found in the bank statement."""
        for settlement in self:
            if not settlement.deposit_date:
                raise UserError(self.env._("Enter the deposit date and amount of %s before booking it.",
                                           settlement.display_name))
            if not settlement.deposit_source:
                settlement.deposit_source = "manual"
            settlement.account_id._finance_check_config()
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
                settlement.account_id._book_fee_bill(settlement, lines)

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
                    account._pay_moves(bill, date=date, memo=bill.ref)
            open_lines = settlement.line_ids.filtered(
                lambda ln: ln.category in ("withholding_iva", "withholding_isr", "unknown") and not ln.payment_id
                and ln.transaction_id.state not in ("deferred", "superseded")
            )
            for category in ("withholding_iva", "withholding_isr", "unknown"):
                lines = open_lines.filtered(lambda ln, c=category: ln.category == c)
                if lines:
                    account._book_other_amounts(settlement, category, lines, date)
            if settlement.state != "closed":
                settlement.state = "closed"


class AmazonSettlementTransaction(models.Model):
    _name = "amazon.settlement.transaction"
    _description = "Amazon Financial Transaction"
    _order = "posted_date desc, id desc"
    _check_company_auto = True
    _rec_name = "name"

    name = fields.Char(string="Transaction ID", required=True, readonly=True, index=True)
    account_id = fields.Many2one("amazon.account", string="Connection", required=True, ondelete="cascade",
                                 index=True, readonly=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    settlement_id = fields.Many2one("amazon.settlement", string="Settlement", index=True, ondelete="set null",
                                    readonly=True)
    transaction_type = fields.Char(string="Type", readonly=True)
    kind = fields.Selection(KINDS, readonly=True)
    description = fields.Char(readonly=True)
    status = fields.Char(string="Amazon status", readonly=True, help="DEFERRED, RELEASED or DEFERRED_RELEASED.")
    posted_date = fields.Datetime(readonly=True)
    maturity_date = fields.Datetime(string="Release date", readonly=True,
                                    help="When Amazon releases a deferred transaction.")
    amazon_order_id = fields.Char(string="Amazon Order", index=True, readonly=True)
    marketplace_ref = fields.Char(string="Marketplace ID", readonly=True)
    deferred_ref = fields.Char(string="Deferred transaction", readonly=True,
                               help="The deferred transaction this one releases.")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    total_amount = fields.Monetary(string="Amazon total", readonly=True)
    state = fields.Selection(
        [
            ("deferred", "Deferred"),
            ("to_book", "To book"),
            ("waiting", "Waiting for an invoice"),
            ("done", "Booked"),
            ("superseded", "Released by another transaction"),
        ],
        default="to_book", required=True, readonly=True, index=True,
    )
    message = fields.Char(readonly=True, help="Why the transaction is not (fully) booked.")
    line_ids = fields.One2many("amazon.settlement.line", "transaction_id", string="Amounts", readonly=True)
    invoice_ids = fields.Many2many("account.move", string="Invoices and credit notes", readonly=True,
                                   relation="amazon_settlement_transaction_move_rel")
    payment_ids = fields.Many2many("account.payment", string="Payments", readonly=True,
                                   relation="amazon_settlement_transaction_payment_rel")
    order_booked_amount = fields.Monetary(
        string="Booked on invoices", readonly=True,
        help="Paid on the customer invoices (positive) or refunded with credit notes (negative).",
    )
    booked_amount = fields.Monetary(compute="_compute_booked", store=True,
                                    help="Everything booked for this transaction.")
    gap = fields.Monetary(compute="_compute_booked", store=True,
                          help="Amazon's total - booked amount: what the books miss of this transaction.")
    # not base.group_no_one: Odoo keeps a debug-only node in the view but leaves the field out of the view's
    # fields outside debug mode, and the form then fails to open ("raw_json" field is undefined)
    raw_json = fields.Text(string="Amazon data", readonly=True, groups="bind_amazon_connector.group_amazon_manager")

    _account_name_unique = models.Constraint(
        "UNIQUE(account_id, name)", "An Amazon transaction is recorded once per connection."
    )

    @api.depends("order_booked_amount", "line_ids.booked", "line_ids.amount", "line_ids.category", "total_amount",
                 "state", "kind")
    def _compute_booked(self):
        for txn in self:
            lines = txn.line_ids.filtered(lambda ln: ln.booked and ln.category not in ("sale", "refund", "transfer"))
            booked = txn.order_booked_amount + sum(lines.mapped("amount"))
            txn.booked_amount = booked
            if txn.state in ("deferred", "superseded") or txn.kind == "transfer":
                txn.gap = 0.0
            else:
                txn.gap = txn.currency_id.round(txn.total_amount - booked)

    # ------------------------------------------------------------------ import

    @api.model
    def _values_from_api(self, account, txn):
        """Values of a transaction record from an SP-API ``Transaction``."""
        status = (txn.transaction_status or "RELEASED").upper()
        currency_code = txn.total_amount.currency if txn.total_amount else None
        currency = self.env["res.currency"].with_context(active_test=False).search(
            [("name", "=", currency_code)], limit=1) if currency_code else self.env["res.currency"]
        maturity = next((c.maturity_date for c in txn.contexts if c.maturity_date), None)
        if not maturity:
            maturity = next((c.maturity_date for item in txn.items for c in item.contexts if c.maturity_date), None)
        return {
            "transaction_type": txn.transaction_type,
            "kind": transaction_kind(txn.transaction_type),
            "description": txn.description,
            "status": status,
            "posted_date": to_utc_naive(txn.posted_date),
            "maturity_date": to_utc_naive(maturity),
            "amazon_order_id": txn.order_id,
            "marketplace_ref": txn.marketplace_id,
            "deferred_ref": txn.related("DEFERRED_TRANSACTION_ID"),
            "currency_id": (currency or account.marketplace_id.currency_id or account.company_id.currency_id).id,
            "total_amount": float(_amount(txn.total_amount)),
            "raw_json": json.dumps(txn.raw, sort_keys=True, default=str) if txn.raw else False,
        }

    @staticmethod
    def _transaction_key(txn):
        if txn.transaction_id:
            return txn.transaction_id
        # Amazon's model makes the id optional: key such a transaction by its content so a re-read matches it
        payload = json.dumps(txn.raw or repr(txn), sort_keys=True, default=str)
        return "NOID-" + hashlib.sha256(payload.encode()).hexdigest()[:24]

    def _rebuild_lines(self, txn):
        """(Re)split a transaction not booked yet into its classified amounts."""
        self.ensure_one()
        self.line_ids.unlink()
        account = self.account_id
        vals_list = []
        for part in classify_transaction(txn):
            fee_account = account._fee_account_for(part["amazon_type"]) if part["category"] == "fee" else False
            vals_list.append({
                "transaction_id": self.id,
                "category": part["category"],
                "amazon_type": part["amazon_type"],
                "path": part["path"],
                "amount": float(part["amount"]),
                "tax_amount": float(part["tax_amount"]),
                "fee_account_id": fee_account.id if fee_account else False,
                "is_unknown": part["category"] == "unknown" or (part["category"] == "fee" and not fee_account),
            })
        self.env["amazon.settlement.line"].create(vals_list)

    def _is_released(self):
        self.ensure_one()
        return self.status in RELEASED

    # ------------------------------------------------------------------ booking of the order part

    def _book_order_part(self):
        """Pay the customer invoice of a released sale, or credit and refund it for a refund."""
        for txn in self:
            if txn.state in ("done", "superseded", "deferred"):
                continue
            if txn.kind not in ("sale", "refund"):
                txn.write({"state": "done", "message": False})
                continue
            amount = sum(txn.line_ids.filtered(lambda ln, kind=txn.kind: ln.category == kind).mapped("amount"))
            if txn.currency_id.is_zero(amount):
                txn.write({"state": "done", "message": False})
                continue
            if not txn.amazon_order_id:
                txn.write({"state": "waiting",
                           "message": txn.env._("Amazon gave no order id for this transaction.")})
                continue
            if txn.kind == "sale":
                txn._book_sale(amount)
            else:
                txn._book_refund(-amount)

    def _book_sale(self, amount):
        self.ensure_one()
        account = self.account_id
        moves = account._find_order_invoices([self.amazon_order_id]).get(self.amazon_order_id)
        invoices = (moves or self.env["account.move"]).filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted")
        if not invoices:
            self.write({"state": "waiting", "message": self.env._(
                "No posted invoice of order %s yet: it is paid when the order is invoiced.", self.amazon_order_id)})
            return
        currency = self.currency_id
        date = fields.Date.to_date(self.posted_date) if self.posted_date else fields.Date.context_today(self)
        unpaid = invoices.filtered(lambda m: not m.currency_id.is_zero(m.amount_residual))
        payments, paid = account._pay_moves(unpaid, amount=amount, date=date,
                                            memo=self.env._("Amazon %s", self.amazon_order_id))
        booked = paid
        message = False
        if currency.compare_amounts(paid, amount) < 0:
            # already paid (payment registered when the invoice was posted, or by hand) counts as booked
            already = sum(invoices.mapped("amount_total")) - sum(invoices.mapped("amount_residual")) - paid
            before_ours = sum(self.search([
                ("account_id", "=", account.id), ("amazon_order_id", "=", self.amazon_order_id),
                ("kind", "=", "sale"), ("state", "=", "done"), ("id", "!=", self.id),
            ]).mapped("order_booked_amount"))
            credit = max(0.0, already - before_ours)
            booked = min(amount, paid + credit)
            if currency.compare_amounts(booked, amount) < 0:
                message = self.env._(
                    "The invoices of order %(order)s leave %(left)s to pay but Amazon paid %(amount)s.",
                    order=self.amazon_order_id, left=paid, amount=amount)
        existing = invoices.matched_payment_ids.filtered(lambda p: p.journal_id == account.journal_id)
        self.write({
            "state": "done",
            "message": message,
            "order_booked_amount": booked,
            "invoice_ids": [fields.Command.link(m.id) for m in invoices],
            "payment_ids": [fields.Command.link(p.id) for p in payments | existing],
        })

    def _book_refund(self, amount):
        """``amount``: positive amount refunded to the buyer."""
        self.ensure_one()
        account = self.account_id
        moves = account._find_order_invoices([self.amazon_order_id]).get(self.amazon_order_id) \
            or self.env["account.move"]
        moves = moves.filtered(lambda m: m.state == "posted")
        invoices = moves.filtered(lambda m: m.move_type == "out_invoice")
        if not invoices:
            self.write({"state": "waiting", "message": self.env._(
                "No posted invoice of order %s to credit for this refund.", self.amazon_order_id)})
            return
        currency = self.currency_id
        date = fields.Date.to_date(self.posted_date) if self.posted_date else fields.Date.context_today(self)
        # a credit note already made for this refund (by the orders flow or by hand) and not paid yet
        credit_notes = moves.filtered(
            lambda m: m.move_type == "out_refund" and currency.compare_amounts(m.amount_residual, amount) >= 0
            and m not in self.search([("account_id", "=", account.id), ("id", "!=", self.id)]).invoice_ids
        )[:1]
        if not credit_notes:
            credit_notes = account._create_refund_credit_note(invoices, amount, date, self)
        payments, paid = account._pay_moves(credit_notes, amount=amount, date=date,
                                            memo=self.env._("Amazon refund %s", self.amazon_order_id))
        message = False
        if currency.compare_amounts(paid, amount) < 0:
            message = self.env._("Only %(paid)s of the refund of %(amount)s could be booked.", paid=paid,
                                 amount=amount)
        self.write({
            "state": "done",
            "message": message,
            "order_booked_amount": -paid,
            "invoice_ids": [fields.Command.link(m.id) for m in invoices | credit_notes],
            "payment_ids": [fields.Command.link(p.id) for p in payments],
        })


class AmazonSettlementLine(models.Model):
    _name = "amazon.settlement.line"
    _description = "Amazon Transaction Amount"
    _order = "transaction_id, id"

    transaction_id = fields.Many2one("amazon.settlement.transaction", required=True, ondelete="cascade",
                                     index=True, readonly=True)
    settlement_id = fields.Many2one(related="transaction_id.settlement_id", store=True, index=True)
    account_id = fields.Many2one(related="transaction_id.account_id", store=True, index=True)
    company_id = fields.Many2one(related="transaction_id.company_id", store=True)
    amazon_order_id = fields.Char(related="transaction_id.amazon_order_id")
    posted_date = fields.Datetime(related="transaction_id.posted_date")
    currency_id = fields.Many2one(related="transaction_id.currency_id")
    category = fields.Selection(CATEGORIES, required=True, readonly=True, index=True)
    amazon_type = fields.Char(string="Amazon type", readonly=True)
    path = fields.Char(string="Breakdown", readonly=True)
    amount = fields.Monetary(readonly=True, help="Amazon's sign: positive is money for the seller.")
    tax_amount = fields.Monetary(string="Tax inside", readonly=True)
    fee_account_id = fields.Many2one("amazon.fee.account", string="Fee type", readonly=True, ondelete="set null")
    is_unknown = fields.Boolean(string="Unknown type", readonly=True,
                                help="Amazon sent a type the connection does not know: booked to the suspense "
                                "account.")
    move_id = fields.Many2one("account.move", string="Booked in", readonly=True, ondelete="set null", index=True)
    payment_id = fields.Many2one("account.payment", string="Paid with", readonly=True, ondelete="set null")
    booked = fields.Boolean(compute="_compute_booked", store=True)

    @api.depends("move_id.state", "payment_id.state", "category", "transaction_id.state")
    def _compute_booked(self):
        for line in self:
            if line.category in ("sale", "refund"):
                line.booked = line.transaction_id.state == "done"
            elif line.category == "fee" and line.move_id:
                line.booked = line.move_id.state == "posted"
            elif line.payment_id:
                line.booked = line.payment_id.state not in ("draft", "canceled", "rejected")
            else:
                line.booked = False


class AccountMove(models.Model):
    _inherit = "account.move"

    amazon_settlement_id = fields.Many2one("amazon.settlement", string="Amazon Settlement", copy=False,
                                           index="btree_not_null", readonly=True, ondelete="set null")
    amazon_fee_bill = fields.Boolean(string="Amazon fee bill", copy=False, readonly=True,
                                     help="Vendor bill of Amazon's fees of a settlement.")
    amazon_cfdi_uuid = fields.Char(string="CFDI Fiscal Folio", copy=False, index="btree_not_null",
                                   help="UUID of the supplier's CFDI loaded with the commission invoice wizard.")

    _amazon_cfdi_uuid_unique = models.Constraint(
        "UNIQUE(amazon_cfdi_uuid)", "This CFDI (fiscal folio) is already recorded on another bill."
    )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        invoices = posted.filtered(lambda m: m.move_type == "out_invoice")
        if invoices and not self.env.context.get("amazon_no_pay_on_post"):
            Account = self.env["amazon.account"].sudo()
            if Account.search_count([("register_payment_on_post", "=", True)], limit=1):
                for account, account_invoices in Account._amazon_accounts_of_invoices(invoices).items():
                    if account.register_payment_on_post:
                        account._register_amazon_payment(account_invoices)
        return posted


class AccountPayment(models.Model):
    _inherit = "account.payment"

    amazon_settlement_id = fields.Many2one("amazon.settlement", string="Amazon Settlement", copy=False,
                                           index="btree_not_null", readonly=True, ondelete="set null")
