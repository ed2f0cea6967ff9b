"""Amazon orders in Odoo: one ``amazon.order`` per Amazon order and connection, and what it became.

The record keeps what Amazon last sent (``payload``), its state and the reason; the import itself is
``order_import.OrderImport`` (with ``order_mapping`` and ``order_fulfillment``), run by the orders flow
(``amazon.order.sync``), the Retry button and the listings' mapping.
"""
import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

from ...spapi import errors as spapi_errors
from ...spapi.orders import parse_order
from ...utils.values import naive_utc
from ..connection.access import AMAZON_MANAGER, AMAZON_USER, check_group
from ..connection.amazon_sync_job import is_concurrency_error

_logger = logging.getLogger(__name__)

FULFILLMENT_STATUSES = [
    ("PENDING_AVAILABILITY", "Pending Availability"),
    ("PENDING", "Pending"),
    ("UNSHIPPED", "Unshipped"),
    ("PARTIALLY_SHIPPED", "Partially Shipped"),
    ("SHIPPED", "Shipped"),
    ("CANCELLED", "Cancelled"),
    ("UNFULFILLABLE", "Unfulfillable"),
]
#: Amazon has not confirmed the order yet (payment pending, pre-order): nothing is created.
WAITING_STATUSES = ("PENDING", "PENDING_AVAILABILITY", "UNFULFILLABLE")
#: Retrying up to this many orders reads each again from Amazon first (getOrder, 0.5 calls a second).
FRESH_RETRY_LIMIT = 10
#: The sync tries orders in error (other than unmapped products) again until they failed this many times,
#: the first time this long after the failure, then twice as long after each further failure.
AUTO_RETRY_ATTEMPTS = 5
AUTO_RETRY_DELAY = timedelta(minutes=5)
#: First automatic try of an order that lost concurrency conflicts on every prompt try (then doubling).
CONFLICT_RETRY_DELAY = timedelta(minutes=1)
AUTO_RETRY_BATCH = 50


class AmazonOrderError(UserError):
    """The order cannot become documents as it is (data or set-up problem): it waits in error with this reason."""


class MalformedOrder:
    """An order Amazon sent that could not be read: kept in error with the reason, with its payload."""

    __slots__ = ("order_id", "payload", "message", "last_updated_time")

    def __init__(self, order_id, payload, message, last_updated_time=None):
        self.order_id = order_id
        self.payload = payload
        self.message = message
        self.last_updated_time = last_updated_time


#: What `_fetch_fresh` returns when Amazon answers that the order does not exist.
_GONE = object()


def _parse_payload(payload):
    """A stored payload back into a ``types.Order`` (raises ``spapi.errors.BadData`` when malformed)."""
    return parse_order(payload)


