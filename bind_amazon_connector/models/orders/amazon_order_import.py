"""The import pipeline of Amazon orders: record, skip if up to date, decide, create or update documents
in batches with a one-by-one fallback."""
import logging
import math
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import SQL

from ...utils import held_logs, order_totals
from ...utils.values import naive_utc
from ..connection.amazon_sync_job import is_concurrency_error
from .amazon_order import (
    AUTO_RETRY_DELAY,
    BATCH_SIZE,
    CONFLICT_RETRY_DELAY,
    FULFILLMENT_STATUSES,
    QUIET_CONTEXT,
    WAITING_STATUSES,
    AmazonOrderError,
    MalformedOrder,
)
from .stock_quant import SKIP_CHANGED_QUANTS

_logger = logging.getLogger(__name__)


class _Importer:
    """One import run for one connection: the environment documents are written with, and caches of what
    many orders share (products, taxes, customers, pricelists). Caches can be saved and restored around a
    savepoint so a rolled-back batch leaves no reference to records that no longer exist."""

    def __init__(self, orders_model, account):
        env = orders_model.env
        user = account.user_id or env.user
        company = account.company_id
        # a quant another import committed meanwhile is skipped like a held one, not a reason to redo the page
        context = dict(env.context, allowed_company_ids=company.ids, **QUIET_CONTEXT, **{SKIP_CHANGED_QUANTS: True})
        # Written as the connection's user (author and salesperson), with the rights of the integration.
        self.env = env(user=user.id, su=True, context=context)
        self.account = account.with_env(self.env)
        self.company = self.account.company_id
        self.user = user
        self.marketplaces = {m.marketplace_id: m for m in self.env["amazon.marketplace"].with_context(
            active_test=False).search([])}
        self.products = {}
        #: Customer invoices were posted by this run (a connection paying on post asks for its payouts job).
        self.invoices_posted = False
        self.caches = {"partner": {}, "fpos": {}, "taxes": {}, "included": {}, "pricelist": {}, "state": {}}

    def snapshot(self):
        return {name: dict(cache) for name, cache in self.caches.items()}

    def restore(self, snapshot):
        self.caches = snapshot

    def marketplace(self, order):
        return self.marketplaces.get(order.marketplace_id) or self.account.marketplace_id



