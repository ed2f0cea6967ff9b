"""Deliveries validated as Amazon ships, and the customer invoice once it has shipped.

``OrderFulfillment`` is a part of an import run (``order_import.OrderImport``).
"""
import logging
from collections import defaultdict

from .amazon_order import AmazonOrderError

_logger = logging.getLogger(__name__)


class OrderFulfillment:
    """What Amazon shipped, in Odoo: validated deliveries, then the posted invoice."""

    def apply_fulfillment(self, pairs):
        """Validate deliveries up to the quantities Amazon shipped; invoice orders Amazon fully shipped."""
        targets = {}
        final_ids = set()
        to_invoice = self.env["sale.order"]
        for record, order in pairs:
            sale_order = record.sale_order_id.with_env(self.env)
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
            self._deliver(targets, final_ids)
        if to_invoice:
            self._invoice(to_invoice)
        records = self.env["amazon.order"].browse([record.id for record, _order in pairs])
        self.env["amazon.shipment"]._close_for_orders(records)

    def _deliver(self, targets, final_ids):
        """Validate the moves of sale lines up to ``targets`` ({line: shipped quantity}), step by step for
        multi-step deliveries (as many steps as the route has). Remaining quantities go to a backorder, except
        for orders Amazon reports fully shipped (``final_ids``), whose remainder is cancelled. Quantities
        already validated in Odoo (the seller's own deliveries and their backorders) count as shipped."""
        Move = self.env["stock.move"]
        validated = Move
        while True:
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
            if todo & validated:
                # A step validated in a previous round is still open: looping again would never end.
                stuck = (todo & validated).picking_id
                raise AmazonOrderError(self.env._(
                    "The delivery %(pickings)s could not be validated up to what Amazon shipped: check its "
                    "route and its stock (a step stays open after validation).",
                    pickings=", ".join(stuck.mapped("name"))))
            validated |= todo
            for qty, moves in by_quantity.items():
                moves.write({"quantity": qty})
            todo.write({"picked": True})
            pickings = todo.picking_id
            no_backorder = pickings.filtered(lambda p: p.sale_id.id in final_ids)
            pickings.with_context(
                skip_backorder=True, skip_sms=True, picking_ids_not_to_backorder=no_backorder.ids,
                amazon_shipped_on_amazon=True,  # Amazon already knows: nothing to confirm, no carrier to ask for
            ).button_validate()

    def _invoice(self, sale_orders):
        """One posted customer invoice per shipped order (never a second one), at Amazon's total."""
        todo = sale_orders.filtered(lambda so: not so.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state != "cancel"))
        todo = todo.filtered(lambda so: so.invoice_status == "to invoice")
        if not todo:
            return
        invoices = todo._create_invoices(grouped=True, final=True)
        invoices.action_post()
        self.invoices_posted = True
        for sale_order in todo:
            record = sale_order.amazon_order_id
            invoice = sale_order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
            expected = record.amount_total - record.amount_not_invoiced
            if record.amount_total and invoice and invoice.currency_id.compare_amounts(
                    sum(invoice.mapped("amount_total")), expected):
                raise AmazonOrderError(self.env._(
                    "The invoice totals %(odoo)s but Amazon charged %(amazon)s.",
                    odoo=invoice.currency_id.format(sum(invoice.mapped("amount_total"))),
                    amazon=invoice.currency_id.format(expected)))
