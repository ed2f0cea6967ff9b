"""Amazon orders in Odoo: one ``amazon.order`` per Amazon order and connection, and what it becomes.

An order goes through a fixed sequence (see :meth:`AmazonOrder._import_orders`): record what Amazon sent,
skip it if nothing changed, decide (cancelled, pending, unmapped products, importable), then create or
update the documents: a confirmed sale order, its delivery (validated as Amazon ships) and, once shipped,
a posted customer invoice whose total is what Amazon charged the buyer.

Documents are created for many orders at once (``BATCH_SIZE``) inside a savepoint; when a batch fails,
its orders are redone one at a time, each in its own savepoint, so one bad order never blocks the others
and never leaves half a sale order behind.
"""
import hashlib
import json
import logging
from collections import defaultdict
from datetime import timedelta, timezone
from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import SQL

from ..spapi import errors as spapi_errors
from ..spapi import parsers

_logger = logging.getLogger(__name__)

#: Orders whose documents are created together (one create / confirm / validate / invoice for all).
BATCH_SIZE = 50

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
#: The sync tries orders in error (other than unmapped products) again this many times, this far apart.
AUTO_RETRY_ATTEMPTS = 5
AUTO_RETRY_DELAY = timedelta(hours=1)
AUTO_RETRY_BATCH = 50
#: Unit prices computed from a line total keep six decimals (what a Mexican CFDI accepts).
UNIT_PRICE_QUANTUM = Decimal("0.000001")
#: Proceeds categories of an item that the buyer pays (DISCOUNT is negative).
CHARGE_TYPES = ("ITEM", "SHIPPING", "GIFT_WRAP", "COD_FEE", "OTHER", "DISCOUNT")
#: Context of every document the import writes: no chatter tracking or followers (the amazon.order
#: record is the audit trail), which also keeps batches fast.
QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "mail_auto_subscribe_no_notify": True,
    "amazon_keep_date_order": True,
}
#: Aliases Amazon Mexico buyers use for states whose official code differs.
STATE_ALIASES = {
    "MX": {"CDMX": "CMX", "DF": "CMX", "D.F.": "CMX", "DISTRITO FEDERAL": "CMX", "NL": "NLE", "EDOMEX": "MEX",
           "ESTADO DE MEXICO": "MEX", "ESTADO DE MÉXICO": "MEX", "QROO": "ROO", "Q. ROO": "ROO", "BC": "BCN"},
}
_RFC_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789&Ñ")


class AmazonOrderError(UserError):
    """The order cannot become documents as it is (data or set-up problem): it waits in error with this reason."""


class MalformedOrder:
    """An order Amazon sent that could not be read: kept in error with the reason, with its raw payload."""

    __slots__ = ("order_id", "raw", "message", "last_updated_time")

    def __init__(self, order_id, raw, message, last_updated_time=None):
        self.order_id = order_id
        self.raw = raw
        self.message = message
        self.last_updated_time = last_updated_time


def _naive_utc(dt):
    """An Odoo Datetime value (naive UTC) from an aware datetime."""
    if not dt:
        return False
    if dt.tzinfo:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.replace(microsecond=0)


def _amount(money):
    return money.amount if money is not None else Decimal(0)


def _parse_payload(raw):
    """A stored payload back into a ``types.Order`` (raises ``spapi.errors.BadData`` when malformed)."""
    return parsers.parse_order(raw)


