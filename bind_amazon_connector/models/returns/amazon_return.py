"""Customer returns in Odoo: one ``amazon.return`` per returned item Amazon reports, and what it became.

The returns flow (``amazon_return_sync.py``) reads Amazon's two returns reports and records each row here
(:meth:`AmazonReturn._record_rows`), keyed by Amazon's own ids (``ReturnRow.key``: the RMA id or licence plate
number, with the order and the SKU). A row read again writes only what Amazon changed. The goods come back
through a return of the order's delivery (``return_stock.py``): merchant-fulfilled ones once Amazon reports
them delivered to the seller, FBA ones at once, to the FBA warehouse's stock when sellable, else to its
unsellable location; an FBA return read again with another disposition or quantity moves only the difference
(``return_stock.settle``). A return whose order is not in Odoo yet waits in error and is tried again, as orders
are. Its money (credit notes, Amazon's refunds and fee refunds) and the refunds whose goods do not come back:
``return_refunds.py``.
"""
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ...utils.values import naive_utc
from ..connection.access import ACCOUNTANT, AMAZON_USER, check_group
from ..connection.amazon_sync_job import is_concurrency_error
from . import return_refunds, return_stock

_logger = logging.getLogger(__name__)

#: A return in error is tried again by the flow up to this many times, the first time this long after the
#: failure, then twice as long after each further failure (as orders are).
AUTO_RETRY_ATTEMPTS = 8
AUTO_RETRY_DELAY = timedelta(minutes=30)
AUTO_RETRY_BATCH = 50
MONEY_READERS = f"{AMAZON_USER},{ACCOUNTANT}"
#: What Amazon may change on a return read again (the report's values), and nothing else.
AMAZON_FIELDS = ("amazon_status", "disposition", "delivered_date", "refunded_amount", "resolution", "quantity")
STATES = [
    ("requested", "Requested"),
    ("ready", "To Receive"),
    ("received", "Back in Stock"),
    ("unsellable", "Unsellable"),
    ("no_return", "Refunded, Not Returned"),
    ("error", "Waiting"),
]


class AmazonReturnError(UserError):
    """The return cannot be recorded in stock as it is (order not imported, delivery not done...)."""


