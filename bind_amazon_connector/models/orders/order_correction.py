"""Invoices made by an earlier version that differ from what Amazon charged, brought back to Amazon's total.

The sale order is mapped again from the stored Amazon payload, its lines take the new prices and taxes,
then: a draft invoice is made again; a posted one is reversed by a credit note and a new invoice posted.
Used by the "Correct Invoice Totals" wizard, after a person confirmed the list.
"""
import logging

from odoo.fields import Command

from ...utils import order_totals
from .amazon_order import AmazonOrderError
from .order_import import OrderImport

_logger = logging.getLogger(__name__)


class InvoiceCorrection(OrderImport):
    """The correction of invoices of one connection: an import run that maps orders again from their payload."""

    @staticmethod
    def refresh_amazon_totals(records):
        """Amazon's totals again from the stored payloads: a database of an earlier version stored its own
        sum as "Charged by Amazon", which hid the invoices that differ from Amazon."""
        for record in records:
            order = record._payload_order()
            if not hasattr(order, "items"):
                continue
            mkt = record.marketplace_id or record.account_id.marketplace_id
            try:
                totals = order_totals.read_order(order, mkt.prices_include_tax)
            except order_totals.Unreconciled:
                totals = None
            grand = order.grand_total.amount if order.grand_total is not None else (
                totals.grand_total if totals else None)
            if grand is None:
                continue
            record.write({"amount_total": float(grand),
                          "amount_not_invoiced": float(totals.amount_not_invoiced) if totals else 0.0})

    @classmethod
    def correct_invoices(cls, orders_model, orders):
        """Correct the documents of ``orders`` (imported, invoiced, differing from Amazon), each in its own
        savepoint. Returns ``{order: error message}`` for those that could not be corrected."""
        failures = {}
        for account, group in orders.sudo().grouped("account_id").items():
            correction = cls(orders_model, account)
            for record in group:
                order = record._payload_order()
                if not hasattr(order, "items"):
                    failures[record] = orders_model.env._(
                        "The stored Amazon payload cannot be read: retry the order first.")
                    continue
                correction.products = orders_model._map_skus(account, {item.seller_sku for item in order.items})
                snapshot = correction.snapshot()
                try:
                    with orders_model.env.cr.savepoint():
                        correction.correct_documents(record, order)
                except AmazonOrderError as exc:
                    correction.restore(snapshot)
                    failures[record] = exc.args[0] if exc.args else str(exc)
                except Exception as exc:  # reported to the person who asked, the trace in the log
                    correction.restore(snapshot)
                    _logger.exception("Amazon order %s: invoice correction failed", record.name)
                    failures[record] = orders_model.env._("Unexpected error (%(type)s): %(error)s",
                                                           type=type(exc).__name__, error=exc)
        return failures

    def correct_documents(self, record, order):
        record.ensure_one()
        record = record.with_env(self.env)
        missing = sorted({item.seller_sku for item in order.items
                          if (item.quantity_ordered or 0) > 0 and item.seller_sku not in self.products})
        if missing:
            raise AmazonOrderError(self.env._("These SKUs are not mapped to a product: %s.", ", ".join(missing)))
        self.record_amazon_data(record, order)
        vals, totals = self.sale_order_vals(record, order)
        if totals is None:
            raise AmazonOrderError(self.env._(
                "Amazon sent no amounts for this order: there is nothing to correct from."))
        sale_order = record.sale_order_id.with_env(self.env)
        invoices = sale_order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state != "cancel")
        posted = invoices.filtered(lambda m: m.state == "posted" and not m.reversal_move_ids)
        drafts = invoices.filtered(lambda m: m.state == "draft")
        if posted:
            posted._reverse_moves(
                [{"ref": self.env._("Correction to Amazon's total: %s", record.name)} for _move in posted], cancel=True)
        if drafts:
            drafts.unlink()
        locked = sale_order.locked
        if locked:
            sale_order.action_unlock()
        # Lines of the earlier mapping other than products (charges, promotions, rounding) cannot be
        # deleted from a confirmed order: they are emptied, the new mapping's lines take their place.
        old_charges = sale_order.order_line.filtered(lambda ln: not ln.amazon_order_item_id and not ln.display_type)
        old_charges.write({"product_uom_qty": 0, "price_unit": 0})
        by_item = {line.amazon_order_item_id: line for line in sale_order.order_line if line.amazon_order_item_id}
        for command in vals["order_line"]:
            line_vals = command[2]
            line = by_item.pop(line_vals.get("amazon_order_item_id") or "", None)
            if line:
                line.write({key: line_vals.get(key, 0.0) for key in ("name", "price_unit", "discount", "tax_ids")})
            else:
                sale_order.write({"order_line": [Command.create(line_vals)]})
        self.add_rounding_lines(sale_order, totals)
        self.check_totals(sale_order, totals)
        invoice = sale_order._create_invoices(final=True)
        if posted:
            invoice.action_post()
        if locked:
            sale_order.action_lock()