class _Importer:
    """One import run for one connection: the environment documents are written with, and caches of what
    many orders share (products, taxes, customers, pricelists). Caches can be saved and restored around a
    savepoint so a rolled-back batch leaves no reference to records that no longer exist."""

    def __init__(self, orders_model, account):
        env = orders_model.env
        user = account.user_id or env.user
        company = account.company_id
        context = dict(env.context, allowed_company_ids=company.ids, **QUIET_CONTEXT)
        # Written as the connection's user (author and salesperson), with the rights of the integration.
        self.env = env(user=user.id, su=True, context=context)
        self.account = account.with_env(self.env)
        self.company = self.account.company_id
        self.user = user
        self.marketplaces = {m.marketplace_id: m for m in self.env["amazon.marketplace"].with_context(
            active_test=False).search([])}
        self.products = {}
        self.caches = {"partner": {}, "fpos": {}, "taxes": {}, "included": {}, "pricelist": {}, "state": {}}

    def snapshot(self):
        return {name: dict(cache) for name, cache in self.caches.items()}

    def restore(self, snapshot):
        self.caches = snapshot

    def marketplace(self, order):
        return self.marketplaces.get(order.marketplace_id) or self.account.marketplace_id


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
    sale_order_id = fields.Many2one("sale.order", readonly=True, index="btree_not_null", ondelete="restrict")
    partner_id = fields.Many2one(related="sale_order_id.partner_id", string="Customer")
    picking_ids = fields.Many2many("stock.picking", compute="_compute_documents", string="Deliveries")
    invoice_ids = fields.Many2many("account.move", compute="_compute_documents", string="Invoices")
    picking_count = fields.Integer(compute="_compute_documents")
    invoice_count = fields.Integer(compute="_compute_documents")
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_total = fields.Monetary(
        string="Charged by Amazon", readonly=True, help="What Amazon charged the buyer: the invoice's total.",
    )
    item_count = fields.Integer(string="Units", readonly=True)
    payload = fields.Json(readonly=True, copy=False, help="The order as Amazon last sent it.")
    payload_text = fields.Text(string="Amazon Payload", compute="_compute_payload_text")
    attempt_count = fields.Integer(string="Attempts", readonly=True)
    last_attempt_date = fields.Datetime(string="Last Attempt", readonly=True)

    _order_unique = models.Constraint(
        "UNIQUE(account_id, name)", "An Amazon order is recorded only once per connection.",
    )

    @api.depends("sale_order_id.picking_ids", "sale_order_id.invoice_ids")
    def _compute_documents(self):
        for order in self:
            so = order.sale_order_id
            order.picking_ids = so.picking_ids
            order.invoice_ids = so.invoice_ids
            order.picking_count = len(so.picking_ids)
            order.invoice_count = len(so.invoice_ids)

    @api.depends("payload")
    def _compute_payload_text(self):
        for order in self:
            order.payload_text = json.dumps(order.payload, indent=2, ensure_ascii=False) if order.payload else False

    # ------------------------------------------------------------------ user actions

    def action_open(self):
        """Open what the order became: its sale order, else the order itself."""
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
        self.ensure_one()
        return self.sale_order_id.action_view_delivery()

    def action_view_invoices(self):
        self.ensure_one()
        return self.sale_order_id.action_view_invoice()

    def action_retry(self):
        """Process the orders again, from a fresh copy when Amazon answers, else from the last payload."""
        if not self.env.user.has_group("bind_amazon_connector.group_amazon_user"):
            raise UserError(_("Only Amazon users can retry orders."))
        for account, orders in self.grouped("account_id").items():
            account = account.sudo()
            if not account._orders_lock():
                raise UserError(_(
                    "Orders of %s are being synchronized right now: try again in a moment.", account.name))
            # A few orders are read again from Amazon (getOrder); many at once come from their last payload.
            fetch = len(orders) <= FRESH_RETRY_LIMIT
            fresh = [(fetch and order._fetch_fresh()) or order._payload_order() for order in orders.sudo()]
            self.env["amazon.order"].sudo()._import_orders(account, fresh, force=True)
        failed = self.filtered(lambda o: o.state == "error")
        if len(self) == 1 and not failed:
            return self.action_open()
        if len(self) == 1:
            message = _("The order is still in error: %s", failed.reason)
        else:
            message = _("%(done)s orders processed, %(failed)s still in error.",
                        done=len(self) - len(failed), failed=len(failed))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if failed else "success",
                "message": message,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _fetch_fresh(self):
        """The order as Amazon has it now (one getOrder call), or None when Amazon cannot answer."""
        self.ensure_one()
        try:
            return self.account_id._spapi().get_order(self.name)
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
        if not ready or not account._orders_lock():
            # A sync holds the connection: it retries them when it ends.
            return self.browse()
        self._import_orders(account, [o._payload_order() for o in ready], force=True)
        return ready

    @api.model
    def _retry_failed_orders(self, account):
        """Orders in error for another reason than unmapped products (a setting fixed since, a conflict with
        another worker) are tried again by the sync, from their last payload, a few times an hour apart.
        Returns the orders tried."""
        self = self.sudo()
        failed = self.search([
            ("account_id", "=", account.id), ("state", "=", "error"), ("unmapped_skus", "=", False),
            ("attempt_count", "<", AUTO_RETRY_ATTEMPTS),
            ("last_attempt_date", "<", fields.Datetime.now() - AUTO_RETRY_DELAY),
        ], limit=AUTO_RETRY_BATCH, order="last_attempt_date")
        if failed:
            self._import_orders(account.sudo(), [o._payload_order() for o in failed], force=True)
        return failed

    # ------------------------------------------------------------------ the import

    @api.model
    def _import_orders(self, account, orders, *, force=False):
        """Record and process Amazon orders of one connection (one searchOrders page, or retried orders).

        ``orders``: ``types.Order`` or :class:`MalformedOrder` items. ``force`` processes orders even when
        Amazon reports no change since the last time. The caller holds the connection's lock.
        Returns ``{state: count}`` of the processed orders.
        """
        account = account.sudo()
        orders = [o for o in orders if o is not None]
        if not orders:
            return {}
        imp = _Importer(self, account)
        records = self._upsert_records(imp, orders)

        to_create, to_update, processed = [], [], self.browse()
        skus = {item.seller_sku for order in orders if not isinstance(order, MalformedOrder)
                for item in order.items if item.seller_sku}
        imp.products = self._map_skus(account, skus)
        for order in orders:
            record = records[order.order_id]
            if isinstance(order, MalformedOrder):
                record.write({"payload": order.raw if isinstance(order.raw, dict) else None,
                              "attempt_count": record.attempt_count + 1,
                              "last_attempt_date": fields.Datetime.now()})
                record._set_result("error", _("Amazon sent an order that cannot be read: %s", order.message))
                processed |= record
                continue
            if not force and record._is_up_to_date(order):
                continue
            record._write_amazon_data(imp, order)
            processed |= record
            if record.sale_order_id:
                to_update.append((record, order))
                continue
            decision = record._decide(imp, order)
            if decision:
                record._set_result(*decision)
            else:
                to_create.append((record, order))

        for start in range(0, len(to_create), BATCH_SIZE):
            self._run_batch(imp, to_create[start:start + BATCH_SIZE], self._create_documents)
        for start in range(0, len(to_update), BATCH_SIZE):
            self._run_batch(imp, to_update[start:start + BATCH_SIZE], self._update_documents)

        counts = defaultdict(int)
        for record in processed:
            counts[record.state] += 1
        return dict(counts)

    @api.model
    def _upsert_records(self, imp, orders):
        """``{amazon order id: amazon.order}``: existing records locked, missing ones created."""
        ids = list(dict.fromkeys(o.order_id for o in orders))
        existing = self.sudo().search([("account_id", "=", imp.account.id), ("name", "in", ids)])
        if existing:
            # Retries and syncs of one connection never process the same order at the same time.
            self.env.cr.execute(SQL("SELECT id FROM amazon_order WHERE id IN %s FOR UPDATE", tuple(existing.ids)))
        by_name = {r.name: r for r in existing}
        missing = [i for i in ids if i not in by_name]
        if missing:
            created = self.sudo().create([{"name": i, "account_id": imp.account.id} for i in missing])
            by_name.update({r.name: r for r in created})
        return by_name

    def _is_up_to_date(self, order):
        """Nothing changed at Amazon since this order was last processed successfully."""
        self.ensure_one()
        return (
            self.state in ("imported", "cancelled", "skipped", "pending")
            and self.last_update_date
            and self.last_update_date == _naive_utc(order.last_updated_time)
            and self.amazon_status == order.fulfillment_status
        )

    def _write_amazon_data(self, imp, order):
        mkt = imp.marketplaces.get(order.marketplace_id)
        currency = mkt.currency_id if mkt else imp.account.marketplace_id.currency_id
        if order.currency and order.currency != currency.name:
            currency = self.env["res.currency"].with_context(active_test=False).search(
                [("name", "=", order.currency)], limit=1) or currency
        total = self._expected_total(order, mkt or imp.account.marketplace_id)
        statuses = dict(FULFILLMENT_STATUSES)
        self.write({
            "marketplace_id": mkt.id if mkt else imp.account.marketplace_id.id,
            "purchase_date": _naive_utc(order.created_time),
            "last_update_date": _naive_utc(order.last_updated_time),
            "amazon_status": order.fulfillment_status if order.fulfillment_status in statuses else False,
            "fulfillment_channel": "amazon" if order.is_fba else "merchant",
            "currency_id": currency.id,
            "amount_total": float(total) if total is not None else 0.0,
            "item_count": sum(item.quantity_ordered or 0 for item in order.items),
            "payload": order.raw or None,
            "attempt_count": self.attempt_count + 1,
            "last_attempt_date": fields.Datetime.now(),
        })

    def _set_result(self, state, reason=False, unmapped=None):
        vals = {"state": state, "reason": reason or False,
                "unmapped_skus": ",".join(sorted(unmapped)) if unmapped else False}
        if state == "error":
            # No buyer data here: the order id and the error type are enough to find it.
            _logger.info("Amazon order %s kept in error", self.name)
        self.write(vals)

    def _decide(self, imp, order):
        """What a not yet imported order becomes without documents: (state, reason[, SKUs]), or None to import."""
        self.ensure_one()
        status = order.fulfillment_status
        if status == "CANCELLED":
            return "cancelled", _("Cancelled on Amazon before it was imported: nothing was created.")
        if status in WAITING_STATUSES:
            return "pending", _(
                "Amazon has not confirmed this order yet (status %s): it is imported when it is.", status)
        if not order.items:
            return "error", _("Amazon sent the order without items.")
        missing_sku = [item.order_item_id for item in order.items if not item.seller_sku]
        if missing_sku:
            return "error", _("Order items without a seller SKU: %s.", ", ".join(missing_sku))
        unmapped = sorted({item.seller_sku for item in order.items
                           if (item.quantity_ordered or 0) > 0 and item.seller_sku not in imp.products})
        if unmapped:
            skus = ", ".join(unmapped)
            if imp.account.only_mapped_products:
                return "skipped", _(
                    "Not imported: the connection records sales of mapped products only, and these SKUs are "
                    "not mapped: %s.", skus), unmapped
            return "error", _(
                "These SKUs are not mapped to a product: %s. Map their listings: the order is imported then.",
                skus), unmapped
        return None

    # ------------------------------------------------------------------ batches

    @api.model
    def _run_batch(self, imp, pairs, process):
        """Run ``process(imp, pairs)`` in a savepoint; when it fails, redo each order alone in its own."""
        snapshot = imp.snapshot()
        try:
            with self.env.cr.savepoint():
                process(imp, pairs)
            return
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on its order below
            imp.restore(snapshot)
            if len(pairs) == 1:
                record, _order = pairs[0]
                record._record_failure(exc)
                return
        for pair in pairs:
            self._run_batch(imp, [pair], process)

    def _record_failure(self, exc):
        self.ensure_one()
        if isinstance(exc, UserError):
            reason = exc.args[0] if exc.args else str(exc)
        else:
            # Unexpected: keep the trace in the server log (ids and code only, never buyer data).
            _logger.exception("Amazon order %s could not be imported", self.name)
            reason = _("Unexpected error (%(type)s): %(error)s", type=type(exc).__name__, error=exc)
        self.invalidate_recordset()
        self._set_result("error", reason, self.unmapped_skus and self.unmapped_skus.split(","))

    # ------------------------------------------------------------------ creating documents

    @api.model
    def _create_documents(self, imp, pairs):
        """Confirmed sale orders for orders not yet imported, then their deliveries and invoices."""
        plans = [record._prepare_sale_order_vals(imp, order) for record, order in pairs]
        SaleOrder = imp.env["sale.order"]
        sale_orders = SaleOrder.create([vals for vals, _expected in plans])
        rounding_vals = []
        rounding_product = imp.env.ref("bind_amazon_connector.product_amazon_rounding")
        for sale_order, (vals, expected) in zip(sale_orders, plans, strict=True):
            if expected is None:
                continue
            currency = sale_order.currency_id
            diff = currency.round(float(expected) - sale_order.amount_total)
            if currency.is_zero(diff):
                continue
            tolerance = currency.rounding * max(10, 2 * len(vals["order_line"]))
            if abs(diff) > tolerance:
                raise AmazonOrderError(_(
                    "Amazon charged %(amazon)s but the sale order totals %(odoo)s: check the taxes of the "
                    "products and of the connection's company.",
                    amazon=currency.format(float(expected)), odoo=currency.format(sale_order.amount_total)))
            rounding_vals.append({
                "order_id": sale_order.id,
                "product_id": rounding_product.id,
                "name": _("Rounding difference with the total charged by Amazon"),
                "product_uom_qty": 1,
                "price_unit": diff,
                "tax_ids": [Command.clear()],
                "sequence": 10000,
            })
        if rounding_vals:
            imp.env["sale.order.line"].create(rounding_vals)
        sale_orders.action_confirm()
        for sale_order, (record, _order) in zip(sale_orders, pairs, strict=True):
            record.write({"sale_order_id": sale_order.id, "state": "imported", "reason": False,
                          "unmapped_skus": False})
        self._apply_fulfillment(imp, pairs)

    def _prepare_sale_order_vals(self, imp, order):
        """``(sale order values, total Amazon charged or None)`` for one Amazon order."""
        self.ensure_one()
        account = imp.account
        mkt = imp.marketplace(order)
        currency = self.currency_id or mkt.currency_id
        warehouse = account.fba_warehouse_id if order.is_fba else account.warehouse_id
        if not warehouse:
            raise AmazonOrderError(
                _("Set the fulfillment warehouse of the connection to import orders fulfilled by Amazon.")
                if order.is_fba else
                _("Set the warehouse of the connection to import merchant-fulfilled orders."))
        partner, shipping_partner = self._get_customer(imp, order, mkt)
        fpos = self._get_fiscal_position(imp, partner, shipping_partner)
        pricelist = self._get_pricelist(imp, currency)
        tax_included = mkt.prices_include_tax

        lines = []
        sequence = 10
        ship_discount = Decimal(0)
        for item in order.items:
            qty = item.quantity_ordered or 0
            if qty < 0:
                raise AmazonOrderError(_("Item %s has a negative quantity.", item.order_item_id))
            item_discount, item_ship_discount = self._item_discounts(item)
            ship_discount += item_ship_discount
            if qty == 0:
                if item_discount:
                    raise AmazonOrderError(_("Item %s has a promotion but no quantity.", item.order_item_id))
                continue
            product = imp.products[item.seller_sku]
            line_total = item.item_price.amount if item.item_price is not None else (
                item.unit_price.amount * qty if item.unit_price is not None else None)
            if line_total is None:
                raise AmazonOrderError(_("Amazon sent no price for item %s.", item.seller_sku))
            unit = item.unit_price.amount if item.unit_price is not None else None
            if unit is None or unit * qty != line_total:
                unit = (line_total / qty).quantize(UNIT_PRICE_QUANTUM)
            taxes = self._get_taxes(imp, product.taxes_id, fpos, tax_included)
            title = item.title or product.display_name
            lines.append({
                "product_id": product.id,
                "name": f"[{item.seller_sku}] {title}",
                "product_uom_qty": qty,
                "price_unit": float(unit),
                "tax_ids": [Command.set(taxes.ids)],
                "amazon_order_item_id": item.order_item_id,
                "sequence": sequence,
            })
            sequence += 1
            if item_discount:
                promo = ", ".join(item.promotion_ids) or _("Amazon promotion")
                lines.append(self._charge_line(
                    imp, "bind_amazon_connector.product_amazon_promotion",
                    _("Promotion %(promotion)s: %(title)s", promotion=promo, title=title),
                    item_discount, taxes, sequence=sequence))
                sequence += 1

        def charge(type_, xmlid, name):
            amount = sum((_amount(item.proceeds_amount(type_)) for item in order.items), Decimal(0))
            if not amount:
                return None
            amazon_tax = sum((_amount(item.proceeds_amount("TAX", type_)) for item in order.items), Decimal(0))
            product = imp.env.ref(xmlid)
            taxes = self._get_charge_taxes(imp, product, fpos, tax_included, amazon_tax)
            lines.append(self._charge_line(imp, xmlid, name, amount, taxes, sequence=5000 + len(lines)))
            return taxes

        shipping_taxes = charge("SHIPPING", "bind_amazon_connector.product_amazon_shipping", _("Shipping"))
        if ship_discount:
            if shipping_taxes is None:
                shipping_taxes = self._get_charge_taxes(
                    imp, imp.env.ref("bind_amazon_connector.product_amazon_shipping"), fpos, tax_included,
                    sum((_amount(item.proceeds_amount("TAX", "SHIPPING")) for item in order.items), Decimal(0)))
            lines.append(self._charge_line(
                imp, "bind_amazon_connector.product_amazon_promotion", _("Shipping promotion"),
                ship_discount, shipping_taxes, sequence=5000 + len(lines)))
        charge("GIFT_WRAP", "bind_amazon_connector.product_amazon_gift_wrap", _("Gift wrap"))
        charge("COD_FEE", "bind_amazon_connector.product_amazon_other_charge", _("Cash on delivery fee"))
        charge("OTHER", "bind_amazon_connector.product_amazon_other_charge", _("Other Amazon charge"))
        if not lines:
            raise AmazonOrderError(_("The order has no item to sell."))

        vals = {
            "partner_id": partner.id,
            "partner_invoice_id": partner.id,
            "partner_shipping_id": shipping_partner.id,
            "company_id": imp.company.id,
            "user_id": imp.user.id,
            "pricelist_id": pricelist.id,
            "warehouse_id": warehouse.id,
            "fiscal_position_id": fpos.id,
            "date_order": _naive_utc(order.created_time),
            "client_order_ref": order.order_id,
            "origin": _("Amazon %s", order.order_id),
            "amazon_order_id": self.id,
            "order_line": [Command.create(line) for line in lines],
        }
        has_proceeds = any(item.proceeds for item in order.items)
        return vals, (self._expected_total(order, mkt) if has_proceeds else None)

    @api.model
    def _expected_total(self, order, mkt):
        """What Amazon charged the buyer, as the seller invoices it: items, shipping, gift wrap and other
        charges minus promotions; plus the tax where prices exclude it (unless Amazon collects it itself)."""
        if not any(item.proceeds for item in order.items):
            return None
        total = Decimal(0)
        for item in order.items:
            for kind in CHARGE_TYPES:
                total += _amount(item.proceeds_amount(kind))
            facilitator = any(c.model == "MARKETPLACE_FACILITATOR" for c in item.tax_collections)
            if not mkt.prices_include_tax and not facilitator:
                total += _amount(item.proceeds_amount("TAX"))
        return total

    @api.model
    def _item_discounts(self, item):
        """(promotion on the item, promotion on its shipping) as negative amounts. A DISCOUNT without
        details is taken as a promotion on the item."""
        for breakdown in item.proceeds:
            if breakdown.type != "DISCOUNT":
                continue
            total = -abs(_amount(breakdown.subtotal))
            shipping = -abs(_amount(breakdown.detail("SHIPPING"))) if breakdown.details else Decimal(0)
            return total - shipping, shipping
        return Decimal(0), Decimal(0)

    def _charge_line(self, imp, xmlid, name, amount, taxes, sequence):
        return {
            "product_id": imp.env.ref(xmlid).id,
            "name": name,
            "product_uom_qty": 1,
            "price_unit": float(amount),
            "tax_ids": [Command.set(taxes.ids)],
            "sequence": sequence,
        }

    # ------------------------------------------------------------------ customers, taxes, pricelists

    def _get_customer(self, imp, order, mkt):
        """(customer, delivery address): the buyer when Amazon names one, else the marketplace's generic
        customer. Buyers are found again by a hash of their Amazon identity; nothing personal is logged."""
        buyer = order.buyer
        address = order.delivery_address
        name = buyer and (buyer.company_name or buyer.name)
        if not name:
            generic = mkt._get_generic_partner().with_env(imp.env)
            return generic, generic
        identity = (buyer.email or f"{buyer.name}|{address.postal_code if address else ''}").strip().lower()
        key = hashlib.sha256(f"{mkt.marketplace_id}|{identity}".encode()).hexdigest()[:32]
        has_address = address and (address.address_line1 or address.city or address.postal_code)
        addr_vals = self._address_vals(imp, address, mkt) if has_address else None
        cache = imp.caches["partner"]
        Partner = imp.env["res.partner"]
        partner = cache.get(key)
        if partner is None:
            partner = Partner.search([("amazon_buyer_key", "=", key)], limit=1)
            if not partner:
                vals = {**(addr_vals or {"country_id": mkt.country_id.id}),
                        "name": name,
                        "is_company": bool(buyer.company_name),
                        "email": buyer.email or False,
                        "amazon_buyer_key": key,
                        "customer_rank": 1}
                vat = self._buyer_vat(order)
                if vat:
                    vals["vat"] = vat
                partner = Partner.create(vals)
            cache[key] = partner
        if not addr_vals or all(
                (partner[f] or False) == (addr_vals[f] or False) for f in ("street", "zip", "city")
        ) and addr_vals["name"] in (partner.name, name):
            return partner, partner
        addr_key = (key, addr_vals["name"], addr_vals["street"], addr_vals["zip"])
        shipping = cache.get(addr_key)
        if shipping is None:
            shipping = Partner.search([
                ("parent_id", "=", partner.id), ("type", "=", "delivery"), ("name", "=", addr_vals["name"]),
                ("street", "=", addr_vals["street"]), ("zip", "=", addr_vals["zip"]),
            ], limit=1) or Partner.create({**addr_vals, "parent_id": partner.id, "type": "delivery"})
            cache[addr_key] = shipping
        return partner, shipping

    def _buyer_vat(self, order):
        """The buyer's RFC (Amazon Business orders in Mexico) when it looks like one."""
        for reg in (order.tax.registrations if order.tax else ()):
            number = (reg.registration_number or "").strip().upper()
            if reg.entity_type in (None, "BUYER") and 12 <= len(number) <= 13 and set(number) <= _RFC_CHARS:
                return number
        return None

    def _address_vals(self, imp, address, mkt):
        country = mkt.country_id
        if address.country_code and address.country_code != country.code:
            country = imp.env["res.country"].search([("code", "=", address.country_code.upper())], limit=1) or country
        street2 = ", ".join(p for p in (address.address_line2, address.address_line3, address.neighborhood) if p)
        return {
            "name": address.name or address.company_name or _("Amazon buyer"),
            "street": address.address_line1 or False,
            "street2": street2 or False,
            "city": address.city or address.municipality or False,
            "zip": address.postal_code or False,
            "country_id": country.id,
            "state_id": self._find_state(imp, country, address.state_or_region).id,
            "phone": address.phone or False,
        }

    def _find_state(self, imp, country, text):
        State = imp.env["res.country.state"]
        if not text or not country:
            return State
        key = (country.id, text.strip().upper())
        cache = imp.caches["state"]
        if key not in cache:
            code = STATE_ALIASES.get(country.code, {}).get(key[1], key[1])
            cache[key] = State.search([("country_id", "=", country.id), ("code", "=ilike", code)], limit=1) \
                or State.search([("country_id", "=", country.id), ("name", "=ilike", text.strip())], limit=1)
        return cache[key]

    def _get_fiscal_position(self, imp, partner, shipping_partner):
        key = (partner.id, shipping_partner.id)
        cache = imp.caches["fpos"]
        if key not in cache:
            cache[key] = imp.env["account.fiscal.position"].with_company(imp.company)._get_fiscal_position(
                partner, delivery=shipping_partner)
        return cache[key]

    def _get_taxes(self, imp, taxes, fpos, tax_included):
        """The product's taxes for the connection's company, mapped by the fiscal position, and their
        price-included variants where Amazon's prices include tax."""
        key = (tuple(taxes.ids), fpos.id, tax_included)
        cache = imp.caches["taxes"]
        if key not in cache:
            result = fpos.map_tax(taxes._filter_taxes_by_company(imp.company))
            if tax_included:
                result = result.browse([self._get_price_included_tax(imp, tax).id for tax in result])
            cache[key] = result
        return cache[key]

    def _get_charge_taxes(self, imp, product, fpos, tax_included, amazon_tax):
        """Taxes of a shipping / gift wrap / other charge: the service product's, else (when Amazon reports
        tax on the charge) the company's default sale tax."""
        taxes = product.taxes_id._filter_taxes_by_company(imp.company)
        if not taxes and amazon_tax:
            taxes = imp.company.account_sale_tax_id
            if not taxes:
                raise AmazonOrderError(_(
                    "Amazon reports tax on %(charge)s but neither the product nor the company has a sale tax.",
                    charge=product.display_name))
        return self._get_taxes(imp, taxes, fpos, tax_included)

    def _get_price_included_tax(self, imp, tax):
        """The price-included twin of a tax (see account.tax._amazon_price_included_twin), cached per run."""
        cache = imp.caches["included"]
        if tax.id not in cache:
            cache[tax.id] = tax.with_env(imp.env)._amazon_price_included_twin()
        return cache[tax.id]

    def _get_pricelist(self, imp, currency):
        """A pricelist in the order's currency: the connection's when it matches, else one created for it."""
        cache = imp.caches["pricelist"]
        if currency.id not in cache:
            account = imp.account
            pricelist = account.pricelist_id if account.pricelist_id.currency_id == currency else None
            if not pricelist:
                Pricelist = imp.env["product.pricelist"]
                pricelist = Pricelist.search([
                    ("currency_id", "=", currency.id),
                    ("company_id", "in", (False, imp.company.id)),
                    ("name", "=", _("Amazon %s", currency.name)),
                ], limit=1) or Pricelist.create({
                    "name": _("Amazon %s", currency.name),
                    "currency_id": currency.id,
                    "company_id": imp.company.id,
                })
            if not currency.active:
                currency.active = True
            cache[currency.id] = pricelist
        return cache[currency.id]

    # ------------------------------------------------------------------ updating documents

    @api.model
    def _update_documents(self, imp, pairs):
        """Bring imported orders in line with Amazon: shipments, invoices, cancellations."""
        active = []
        for record, order in pairs:
            sale_order = record.sale_order_id.with_env(imp.env)
            if order.is_cancelled:
                record._cancel_documents(imp, order)
                continue
            if sale_order.state == "cancel":
                raise AmazonOrderError(_(
                    "The sale order %s was cancelled in Odoo but Amazon still has the order.", sale_order.name))
            active.append((record, order))
        self._apply_fulfillment(imp, active)
        for record, _order in active:
            record.write({"state": "imported", "reason": False, "unmapped_skus": False})

    def _cancel_documents(self, imp, order):
        """Amazon cancelled an imported order: cancel the sale and its delivery (stock reservations are
        released); once invoiced, a credit note reverses the invoice."""
        self.ensure_one()
        sale_order = self.sale_order_id.with_env(imp.env)
        invoices = sale_order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        to_reverse = invoices.filtered(lambda m: m.payment_state != "reversed" and not m.reversal_move_ids)
        if to_reverse:
            to_reverse._reverse_moves(
                [{"ref": _("Cancelled on Amazon: %s", self.name)} for _inv in to_reverse], cancel=True)
        if invoices:
            sale_order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")).action_cancel()
            reason = _("Cancelled on Amazon after it was invoiced: the invoice was reversed by a credit note.")
        else:
            if sale_order.locked:
                sale_order.action_unlock()
            sale_order._action_cancel()
            reason = _("Cancelled on Amazon after it was imported: the sale and its delivery were cancelled.")
        self.write({"state": "cancelled", "reason": reason, "unmapped_skus": False})

    @api.model
    def _apply_fulfillment(self, imp, pairs):
        """Validate deliveries up to the quantities Amazon shipped; invoice orders Amazon fully shipped."""
        targets = {}
        final_ids = set()
        to_invoice = imp.env["sale.order"]
        for record, order in pairs:
            sale_order = record.sale_order_id.with_env(imp.env)
            status = order.fulfillment_status
            if status not in ("SHIPPED", "PARTIALLY_SHIPPED"):
                continue
            lines = {line.amazon_order_item_id: line for line in sale_order.order_line if line.amazon_order_item_id}
            for item in order.items:
                line = lines.get(item.order_item_id)
                if not line or not line.move_ids:
                    continue
                shipped = item.quantity_shipped
                if shipped is None:
                    shipped = item.quantity_ordered if status == "SHIPPED" else 0
                targets[line] = min(shipped, line.product_uom_qty)
            if status == "SHIPPED":
                final_ids.add(sale_order.id)
                to_invoice |= sale_order
        if targets:
            self._deliver(imp, targets, final_ids)
        if to_invoice:
            self._invoice(imp, to_invoice)

    @api.model
    def _deliver(self, imp, targets, final_ids):
        """Validate the moves of sale lines up to ``targets`` ({line: shipped quantity}), step by step for
        multi-step deliveries. Remaining quantities go to a backorder, except for orders Amazon reports
        fully shipped (``final_ids``), whose remainder is cancelled."""
        Move = imp.env["stock.move"]
        for _step in range(5):
            todo = Move
            by_quantity = defaultdict(lambda: Move)  # written per quantity: one write for many moves
            for line, target in targets.items():
                moves = line.move_ids.filtered(lambda m: not m.origin_returned_move_id)
                open_moves = moves.filtered(lambda m: m.state not in ("done", "cancel"))
                for ptype, step_moves in open_moves.grouped("picking_type_id").items():
                    if step_moves.move_orig_ids.filtered(lambda m: m.state not in ("done", "cancel")):
                        continue  # an earlier step (pick, pack) comes first
                    done = sum(m.quantity for m in moves if m.state == "done" and m.picking_type_id == ptype)
                    need = target - done
                    for move in step_moves.sorted("id"):
                        if need <= 0:
                            break
                        qty = min(need, move.product_uom_qty)
                        by_quantity[qty] |= move
                        need -= qty
                        todo |= move
            if not todo:
                break
            for qty, moves in by_quantity.items():
                moves.write({"quantity": qty})
            todo.write({"picked": True})
            pickings = todo.picking_id
            no_backorder = pickings.filtered(lambda p: p.sale_id.id in final_ids)
            pickings.with_context(
                skip_backorder=True, skip_sms=True, picking_ids_not_to_backorder=no_backorder.ids,
            ).button_validate()

    @api.model
    def _invoice(self, imp, sale_orders):
        """One posted customer invoice per shipped order (never a second one), at Amazon's total."""
        todo = sale_orders.filtered(lambda so: not so.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state != "cancel"))
        todo = todo.filtered(lambda so: so.invoice_status == "to invoice")
        if not todo:
            return
        invoices = todo._create_invoices(grouped=True, final=True)
        invoices.action_post()
        for sale_order in todo:
            record = sale_order.amazon_order_id
            invoice = sale_order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
            if record.amount_total and invoice and invoice.currency_id.compare_amounts(
                    sum(invoice.mapped("amount_total")), record.amount_total):
                raise AmazonOrderError(_(
                    "The invoice totals %(odoo)s but Amazon charged %(amazon)s.",
                    odoo=invoice.currency_id.format(sum(invoice.mapped("amount_total"))),
                    amazon=invoice.currency_id.format(record.amount_total)))
