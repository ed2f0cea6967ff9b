"""The import of Amazon orders: record what Amazon sent, skip it if nothing changed, decide what the order
becomes (cancelled, pending, unmapped products, importable), then create or update its documents: a
confirmed sale order, its delivery (validated as Amazon ships) and, once shipped, a posted customer
invoice whose total is what Amazon charged the buyer.

Documents are created for many orders at once (``BATCH_SIZE``) inside a savepoint; when a batch fails,
its orders are redone one at a time, each in its own savepoint, so one bad order never blocks the others
and never leaves half a sale order behind.
"""
import copy
import logging
import math
from collections import defaultdict

from odoo import fields
from odoo.fields import Command
from odoo.models import BaseModel
from odoo.tools import SQL

from ...utils import held_logs, order_totals
from ...utils.values import naive_utc
from ..connection.amazon_sync_job import is_concurrency_error
from ..stock.stock_quant import SKIP_CHANGED_QUANTS
from .amazon_order import FULFILLMENT_STATUSES, WAITING_STATUSES, AmazonOrderError, MalformedOrder
from .mail_thread import NO_ORIGIN_NOTE
from .order_fulfillment import OrderFulfillment
from .order_mapping import OrderMapping

_logger = logging.getLogger(__name__)

#: Orders whose documents are created together (one create / confirm / validate / invoice for all).
BATCH_SIZE = 50
#: Context of every document the import writes: no chatter tracking or followers (the amazon.order
#: record is the audit trail), which also keeps batches fast.
QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "mail_auto_subscribe_no_notify": True,
    "amazon_keep_date_order": True,
    NO_ORIGIN_NOTE: True,  # no "created from" notes on its deliveries and invoices
}


