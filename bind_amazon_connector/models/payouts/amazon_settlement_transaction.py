import hashlib
import json
import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.translate import LazyTranslate

from ...utils.settlement import KINDS, RELEASED, classify_transaction, transaction_kind
from ...utils.values import money_amount, naive_utc
from ..connection.amazon_sync_job import is_concurrency_error
from . import clearing_payments, order_invoices, payout_settings, refund_credit_notes

_logger = logging.getLogger(__name__)

_lt = LazyTranslate(__name__)

# Amazon's codes as people read them (another code is shown as Amazon wrote it).
TRANSACTION_TYPE_LABELS = {
    "shipment": _lt("Sale (shipment)"),
    "refund": _lt("Refund"),
    "servicefee": _lt("Service fee"),
    "adjustment": _lt("Adjustment"),
    "transfer": _lt("Transfer to the bank"),
    "chargeback": _lt("Chargeback"),
    "guaranteeclaim": _lt("A-to-z guarantee claim"),
    "retrocharge": _lt("Retrocharge"),
    "productadspayment": _lt("Advertising payment"),
    "debtrecovery": _lt("Debt recovery"),
    "taxwithholding": _lt("Tax withholding"),
    "couponpayment": _lt("Coupon payment"),
    "sellerdealpayment": _lt("Deal payment"),
    "fbainventoryfee": _lt("FBA inventory fee"),
    "removalshipment": _lt("FBA removal shipment"),
}
STATUS_LABELS = {
    "RELEASED": _lt("Released"),
    "DEFERRED": _lt("Deferred"),
    "DEFERRED_RELEASED": _lt("Released after deferral"),
}


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
    status = fields.Char(string="Amazon status code", readonly=True, help="DEFERRED, RELEASED or DEFERRED_RELEASED.")
    transaction_type_label = fields.Char(string="Transaction type", compute="_compute_labels")
    status_label = fields.Char(string="Amazon status", compute="_compute_labels")
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
            ("error", "Error"),
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
    # the customer returns of a refund, by the keys both sides store (connection, Amazon order, SKU)
    amazon_return_ids = fields.Many2many("amazon.return", string="Customer Returns", compute="_compute_amazon_returns")

    _account_name_unique = models.Constraint(
        "UNIQUE(account_id, name)", "An Amazon transaction is recorded once per connection."
    )

    @api.depends("transaction_type", "status")
    @api.depends_context("lang")
    def _compute_labels(self):
        for txn in self:
            code = "".join(ch for ch in (txn.transaction_type or "").lower() if ch.isalnum())
            label = TRANSACTION_TYPE_LABELS.get(code)
            txn.transaction_type_label = self.env._(label) if label else txn.transaction_type
            label = STATUS_LABELS.get((txn.status or "").upper())
            txn.status_label = self.env._(label) if label else txn.status

    def _compute_amazon_returns(self):
        Return = self.env["amazon.return"]
        for txn in self:
            if txn.kind != "refund" or not txn.amazon_order_id:
                txn.amazon_return_ids = Return
                continue
            skus = [ln.sku for ln in txn.line_ids if ln.category == "refund" and ln.sku]
            txn.amazon_return_ids = Return.search([("account_id", "=", txn.account_id.id),
                                                   ("order_ref", "=", txn.amazon_order_id)]
                                                  + ([("sku", "in", skus)] if skus else []))

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
    def _values_from_api(self, account, txn, currencies=None):
        """Values of a transaction record from an SP-API ``Transaction``. ``currencies``: a dict kept by the
        caller across a page (code -> currency), so a page of thousands looks each one up once."""
        status = (txn.transaction_status or "RELEASED").upper()
        currency_code = txn.total_amount.currency if txn.total_amount else None
        currencies = {} if currencies is None else currencies
        if currency_code and currency_code not in currencies:
            currencies[currency_code] = self.env["res.currency"].with_context(active_test=False).search(
                [("name", "=", currency_code)], limit=1)
        currency = currencies[currency_code] if currency_code else self.env["res.currency"]
        maturity = next((c.maturity_date for c in txn.contexts if c.maturity_date), None)
        if not maturity:
            maturity = next((c.maturity_date for item in txn.items for c in item.contexts if c.maturity_date), None)
        return {
            "transaction_type": txn.transaction_type,
            "kind": transaction_kind(txn.transaction_type),
            "description": txn.description,
            "status": status,
            "posted_date": naive_utc(txn.posted_date),
            "maturity_date": naive_utc(maturity),
            "amazon_order_id": txn.order_id,
            "marketplace_ref": txn.marketplace_id,
            "deferred_ref": txn.related("DEFERRED_TRANSACTION_ID"),
            "currency_id": (currency or account.marketplace_id.currency_id or account.company_id.currency_id).id,
            "total_amount": float(money_amount(txn.total_amount)),
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
            fee_account = payout_settings.fee_account_for(account, part["amazon_type"]) \
                if part["category"] == "fee" else False
            vals_list.append({
                "transaction_id": self.id,
                "category": part["category"],
                "amazon_type": part["amazon_type"],
                "path": part["path"],
                "amount": float(part["amount"]),
                "tax_amount": float(part["tax_amount"]),
                "has_tax": part.get("has_tax", False),
                "sku": part.get("sku") or False,
                "quantity": part.get("quantity") or 0,
                "item_ref": part.get("item_ref") or False,
                "charge": part.get("charge") or False,
                "fee_account_id": fee_account.id if fee_account else False,
                "is_unknown": part["category"] == "unknown" or (part["category"] == "fee" and not fee_account),
            })
        self.env["amazon.settlement.line"].create(vals_list)

    def _is_released(self):
        self.ensure_one()
        return self.status in RELEASED

    # ------------------------------------------------------------------ booking of the order part

    def _book_order_part(self):
        """Pay the customer invoice of a released sale, or credit and refund it for a refund.

        Sales are paid together (see ``clearing_payments.pay_moves_batch``) until a refund, which needs what
        came before it booked; when a group fails, its sales are booked one by one, each in a savepoint, and
        the one that fails is left in error with Amazon's order and the reason."""
        sales = []
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
                sales.append((txn, amount))
                continue
            self._book_sales(sales)
            sales = []
            txn._book_refund(-amount)
        self._book_sales(sales)

    def _book_sales(self, sales):
        """(transaction, amount) pairs: each pays its order's invoices, grouped by connection."""
        by_account = {}
        for txn, amount in sales:
            by_account.setdefault(txn.account_id, []).append((txn, amount))
        for group in by_account.values():
            try:
                with self.env.cr.savepoint():
                    self._book_sales_together(group)
                continue
            except (UserError, ValidationError, psycopg2.Error) as exc:
                if is_concurrency_error(exc):
                    raise
                failure = exc
            if len(group) == 1:
                group[0][0]._book_sale_failed(failure)
                continue
            _logger.info("Amazon payouts: %s sales could not be booked together (%s): one by one",
                         len(group), failure)
            for txn, amount in group:
                try:
                    with self.env.cr.savepoint():
                        self._book_sales_together([(txn, amount)])
                except (UserError, ValidationError, psycopg2.Error) as exc:
                    if is_concurrency_error(exc):
                        raise
                    txn._book_sale_failed(exc)

    def _book_sale_failed(self, exc):
        self.ensure_one()
        self.write({"state": "error", "message": self.env._(
            "The payment of order %(order)s could not be registered: %(reason)s",
            order=self.amazon_order_id, reason=exc)})

    def _book_sales_together(self, sales):
        """(transaction, amount) pairs of one connection: their payments are created and reconciled at once."""
        account = sales[0][0].account_id
        invoices_of = order_invoices.find_order_invoices(account, [txn.amazon_order_id for txn, _amount in sales])
        plans = []
        for txn, amount in sales:
            invoices = (invoices_of.get(txn.amazon_order_id) or self.env["account.move"]).filtered(
                lambda m: m.move_type == "out_invoice" and m.state == "posted")
            if not invoices:
                txn.write({"state": "waiting", "message": self.env._(
                    "No posted invoice of order %s yet: it is paid when the order is invoiced.",
                    txn.amazon_order_id)})
                continue
            date = fields.Date.to_date(txn.posted_date) if txn.posted_date else fields.Date.context_today(txn)
            plans.append({
                "txn": txn, "amount": amount, "invoices": invoices, "date": date,
                "moves": invoices.filtered(lambda m: not m.currency_id.is_zero(m.amount_residual)),
                "memo": self.env._("Amazon %s", txn.amazon_order_id),
            })
        results = clearing_payments.pay_moves_batch(account, plans) if plans else []
        for plan, (payments, paid) in zip(plans, results, strict=True):
            plan["txn"]._book_sale_result(plan["invoices"], plan["amount"], payments, paid)

    def _book_sale_result(self, invoices, amount, payments, paid):
        """Record what paying the order's invoices booked (what was paid before counts, once)."""
        self.ensure_one()
        account = self.account_id
        currency = self.currency_id
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
        existing = invoices.matched_payment_ids.filtered(lambda p: p.journal_id == account.clearing_journal_id)
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
        moves = order_invoices.find_order_invoices(account, [self.amazon_order_id]).get(self.amazon_order_id) \
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
            try:
                with self.env.cr.savepoint():
                    credit_notes = refund_credit_notes.create_refund_credit_note(account, invoices, amount, date, self)
            except UserError as exc:
                # never credit a product the buyer did not return: a person decides
                self.write({"state": "error", "message": str(exc)})
                return
        payments, paid = clearing_payments.pay_moves(account, credit_notes, amount=amount, date=date,
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
