"""The moves of an Amazon sale's delivery note their products for the "Update stock on Amazon" toggle:
when they are reserved (the sale is recorded: the available quantity drops), done, unreserved or
cancelled (an order cancelled on Amazon gives its units back)."""
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
        """(connection, product) of the moves of Amazon sales that touch the connection's warehouse stock."""
        pairs = set()
        for move in self.sudo():
            order = move.sale_line_id.order_id or move.picking_id.sale_id
            amazon_order = order.amazon_order_id
            if not amazon_order or not move.product_id.is_storable:
                continue
            account = amazon_order.account_id
            stock_path = account.warehouse_id.lot_stock_id.parent_path
            if stock_path and any((loc.parent_path or "").startswith(stock_path)
                                  for loc in (move.location_id, move.location_dest_id)):
                pairs.add((account.id, move.product_id.id))
        note_stock_changes(self.env, sales=pairs)