class OrderImport(OrderMapping, OrderFulfillment):
    """One import of Amazon orders for one connection: the environment documents are written with, and caches
    of what many orders share (products, taxes, customers, pricelists). Caches can be saved and restored around
    a savepoint so a rolled-back batch leaves no reference to records that no longer exist.

    ``orders_model``: the ``amazon.order`` model the ``amazon.order`` records are read and written with.
    """

    def __init__(self, orders_model, account):
        self._bind(orders_model, account)
        self.marketplaces = {m.marketplace_id: m for m in self.env["amazon.marketplace"].with_context(
            active_test=False).search([])}
        self.products = {}
        self.caches = {"partner": {}, "fpos": {}, "taxes": {}, "included": {}, "pricelist": {}, "state": {}}
        #: What Amazon's amounts of each order read as, by Amazon order id (see ``read_totals``).
        self.totals_read = {}
        #: What orders prepared before the page's import become: their decision (see ``import_decision``), and
        #: for those to import, ``(sale order values, totals, warnings, currency id)`` (see
        #: ``prepare_shared_records``), by Amazon order id.
        self.decisions = {}
        self.prepared = {}

    def _bind(self, orders_model, account):
        self.orders_model = orders_model
        env = orders_model.env
        user = account.user_id.with_env(env) or env.user
        company = account.company_id
        # a quant another import committed meanwhile is skipped like a held one, not a reason to redo the page
        context = dict(env.context, allowed_company_ids=company.ids, **QUIET_CONTEXT, **{SKIP_CHANGED_QUANTS: True})
        # Written as the connection's user (author and salesperson), with the rights of the integration.
        self.env = env(user=user.id, su=True, context=context)
        self.account = account.with_env(self.env)
        self.company = self.account.company_id
        self.user = user
        #: Customer invoices were posted by this import (a connection paying on post asks for its payouts job).
        self.invoices_posted = False

    def continue_in(self, orders_model, account):
        """Go on with this import in another transaction (a page prepared in a transaction of its own, committed
        since): its records are read in the new one."""
        self._bind(orders_model, account)

        def rebound(mapping):
            return {key: value.with_env(self.env) if isinstance(value, BaseModel) else value
                    for key, value in mapping.items()}
        self.marketplaces = rebound(self.marketplaces)
        self.products = rebound(self.products)
        self.caches = {name: rebound(cache) for name, cache in self.caches.items()}
        return self

    def snapshot(self):
        return {name: dict(cache) for name, cache in self.caches.items()}

    def restore(self, snapshot):
        self.caches = snapshot

    def marketplace(self, order):
        return self.marketplaces.get(order.marketplace_id) or self.account.marketplace_id

    # ------------------------------------------------------------------ the import

    def import_orders(self, orders, *, force=False):
        """Record and process Amazon orders of the connection (one searchOrders page, or retried orders).

        ``orders``: ``types.Order`` or :class:`MalformedOrder` items. ``force`` processes orders even when
        Amazon reports no change since the last time. The caller holds the connection's lock.
        Returns ``{state: count}`` of the processed orders.
        """
        Orders = self.orders_model
        records = self._upsert_records(orders)
        to_create, to_update, processed = [], [], Orders.browse()
        if not self.decisions:
            # (an import prepared before its page keeps the products its orders were decided with)
            skus = {item.seller_sku for order in orders if not isinstance(order, MalformedOrder)
                    for item in order.items if item.seller_sku}
            self.products = Orders._map_skus(self.account, skus)
        for order in orders:
            record = records[order.order_id]
            if isinstance(order, MalformedOrder):
                record.write({"payload": order.payload if isinstance(order.payload, dict) else None,
                              "last_attempt_date": fields.Datetime.now()})
                record._set_result("error", self.env._("Amazon sent an order that cannot be read: %s", order.message))
                record._count_failed_attempt()
                processed |= record
                continue
            if not force and record._is_up_to_date(order):
                continue
            self.record_amazon_data(record, order)
            processed |= record
            if record.sale_order_id:
                to_update.append((record, order))
                continue
            if order.order_id in self.decisions:
                decision = self.decisions.pop(order.order_id)
            else:
                decision = self.import_decision(record, order)
            if decision:
                record._set_result(*decision)
            else:
                to_create.append((record, order))

        for start in range(0, len(to_create), BATCH_SIZE):
            self._run_batch(to_create[start:start + BATCH_SIZE], self._create_documents)
        for start in range(0, len(to_update), BATCH_SIZE):
            self._run_batch(to_update[start:start + BATCH_SIZE], self._update_documents)

        if self.invoices_posted and self.account.register_payment_on_post:
            # the payouts flow pays the posted invoices waiting for their payment
            Orders.env["amazon.sync.job"]._trigger(self.account.with_env(Orders.env), "payouts")
        counts = defaultdict(int)
        for record in processed:
            counts[record.state] += 1
        return dict(counts)

    def _upsert_records(self, orders):
        """``{amazon order id: amazon.order}``: existing records locked, missing ones created."""
        ids = list(dict.fromkeys(o.order_id for o in orders))
        existing = self.orders_model.search([("account_id", "=", self.account.id), ("name", "in", ids)])
        if existing:
            # Retries and syncs of one connection never process the same order at the same time.
            self.orders_model.env.cr.execute(
                SQL("SELECT id FROM amazon_order WHERE id IN %s FOR UPDATE", tuple(existing.ids)))
        by_name = {r.name: r for r in existing}
        missing = [i for i in ids if i not in by_name]
        if missing:
            created = self.orders_model.create([{"name": i, "account_id": self.account.id} for i in missing])
            by_name.update({r.name: r for r in created})
        return by_name

    def record_amazon_data(self, record, order):
        """Write on ``record`` what Amazon sent of ``order``: status, dates, amounts, and its payload."""
        mkt = self.marketplaces.get(order.marketplace_id)
        currency = mkt.currency_id if mkt else self.account.marketplace_id.currency_id
        if order.currency and order.currency != currency.name:
            currency = self.env["res.currency"].with_context(active_test=False).search(
                [("name", "=", order.currency)], limit=1) or currency
        try:
            totals = self.read_totals(order)
        except order_totals.Unreconciled:
            totals = None  # the mapping puts the order in error with the amounts
        if order.grand_total is not None:
            total = order.grand_total.amount
        else:
            total = totals.grand_total if totals else None
        statuses = dict(FULFILLMENT_STATUSES)
        record.write({
            "marketplace_id": mkt.id if mkt else self.account.marketplace_id.id,
            "purchase_date": naive_utc(order.created_time),
            "last_update_date": naive_utc(order.last_updated_time),
            "amazon_status": order.fulfillment_status if order.fulfillment_status in statuses else False,
            "fulfillment_channel": "amazon" if order.is_fba else "merchant",
            "currency_id": currency.id,
            "amount_total": float(total) if total is not None else 0.0,
            "amount_not_invoiced": float(totals.amount_not_invoiced) if totals else 0.0,
            "item_count": sum(item.quantity_ordered or 0 for item in order.items),
            "payload": order.raw or None,
            "last_attempt_date": fields.Datetime.now(),
        })
        note = record._not_invoiced_warning(totals, currency)
        if record.sale_order_id:
            # Imported: the warnings of its mapping (the buyer's tax data) stay.
            record._add_warning(note)
        else:
            record.warning = note or False

    def import_decision(self, record, order):
        """What a not yet imported order becomes without documents: (state, reason[, SKUs]), or None to import."""
        record.ensure_one()
        status = order.fulfillment_status
        if status == "CANCELLED":
            return "cancelled", self.env._("Cancelled on Amazon before it was imported: nothing was created.")
        if status in WAITING_STATUSES:
            return "pending", self.env._(
                "Amazon has not confirmed this order yet (status %s): it is imported when it is.", status)
        if not order.items:
            return "error", self.env._("Amazon sent the order without items.")
        missing_sku = [item.order_item_id for item in order.items if not item.seller_sku]
        if missing_sku:
            return "error", self.env._("Order items without a seller SKU: %s.", ", ".join(missing_sku))
        unmapped = sorted({item.seller_sku for item in order.items
                           if (item.quantity_ordered or 0) > 0 and item.seller_sku not in self.products})
        if unmapped:
            skus = ", ".join(unmapped)
            if self.account.only_mapped_products:
                return "skipped", self.env._(
                    "Not imported: the connection records sales of mapped products only, and these SKUs are "
                    "not mapped: %s.", skus), unmapped
            return "error", self.env._(
                "These SKUs are not mapped to a product: %s. Map their listings: the order is imported then.",
                skus), unmapped
        return None

    # ------------------------------------------------------------------ batches

    def _run_batch(self, pairs, process):
        """Run ``process(pairs)`` in a savepoint; when it fails, redo each order alone in its own.

        A conflict with another transaction (serialization failure, deadlock, lock timeout, a buyer or tax
        created at the same time) is not the order's fault and the same transaction cannot get past it: it is
        raised to the page loop, which tries the page again at once in a fresh transaction. Only on the loop's
        last try (context ``amazon_record_conflicts``) is it recorded on the order, which then waits in error.
        """
        snapshot = self.snapshot()
        try:
            with self.env.cr.savepoint():
                process(pairs)
            return
        except Exception as exc:  # every failure is recorded on its order below, conflicts aside
            self.restore(snapshot)
            if is_concurrency_error(exc) and not self.orders_model.env.context.get("amazon_record_conflicts"):
                raise
            if len(pairs) == 1:
                record, _order = pairs[0]
                record._record_failure(exc)
                return
        for pair in pairs:
            self._run_batch([pair], process)

    # ------------------------------------------------------------------ documents

    def _create_documents(self, pairs):
        """Confirmed sale orders for orders not yet imported, each totalling what Amazon charged (rounding
        lines, then the check to the cent), then their deliveries and invoices."""
        plans = [self._sale_order_plan(record, order) for record, order in pairs]
        SaleOrder = self.env["sale.order"]
        sale_orders = SaleOrder.create([vals for vals, _expected in plans])
        for sale_order, (_vals, totals) in zip(sale_orders, plans, strict=True):
            if totals is not None:
                self.add_rounding_lines(sale_order, totals)
                self.check_totals(sale_order, totals)
        sale_orders.action_confirm()
        # the link is the sale order's amazon_order_id, set at creation
        for record, _order in pairs:
            record.write({"state": "imported", "reason": False, "unmapped_skus": False, "attempt_count": 0,
                          "retry_date": False})
        self.apply_fulfillment(pairs)

    def _sale_order_plan(self, record, order):
        """``sale_order_vals`` of the order, as prepared before the page when it was (same currency)."""
        prepared = self.prepared.get(order.order_id)
        if prepared:
            vals, totals, warning, currency_id = prepared
            if (record.currency_id or self.marketplace(order).currency_id).id == currency_id:
                record._add_warning(warning)
                return dict(copy.deepcopy(vals), amazon_order_id=record.id), totals
        return self.sale_order_vals(record, order)

    def add_rounding_lines(self, sale_order, totals):
        """Explicit lines for a real difference of a cent or two with Amazon: its tax (a taxed line whose
        tax is the missing cents), then its total (a line without tax). Larger differences are left to
        :meth:`check_totals`, which refuses them."""
        currency = sale_order.currency_id
        Line = self.env["sale.order.line"]
        product = self.env.ref("bind_amazon_connector.product_amazon_rounding")
        # Amazon rounds its tax per unit (10 x 43.32 for 314.10 each), Odoo per line or per order: up to
        # half a cent a unit, or a cent a line, is rounding; more is a wrong tax or a wrong reading.
        units = sum(sale_order.order_line.filtered("amazon_order_item_id").mapped("product_uom_qty"))
        tolerance = currency.rounding * max(2, len(sale_order.order_line), math.ceil(units / 2))
        # A promotion's discount (%) has Odoo's Discount precision: the line may miss Amazon's amount by as much.
        digits = self.env["decimal.precision"].precision_get("Discount")
        tolerance += sum(float(order_totals.discount_rounding_bound(line.price_unit * line.product_uom_qty, digits))
                         for line in sale_order.order_line if line.discount)
        added = 0.0
        included = sale_order.order_line.tax_ids.filtered(
            lambda t: t.price_include and t.amount_type == "percent" and t.amount > 0)[:1]
        if totals.tax is not None and included:
            target = float(totals.tax)
            diff = currency.round(target - sale_order.amount_tax)
            if not currency.is_zero(diff) and abs(diff) <= tolerance:
                # The smallest amount, tax included, whose tax is the missing cents (0.07 holds 0.01 of 16 %).
                rate = included.amount / 100
                start = currency.round(diff * (1 + rate) / rate)
                line = Line.create({
                    "order_id": sale_order.id, "product_id": product.id, "product_uom_qty": 1, "price_unit": start,
                    "name": self.env._("Rounding difference with the tax charged by Amazon"),
                    "tax_ids": [Command.set(included.ids)], "sequence": 10000,
                })
                # Where Odoo rounds the tax once for the whole order, a cent more or less may be needed.
                for cents in (1, -1, 2, -2, 3, -3):
                    if not currency.compare_amounts(sale_order.amount_tax, target):
                        break
                    line.price_unit = currency.round(start + cents * currency.rounding)
                added = line.price_unit
        diff = currency.round(float(totals.invoice_total) - sale_order.amount_total)
        if not currency.is_zero(diff) and abs(diff) <= tolerance + abs(added):
            Line.create({
                "order_id": sale_order.id, "product_id": product.id, "product_uom_qty": 1, "price_unit": diff,
                "name": self.env._("Rounding difference with the total charged by Amazon"),
                "tax_ids": [Command.clear()], "sequence": 10001,
            })

    def check_totals(self, sale_order, totals):
        """The sale order totals what Amazon charged (less what the seller does not invoice), to the cent."""
        currency = sale_order.currency_id
        expected = float(totals.invoice_total)
        if currency.compare_amounts(sale_order.amount_total, expected):
            raise AmazonOrderError(self.env._(
                "Amazon charged %(amazon)s but the sale order totals %(odoo)s (difference %(difference)s): check "
                "the taxes of the products and of the connection's company.",
                amazon=currency.format(expected), odoo=currency.format(sale_order.amount_total),
                difference=currency.format(expected - sale_order.amount_total)))
        if totals.tax is not None and sale_order.order_line.tax_ids.filtered("price_include") and \
                currency.compare_amounts(sale_order.amount_tax, float(totals.tax)):
            raise AmazonOrderError(self.env._(
                "Amazon charged %(amazon)s of tax but the taxes of the sale order give %(odoo)s (difference "
                "%(difference)s): check the taxes of the products and of the connection's company.",
                amazon=currency.format(float(totals.tax)), odoo=currency.format(sale_order.amount_tax),
                difference=currency.format(float(totals.tax) - sale_order.amount_tax)))

    def _update_documents(self, pairs):
        """Bring imported orders in line with Amazon: shipments, invoices, cancellations."""
        active = []
        for record, order in pairs:
            sale_order = record.sale_order_id.with_env(self.env)
            if order.is_cancelled:
                self._cancel_documents(record, order)
                continue
            if sale_order.state == "cancel":
                raise AmazonOrderError(self.env._(
                    "The sale order %s was cancelled in Odoo but Amazon still has the order.", sale_order.name))
            active.append((record, order))
        self.apply_fulfillment(active)
        for record, _order in active:
            record.write({"state": "imported", "reason": False, "unmapped_skus": False, "attempt_count": 0,
                          "retry_date": False})

    def _cancel_documents(self, record, order):
        """Amazon cancelled an imported order: cancel the sale and its delivery (stock reservations are
        released); once invoiced, a credit note reverses the invoice."""
        record.ensure_one()
        sale_order = record.sale_order_id.with_env(self.env)
        invoices = sale_order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        to_reverse = invoices.filtered(lambda m: m.payment_state != "reversed" and not m.reversal_move_ids)
        if to_reverse:
            to_reverse._reverse_moves(
                [{"ref": self.env._("Cancelled on Amazon: %s", record.name)} for _inv in to_reverse], cancel=True)
        if invoices:
            sale_order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")).action_cancel()
            reason = self.env._("Cancelled on Amazon after it was invoiced: the invoice was reversed by a credit note.")
        else:
            if sale_order.locked:
                sale_order.action_unlock()
            sale_order._action_cancel()
            reason = self.env._("Cancelled on Amazon after it was imported: the sale and its delivery were cancelled.")
        record.write({"state": "cancelled", "reason": reason, "unmapped_skus": False, "attempt_count": 0,
                      "retry_date": False})
        self.env["amazon.shipment"]._close_for_orders(record)


