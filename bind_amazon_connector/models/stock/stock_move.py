"""The moves of an Amazon sale's delivery note their products for the "Update stock on Amazon" toggle:
when they are reserved (the sale is recorded: the available quantity drops), done, unreserved or
cancelled (an order cancelled on Amazon gives its units back). Every connection selling from the same
warehouse is noted, since they all offer the same units. Before the commit the notes become pending pushes
that wake the connections' stock jobs (``amazon_stock_push.py``)."""
from odoo import models

from .amazon_stock_push import note_stock_changes


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_assign(self, force_qty=False):
        res = super()._action_assign(force_qty=force_qty)
        self._amazon_note_sale_changes()
        return res

    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        (self.exists() | moves)._amazon_note_sale_changes()
        return moves

    def _action_cancel(self):
        res = super()._action_cancel()
        self._amazon_note_sale_changes()
        return res

    def _do_unreserve(self):
        res = super()._do_unreserve()
        self._amazon_note_sale_changes()
        return res

    def _amazon_note_sale_changes(self):
        """(connection, product) for the moves of Amazon sales that touch a connection's warehouse stock.

        Every connection whose warehouse holds the moved stock is noted, not only the one that sold: connections
        sharing a warehouse (several seller accounts, or marketplaces sold through separate connections) all
        offer the same units, so a sale on one changes the quantity each of them must show."""
        pairs = set()
        accounts = None
        for move in self.sudo():
            order = move.sale_line_id.order_id or move.picking_id.sale_id
            amazon_order = order.amazon_order_id
            if not amazon_order or not move.product_id.is_storable:
                continue
            if accounts is None:
                accounts = self.env["amazon.account"].sudo().search([
                    ("update_stock_on_amazon", "=", True), ("warehouse_id", "!=", False)])
            paths = {loc.parent_path or "" for loc in (move.location_id, move.location_dest_id)}
            for account in accounts | amazon_order.account_id:
                stock_path = account.warehouse_id.lot_stock_id.parent_path
                if stock_path and any(path.startswith(stock_path) for path in paths):
                    pairs.add((account.id, move.product_id.id))
        note_stock_changes(self.env, sales=pairs)