class AmazonReturn(models.Model):
    _name = "amazon.return"
    _description = "Amazon Customer Return"
    _inherit = ["amazon.company.guard", "mail.thread", "mail.activity.mixin"]
    _order = "return_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Return", required=True, readonly=True, index=True,
                       help="Amazon's RMA id (merchant-fulfilled) or licence plate number (FBA).")
    key = fields.Char(required=True, readonly=True, copy=False, help="Amazon's ids of this returned item.")
    account_id = fields.Many2one("amazon.account", string="Connection", required=True, readonly=True, index=True,
                                 ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    channel = fields.Selection([("fbm", "Merchant (FBM)"), ("fba", "Amazon (FBA)")], string="Fulfillment",
                               required=True, readonly=True)
    order_ref = fields.Char(string="Amazon Order Number", required=True, readonly=True, index=True)
    amazon_order_id = fields.Many2one("amazon.order", string="Amazon Order", readonly=True, index="btree_not_null",
                                      check_company=True)
    sale_order_id = fields.Many2one("sale.order", string="Sale Order", readonly=True, check_company=True)
    delivery_id = fields.Many2one("stock.picking", string="Delivery", readonly=True, check_company=True,
                                  help="The delivery of the order the goods came back from.")
    picking_id = fields.Many2one("stock.picking", string="Return Transfer", readonly=True, check_company=True,
                                 help="The return of the delivery bringing the goods back into stock.")
    move_ids = fields.Many2many("stock.move", string="Stock Moves", readonly=True,
                                compute="_compute_move_ids")
    adjustment_move_ids = fields.Many2many(
        "stock.move", "amazon_return_adjustment_move_rel", string="Later Moves", readonly=True, copy=False,
        help="Moves made after the goods came back because Amazon changed the disposition or the quantity.")
    sku = fields.Char(string="SKU", required=True, readonly=True)
    product_id = fields.Many2one("product.product", string="Product", readonly=True)
    quantity = fields.Integer(required=True, readonly=True)
    return_date = fields.Datetime(readonly=True, help="When the buyer asked for the return (FBM) or Amazon "
                                  "received it (FBA).")
    delivered_date = fields.Datetime(string="Delivered to Seller", readonly=True,
                                     help="When the carrier delivered the returned parcel to the seller.")
    amazon_status = fields.Char(string="Amazon Status", readonly=True)
    reason = fields.Char(readonly=True, help="The buyer's reason, as Amazon codes it.")
    disposition = fields.Char(readonly=True, help="What Amazon's fulfilment centre found (SELLABLE, DEFECTIVE, "
                              "CUSTOMER_DAMAGED...).")
    resolution = fields.Char(readonly=True)
    fulfillment_center = fields.Char(string="Fulfillment Centre", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    refunded_amount = fields.Monetary(readonly=True)
    state = fields.Selection(STATES, required=True, default="requested", readonly=True, index=True,
                             help="Refunded, Not Returned: Amazon refunded the buyer and reports no return yet.")
    message = fields.Text(readonly=True, help="Why the return waits, or what to check.")
    attempt_count = fields.Integer(string="Failed Attempts", readonly=True, copy=False)
    retry_date = fields.Datetime(string="Next Automatic Try", readonly=True, copy=False)
    refund_date = fields.Datetime(readonly=True, copy=False, help="When Amazon's first refund of this order and "
                                  "SKU was posted.")
    reminder_date = fields.Datetime(string="Reminder Sent", readonly=True, copy=False,
                                    help="When the connection's user was asked to check the goods not back.")
    # the money of the return (return_refunds.py), read by the roles that see money, each record as they may
    credit_note_ids = fields.Many2many("account.move", string="Credit Notes", compute="_compute_money",
                                       groups=MONEY_READERS)
    credit_note_count = fields.Integer(compute="_compute_money", groups=MONEY_READERS)
    refund_transaction_ids = fields.Many2many("amazon.settlement.transaction", string="Amazon Refunds",
                                              compute="_compute_money", groups=MONEY_READERS)
    refund_count = fields.Integer(compute="_compute_money", groups=MONEY_READERS)
    fee_refund_amount = fields.Monetary(string="Fees Refunded", compute="_compute_money", groups=MONEY_READERS,
                                        help="The fees Amazon gave back (or kept) on its refunds of this item.")
    fee_refund_move_ids = fields.Many2many("account.move", string="Fee Refunds Booked In", compute="_compute_money",
                                           groups=MONEY_READERS)
    refund_note = fields.Char(string="Refund", compute="_compute_refund_note", compute_sudo=True)

    _key_unique = models.Constraint("UNIQUE(account_id, key)", "Amazon reported this returned item once.")
    _quantity_positive = models.Constraint("CHECK(quantity > 0)", "A return brings at least one unit back.")

    # ------------------------------------------------------------------ computes

    def _compute_move_ids(self):
        for ret in self:
            ret.move_ids = ret.picking_id.move_ids | ret.adjustment_move_ids

    def _compute_money(self):
        """Found as the synchronisation sees them, then kept to what the user may read: the return never opens
        an accounting record to someone who could not open it anyway."""
        for ret in self:
            found = ret.sudo()
            txns = return_refunds.refund_transactions(found)
            notes = return_refunds.credit_notes(found, txns)
            fees = return_refunds.fee_refund_lines(found, txns)
            ret.credit_note_ids = notes.with_env(self.env)._filtered_access("read")
            ret.refund_transaction_ids = txns.with_env(self.env)._filtered_access("read")
            ret.credit_note_count = len(ret.credit_note_ids)
            ret.refund_count = len(ret.refund_transaction_ids)
            ret.fee_refund_amount = sum(fees.mapped("amount"))
            ret.fee_refund_move_ids = fees.move_id.with_env(self.env)._filtered_access("read")

    def _compute_refund_note(self):
        for ret in self:
            txns = return_refunds.refund_transactions(ret)
            if not (ret.refund_date or txns or return_refunds.credit_notes(ret, txns)):
                ret.refund_note = self.env._("No refund recorded yet")
            elif ret.state in return_refunds.GOODS_BACK:
                ret.refund_note = self.env._("Refunded, goods returned")
            else:
                ret.refund_note = self.env._("Refunded without the goods back")

    # ------------------------------------------------------------------ recording Amazon's rows

    @api.model
    def _record_rows(self, account, rows):
        """Record report rows (``spapi.returns.ReturnRow``) of ``account``, each in its own savepoint; a row
        that fails leaves its return in error with the reason. Returns {outcome: count}."""
        counts = {}
        for row in rows:
            outcome = self._record_row(account, row)
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    @api.model
    def _record_row(self, account, row):
        ret = self.search([("account_id", "=", account.id), ("key", "=", row.key)], limit=1)
        vals = self._row_values(row)
        if not ret:
            # Amazon refunded first: the return made from the refund becomes this row's
            ret = self.search([("account_id", "=", account.id), ("key", "=like", f"{return_refunds.REFUND_KEY}%"),
                               ("order_ref", "=", row.order_id), ("sku", "=", row.sku)], limit=1)
            if ret:
                ret.write({**vals, "key": row.key, "channel": row.channel, "name": row.return_id or row.key,
                           "fulfillment_center": row.fulfillment_center or False, "state": "requested"})
                ret._process()
                return ret.state
        if ret:
            changed = {f: v for f, v in vals.items() if f in AMAZON_FIELDS and ret[f] != v
                       and not (f == "refunded_amount" and ret.currency_id.compare_amounts(ret[f], v or 0) == 0)}
            if changed:
                ret.write(changed)
            if not changed and ret.state != "error":
                return "unchanged"
            if ret.state in ("received", "unsellable"):
                ret._process()  # an FBA return moves only the difference (return_stock.settle)
                return "updated"
        else:
            ret = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create({
                **vals, "account_id": account.id, "key": row.key, "channel": row.channel,
                "name": row.return_id or row.key, "order_ref": row.order_id, "sku": row.sku,
                "fulfillment_center": row.fulfillment_center or False,
                "currency_id": vals.get("currency_id") or account.company_id.currency_id.id})
        ret._process()
        return ret.state

    @api.model
    def _row_values(self, row):
        currency = self.env["res.currency"].search([("name", "=", row.currency)], limit=1) if row.currency else None
        vals = {
            "amazon_status": row.status or False,
            "reason": row.reason or False,
            "disposition": row.disposition or False,
            "resolution": row.resolution or False,
            "return_date": naive_utc(row.return_date) if row.return_date else False,
            "delivered_date": naive_utc(row.delivered_date) if row.delivered_date else False,
            "refunded_amount": float(row.refunded_amount) if row.refunded_amount is not None else 0.0,
            "quantity": row.quantity,
        }
        if currency:
            vals["currency_id"] = currency.id
        return vals

    def _process(self):
        """Link the return to its order and bring the goods back when Amazon says so, in a savepoint: a
        failure leaves it waiting in error with the reason (tried again later), and nothing half-written."""
        for ret in self:
            try:
                with self.env.cr.savepoint():
                    ret._link_and_receive()
                    if ret.state in return_refunds.GOODS_BACK:
                        return_refunds.close_reminders(ret)
            except Exception as exc:
                if is_concurrency_error(exc):
                    raise
                ret._record_failure(exc)

    def _link_and_receive(self):
        self.ensure_one()
        order = self.amazon_order_id or self.env["amazon.order"].search(
            [("account_id", "=", self.account_id.id), ("name", "=", self.order_ref)], limit=1)
        if self.key.startswith(return_refunds.REFUND_KEY):
            # made from a refund: nothing came back, the links only when the order is in Odoo
            if order.sale_order_id and not self.sale_order_id:
                sale = order.sale_order_id
                try:
                    product = self.product_id or return_stock.product_of_sku(self.account_id, sale, self.sku)
                except UserError:
                    product = self.product_id  # a SKU the order lacks: the refund still shows here
                self.write({"amazon_order_id": order.id, "sale_order_id": sale.id, "product_id": product.id})
            self._set_state("no_return")
            return
        if not order or not order.sale_order_id:
            raise AmazonReturnError(self.env._(
                "Order %(order)s is not in Odoo yet: the return waits for it and is tried again automatically.",
                order=self.order_ref))
        sale = order.sale_order_id
        vals = {"amazon_order_id": order.id, "sale_order_id": sale.id}
        vals["product_id"] = (self.product_id or return_stock.product_of_sku(self.account_id, sale, self.sku)).id
        delivery = self.delivery_id or return_stock.delivery_of(sale, self.env["product.product"].browse(
            vals["product_id"]))
        vals["delivery_id"] = delivery.id
        self.write(vals)
        if self.picking_id:
            if self.picking_id.state == "done":
                return_stock.settle(self)
            state = "ready" if self.picking_id.state not in ("done", "cancel") else (
                "unsellable" if self.channel == "fba" and self.disposition != "SELLABLE" else "received")
            self._set_state(state)
            return
        if self.channel == "fbm" and not self.delivered_date:
            self._set_state("requested")
            return
        picking = return_stock.receive(self)
        self.picking_id = picking
        if picking.state == "done":
            self._set_state("unsellable" if self.channel == "fba" and self.disposition != "SELLABLE" else "received")
        else:
            self._set_state("ready")

    def _set_state(self, state, message=False):
        vals = {"state": state, "message": message}
        if state != "error":
            vals.update(attempt_count=0, retry_date=False)
        self.write(vals)

    def _record_failure(self, exc):
        self.ensure_one()
        if isinstance(exc, UserError):
            message = exc.args[0] if exc.args else str(exc)
        else:
            _logger.exception("Amazon return %s could not be recorded in stock", self.name)
            message = self.env._("Unexpected error (%(type)s): %(error)s", type=type(exc).__name__, error=exc)
        self.invalidate_recordset()
        failed = self.attempt_count + 1
        self.write({"state": "error", "message": message, "attempt_count": failed,
                    "retry_date": fields.Datetime.now() + AUTO_RETRY_DELAY * 2 ** (failed - 1)})

    @api.model
    def _retry_failed(self, account, force=False):
        """Returns in error whose next try is due (``force``: all of them), tried again. Returns them."""
        domain = [("account_id", "=", account.id), ("state", "=", "error")]
        if not force:
            domain += [("attempt_count", "<", AUTO_RETRY_ATTEMPTS), ("retry_date", "<=", fields.Datetime.now())]
        failed = self.search(domain, limit=AUTO_RETRY_BATCH, order="retry_date, id")
        failed._process()
        return failed

    # ------------------------------------------------------------------ buttons

    def action_retry(self):
        """Try again now (an Amazon user; the synchronisation writes the return)."""
        check_group(self.env, AMAZON_USER)
        self.check_access("read")
        self.sudo().filtered(lambda r: r.state in ("error", "requested", "ready"))._process()
        return True

    def action_view_credit_notes(self):
        """The return's credit notes (the roles that see money)."""
        check_group(self.env, AMAZON_USER, ACCOUNTANT)
        self.check_access("read")
        notes = self.credit_note_ids
        return {"type": "ir.actions.act_window", "name": self.env._("Credit Notes"), "res_model": "account.move",
                "domain": [("id", "in", notes.ids)], "view_mode": "list,form",
                "context": {"default_move_type": "out_refund", "create": False}}

    def action_view_refunds(self):
        """Amazon's refund transactions of the return (the roles that see money)."""
        check_group(self.env, AMAZON_USER, ACCOUNTANT)
        self.check_access("read")
        return {"type": "ir.actions.act_window", "name": self.env._("Amazon Refunds"),
                "res_model": "amazon.settlement.transaction", "view_mode": "list,form",
                "domain": [("id", "in", self.refund_transaction_ids.ids)], "context": {"create": False}}

    def action_view_picking(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "stock.picking", "res_id": self.picking_id.id,
                "view_mode": "form"}