# ------------------------------------------------------------------ what pages share, committed first

def prepare_shared_records(orders_model, account, orders):
    """Find or create, in a short transaction of its own committed at once, what the orders share with the
    imports of other connections: the buyers' contacts and addresses, the price-included tax twins, the
    price lists.

    Created inside a page's long transaction, such a record made every other import meeting it wait for
    that whole page, then fail on the unique key and do its own page again: two servers then worked one
    after the other. Committed here first, it is found by the others at once. Only a scheduled run that
    owns its transaction calls this, then starts its page in a fresh transaction that sees these records.
    An order whose values cannot be prepared is skipped here: its import reports why.

    Returns the :class:`OrderImport` that prepared them, with each order's decision and sale order values: the
    page's import goes on with it (``continue_in``), so each order is decided and mapped once; or None.
    """
    orders = [o for o in orders if o is not None and not isinstance(o, MalformedOrder)]
    if not orders:
        return None
    # A shortcut only: the page's own import redoes this work and reports what fails, so the statements
    # Odoo logs as failed here (a conflict with another import, an order's bad data) are not errors.
    with held_logs.hold("odoo.sql_db") as held:
        try:
            return _prepare_shared_records_tries(orders_model, account, orders)
        finally:
            held.drop()


def _prepare_shared_records_tries(orders_model, account, orders):
    for _attempt in range(3):
        try:
            with orders_model.env.registry.cursor() as cr:
                Orders = orders_model.with_env(orders_model.env(cr=cr))
                order_import = OrderImport(Orders, account.with_env(Orders.env))
                order_import.products = Orders._map_skus(order_import.account, {
                    item.seller_sku for order in orders for item in order.items if item.seller_sku})
                # only the orders this page will create sales for (not the imported, cancelled or waiting)
                imported = set(Orders.search([
                    ("account_id", "=", account.id), ("name", "in", [o.order_id for o in orders]),
                    ("sale_order_id", "!=", False)]).mapped("name"))
                for order in orders:
                    record = Orders.new({"account_id": account.id})
                    if order.order_id in imported:
                        continue
                    decision = order_import.decisions[order.order_id] = order_import.import_decision(record, order)
                    if decision:
                        continue
                    snapshot = order_import.snapshot()
                    try:
                        with cr.savepoint():
                            vals, totals = order_import.sale_order_vals(record, order)
                            # Odoo counts a contact's first sale inside the sale's transaction (later ones
                            # after it): shared contacts start at one here, so pages do not collide on it
                            partners = Orders.env["res.partner"].browse(
                                [vals["partner_id"], vals["partner_shipping_id"]])
                            partners |= partners.commercial_partner_id
                            partners.filtered(lambda p: not p.customer_rank).write({"customer_rank": 1})
                        currency = record.currency_id or order_import.marketplace(order).currency_id
                        order_import.prepared[order.order_id] = (vals, totals, record.warning or False, currency.id)
                    except Exception as exc:  # the order's own import reports its problem
                        order_import.restore(snapshot)
                        if is_concurrency_error(exc):
                            raise
            return order_import
        except Exception as exc:  # noqa: BLE001 - only a shortcut: the page's import stays correct without it
            if not is_concurrency_error(exc):
                _logger.info("Amazon connection %s: shared records not prepared (%s)", account.id,
                             type(exc).__name__)
                return None
    return None