class AmazonOrder(models.Model):
    _name = "amazon.order"
    _description = "Amazon Order"
    _order = "purchase_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Amazon Order", required=True, readonly=True, index=True)
    account_id = fields.Many2one(
        "amazon.account", string="Connection", required=True, readonly=True, index=True, ondelete="cascade",
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.marketplace", readonly=True)
    purchase_date = fields.Datetime(readonly=True, help="When the buyer placed the order on Amazon.")
    last_update_date = fields.Datetime(string="Updated on Amazon", readonly=True)
    amazon_status = fields.Selection(FULFILLMENT_STATUSES, readonly=True)
    fulfillment_channel = fields.Selection(
        [("merchant", "Merchant (FBM)"), ("amazon", "Amazon (FBA)")], readonly=True,
    )
    state = fields.Selection(
        [
            ("new", "New"),
            ("pending", "Pending at Amazon"),
            ("imported", "Imported"),
            ("error", "Error"),
            ("skipped", "Skipped"),
            ("cancelled", "Cancelled"),
        ],
        default="new", required=True, readonly=True, index=True,
    )
    reason = fields.Text(readonly=True, help="Why the order is not (or no longer) imported.")
    unmapped_skus = fields.Char(
        string="Unmapped SKUs", readonly=True,
        help="Seller SKUs of the order with no mapped product: map their listings, then the order is imported.",
    )
    # Read from the sale order's link (the only stored side): one sale order per Amazon order, of its company.
    sale_order_ids = fields.One2many("sale.order", "amazon_order_id", string="Sale Orders", readonly=True)
    sale_order_id = fields.Many2one(
        "sale.order", compute="_compute_sale_order_id", search="_search_sale_order_id", compute_sudo=True,
    )
    partner_id = fields.Many2one(related="sale_order_id.partner_id", string="Customer")
    picking_ids = fields.Many2many("stock.picking", compute="_compute_documents", string="Deliveries")
    invoice_ids = fields.Many2many("account.move", compute="_compute_documents", string="Invoices")
    picking_count = fields.Integer(compute="_compute_documents")
    invoice_count = fields.Integer(compute="_compute_documents")
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_total = fields.Monetary(
        string="Charged by Amazon", readonly=True,
        help="What Amazon charged the buyer for the order (Amazon's grand total).",
    )
    amount_not_invoiced = fields.Monetary(
        string="Not Invoiced", readonly=True,
        help="Part of what Amazon charged that the seller does not invoice: a delivery tip, or tax Amazon "
             "collects and remits itself.",
    )
    amount_invoiced = fields.Monetary(
        string="Invoiced", compute="_compute_amount_invoiced",
        help="Customer invoices of the order less their credit notes.",
    )
    invoice_mismatch = fields.Boolean(
        string="Invoice Differs from Amazon", compute="_compute_amount_invoiced",
        search="_search_invoice_mismatch",
        help="The order's invoices do not total what Amazon charged (less what is not invoiced).",
    )
    warning = fields.Text(
        string="Warnings", readonly=True,
        help="What a person should know about the order although it was imported: amounts not invoiced, "
             "the buyer's tax data.",
    )
    item_count = fields.Integer(string="Units", readonly=True)
    # Buyer's name, e-mail, phone and address: Amazon administrators only.
    payload = fields.Json(readonly=True, copy=False, groups=AMAZON_MANAGER, help="The order as Amazon last sent it.")
    payload_text = fields.Text(string="Amazon Payload", compute="_compute_payload_text", groups=AMAZON_MANAGER)
    attempt_count = fields.Integer(
        string="Failed Attempts", readonly=True,
        help="Failed imports in a row; after five the order is no longer retried automatically.")
    last_attempt_date = fields.Datetime(string="Last Attempt", readonly=True)
    retry_date = fields.Datetime(string="Next Automatic Try", readonly=True, copy=False)
    shipment_ids = fields.One2many("amazon.shipment", "amazon_order_id", string="Shipment Confirmations",
                                   readonly=True)
    shipment_unconfirmed = fields.Boolean(
        string="Shipment not confirmed", compute="_compute_shipment_unconfirmed",
        search="_search_shipment_unconfirmed",
        help="A package validated in Odoo is not confirmed on Amazon yet (waiting or refused).")

    _order_unique = models.Constraint(
        "UNIQUE(account_id, name)", "An Amazon order is recorded only once per connection.",
    )

    @api.depends("sale_order_ids", "company_id")
    def _compute_sale_order_id(self):
        for order in self:
            order.sale_order_id = order.sale_order_ids.filtered(lambda so, o=order: so.company_id == o.company_id)[:1]

    def _search_sale_order_id(self, operator, value):
        if operator in Domain.NEGATIVE_OPERATORS:
            return NotImplemented  # Odoo negates the positive search
        if operator == "any":
            return [("sale_order_ids", "any", value)]
        if operator != "in":
            return NotImplemented
        ids = [v for v in value if v]
        domain = Domain("sale_order_ids", "in", ids) if ids else Domain.FALSE
        if False in value:
            domain |= Domain("sale_order_ids", "not any", [])
        return domain

    @api.depends("sale_order_id.picking_ids", "sale_order_id.invoice_ids")
    def _compute_documents(self):
        for order in self:
            so = order.sale_order_id
            order.picking_ids = so.picking_ids
            order.invoice_ids = so.invoice_ids
            order.picking_count = len(so.picking_ids)
            order.invoice_count = len(so.invoice_ids)

    @api.depends("state", "amount_total", "amount_not_invoiced", "sale_order_id.invoice_ids.state",
                 "sale_order_id.invoice_ids.amount_total")
    def _compute_amount_invoiced(self):
        for order in self:
            moves = order.sale_order_id.invoice_ids.filtered(
                lambda m: m.state != "cancel" and m.move_type in ("out_invoice", "out_refund"))
            order.amount_invoiced = sum(m.amount_total * (-1 if m.move_type == "out_refund" else 1) for m in moves)
            order.invoice_mismatch = bool(
                order.state == "imported" and moves and order.amount_total and order.currency_id
                and order.currency_id.compare_amounts(
                    order.amount_invoiced, order.amount_total - order.amount_not_invoiced))

    def _search_invoice_mismatch(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on invoices differing from Amazon."))
        # Customer invoices minus credit notes of each imported order, against Amazon's total.
        self.env.flush_all()
        self.env.cr.execute(SQL("""
            SELECT o.id
              FROM amazon_order o
              JOIN sale_order so ON so.amazon_order_id = o.id
              JOIN (SELECT sol.order_id,
                           SUM(CASE WHEN m.move_type = 'out_refund' THEN -m.amount_total ELSE m.amount_total END)
                               AS invoiced
                      FROM account_move m
                      JOIN (SELECT DISTINCT aml.move_id, sol.order_id
                              FROM sale_order_line_invoice_rel rel
                              JOIN sale_order_line sol ON sol.id = rel.order_line_id
                              JOIN account_move_line aml ON aml.id = rel.invoice_line_id) sol ON sol.move_id = m.id
                     WHERE m.state != 'cancel' AND m.move_type IN ('out_invoice', 'out_refund')
                  GROUP BY sol.order_id) inv ON inv.order_id = so.id
             WHERE o.state = 'imported' AND COALESCE(o.amount_total, 0) != 0
               AND ABS(inv.invoiced - (COALESCE(o.amount_total, 0) - COALESCE(o.amount_not_invoiced, 0))) >= 0.005
        """))
        ids = [row[0] for row in self.env.cr.fetchall()]
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", ids)]
    @api.depends("shipment_ids.state")
    def _compute_shipment_unconfirmed(self):
        for order in self:
            order.shipment_unconfirmed = any(s.state in ("pending", "sending", "error") for s in order.shipment_ids)

    def _search_shipment_unconfirmed(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        positive = (operator == "=") == value
        return [("shipment_ids", "any" if positive else "not any",
                 [("state", "in", ("pending", "sending", "error"))])]

    def action_retry_shipments(self):
        """Send the refused or waiting shipment confirmations of these orders again."""
        check_group(self.env, AMAZON_USER)
        self.check_access("read")
        self.sudo().shipment_ids.filtered(lambda s: s.state in ("pending", "error"))._retry()
        return True

    @api.depends("payload")
    def _compute_payload_text(self):
        for order in self:
            order.payload_text = json.dumps(order.payload, indent=2, ensure_ascii=False) if order.payload else False

    # ------------------------------------------------------------------ user actions

    def action_open(self):
        """Open what the order became: its sale order, else the order itself."""
        check_group(self.env, AMAZON_USER)
        self.check_access("read")
        self.ensure_one()
        if self.sale_order_id:
            return {
                "type": "ir.actions.act_window",
                "res_model": "sale.order",
                "res_id": self.sale_order_id.id,
                "view_mode": "form",
                "views": [(False, "form")],
            }
        return self._get_formview_action()

    def _get_formview_action(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_view_pickings(self):
        check_group(self.env, AMAZON_USER)
        self.check_access("read")
        self.ensure_one()
        return self.sale_order_id.action_view_delivery()

    def action_view_invoices(self):
        check_group(self.env, AMAZON_USER)
        self.check_access("read")
        self.ensure_one()
        return self.sale_order_id.action_view_invoice()

    def action_retry(self):
        """Process the orders again, from a fresh copy when Amazon answers, else from the last payload."""
        check_group(self.env, AMAZON_USER, message=_("Only Amazon users can retry orders."))
        self.check_access("read")
        gone = self.browse()
        for account, orders in self.grouped("account_id").items():
            account = account.sudo()
            if not self.env["amazon.order.sync"]._lock(account):
                raise UserError(_(
                    "Orders of %s are being synchronized right now: try again in a moment.", account.name))
            # A few orders are read again from Amazon (getOrder); many at once come from their last payload.
            fetch = len(orders) <= FRESH_RETRY_LIMIT
            fresh = []
            for order in orders.sudo():
                copy = order._fetch_fresh() if fetch else None
                if copy is _GONE:
                    gone |= order
                    continue
                fresh.append(copy or order._payload_order())
            self.env["amazon.order"].sudo()._import_orders(account, fresh, force=True)
        failed = self.filtered(lambda o: o.state == "error")
        if len(self) == 1 and gone:
            message = _("Amazon does not know the order %s (anymore): nothing was changed.", self.name)
            failed = gone
        elif len(self) == 1 and not failed:
            return self.action_open()
        elif len(self) == 1:
            message = _("The order is still in error: %s", failed.reason)
        else:
            message = _("%(done)s orders processed, %(failed)s still in error.",
                        done=len(self) - len(failed | gone), failed=len(failed))
            if gone:
                message += " " + _("Amazon does not know %s (anymore): left as they were.",
                                   ", ".join(gone.mapped("name")))
            failed |= gone
        return self.env["amazon.sync.job"]._notification(message, "warning" if failed else "success",
                                                             sticky=False)

    def _fetch_fresh(self):
        """The order as Amazon has it now (one getOrder call), or None when Amazon cannot answer.

        ``_GONE`` when Amazon does not know the order: the order is kept in error and nothing is done with the
        stored copy (cancelling or invoicing on the word of a copy Amazon no longer stands behind).
        """
        self.ensure_one()
        try:
            return self.account_id._spapi().get_order(self.name)
        except spapi_errors.NotFound:
            _logger.info("Amazon order %s: Amazon does not know it, left as it is", self.name)
            if self.state == "error":
                self.reason = _("Amazon does not know this order (anymore): nothing was changed. Check the order "
                                "id in Seller Central.")
            return _GONE
        except spapi_errors.SpApiError as exc:
            _logger.info("Amazon order %s: fresh copy unavailable (%s), retrying from the stored payload",
                         self.name, type(exc).__name__)
            return None
        except UserError:
            return None

    def _payload_order(self):
        """The stored payload as a ``types.Order``, or a :class:`MalformedOrder` when it cannot be read."""
        self.ensure_one()
        try:
            return _parse_payload(self.payload or {})
        except (spapi_errors.SpApiError, KeyError, TypeError, ValueError) as exc:
            return MalformedOrder(self.name, self.payload, str(exc))

    # ------------------------------------------------------------------ SKU mapping

    @api.model
    def _map_skus(self, account, skus):
        """``{sku: product.product}`` for the SKUs of ``account`` that are mapped to a product.

        A SKU is mapped when its Amazon listing is linked to a product. Until listings are synchronized
        (no ``amazon.listing`` model), a product whose internal reference equals the SKU maps it.
        """
        skus = {s for s in skus if s}
        if not skus:
            return {}
        if "amazon.listing" in self.env:
            listings = self.env["amazon.listing"].sudo().search([
                ("account_id", "=", account.id), ("seller_sku", "in", list(skus)), ("product_id", "!=", False),
            ])
            return {listing.seller_sku: listing.product_id for listing in listings}
        products = self.env["product.product"].sudo().with_context(active_test=True).search([
            ("default_code", "in", list(skus)),
            "|", ("company_id", "=", False), ("company_id", "parent_of", account.company_id.id),
        ])
        result = {}
        for product in products.sorted("id"):
            result.setdefault(product.default_code, product)
        return result

    @api.model
    def _retry_waiting_for_skus(self, account, skus=None):
        """Import the orders of ``account`` waiting in error for products of ``skus`` (None: any SKU) whose
        listings are now mapped. Called when listings get mapped and at the end of each order sync.

        Returns the orders processed. Skipped orders (the connection imports mapped products only) are not
        imported by a mapping; the Retry action does."""
        self = self.sudo()  # called from a listing mapping, whoever maps it
        account = account.sudo()
        waiting = self.search([
            ("account_id", "=", account.id), ("state", "=", "error"), ("unmapped_skus", "!=", False),
        ])
        if skus is not None:
            wanted = set(skus)
            waiting = waiting.filtered(lambda o: wanted & set(o.unmapped_skus.split(",")))
        if not waiting:
            return waiting
        all_skus = {s for o in waiting for s in o.unmapped_skus.split(",")}
        mapped = set(self._map_skus(account, all_skus))
        ready = waiting.filtered(lambda o: set(o.unmapped_skus.split(",")) <= mapped)
        if not ready or not self.env["amazon.order.sync"]._lock(account):
            # A sync holds the connection: it retries them when it ends.
            return self.browse()
        self._import_orders(account, [o._payload_order() for o in ready], force=True)
        return ready

    @api.model
    def _retry_failed_orders(self, account):
        """Orders in error for another reason than unmapped products (a setting fixed since, a conflict with
        another worker) are tried again by the sync, from their last payload, a few times, further apart
        each time (``retry_date``).
        Returns the orders tried."""
        self = self.sudo()
        failed = self.search([
            ("account_id", "=", account.id), ("state", "=", "error"), ("unmapped_skus", "=", False),
            ("attempt_count", "<", AUTO_RETRY_ATTEMPTS), ("retry_date", "<=", fields.Datetime.now()),
        ], limit=AUTO_RETRY_BATCH, order="retry_date")
        if failed:
            self._import_orders(account.sudo(), [o._payload_order() for o in failed], force=True)
        return failed

    # ------------------------------------------------------------------ the import (see order_import)

    @api.model
    def _import_orders(self, account, orders, *, force=False, prepared=None):
        """Record and process Amazon orders of one connection (one searchOrders page, or retried orders).

        ``orders``: ``Order`` or :class:`MalformedOrder` items. ``force`` processes orders even when Amazon
        reports no change since the last time. ``prepared``: the ``OrderImport`` that prepared these orders
        before (``order_import.prepare_shared_records``), gone on with. The caller holds the connection's lock.
        Returns ``{state: count}`` of the processed orders.
        """
        from .order_import import OrderImport  # the import reads this module's names

        orders = [o for o in orders if o is not None]
        if not orders:
            return {}
        if prepared is not None:
            order_import = prepared.continue_in(self.sudo(), account.sudo())
        else:
            order_import = OrderImport(self.sudo(), account.sudo())
        return order_import.import_orders(orders, force=force)

    # ------------------------------------------------------------------ the state of an order

    def _is_up_to_date(self, order):
        """Nothing changed at Amazon since this order was last processed successfully."""
        self.ensure_one()
        return (
            self.state in ("imported", "cancelled", "skipped", "pending")
            and self.last_update_date
            and self.last_update_date == naive_utc(order.last_updated_time)
            and self.amazon_status == order.fulfillment_status
        )

    def _not_invoiced_warning(self, totals, currency):
        """Names what Amazon charged that the invoice leaves out, or None."""
        if not totals or not totals.not_invoiced:
            return None
        labels = {"DELIVERY_TIP": _("delivery tip"), "TAX": _("tax collected and remitted by Amazon")}
        parts = ", ".join(f"{labels.get(kind, kind)} {currency.format(float(amount))}"
                          for kind, amount in totals.not_invoiced)
        return _("Charged by Amazon but not invoiced: %s.", parts)

    def _add_warning(self, text):
        """Keep a note on the order for a person (the buyer's tax data, amounts not invoiced)."""
        self.ensure_one()
        if text and text not in (self.warning or ""):
            self.warning = f"{self.warning}\n{text}" if self.warning else text

    def _set_result(self, state, reason=False, unmapped=None):
        vals = {"state": state, "reason": reason or False,
                "unmapped_skus": ",".join(sorted(unmapped)) if unmapped else False}
        if state != "error":
            vals.update(attempt_count=0, retry_date=False)
        if state == "error":
            # No buyer data here: the order id and the error type are enough to find it.
            _logger.info("Amazon order %s kept in error", self.name)
        self.write(vals)

    def _record_failure(self, exc):
        self.ensure_one()
        if is_concurrency_error(exc):
            _logger.info("Amazon order %s kept in error after conflicts with other transactions", self.name)
            reason = _("Other work changed the same records at the same time (%(type)s) on every try: the "
                       "order is tried again automatically in a few minutes.", type=type(exc).__name__)
        elif isinstance(exc, UserError):
            reason = exc.args[0] if exc.args else str(exc)
        else:
            # Unexpected: keep the trace in the server log (ids and code only, never buyer data).
            _logger.exception("Amazon order %s could not be imported", self.name)
            reason = _("Unexpected error (%(type)s): %(error)s", type=type(exc).__name__, error=exc)
        self.invalidate_recordset()
        self._set_result("error", reason, self.unmapped_skus and self.unmapped_skus.split(","))
        # a conflict is over once the other work commits: the next run tries again, not minutes later
        self._count_failed_attempt(CONFLICT_RETRY_DELAY if is_concurrency_error(exc) else AUTO_RETRY_DELAY)

    def _count_failed_attempt(self, delay=AUTO_RETRY_DELAY):
        """One more failed attempt: the next automatic try waits a little longer each time."""
        for record in self:
            failed = record.attempt_count + 1
            record.write({"attempt_count": failed,
                          "retry_date": fields.Datetime.now() + delay * 2 ** (failed - 1)})

    # ------------------------------------------------------------------ invoice correction (see order_correction)

    def _invoice_correction_kind(self):
        """"draft" or "posted": what correcting this order's invoice means."""
        self.ensure_one()
        invoices = self.sale_order_id.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted" and not m.reversal_move_ids)
        return "posted" if invoices else "draft"

    def _refresh_amazon_totals(self):
        """Amazon's totals again from the stored payloads (an earlier version stored its own sum)."""
        from .order_correction import InvoiceCorrection

        InvoiceCorrection.refresh_amazon_totals(self)

    @api.model
    def _correct_invoices(self, orders):
        """Correct the invoices of ``orders`` to Amazon's totals: ``{order: error message}`` of the failures."""
        from .order_correction import InvoiceCorrection

        return InvoiceCorrection.correct_invoices(self, orders)