class AmazonOrder(models.Model):
    _inherit = "amazon.order"

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
                              "last_attempt_date": fields.Datetime.now()})
                record._set_result("error", _("Amazon sent an order that cannot be read: %s", order.message))
                record._count_failed_attempt()
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

        if imp.invoices_posted and account.register_payment_on_post:
            # the payouts flow pays the posted invoices waiting for their payment
            self.env["amazon.sync.job"]._trigger(account, "payouts")
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

    @api.model
    def _prepare_shared_records(self, account, orders):
        """Find or create, in a short transaction of its own committed at once, what the orders share with the
        imports of other connections: the buyers' contacts and addresses, the price-included tax twins, the
        price lists.

        Created inside a page's long transaction, such a record made every other import meeting it wait for
        that whole page, then fail on the unique key and do its own page again: two servers then worked one
        after the other. Committed here first, it is found by the others at once. Only a scheduled run that
        owns its transaction calls this, then starts its page in a fresh transaction that sees these records.
        An order whose values cannot be prepared is skipped here: its import reports why.
        """
        orders = [o for o in orders if o is not None and not isinstance(o, MalformedOrder)]
        if not orders:
            return
        # A shortcut only: the page's own import redoes this work and reports what fails, so the statements
        # Odoo logs as failed here (a conflict with another import, an order's bad data) are not errors.
        with held_logs.hold("odoo.sql_db") as held:
            try:
                self._prepare_shared_records_tries(account, orders)
            finally:
                held.drop()

    def _prepare_shared_records_tries(self, account, orders):
        for _attempt in range(3):
            try:
                with self.env.registry.cursor() as cr:
                    Orders = self.with_env(self.env(cr=cr))
                    imp = _Importer(Orders, account.with_env(Orders.env))
                    imp.products = Orders._map_skus(imp.account, {
                        item.seller_sku for order in orders for item in order.items if item.seller_sku})
                    # only the orders this page will create sales for (not the imported, cancelled or waiting)
                    imported = set(Orders.search([
                        ("account_id", "=", account.id), ("name", "in", [o.order_id for o in orders]),
                        ("sale_order_id", "!=", False)]).mapped("name"))
                    for order in orders:
                        record = Orders.new({"account_id": account.id})
                        if order.order_id in imported or record._decide(imp, order):
                            continue
                        try:
                            with cr.savepoint():
                                vals, _totals = record._prepare_sale_order_vals(imp, order)
                                # Odoo counts a contact's first sale inside the sale's transaction (later ones
                                # after it): shared contacts start at one here, so pages do not collide on it
                                partners = Orders.env["res.partner"].browse(
                                    [vals["partner_id"], vals["partner_shipping_id"]])
                                partners |= partners.commercial_partner_id
                                partners.filtered(lambda p: not p.customer_rank).write({"customer_rank": 1})
                        except Exception as exc:  # the order's own import reports its problem
                            if is_concurrency_error(exc):
                                raise
                return
            except Exception as exc:  # noqa: BLE001 - only a shortcut: the page's import stays correct without it
                if not is_concurrency_error(exc):
                    _logger.info("Amazon connection %s: shared records not prepared (%s)", account.id,
                                 type(exc).__name__)
                    return

    def _is_up_to_date(self, order):
        """Nothing changed at Amazon since this order was last processed successfully."""
        self.ensure_one()
        return (
            self.state in ("imported", "cancelled", "skipped", "pending")
            and self.last_update_date
            and self.last_update_date == naive_utc(order.last_updated_time)
            and self.amazon_status == order.fulfillment_status
        )

    def _write_amazon_data(self, imp, order):
        mkt = imp.marketplaces.get(order.marketplace_id)
        currency = mkt.currency_id if mkt else imp.account.marketplace_id.currency_id
        if order.currency and order.currency != currency.name:
            currency = self.env["res.currency"].with_context(active_test=False).search(
                [("name", "=", order.currency)], limit=1) or currency
        try:
            totals = order_totals.read_order(order, (mkt or imp.account.marketplace_id).prices_include_tax)
        except order_totals.Unreconciled:
            totals = None  # the mapping puts the order in error with the amounts
        if order.grand_total is not None:
            total = order.grand_total.amount
        else:
            total = totals.grand_total if totals else None
        statuses = dict(FULFILLMENT_STATUSES)
        self.write({
            "marketplace_id": mkt.id if mkt else imp.account.marketplace_id.id,
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
        note = self._not_invoiced_warning(totals, currency)
        if self.sale_order_id:
            # Imported: the warnings of its mapping (the buyer's tax data) stay.
            self._add_warning(note)
        else:
            self.warning = note or False

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
        """Run ``process(imp, pairs)`` in a savepoint; when it fails, redo each order alone in its own.

        A conflict with another transaction (serialization failure, deadlock, lock timeout, a buyer or tax
        created at the same time) is not the order's fault and the same transaction cannot get past it: it is
        raised to the page loop, which tries the page again at once in a fresh transaction. Only on the loop's
        last try (context ``amazon_record_conflicts``) is it recorded on the order, which then waits in error.
        """
        snapshot = imp.snapshot()
        try:
            with self.env.cr.savepoint():
                process(imp, pairs)
            return
        except Exception as exc:  # every failure is recorded on its order below, conflicts aside
            imp.restore(snapshot)
            if is_concurrency_error(exc) and not self.env.context.get("amazon_record_conflicts"):
                raise
            if len(pairs) == 1:
                record, _order = pairs[0]
                record._record_failure(exc)
                return
        for pair in pairs:
            self._run_batch(imp, [pair], process)

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

    # ------------------------------------------------------------------ creating documents

    @api.model
    def _create_documents(self, imp, pairs):
        """Confirmed sale orders for orders not yet imported, then their deliveries and invoices."""
        plans = [record._prepare_sale_order_vals(imp, order) for record, order in pairs]
        SaleOrder = imp.env["sale.order"]
        sale_orders = SaleOrder.create([vals for vals, _expected in plans])
        for sale_order, (_vals, totals) in zip(sale_orders, plans, strict=True):
            if totals is not None:
                self._add_rounding_lines(imp, sale_order, totals)
                self._check_totals(sale_order, totals)
        sale_orders.action_confirm()
        # the link is the sale order's amazon_order_id, set at creation
        for record, _order in pairs:
            record.write({"state": "imported", "reason": False, "unmapped_skus": False, "attempt_count": 0,
                          "retry_date": False})
        self._apply_fulfillment(imp, pairs)

    @api.model
    def _add_rounding_lines(self, imp, sale_order, totals):
        """Explicit lines for a real difference of a cent or two with Amazon: its tax (a taxed line whose
        tax is the missing cents), then its total (a line without tax). Larger differences are left to
        :meth:`_check_totals`, which refuses them."""
        currency = sale_order.currency_id
        Line = imp.env["sale.order.line"]
        product = imp.env.ref("bind_amazon_connector.product_amazon_rounding")
        # Amazon rounds its tax per unit (10 x 43.32 for 314.10 each), Odoo per line or per order: up to
        # half a cent a unit, or a cent a line, is rounding; more is a wrong tax or a wrong reading.
        units = sum(sale_order.order_line.filtered("amazon_order_item_id").mapped("product_uom_qty"))
        tolerance = currency.rounding * max(2, len(sale_order.order_line), math.ceil(units / 2))
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
                    "name": _("Rounding difference with the tax charged by Amazon"),
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
                "name": _("Rounding difference with the total charged by Amazon"),
                "tax_ids": [Command.clear()], "sequence": 10001,
            })

    @api.model
    def _check_totals(self, sale_order, totals):
        """The sale order totals what Amazon charged (less what the seller does not invoice), to the cent."""
        currency = sale_order.currency_id
        expected = float(totals.invoice_total)
        if currency.compare_amounts(sale_order.amount_total, expected):
            raise AmazonOrderError(_(
                "Amazon charged %(amazon)s but the sale order totals %(odoo)s (difference %(difference)s): check "
                "the taxes of the products and of the connection's company.",
                amazon=currency.format(expected), odoo=currency.format(sale_order.amount_total),
                difference=currency.format(expected - sale_order.amount_total)))
        if totals.tax is not None and sale_order.order_line.tax_ids.filtered("price_include") and \
                currency.compare_amounts(sale_order.amount_tax, float(totals.tax)):
            raise AmazonOrderError(_(
                "Amazon charged %(amazon)s of tax but the taxes of the sale order give %(odoo)s (difference "
                "%(difference)s): check the taxes of the products and of the connection's company.",
                amazon=currency.format(float(totals.tax)), odoo=currency.format(sale_order.amount_tax),
                difference=currency.format(float(totals.tax) - sale_order.amount_tax)))

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
            record.write({"state": "imported", "reason": False, "unmapped_skus": False, "attempt_count": 0,
                          "retry_date": False})

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
        self.write({"state": "cancelled", "reason": reason, "unmapped_skus": False, "attempt_count": 0,
                    "retry_date": False})
        imp.env["amazon.shipment"]._close_for_orders(self)
